/**
 * bench/pytorch_replica.py against mono itself: its schedules value for value, and a
 * small plan that uses most ops trained in both from the same start in the same order.
 * Needs a python with PyTorch (MONO_PYTHON, /usr/bin/python3 or python3); without one
 * these tests are skipped and say why.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePlan } from '../../src/compile.js';
import type { IR, ScheduleSpec } from '../../src/ir/types.js';
import { createSchedule } from '../../src/optim/schedule.js';
import { selectBackend } from '../../src/runtime/backend.js';
import { loadData } from '../../src/runtime/data/dataset.js';
import { compareLosses, compareWeights } from '../../bench/pytorch/compare.js';
import { readWeights, writeExchange, writeSeed } from '../../bench/pytorch/exchange.js';
import { runMonoCheck } from '../../bench/pytorch/mono-side.js';
import { findTorchPython, REPLICA_SCRIPT, ReplicaProcess } from '../../bench/pytorch/python.js';
import { skipWithoutComponent } from '../support/components.js';

const python = findTorchPython();
const skip = skipWithoutComponent('PyTorch', python.found !== undefined, `no python with torch (${python.probes.map((p) => `${p.python}: ${p.problem}`).join('; ')})`);

type Point = { t: number } | { end_epoch: number };

/** mono's values of a schedule at the points, feeding epoch ends in between as the trainer does. */
function monoValues(spec: ScheduleSpec, base: number, epochs: number, points: Point[]): number[] {
  const schedule = createSchedule(spec, base, epochs);
  const values: number[] = [];
  for (const point of points) {
    if ('end_epoch' in point) schedule.endEpoch({ valLoss: point.end_epoch });
    else values.push(schedule.valueAt(point.t));
  }
  return values;
}

/** Four steps per epoch, with each epoch's end reporting a hold-out loss that improves, then stalls. */
function stepPoints(epochs: number): Point[] {
  const losses = [1, 0.8, 0.8, 0.8, 0.8, 0.79, 0.79, 0.79];
  const points: Point[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let step = 0; step < 4; step++) points.push({ t: epoch + step / 4 });
    points.push({ end_epoch: losses[epoch % losses.length]! });
  }
  return points;
}

const SCHEDULES: [string, ScheduleSpec][] = [
  ['constant', { type: 'constant' }],
  ['step', { type: 'step', every: 2, factor: 0.5 }],
  ['multistep', { type: 'multistep', milestones: [1.5, 3], factor: 0.1 }],
  ['exponential', { type: 'exponential', gamma: 0.7 }],
  ['cosine', { type: 'cosine', to: 0.001 }],
  ['linear', { type: 'linear', to: 0.02 }],
  ['warmup + cosine', { type: 'warmup', epochs: 1.5, from: 0.001, then: { type: 'cosine', to: 0 } }],
  ['warmup filling the phase', { type: 'warmup', epochs: 6, from: 0, then: { type: 'linear', to: 0 } }],
  ['warmup + plateau', { type: 'warmup', epochs: 1, from: 0, then: { type: 'plateau', factor: 0.5, patience: 1, threshold: 0.01, min: 0.01 } }],
  ['onecycle', { type: 'onecycle', peak: 0.4, pct: 0.3, end: 1e-5 }],
  ['onecycle, peak at the end', { type: 'onecycle', peak: 0.4, pct: 1, end: 1e-5 }],
  ['anneal linear', { type: 'anneal', to: 0.5, from: 0.6, shape: 'linear' }],
  ['anneal cosine', { type: 'anneal', to: 0.5, from: 0, shape: 'cosine' }],
  ['plateau', { type: 'plateau', factor: 0.1, patience: 2, threshold: 1e-4, min: 1e-3 }],
];

