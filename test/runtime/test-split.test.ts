/** `test true`: the source's own test split, evaluated at the end of each phase (mono run in-process, cpu). */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePlan } from '../../src/compile.js';
import { selectBackend } from '../../src/runtime/backend.js';
import { loadDataFor } from '../../src/runtime/data/dataset.js';
import { Network } from '../../src/runtime/graph.js';
import { readMetrics } from '../../src/runtime/run-folder.js';
import { evaluate, phaseGraph } from '../../src/runtime/step.js';
import { runRngs, Trainer, type EpochMetrics } from '../../src/runtime/trainer.js';
import { mono } from '../cli/harness.js';
import { writeClassPatternIdxFolder } from './data/fixtures.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mono-test-split-'));
  await mkdir(path.join(root, 'set'));
  writeClassPatternIdxFolder(path.join(root, 'set'), { classes: 5, perClass: 24, testPerClass: 10, rows: 6, cols: 6 });
  await mkdir(path.join(root, 'train-only'));
  writeClassPatternIdxFolder(path.join(root, 'train-only'), { classes: 5, perClass: 8, rows: 6, cols: 6 });
  await selectBackend({ force: 'cpu' });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const plan = (folder: string, test: boolean) => `plan split
data idx("${folder}") {
  batch 20
  holdout 20
  test ${test}
}
head linear(classes) { dense(classes) }
network input [6, 6, 1] {
  stem: flatten dense(16) relu
  out: dense(5)
}
partition p1 = stem proxy linear(5)
partition p2 = out
schedule {
  train p1 for 2 epochs with msgd(lr: 0.05, momentum: 0.9)
  train p2 for 1 epoch with msgd(lr: 0.05, momentum: 0.9)
}
`;

describe("the source's test split", () => {
  it('is evaluated on the last epoch of each phase, with the head the phase trains, and logged', async () => {
    await writeFile(path.join(root, 'with-test.mono'), plan('set', true));
    const result = await mono(['run', 'with-test.mono', '--backend', 'cpu', '--out', 'with-test'], { cwd: root });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const metrics = await readMetrics(path.join(root, 'with-test'));
    expect(metrics.map((m) => [m.phase, m.epoch, m.test_acc === null])).toEqual([
      ['p1', 1, true],
      ['p1', 2, false],
      ['p2', 1, false],
    ]);
    for (const m of [metrics[1]!, metrics[2]!]) {
      expect(m.test_loss).toBeGreaterThan(0);
      expect(m.test_acc).toBeGreaterThan(0.8);
    }
    expect(metrics[0]!.test_loss).toBeNull();
    expect(result.stdout).toMatch(/p2 epoch 1\/1 \[network\] .* test_loss \d\.\d{4}  test_acc \d+\.\d\d%/);
    expect(result.stdout).toMatch(/mono run: done; last: p2 epoch 1, val_acc \d+\.\d\d%, test_acc \d+\.\d\d%\./);
  });

  it('gives the same numbers as evaluating the trained network on the test examples', async () => {
    const compiled = compilePlan(plan(path.join(root, 'set'), true), 'split.mono');
    const ir = compiled.ir!;
    const data = await loadDataFor(ir);
    expect(data.test?.count).toBe(50);
    const network = new Network(ir, runRngs(3).init);
    const lines: EpochMetrics[] = [];
    try {
      await new Trainer({ network, data, seed: 3, hooks: { onEpoch: (m) => void lines.push(m) } }).run();
      const last = lines[lines.length - 1]!;
      const direct = await evaluate(network, phaseGraph(network, ir.phases[1]!), data.test!, 500);
      expect(last.test_acc).toBe(direct.acc);
      expect(last.test_loss).toBeCloseTo(direct.loss, 6);
    } finally {
      network.dispose();
    }
  });

  it('is null on every line without test true', async () => {
    await writeFile(path.join(root, 'no-test.mono'), plan('set', false));
    expect((await mono(['run', 'no-test.mono', '--backend', 'cpu', '--out', 'no-test'], { cwd: root })).code).toBe(0);
    const metrics = await readMetrics(path.join(root, 'no-test'));
    expect(metrics.every((m) => m.test_loss === null && m.test_acc === null)).toBe(true);
  });

  it('a source without one says so before training', async () => {
    await writeFile(path.join(root, 'train-only.mono'), plan('train-only', true));
    const result = await mono(['run', 'train-only.mono', '--backend', 'cpu', '--out', 'train-only-run'], { cwd: root });
    expect(result.code).toBe(3);
    expect(result.stderr).toBe(
      `mono run: ${path.join(root, 'train-only')}: the plan asks for the test split ('test true'), but there is none; expected t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz] beside the training files\n`,
    );
  });
});
