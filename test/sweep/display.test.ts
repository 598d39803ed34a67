import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { clock, formatTrialLine, SweepDisplay } from '../../src/sweep/display.js';

class Terminal extends Writable {
  text = '';
  isTTY = true;
  columns = 60;
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

describe('sweep display', () => {
  it('formats a worker line and durations', () => {
    const line = formatTrialLine({ id: 'c2-s1', label: 'lr=0.1 seed 1' }, { epochsDone: 5, epochs: 10, last: { phase: 'p2', epoch: 2, epochs: 3, val_acc: 0.852, test_acc: null, seconds: 1 } }, 41);
    expect(line).toBe('c2-s1 lr=0.1 seed 1  p2 epoch 2/3 (5/10 epochs)  val_acc 85.20%  0:41');
    expect(clock(3725)).toBe('1:02:05');
  });

  it('on a terminal, redraws one line per worker and the summary in place, with events above them', async () => {
    const out = new Terminal();
    const display = new SweepDisplay(out);
    display.setLines(['local-1  c1-s1 starting', 'local-2  idle']);
    expect(out.text).toBe('local-1  c1-s1 starting\nlocal-2  idle\n');
    // At most 5 redraws a second: the summary comes with the next one.
    display.summary('sweep: 0/2 done');
    expect(out.text).toBe('local-1  c1-s1 starting\nlocal-2  idle\n');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(out.text).toBe('local-1  c1-s1 starting\nlocal-2  idle\n' + '\u001b[2A' + '\u001b[2K\n'.repeat(2) + '\u001b[2A' + 'local-1  c1-s1 starting\nlocal-2  idle\nsweep: 0/2 done\n');
    out.text = '';
    display.event('local-1: done c1-s1');
    // Up three lines, clear them, back up, the event, then the block again.
    expect(out.text).toBe('\u001b[3A' + '\u001b[2K\n'.repeat(3) + '\u001b[3A' + 'local-1: done c1-s1\n' + 'local-1  c1-s1 starting\nlocal-2  idle\nsweep: 0/2 done\n');
    out.text = '';
    display.finish();
    expect(out.text).toBe('\u001b[3A' + '\u001b[2K\n'.repeat(3) + '\u001b[3A');
  });

  it('cuts lines to the terminal width', () => {
    const out = new Terminal();
    const display = new SweepDisplay(out);
    display.setLines(['x'.repeat(100)]);
    expect(out.text.split('\n')[0]).toBe(`${'x'.repeat(56)}...`);
  });

  it('elsewhere prints only events, and the summary when asked', () => {
    const out = new Terminal();
    out.isTTY = false;
    const display = new SweepDisplay(out);
    display.setLines(['local-1  c1-s1 starting']);
    display.summary('sweep: 0/2 done');
    display.event('local-1: start c1-s1');
    display.summary('sweep: 1/2 done', true);
    display.finish();
    expect(out.text).toBe('local-1: start c1-s1\nsweep: 1/2 done\n');
  });
});