describe.skipIf(skip)('the PyTorch replica', () => {
  it.each(SCHEDULES)('evaluates the %s schedule as mono does, step by step', (_name, spec) => {
    const epochs = 6;
    const points = stepPoints(epochs);
    const request = { spec, base: 0.1, epochs, points };
    const result = spawnSync(python.found!.python, [REPLICA_SCRIPT, 'schedule'], { input: JSON.stringify(request), encoding: 'utf8' });
    expect(result.stderr).toBe('');
    const theirs = JSON.parse(result.stdout) as number[];
    const ours = monoValues(spec, 0.1, epochs, points);
    expect(theirs).toHaveLength(ours.length);
    ours.forEach((value, i) => expect(Math.abs(theirs[i]! - value)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(value))));
  });

  describe('trains a small plan as mono does (cpu backend)', () => {
    // Strided 'same' conv with uneven padding, max / avg pooling with 'same' padding, flatten,
    // a residual block, a shared residual repeat (shared conv with bias and shared BatchNorm
    // scale, 1/2 scale), leaky_relu / gelu / elu / swish / tanh, global max pool, crop and
    // flip augmentation, warmup, onecycle, an annealed momentum, an lr multiplier, adam.
    const PLAN = `plan parity

data synthetic(examples: 168, classes: 3, shape: [10, 10, 2], noise: 0.3) {
  augment crop(pad: 1), flip
  batch 16
  holdout 40
  seed 3
}

head probe(classes) { avgpool(size: 2, stride: 1) flatten dense(classes) }

block unit(f) { residual { conv(f, 3) bn gelu conv(f, 3) bn } elu }

network input [10, 10, 2] {
  stem: conv(4, 3, stride: 2) bn(momentum: 0.9) leaky_relu maxpool(size: 2, stride: 1, padding: same)
  body: unit(4) repeat 2 shared residual { conv(4, 3, bias: true) swish bn } tanh
  out: global_max_pool dense(3)
}

partition p1 = stem proxy probe(3)
partition p2 = body .. out

schedule {
  train p1 for 2 epochs with msgd(lr: 0.05, momentum: 0.9, decay: 0.001) {
    lr warmup(1, then: cosine(to: 0.005))
  }
  train p2 for 1 epoch with msgd(lr: 0.05, momentum: 0.9) {
    lr onecycle(0.1)
    momentum anneal(to: 0.8)
    lr_mult "body*", 0.5
  }
  finetune all for 1 epoch with adam(lr: 0.001, decay: 0.01)
}
`;
    let folder: string;
    let replica: ReplicaProcess;

    beforeAll(async () => {
      await selectBackend({ force: 'cpu' });
      folder = mkdtempSync(join(tmpdir(), 'mono-replica-test-'));
      replica = new ReplicaProcess(python.found!.python);
    });

    afterAll(async () => {
      await replica?.close();
      if (folder) rmSync(folder, { recursive: true, force: true });
    });

    it('from the same start in the same order: same losses and weights to float32 noise', async () => {
      const compiled = compilePlan(PLAN, 'parity.mono');
      expect(compiled.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      const ir: IR = compiled.ir!;
      const data = await loadData(ir.data);
      writeExchange(folder, ir, data);
      await writeSeed(folder, ir, data.train.count, 4);
      const mono = await runMonoCheck(ir, data, 4);
      const weightsFolder = join(folder, 'check');
      mkdirSync(weightsFolder);
      await replica.request({ cmd: 'load', folder });
      const torch = await replica.request<{ losses: number[]; epochs: { val_acc: number; val_loss: number }[] }>({
        cmd: 'recipe', seed: 4, init: 'mono', threads: 1, losses: true, weightsFolder,
      });
      // 128 training examples in batches of 16: 8 steps per epoch, 4 epochs.
      expect(mono.losses).toHaveLength(32);
      const losses = compareLosses(mono.losses, torch.losses);
      // Measured: 1.8e-7 in the loss, 3.5e-6 in the weights (cpu backend, whose reductions are exact enough to show it).
      expect(losses.max).toBeLessThan(1e-5);
      for (const phase of ['p1', 'p2', 'finetune']) {
        const weights = compareWeights(mono.weights.get(phase)!, readWeights(weightsFolder, `after-${phase}`));
        expect(weights.max, `${phase}: ${weights.tensor}`).toBeLessThan(5e-4);
      }
      mono.epochs.forEach((epoch, i) => expect(Math.abs(epoch.val_loss! - torch.epochs[i]!.val_loss)).toBeLessThan(1e-4));
    });

    it('starts from PyTorch defaults with --init torch: a different start, the same training', async () => {
      const torch = await replica.request<{ losses: number[] }>({ cmd: 'recipe', seed: 4, init: 'torch', threads: 1, losses: true });
      const mono = await replica.request<{ losses: number[] }>({ cmd: 'recipe', seed: 4, init: 'mono', threads: 1, losses: true });
      expect(Math.abs(torch.losses[0]! - mono.losses[0]!)).toBeGreaterThan(1e-3);
      expect(torch.losses.every(Number.isFinite)).toBe(true);
    });
  });
});
