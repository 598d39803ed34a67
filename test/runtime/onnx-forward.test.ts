import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { compilePlan } from '../../src/compile.js';
import { Network } from '../../src/runtime/graph.js';
import { initWasmBackend } from '../../src/runtime/kernels/wasm-setup.js';
import { OnnxForward } from '../../src/runtime/onnx-forward.js';
import { OnnxSession, onnxruntimeStatus, resetOnnxruntime } from '../../src/runtime/onnxruntime.js';
import { Rng } from '../../src/runtime/rng.js';
import { evaluate, phaseGraph, runFrozen } from '../../src/runtime/step.js';
import { tensorDestination } from '../../src/runtime/tensor-memory.js';
import { setUpRun } from '../../src/runtime/run-setup.js';
import { runRngs, Trainer } from '../../src/runtime/trainer.js';
import { tinyIR } from './tiny-ir.js';
import { skipWithoutComponent } from '../support/components.js';
import { relativeError } from './kernels/helpers.js';

const status = onnxruntimeStatus();
const skip = skipWithoutComponent('onnxruntime-node', status.active, status.detail);

const file = 'plans/monolithnet.mono';
const ir = compilePlan(readFileSync(file, 'utf8'), file, { set: { width: '1', depth: '1' } }).ir!;

/** Random weights everywhere, BatchNorm statistics included (so that folding them into the convolutions is tested). */
function randomize(network: Network, seed: number): void {
  const rng = new Rng(seed);
  network.setWeights(ir.parameters.map((p) => ({
    name: p.name,
    shape: [...p.shape],
    values: Float32Array.from({ length: p.shape.reduce((a, b) => a * b, 1) }, () =>
      (/variance/.test(p.name) ? 0.5 + rng.next() : rng.normal() * (/kernel/.test(p.name) ? 0.2 : 0.5))),
  })));
}

