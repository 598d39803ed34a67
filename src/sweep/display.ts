/**
 * What a sweep shows while it runs. On a terminal: one line per worker and a summary
 * line, redrawn in place (at most 5 times a second), with events (a trial finished or
 * failed) printed above them. Elsewhere (a pipe, a CI log): plain lines only, one per
 * event, and the summary line after each trial that ends.
 */
import { duration } from '../runtime/progress.js';
import type { EpochLine } from './trial-process.js';

type Output = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

/** Seconds as `m:ss` or `h:mm:ss`: the same clock as mono run's progress line. */
export const clock = duration;

const percent = (value: number | null) => (value === null ? '-' : `${(100 * value).toFixed(2)}%`);

/** `c03-s1 lr=0.01  p2 epoch 2/3 (5/10 epochs)  val_acc 85.20%  0:41`. */
export function formatTrialLine(trial: { id: string; label: string }, progress: { epochsDone: number; epochs: number; last: EpochLine | null }, seconds: number): string {
  const where = progress.last ? `${progress.last.phase} epoch ${progress.last.epoch}/${progress.last.epochs}` : 'starting';
  return `${trial.id} ${trial.label}  ${where} (${progress.epochsDone}/${progress.epochs} epochs)  val_acc ${percent(progress.last?.val_acc ?? null)}  ${clock(seconds)}`;
}

export class SweepDisplay {
  private readonly out: Output;
  private readonly live: boolean;
  private lines: string[] = [];
  private summaryLine = '';
  private drawn = 0;
  private lastDraw = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(out: Output, options: { live?: boolean } = {}) {
    this.out = out;
    this.live = options.live ?? out.isTTY === true;
  }

  get isLive(): boolean {
    return this.live;
  }

  /** The worker lines (live only). */
  setLines(lines: string[]): void {
    this.lines = lines;
    this.schedule();
  }

  /** The summary line: redrawn live; printed as a line otherwise only when `print`. */
  summary(text: string, print = false): void {
    this.summaryLine = text;
    if (this.live) this.schedule();
    else if (print) this.out.write(text + '\n');
  }

  /** A line that stays (a trial started, finished or failed). */
  event(text: string): void {
    this.clear();
    this.out.write(text + '\n');
    if (this.live) this.draw();
  }

  /** Removes the live block (before the final report). */
  finish(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.clear();
  }

  private schedule(): void {
    if (!this.live) return;
    const wait = 200 - (Date.now() - this.lastDraw);
    if (wait <= 0) return this.draw();
    if (!this.timer) this.timer = setTimeout(() => ((this.timer = undefined), this.draw()), wait);
  }

  private clear(): void {
    if (!this.live || this.drawn === 0) return;
    this.out.write(`\u001b[${this.drawn}A`);
    for (let i = 0; i < this.drawn; i++) this.out.write('\u001b[2K\n');
    this.out.write(`\u001b[${this.drawn}A`);
    this.drawn = 0;
  }

  private draw(): void {
    if (!this.live) return;
    this.clear();
    const width = Math.max(20, (this.out.columns ?? 120) - 1);
    const block = [...this.lines, this.summaryLine].filter((l) => l !== '').map((l) => (l.length > width ? `${l.slice(0, width - 3)}...` : l));
    for (const line of block) this.out.write(`${line}\n`);
    this.drawn = block.length;
    this.lastDraw = Date.now();
  }
}
