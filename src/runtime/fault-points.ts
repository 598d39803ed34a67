/**
 * For tests only: named points in the run-folder code where a test can make the
 * process die or fail, to produce the states a kill -9 or a full disk leaves behind.
 *
 *   MONO_TEST_FAULT=POINT[:ACTION][@N]
 *
 * On the N-th arrival (default 1) at POINT, ACTION `kill` (the default) sends the
 * process SIGKILL; `enospc` throws the error a full disk gives (code ENOSPC). The
 * points are listed in FAULT_POINTS and in docs/runtime.md. Without the variable
 * faultPoint does nothing.
 */
export const FAULT_POINTS = [
  /** The run folder exists; nothing written into it yet. */
  'run-folder-created',
  /** plan.mono, ir.json and run.json are written; metrics.jsonl is not created yet. */
  'run-files-written',
  /** An epoch's metrics line is appended and fsynced; its checkpoint is not written yet. */
  'metrics-appended',
  /** Between two chunks of a checkpoint's temporary file (the first chunk is written). */
  'checkpoint-chunk',
  /** The new checkpoint is in place; the plots are not redrawn yet. */
  'checkpoint-written',
] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

const arrivals = new Map<string, number>();

/** Forgets how often each point was reached (tests that set MONO_TEST_FAULT in-process). */
export function resetFaultPoints(): void {
  arrivals.clear();
}

export function faultPoint(point: FaultPoint): void {
  const spec = process.env['MONO_TEST_FAULT'];
  if (!spec) return;
  const match = /^([a-z-]+)(?::(kill|enospc))?(?:@(\d+))?$/.exec(spec);
  if (!match || match[1] !== point) return;
  const count = (arrivals.get(point) ?? 0) + 1;
  arrivals.set(point, count);
  if (count !== Number(match[3] ?? 1)) return;
  if ((match[2] ?? 'kill') === 'kill') process.kill(process.pid, 'SIGKILL');
  throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
}
