import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { formatBar, formatEpochLine, ProgressReporter } from '../../src/runtime/progress.js';
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
  phase: 'p1', epoch: 2, epochs: 5, head: 'p1.head', loss: 0.41234, acc: 0.9074, val_loss: 0.7828, val_acc: 0.734, mi: 0.663,
  lr: 0.005, momentum: 0.9, lr_groups: { p1: 0.005 }, mi_groups: { p1: 0.663 }, seconds: 87.2, examples_per_s: 103.4,
};
const batch = (step: number): BatchProgress => ({ phase: 'p1', epoch: 2, epochs: 5, step, steps: 100, loss: 0.5, examplesPerSecond: 800 });

describe('progress', () => {
  it('formats the epoch line and the bar', () => {
    expect(formatEpochLine(metrics)).toBe(
      'p1 epoch 2/5 [p1.head]  loss 0.4123  acc 90.74%  val_loss 0.7828  val_acc 73.40%  mi 0.663  lr 0.00500  mom 0.900  87.2s  103 ex/s',
    );
    expect(formatBar(batch(45), 100, 7)).toMatch(/^p1 epoch 2\/5 \[#+-+\] 45\/100  800 ex\/s  loss 0\.5000  ETA 0:07$/);
    expect(formatBar(batch(100), 100, 0)).not.toContain('-]');
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
