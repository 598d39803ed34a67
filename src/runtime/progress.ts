import type { TransferProgress } from './data/download.js';
import type { BatchProgress, EpochMetrics, LrBoundsEvent } from './trainer.js';

type Output = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

const fixed = (value: number | null, digits: number) => (value === null || !Number.isFinite(value) ? '-' : value.toFixed(digits));
const percent = (value: number | null) => (value === null ? '-' : `${(value * 100).toFixed(2)}%`);

/** Seconds as a clock, `m:ss` or `h:mm:ss` (`--:--` when unknown): ETAs, elapsed and remaining times. */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

/** The line printed once per epoch (also the plain, non-terminal output). */
export function formatEpochLine(m: EpochMetrics): string {
  if (m.stdp) return formatStdpLine(m, m.stdp);
  return (
    `${m.phase} epoch ${m.epoch}/${m.epochs} [${m.head}]  loss ${fixed(m.loss, 4)}  acc ${percent(m.acc)}  ` +
    `val_loss ${fixed(m.val_loss, 4)}  val_acc ${percent(m.val_acc)}  ` +
    (m.test_acc !== null && m.test_acc !== undefined ? `test_loss ${fixed(m.test_loss, 4)}  test_acc ${percent(m.test_acc)}  ` : '') +
    `mi ${fixed(m.mi, 3)}  ` +
    `lr ${m.lr.toPrecision(3)}  mom ${fixed(m.momentum, 3)}  ${m.seconds.toFixed(1)}s  ${Math.round(m.examples_per_s)} ex/s` +
    (m.best ? '  best' : '') +
    groupLine(m) +
    earlyStopLine(m)
  );
}

/**
 * An stdp phase's epoch: its rates and images, then per conv the mean |dw| per update,
 * the fraction of units that fired and the convergence C = mean w(1 - w).
 */
function formatStdpLine(m: EpochMetrics, stdp: NonNullable<EpochMetrics['stdp']>): string {
  const layers = Object.entries(stdp.layers).map(
    ([id, l]) => `\n  ${id}: dw ${l.dw.toPrecision(3)}  active ${percent(l.active)}  winners/image ${l.winners.toFixed(1)}  C ${l.convergence.toFixed(4)}  w>0.5 ${percent(l.above_half)}`,
  );
  return (
    `${m.phase} epoch ${m.epoch}/${m.epochs} [stdp]  a+ ${stdp.a_plus.toPrecision(3)}  a- ${stdp.a_minus.toPrecision(3)}  images ${stdp.images}  ` +
    `${m.seconds.toFixed(1)}s  ${Math.round(m.examples_per_s)} ex/s` +
    layers.join('')
  );
}

/** The end of a phase with `stop early`: stopped before its last epoch, and whose weights it ends with. */
function earlyStopLine(m: EpochMetrics): string {
  const stop = m.early_stop;
  if (!stop || (!stop.stopped && !stop.restored)) return '';
  const restored = stop.restored ? `; its weights are back from epoch ${stop.best_epoch}, its best` : '';
  return stop.stopped ? `\n  ${m.phase} stopped early after epoch ${m.epoch} of ${m.epochs}${restored || ` (its best: epoch ${stop.best_epoch})`}` : `\n  ${m.phase}: weights back from epoch ${stop.best_epoch}, its best`;
}

/**
 * Layer-wise lr (groups with different lrs): each group's lr and MI; and the
 * lr-find bounds on a phase's first epoch line.
 */
function groupLine(m: EpochMetrics): string {
  let text = '';
  if (m.lr_bounds && m.epoch === 1) {
    const from = m.lr_bounds_source === 'plan' ? 'the plan (LR range test unusable)' : m.lr_bounds_source === 'given' ? '--lr-find' : 'lr-find';
    text += `  lr bounds [${m.lr_bounds.min.toPrecision(3)}, ${m.lr_bounds.max.toPrecision(3)}] from ${from}`;
  }
  const groups = Object.entries(m.lr_groups ?? {});
  if (groups.length > 1 && groups.some(([, lr]) => lr !== m.lr)) {
    text += '\n  ' + groups.map(([g, lr]) => `${g}: lr ${lr.toPrecision(3)} mi ${fixed(m.mi_groups?.[g] ?? null, 3)}`).join('  ');
  }
  return text;
}

/**
 * The line `mono run` prints when an `mi(bounds: lr_find)` phase's bounds are settled by
 * its own LR range test (`lr-find`, or `plan` when the sweep was unusable), or kept from
 * a checkpoint; undefined for bounds given with --lr-find, which run-action announces.
 */
