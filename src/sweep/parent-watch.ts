/**
 * Loaded (`node --import`) into every `mono run` that a sweep or a worker starts: when the
 * process that started it is gone (SIGKILLed, crashed, its machine's session ended), the
 * trial stops too, instead of running on as an orphan that nobody watches and that would
 * write into a run folder another worker is about to resume. Its checkpoint stays; the
 * trial continues from it when it is run again.
 *
 * The parent's pid comes in MONO_SWEEP_PARENT (process.ppid is fixed at start-up in
 * Node); a signal-0 probe tells whether it still exists.
 */
const parent = Number(process.env.MONO_SWEEP_PARENT);

function parentGone(): boolean {
  try {
    process.kill(parent, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

if (Number.isInteger(parent) && parent > 0) {
  const timer = setInterval(() => {
    if (!parentGone()) return;
    clearInterval(timer);
    // SIGTERM first (a run that handles it can stop cleanly), SIGKILL if it is still here.
    setTimeout(() => process.kill(process.pid, 'SIGKILL'), 10_000).unref();
    process.kill(process.pid, 'SIGTERM');
  }, 500);
  // The watch must not keep a finished run alive.
  timer.unref();
}

export {};
