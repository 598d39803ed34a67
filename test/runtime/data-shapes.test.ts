/**
 * Data of other shapes and class counts, end to end through `mono run` (in-process, cpu
 * backend): a 47-class EMNIST-style IDX set whose shape and classes come from its files,
 * and flat vector examples on a dense network.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePlan } from '../../src/compile.js';
import { readMetrics } from '../../src/runtime/run-folder.js';
import { mono } from '../cli/harness.js';
import { writeClassPatternIdxFolder } from './data/fixtures.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mono-shapes-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const emnistPlan = (units: number) => `plan emnist
data idx("emnist") {
  batch 32
  holdout 141
}
network input [8, 8, 1] {
  body: flatten dense(64) relu
  out: dense(${units})
}
schedule { train main for 3 epochs with msgd(lr: 0.05, momentum: 0.9) }
`;

describe('an EMNIST-style IDX set with 47 classes', () => {
  beforeAll(async () => {
    await mkdir(path.join(root, 'emnist'));
    writeClassPatternIdxFolder(path.join(root, 'emnist'), { classes: 47, perClass: 15, rows: 8, cols: 8 });
    await writeFile(path.join(root, 'emnist47.mono'), emnistPlan(47));
    await writeFile(path.join(root, 'emnist10.mono'), emnistPlan(10));
  });

  it('compiles with dense(47): the shape and classes of idx() are known from the files, not assumed', () => {
    const compiled = compilePlan(emnistPlan(47), 'emnist47.mono');
    expect(compiled.diagnostics).toEqual([]);
    expect(compiled.ir?.classes).toBe(47);
  });

  it('trains and validates with dense(47)', async () => {
    const result = await mono(['run', 'emnist47.mono', '--backend', 'cpu', '--out', 'e47'], { cwd: root });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const metrics = await readMetrics(path.join(root, 'e47'));
    expect(metrics).toHaveLength(3);
    // 47 classes: chance is about 2%.
    expect(metrics[metrics.length - 1]!.val_acc).toBeGreaterThan(0.9);
  });

  it('is refused with dense(10), with the numbers', async () => {
    const result = await mono(['run', 'emnist10.mono', '--backend', 'cpu', '--out', 'e10'], { cwd: root });
    expect(result.code).toBe(3);
    expect(result.stderr).toBe(
      `mono run: ${path.join(root, 'emnist')}: labels run 0..46 (47 classes), but the network ends in dense(10) at out/dense#1: 10 classes; expected labels 0..9, or a network that ends in dense(47)\n`,
    );
  });
});

describe('vector examples', () => {
  it('trains a dense network on synthetic vectors to a good accuracy', async () => {
    await writeFile(
      path.join(root, 'vectors.mono'),
      `plan vectors
data synthetic(examples: 600, classes: 4, shape: [16], noise: 0.3) {
  batch 32
  holdout 100
  normalize per_channel
}
network input [16] {
  hidden: dense(32) bn relu dropout(0.1)
  out: dense(4)
}
partition p1 = hidden proxy linear(4)
partition p2 = out
head linear(classes) { dense(classes) }
schedule {
  train p1 for 2 epochs with msgd(lr: 0.05, momentum: 0.9)
  train p2 for 2 epochs with msgd(lr: 0.05, momentum: 0.9)
}
`,
    );
    const result = await mono(['run', 'vectors.mono', '--backend', 'cpu', '--out', 'v'], { cwd: root });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const metrics = await readMetrics(path.join(root, 'v'));
    expect(metrics.map((m) => m.head)).toEqual(['p1.head', 'p1.head', 'network', 'network']);
    expect(metrics[metrics.length - 1]!.val_acc).toBeGreaterThan(0.9);
  });
});