export function formatLrBoundsLine(event: LrBoundsEvent): string | undefined {
  const range = `[${event.bounds.min.toPrecision(3)}, ${event.bounds.max.toPrecision(3)}]`;
  const steps = event.result ? ` (${event.result.points.length} of ${event.result.steps} steps)` : '';
  switch (event.source) {
    case 'lr-find':
      return `${event.phase}: LR range test${steps} suggests lr bounds ${range}`;
    case 'plan':
      return `warning: ${event.phase}: the LR range test${steps} is unusable: ${event.rejected ?? 'no reason given'}; keeping the plan's lr bounds ${range}`;
    case 'checkpoint':
      return `${event.phase}: lr bounds ${range} kept from the checkpoint${event.rejected ? ` (the plan's: the LR range test was unusable: ${event.rejected})` : ''}`;
    case 'given':
      return undefined;
  }
}

/** The live bar: `p1 epoch 2/5 [#####-----] 45/100  812 ex/s  loss 0.4123  ETA 0:07`. */
export function formatBar(p: BatchProgress, width: number, etaSeconds: number): string {
  const eta = etaSeconds;
  const head = `${p.phase} epoch ${p.epoch}/${p.epochs} `;
  const tail = ` ${p.step}/${p.steps}  ${Math.round(p.examplesPerSecond)} ex/s  loss ${fixed(p.loss, 4)}  ETA ${duration(eta)}`;
  const barWidth = Math.max(10, Math.min(40, width - head.length - tail.length - 2));
  const filled = Math.round((barWidth * p.step) / Math.max(p.steps, 1));
  return `${head}[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]${tail}`;
}

const MIB = 1024 * 1024;

/** The download bar: `cifar-10-binary.tar.gz [#####-----] 81.2/162.0 MiB  5.3 MiB/s  ETA 0:15`. */
export function formatTransferBar(p: TransferProgress, width: number): string {
  const speed = `${(p.bytesPerSecond / MIB).toFixed(1)} MiB/s`;
  if (p.total === undefined || p.total <= 0) return `${p.file} ${(p.done / MIB).toFixed(1)} MiB  ${speed}`;
  const eta = p.bytesPerSecond > 0 ? (p.total - p.done) / p.bytesPerSecond : NaN;
  const head = `${p.file} `;
  const tail = ` ${(p.done / MIB).toFixed(1)}/${(p.total / MIB).toFixed(1)} MiB  ${speed}  ETA ${duration(eta)}`;
  const barWidth = Math.max(10, Math.min(40, width - head.length - tail.length - 2));
  const filled = Math.min(barWidth, Math.round((barWidth * p.done) / p.total));
  return `${head}[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]${tail}`;
}

/**
 * Progress on a terminal: a bar redrawn in place (at most every `intervalMs`) and a
 * summary line per epoch. Elsewhere (a pipe, a log file): only the epoch lines.
 */
export class ProgressReporter {
  private readonly out: Output;
  private readonly live: boolean;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private lastDraw = -Infinity;
  private drawn = false;
  private epochStarted = 0;

  constructor(out: Output, options: { live?: boolean; intervalMs?: number; now?: () => number } = {}) {
    this.out = out;
    this.live = options.live ?? out.isTTY === true;
    this.intervalMs = options.intervalMs ?? 100;
    this.now = options.now ?? (() => performance.now());
  }

  batch(p: BatchProgress): void {
    if (!this.live) return;
    const now = this.now();
    if (p.step === 1) this.epochStarted = now;
    if (now - this.lastDraw < this.intervalMs && p.step < p.steps) return;
    this.lastDraw = now;
    // Timed from the end of the first step, so start-up costs do not skew the ETA.
    const secondsPerStep = p.step > 1 ? (now - this.epochStarted) / 1000 / (p.step - 1) : NaN;
    const bar = formatBar(p, this.out.columns ?? 100, secondsPerStep * (p.steps - p.step));
    this.out.write(`\r\u001b[2K${bar}`);
    this.drawn = true;
  }

  /** A download's bar, redrawn like the training bar; nothing when not on a terminal. */
  transfer(p: TransferProgress): void {
    if (!this.live) return;
    const now = this.now();
    if (now - this.lastDraw < this.intervalMs && p.done !== p.total) return;
    this.lastDraw = now;
    this.out.write(`\r\u001b[2K${formatTransferBar(p, this.out.columns ?? 100)}`);
    this.drawn = true;
  }

  epoch(m: EpochMetrics): void {
    this.clear();
    this.out.write(formatEpochLine(m) + '\n');
  }

  message(text: string): void {
    this.clear();
    this.out.write(text + '\n');
  }

  /**
   * Ends a bar that is showing with a newline, leaving it on screen (an interrupted
   * epoch shows where it stopped); later output starts on a line of its own.
   */
  end(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }

  /** Removes the bar (before other output, or at the end). */
  clear(): void {
    if (this.drawn) this.out.write('\r\u001b[2K');
    this.drawn = false;
  }
}
