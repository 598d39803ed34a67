/**
 * An stdp phase through the runtime (cpu backend, a tiny synthetic plan): its metrics
 * lines, its weights kept in [0, 1], the classifier trained after it on its frozen
 * spikes, and a run interrupted inside the STDP phase (or at its end) that resumes
 * bit for bit, the rule's image count included.
 */
import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePlan } from '../../src/compile.js';
import type { IR, StdpSpec } from '../../src/ir/types.js';
import { stdpRates } from '../../src/optim/stdp.js';
import { selectBackend } from '../../src/runtime/backend.js';
import { readCheckpoint } from '../../src/runtime/checkpoint.js';
import { formatEpochLine } from '../../src/runtime/progress.js';
import { Network } from '../../src/runtime/graph.js';
import { Rng } from '../../src/runtime/rng.js';
import { createRunFolder, readMetrics } from '../../src/runtime/run-folder.js';
import { StdpPhase } from '../../src/runtime/stdp-phase.js';
import { runSession } from '../../src/runtime/session.js';
import type { EpochMetrics } from '../../src/runtime/trainer.js';

let root: string;
beforeAll(async () => {
  await selectBackend({ force: 'cpu' });
  root = await mkdtemp(path.join(os.tmpdir(), 'mono-stdp-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const SOURCE = `plan spikes
data synthetic(examples: 120, classes: 3, shape: [8, 8, 1], noise: 0.3) {
  batch 16
  holdout 24
}
network input [8, 8, 1] {
  spikes: binary
  features: conv(6, 3, padding: valid, init: stdp_normal) binary(threshold: 3) maxpool
  out: flatten dense(3)
}
partition f = spikes .. features
partition c = out
schedule {
  train f for 3 epochs with stdp(a_plus: 0.05, every: 40, a_max: 0.4, winners: 3, batch: 4)
  train c for 2 epochs with msgd(lr: 0.05, momentum: 0.9)
}
`;

function compileIr(): IR {
  const result = compilePlan(SOURCE, 'spikes.mono');
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return result.ir!;
}

async function newRun(name: string, ir: IR): Promise<string> {
  const dir = path.join(root, name);
  await createRunFolder(dir, { source: SOURCE, ir, info: { plan: 'spikes', planFile: 'spikes.mono', seed: 3, set: {}, backend: 'cpu', startedAt: '' } });
  return dir;
}

const comparable = (metrics: EpochMetrics[]) => metrics.map(({ seconds: _s, examples_per_s: _e, ...rest }) => rest);
const TRAIN = 120 - 24;

describe('stdp phases', () => {
  const ir = compileIr();
  const spec = ir.phases[0]!.optimizer as StdpSpec;

  it('log the rule per epoch, keep the kernel in [0, 1], and hand frozen spikes to the classifier', async () => {
    const dir = await newRun('whole', ir);
    await runSession({ ir, dir, seed: 3 });
    const metrics = await readMetrics(dir);
    expect(metrics.map((m) => [m.phase, m.epoch, m.head])).toEqual([
      ['f', 1, 'none'],
      ['f', 2, 'none'],
      ['f', 3, 'none'],
      ['c', 1, 'network'],
      ['c', 2, 'network'],
    ]);
    for (const [index, line] of metrics.slice(0, 3).entries()) {
      expect([line.loss, line.acc, line.val_acc]).toEqual([null, null, null]);
      const stdp = line.stdp!;
      expect(stdp.images).toBe(TRAIN * (index + 1));
      // Updates of 4 images: a batch of 16 is 4 updates; the last batch of 96 - 80 = 16 too.
      expect(stdp.updates).toBe(TRAIN / 4);
      expect({ aPlus: stdp.a_plus, aMinus: stdp.a_minus }).toEqual(stdpRates(spec, stdp.images));
      expect(line.lr).toBe(stdp.a_plus);
      const layer = stdp.layers['features.conv1']!;
      expect(Object.keys(stdp.layers)).toEqual(['features.conv1']);
      expect(layer.dw).toBeGreaterThan(0);
      expect(layer.active).toBeGreaterThan(0);
      expect(layer.active).toBeLessThan(1);
      expect(layer.winners).toBeGreaterThan(0);
      expect(layer.winners).toBeLessThanOrEqual(3);
      expect(formatEpochLine(line)).toContain('features.conv1: dw');
    }
    // The rule drives weights towards 0 or 1: the convergence measure falls from its start, 0.8 * 0.2.
    const convergence = metrics.slice(0, 3).map((m) => m.stdp!.layers['features.conv1']!.convergence);
    expect(convergence[0]).toBeLessThan(0.16);
    expect(convergence[2]).toBeLessThan(convergence[0]!);
    const kernel = (await readCheckpoint(dir)).weights.find((w) => w.name === 'features.conv1.kernel')!;
    expect(Math.min(...kernel.values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...kernel.values)).toBeLessThanOrEqual(1);
    expect(metrics[4]!.val_acc).toBeGreaterThan(1 / 3);
  });

  it('resumed inside the stdp phase or at its end, give the same metrics and weights as an uninterrupted run', async () => {
    const whole = await newRun('whole-2', ir);
    await runSession({ ir, dir: whole, seed: 3 });
    const expected = comparable(await readMetrics(whole));
    const weights = (await readCheckpoint(whole)).weights;
    for (const stopAfter of [1, 2, 3]) {
      const dir = await newRun(`interrupted-${stopAfter}`, ir);
      await runSession({ ir, dir, seed: 3, maxEpochs: stopAfter });
      const checkpoint = await readCheckpoint(dir);
      // Inside the phase the checkpoint keeps the images seen (the rates follow); at its end nothing.
      expect(checkpoint.state.stdp ?? null).toEqual(stopAfter < 3 ? { images: TRAIN * stopAfter } : null);
      expect(checkpoint.state.optimizer).toBeNull();
      const result = await runSession({ ir, dir, seed: 3, resume: checkpoint });
      expect(result.finished).toBe(true);
      expect(comparable(await readMetrics(dir)), `stopped after epoch ${stopAfter}`).toEqual(expected);
      expect((await readCheckpoint(dir)).weights).toEqual(weights);
    }
  });

  it('learn without leaking tensors: every update leaves as many as it found', async () => {
    const network = new Network(ir, new Rng(1));
    const rule = new StdpPhase(network, spec, 'f', { images: 7 });
    const rng = new Rng(2);
    const input = tf.tensor4d(Array.from({ length: 16 * 64 }, () => rng.normal()), [16, 8, 8, 1]);
    rule.learn(input);
    const before = tf.memory().numTensors;
    rule.learn(input);
    rule.learn(input);
    expect(tf.memory().numTensors).toBe(before);
    expect(rule.state()).toEqual({ images: 7 + 3 * 16 });
    const metrics = await rule.endEpoch();
    expect(metrics.updates).toBe(12);
    rule.dispose();
    input.dispose();
    network.dispose();
  });
});