function batchOf(size: number, seed: number) {
  const rng = new Rng(seed);
  const shape = [...ir.input.shape];
  return { images: Float32Array.from({ length: size * shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), size, shape };
}

/** Largest difference relative to the largest reference value (kernels/helpers.ts). */
const maxRelative = (got: Float32Array, want: Float32Array) =>
  relativeError({ shape: [got.length], values: got }, { shape: [want.length], values: want });

describe.skipIf(skip)('frozen partitions on onnxruntime', () => {
  let network: Network;
  beforeAll(async () => {
    await initWasmBackend();
    network = new Network(ir, runRngs(1).init);
    randomize(network, 7);
  });
  afterAll(() => network.dispose());

  it('gives what the network computes in inference mode (monolithnet p1 and p2: strides, residuals, 1x1 shortcuts)', () => {
    const forward = OnnxForward.build(network, ['p1', 'p2'])!;
    expect(forward).not.toBeNull();
    const batch = batchOf(3, 11);
    const got = forward.run(batch.images, batch.size);
    const want = tf.tidy(() => network.runPartitions(['p1', 'p2'], tf.tensor(batch.images, [3, ...batch.shape]), { training: false }));
    expect(got.shape).toEqual(want.shape);
    expect(maxRelative(got.dataSync() as Float32Array, want.dataSync() as Float32Array)).toBeLessThan(1e-4);
    tf.dispose([got, want]);
  });

  it('runs a phase\'s frozen partitions in a step, and is made again when weights are loaded (setWeights, or in place)', () => {
    const runs = vi.spyOn(OnnxSession.prototype, 'run');
    onTestFinished(() => runs.mockRestore());
    const graph = phaseGraph(network, ir.phases.find((p) => p.name === 'p3')!);
    const batch = batchOf(2, 12);
    const reference = () => tf.tidy(() => network.runPartitions(graph.frozen, tf.tensor(batch.images, [2, ...batch.shape]), { training: false }));
    const first = runFrozen(network, graph, batch);
    expect(runs).toHaveBeenCalledTimes(1);
    const want = reference();
    expect(maxRelative(first.dataSync() as Float32Array, want.dataSync() as Float32Array)).toBeLessThan(1e-4);
    randomize(network, 8);
    const second = runFrozen(network, graph, batch);
    const wantAfter = reference();
    expect(maxRelative(second.dataSync() as Float32Array, wantAfter.dataSync() as Float32Array)).toBeLessThan(1e-4);
    expect(maxRelative(second.dataSync() as Float32Array, want.dataSync() as Float32Array)).toBeGreaterThan(1e-2);
    // A resume writes the values into the parameters' own memory, past setWeights: markLoaded says so.
    // (Before any kernel has read them, as a resume does: XNNPACK keeps packed copies of
    // the filters it has run, so tfjs's own reference comes from a second network.)
    const rng = new Rng(9);
    const fresh = new Map<string, Float32Array>();
    for (const name of ir.parameters.filter((p) => p.partition === 'p1' && /kernel/.test(p.name)).map((p) => p.name)) {
      const destination = tensorDestination(network.variable(name))!;
      const values = Float32Array.from({ length: destination.length }, () => rng.normal() * 0.2);
      destination.bytes(0, values.byteLength).set(new Uint8Array(values.buffer));
      fresh.set(name, values);
    }
    network.markLoaded();
    const third = runFrozen(network, graph, batch);
    const twin = new Network(ir, runRngs(1).init);
    twin.setWeights(ir.parameters.map((p) => ({ name: p.name, shape: [...p.shape], values: fresh.get(p.name) ?? (network.variable(p.name).dataSync() as Float32Array) })));
    const wantInPlace = tf.tidy(() => twin.runPartitions(graph.frozen, tf.tensor(batch.images, [2, ...batch.shape]), { training: false }));
    twin.dispose();
    expect(maxRelative(third.dataSync() as Float32Array, wantInPlace.dataSync() as Float32Array)).toBeLessThan(1e-4);
    expect(maxRelative(third.dataSync() as Float32Array, wantAfter.dataSync() as Float32Array)).toBeGreaterThan(1e-2);
    tf.dispose([first, want, second, wantAfter, third, wantInPlace]);
    randomize(network, 10); // new tensors again: XNNPACK's packed copies of the overwritten filters go with the old ones
  });

  it('evaluates a phase\'s head as tfjs does (p2\'s proxy head, and the network output)', async () => {
    const rng = new Rng(13);
    const count = 24;
    const split = { ...batchOf(count, 14), count, labels: Int32Array.from({ length: count }, () => rng.int(ir.classes)) };
    for (const phase of ['p2', 'p3']) {
      const graph = phaseGraph(network, ir.phases.find((p) => p.name === phase)!);
      const runs = vi.spyOn(OnnxSession.prototype, 'run');
      const onOnnxruntime = await evaluate(network, graph, split, 10);
      expect(runs).toHaveBeenCalledTimes(3);
      runs.mockRestore();
      process.env['MONO_ONNXRUNTIME'] = 'off';
      resetOnnxruntime();
      try {
        const onTfjs = await evaluate(network, graph, split, 10);
        expect(Math.abs(onOnnxruntime.loss - onTfjs.loss) / onTfjs.loss).toBeLessThan(1e-4);
        expect([...onOnnxruntime.predicted]).toEqual([...onTfjs.predicted]);
      } finally {
        delete process.env['MONO_ONNXRUNTIME'];
        resetOnnxruntime();
      }
    }
  });

  it('frees every session it makes: each evaluation\'s when it ends, the frozen pass\'s (or prefix cache\'s) when its phase is over, the LR range test\'s when it ends', async () => {
    const tiny = tinyIR({ epochs: [2, 2], finetune: 1, examples: 120, holdout: 30 });
    // p2 takes its lr bounds from an LR range test, whose steps run p1 frozen on a graph of their own.
    tiny.phases[1]!.lr = { type: 'mi', max: 0.05, min: 0.001, threshold: 0.05, start: null, boundsFrom: 'lr_find' }; // the plan's bounds if the short sweep is unusable
    const setup = await setUpRun(tiny, { seed: 3 });
    const made = vi.spyOn(OnnxSession, 'create');
    const freed = vi.spyOn(OnnxSession.prototype, 'dispose');
    const trainer = new Trainer({ network: setup.network, data: setup.data, seed: 3, lrFind: { steps: 6 } });
    try {
      await trainer.run();
      const sessions = made.mock.results.map((r) => r.value as OnnxSession | null).filter((session) => session !== null);
      // Two evaluations per epoch at least (hold-out, and the baseline of each phase), a frozen pass in p2.
      expect(sessions.length).toBeGreaterThan(5);
      expect(freed.mock.instances.length).toBe(sessions.length);
      expect(new Set(freed.mock.instances)).toEqual(new Set(sessions));
    } finally {
      made.mockRestore();
      freed.mockRestore();
      trainer.release();
      setup.network.dispose();
    }
  });

  it('is not used on the cpu backend', async () => {
    await tf.setBackend('cpu');
    try {
      expect(OnnxForward.build(network, ['p1'])).toBeNull();
    } finally {
      await initWasmBackend();
    }
  });
});
