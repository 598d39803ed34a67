/**
 * A sweep while it runs, whoever runs its trials (local child processes or queue
 * workers): the record and its saving (serialized, whole-file), the labels and the
 * summary line the display shows.
 */
import type { SweepDisplay } from './display.js';
import { clock } from './display.js';
import { describeSet, summarizeConfigs, variedParams } from './results.js';
import { tally, writeSweep, type SweepRecord, type TrialRecord } from './state.js';

export class SweepSession {
  readonly dir: string;
  readonly record: SweepRecord;
  readonly display: SweepDisplay;
  private readonly started = performance.now();
  private readonly epochsAtStart: number;
  private saving: Promise<void> = Promise.resolve();
  private readonly varied: string[];

  constructor(dir: string, record: SweepRecord, display: SweepDisplay) {
    this.dir = dir;
    this.record = record;
    this.display = display;
    this.epochsAtStart = this.epochsDone();
    this.varied = variedParams(record);
  }

  /** Writes sweep.json; writes never overlap and each writes the latest state. */
  save(): Promise<void> {
    this.saving = this.saving.then(() => writeSweep(this.dir, this.record));
    return this.saving;
  }

  epochsOf(trial: TrialRecord): number {
    return this.record.configs.find((c) => c.id === trial.config)?.epochs ?? 0;
  }

  /** `lr=0.01 seed 1`: what tells this trial apart. */
  labelOf(trial: TrialRecord): string {
    const set = this.record.configs.find((c) => c.id === trial.config)?.set ?? {};
    const params = this.varied.length > 0 ? describeSet(set, this.varied) : '';
    return [params, trial.seed !== null ? `seed ${trial.seed}` : ''].filter((s) => s !== '').join(' ');
  }

  private epochsDone(): number {
    return this.record.trials.reduce((sum, t) => sum + (t.state === 'done' ? this.epochsOf(t) : t.epochsDone), 0);
  }

  /** `sweep: 12/42 done, 2 running, 0 failed, 28 pending; best c03 (lr=0.01) 91.20% over 3; 5:12, about 20:00 left`. */
  summaryText(): string {
    const counts = tally(this.record.trials);
    const total = this.record.trials.length;
    const parts = [`sweep: ${counts.done}/${total} done, ${counts.running} running, ${counts.failed} failed, ${counts.pending} pending`];
    const best = summarizeConfigs(this.record).find((s) => s.finalValAcc !== null);
    if (best) parts.push(`best ${best.config} (${describeSet(best.set, this.varied)}) ${(100 * best.finalValAcc!.mean).toFixed(2)}% over ${best.finalValAcc!.n}`);
    const elapsed = (performance.now() - this.started) / 1000;
    const all = this.record.trials.reduce((sum, t) => sum + (t.state === 'failed' ? t.epochsDone : this.epochsOf(t)), 0);
    const done = this.epochsDone();
    const rate = (done - this.epochsAtStart) / elapsed;
    const left = rate > 0 ? `, about ${clock((all - done) / rate)} left` : '';
    return `${parts.join('; ')}; ${clock(elapsed)} elapsed${left}`;
  }
}
