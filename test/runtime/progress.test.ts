import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { formatBar, formatEpochLine, formatLrBoundsLine, formatTransferBar, ProgressReporter } from '../../src/runtime/progress.js';
import type { BatchProgress, EpochMetrics } from '../../src/runtime/trainer.js';

function sink(isTTY: boolean): { stream: Writable & { isTTY: boolean; columns: number }; text: () => string } {
  let text = '';
  const stream = Object.assign(
    new Writable({
      write(chunk, _e, done) {
        text += String(chunk);
        done();
      },
    }),
    { isTTY, columns: 100 },
  );
  return { stream, text: () => text };
}

const metrics: EpochMetrics = {
  phase: 'p1', epoch: 2, epochs: 5, head: 'p1.head', loss: 0.41234, acc: 0.9074, val_loss: 0.7828, val_acc: 0.734, test_loss: null, test_acc: null, mi: 0.663,
  lr: 0.005, momentum: 0.9, lr_groups: { p1: 0.005 }, mi_groups: { p1: 0.663 }, seconds: 87.2, examples_per_s: 103.4,
};
const batch = (step: number): BatchProgress => ({ phase: 'p1', epoch: 2, epochs: 5, step, steps: 100, loss: 0.5, examplesPerSecond: 800 });

describe('progress', () => {
  it('formats the epoch line and the bar', () => {
    expect(formatEpochLine(metrics)).toBe(
      'p1 epoch 2/5 [p1.head]  loss 0.4123  acc 90.74%  val_loss 0.7828  val_acc 73.40%  mi 0.663  lr 0.00500  mom 0.900  87.2s  103 ex/s',
    );
    expect(formatEpochLine({ ...metrics, epoch: 5, test_loss: 0.81234, test_acc: 0.7215 })).toBe(
      'p1 epoch 5/5 [p1.head]  loss 0.4123  acc 90.74%  val_loss 0.7828  val_acc 73.40%  test_loss 0.8123  test_acc 72.15%  mi 0.663  lr 0.00500  mom 0.900  87.2s  103 ex/s',
    );
    expect(formatBar(batch(45), 100, 7)).toMatch(/^p1 epoch 2\/5 \[#+-+\] 45\/100  800 ex\/s  loss 0\.5000  ETA 0:07$/);
    expect(formatBar(batch(100), 100, 0)).not.toContain('-]');
  });

  it("says where an lr_find phase's bounds came from: the event line and the first epoch line", () => {
    const bounds = { min: 0.001, max: 0.1 };
    const rejected = 'only 12 steps recorded (at least 20 needed)';
    expect(formatLrBoundsLine({ phase: 'p2', bounds, source: 'lr-find' })).toBe('p2: LR range test suggests lr bounds [0.00100, 0.100]');
    expect(formatLrBoundsLine({ phase: 'p2', bounds, source: 'plan', rejected })).toBe(
      `warning: p2: the LR range test is unusable: ${rejected}; keeping the plan's lr bounds [0.00100, 0.100]`,
    );
    expect(formatLrBoundsLine({ phase: 'p2', bounds, source: 'checkpoint', rejected })).toBe(
      `p2: lr bounds [0.00100, 0.100] kept from the checkpoint (the plan's: the LR range test was unusable: ${rejected})`,
    );
    expect(formatLrBoundsLine({ phase: 'p2', bounds, source: 'given' })).toBeUndefined();
    const first = { ...metrics, epoch: 1, lr_bounds: bounds };
    expect(formatEpochLine({ ...first, lr_bounds_source: 'lr-find' })).toMatch(/  lr bounds \[0\.00100, 0\.100\] from lr-find$/);
    expect(formatEpochLine({ ...first, lr_bounds_source: 'plan', lr_find_rejected: rejected })).toMatch(/  lr bounds \[0\.00100, 0\.100\] from the plan \(LR range test unusable\)$/);
    expect(formatEpochLine({ ...first, lr_bounds_source: 'given' })).toMatch(/ from --lr-find$/);
    expect(formatEpochLine({ ...first, epoch: 2 })).not.toMatch(/lr bounds/);
  });

  it('prints only epoch lines when not a terminal', () => {
    const out = sink(false);
    const reporter = new ProgressReporter(out.stream);
    for (let step = 1; step <= 100; step++) reporter.batch(batch(step));
    reporter.epoch(metrics);
    expect(out.text()).toBe(formatEpochLine(metrics) + '\n');
  });

  it('redraws the bar in place at most every 100 ms on a terminal, then the epoch line', () => {
    const out = sink(true);
    let now = 0;
    const reporter = new ProgressReporter(out.stream, { now: () => now });
    for (let step = 1; step <= 100; step++) {
      now += 10; // 100 steps over 1 s: about 10 redraws
      reporter.batch(batch(step));
    }
    const redraws = out.text().split('\r\u001b[2K').filter((s) => s.startsWith('p1 epoch')).length;
    expect(redraws).toBeGreaterThanOrEqual(9);
    expect(redraws).toBeLessThanOrEqual(12);
    reporter.epoch(metrics);
    expect(out.text().endsWith('\r\u001b[2K' + formatEpochLine(metrics) + '\n')).toBe(true);
  });

  it('draws a download bar on a terminal only', () => {
    const MiB = 1024 * 1024;
    const progress = { file: 'cifar-10-binary.tar.gz', done: 81 * MiB, total: 162 * MiB, bytesPerSecond: 5.4 * MiB };
    expect(formatTransferBar(progress, 100)).toBe(`cifar-10-binary.tar.gz [${'#'.repeat(20)}${'-'.repeat(19)}] 81.0/162.0 MiB  5.4 MiB/s  ETA 0:15`);
    expect(formatTransferBar({ ...progress, total: undefined }, 100)).toBe('cifar-10-binary.tar.gz 81.0 MiB  5.4 MiB/s');
    const tty = sink(true);
    new ProgressReporter(tty.stream).transfer(progress);
    expect(tty.text()).toContain('\r\u001b[2Kcifar-10-binary.tar.gz [');
    const pipe = sink(false);
    new ProgressReporter(pipe.stream).transfer(progress);
    expect(pipe.text()).toBe('');
  });

  it('an interrupted bar is ended with a newline and left on screen; nothing is written when none shows', () => {
    const out = sink(true);
    const reporter = new ProgressReporter(out.stream, { now: () => 0 });
    reporter.batch(batch(1));
    reporter.end();
    expect(out.text()).toMatch(/^\r\u001b\[2Kp1 epoch 2\/5 \[#*-+\] 1\/100 .*\n$/);
    reporter.end();
    reporter.message('after');
    expect(out.text().endsWith('\nafter\n')).toBe(true);
    expect(out.text().match(/\n/g)).toHaveLength(2);
  });
});
