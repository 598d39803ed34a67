/**
 * Runs a sweep's trials on this machine: `workers` child processes `mono run` at a time,
 * each with `threads` wasm threads. A trial that was running when the sweep stopped
 * continues from its checkpoint; one whose child died without a failure of its own (a
 * signal) is continued again, up to MAX_ATTEMPTS starts. Ctrl-C (the abort signal) ends
 * the children, puts their trials back to pending and returns 'interrupted'.
 */
import { formatTrialLine } from './display.js';
import { readTrialResult } from './results.js';
import type { SweepSession } from './session.js';
import { trialDir, trialLog, type TrialRecord } from './state.js';
import { outcomeOf, readProgress, startTrial, type RunProgress, type RunningTrial } from './trial-process.js';

export const MAX_ATTEMPTS = 3;

export interface LocalOptions {
  workers: number;
  threads: number;
  cwd: string;
  signal: AbortSignal;
  /** How often progress is read from the run folders. */
  pollMs?: number;
}

interface Slot {
  name: string;
  trial: TrialRecord | null;
  progress: RunProgress;
  started: number;
}

export async function runLocal(session: SweepSession, options: LocalOptions): Promise<'finished' | 'interrupted'> {
  const { record, display } = session;
  const queue = record.trials.filter((t) => t.state === 'pending' || t.state === 'running');
  const slots: Slot[] = Array.from({ length: Math.max(1, Math.min(options.workers, queue.length)) }, (_, i) => ({ name: `local-${i + 1}`, trial: null, progress: { epochsDone: 0, last: null }, started: 0 }));
  const running = new Set<RunningTrial>();
  const onAbort = () => {
    for (const child of running) child.stop();
  };
  options.signal.addEventListener('abort', onAbort);

  const redraw = () => {
    display.setLines(
      slots.map((slot) =>
        slot.trial
          ? `${slot.name}  ${formatTrialLine({ id: slot.trial.id, label: session.labelOf(slot.trial) }, { ...slot.progress, epochs: session.epochsOf(slot.trial) }, (performance.now() - slot.started) / 1000)}`
          : `${slot.name}  idle`,
      ),
    );
    display.summary(session.summaryText());
  };
  const ticker = setInterval(() => {
    void Promise.all(
      slots.map(async (slot) => {
        if (!slot.trial) return;
        slot.progress = await readProgress(trialDir(session.dir, slot.trial.id));
        slot.trial.epochsDone = slot.progress.epochsDone;
      }),
    ).then(redraw);
  }, options.pollMs ?? 500);

  const runTrial = async (slot: Slot, trial: TrialRecord): Promise<void> => {
    const epochs = session.epochsOf(trial);
    for (;;) {
      const config = record.configs.find((c) => c.id === trial.config)!;
      const arm = record.arms.find((a) => a.name === trial.arm)!;
      const child = await startTrial({
        planFile: arm.planFile,
        set: config.set,
        seed: trial.seed,
        backend: record.backend,
        runDir: trialDir(session.dir, trial.id),
        logFile: trialLog(session.dir, trial.id),
        threads: options.threads,
        worker: slot.name,
        cwd: options.cwd,
      });
      running.add(child);
      Object.assign(trial, { state: 'running', worker: slot.name, attempts: trial.attempts + 1, error: null });
      trial.startedAt ??= new Date().toISOString();
      if (child.resumedFrom !== null) trial.resumedAt.push(child.resumedFrom);
      slot.trial = trial;
      slot.progress = { epochsDone: child.resumedFrom ?? 0, last: null };
      slot.started = performance.now();
      display.event(`${slot.name}: ${child.resumedFrom !== null ? `resume ${trial.id} from its checkpoint after ${child.resumedFrom} epochs` : `start ${trial.id}`} (${session.labelOf(trial)})`);
      await session.save();
      redraw();

      const exit = await child.done;
      running.delete(child);
      trial.wallSeconds += exit.seconds;
      const progress = await readProgress(trialDir(session.dir, trial.id));
      trial.epochsDone = progress.epochsDone;
      const outcome = outcomeOf(exit, progress.epochsDone, epochs);
      if (outcome.kind === 'done') {
        Object.assign(trial, { state: 'done', finishedAt: new Date().toISOString(), result: await readTrialResult(trialDir(session.dir, trial.id)) });
        const acc = trial.result!.finalValAcc;
        display.event(`${slot.name}: done ${trial.id} (${session.labelOf(trial)}): val_acc ${acc === null ? '-' : `${(100 * acc).toFixed(2)}%`}, ${Math.round(exit.seconds)} s`);
      } else if (options.signal.aborted) {
        // Stopped by Ctrl-C: --resume continues it from its checkpoint.
        Object.assign(trial, { state: 'pending', worker: null });
      } else if (outcome.kind === 'interrupted' && trial.attempts < MAX_ATTEMPTS) {
        display.event(`${slot.name}: ${trial.id}: ${outcome.message}; continuing it from its checkpoint`);
        await session.save();
        continue;
      } else {
        Object.assign(trial, { state: 'failed', finishedAt: new Date().toISOString(), error: outcome.message });
        display.event(`${slot.name}: failed ${trial.id} (${session.labelOf(trial)}): ${outcome.message}; log: ${trialLog(session.dir, trial.id)}`);
      }
      slot.trial = null;
      await session.save();
      if (!options.signal.aborted) display.summary(session.summaryText(), true);
      redraw();
      return;
    }
  };

  try {
    await Promise.all(
      slots.map(async (slot) => {
        while (!options.signal.aborted) {
          const trial = queue.shift();
          if (!trial) return;
          await runTrial(slot, trial);
        }
      }),
    );
  } finally {
    clearInterval(ticker);
    options.signal.removeEventListener('abort', onAbort);
    display.finish();
  }
  return options.signal.aborted ? 'interrupted' : 'finished';
}
