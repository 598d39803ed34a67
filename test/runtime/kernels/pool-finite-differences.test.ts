// Pool gradients against central finite differences of the forward pool, on cpu and
// on wasm, for every pooling mode, with windows that overlap the 'same' padding.
// (The wasm/cpu comparisons in pool-grads.test.ts cannot catch a formula both share.)
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/runtime/backend.js';
import { cpuKernelFixesRegistered, registerWasmTrainingKernels } from '../../../src/runtime/kernels/index.js';
import { randomHost, relativeError, runOn, type HostTensor } from './helpers.js';

type Backend = 'cpu' | 'wasm';
type Pool = (x: tf.Tensor4D) => tf.Tensor;

interface PoolMode {
  kind: 'avg' | 'max';
  filter: number;
  stride: number;
  pad: 'same' | 'valid';
}

function pool(mode: PoolMode): Pool {
  return (x) => (mode.kind === 'avg' ? tf.avgPool(x, mode.filter, mode.stride, mode.pad) : tf.maxPool(x, mode.filter, mode.stride, mode.pad));
}

/** Distinct values `gap` apart in a seeded order: no finite difference of a max straddles a tie. */
function distinct(shape: number[], seed: number, gap: number): HostTensor {
  const order = randomHost(shape, seed).values;
  const ranks = Array.from(order.keys()).sort((a, b) => order[a]! - order[b]!);
  const values = new Float32Array(order.length);
  ranks.forEach((index, rank) => { values[index] = (rank - order.length / 2) * gap; });
  return { shape, values };
}

/**
 * d/dx of sum(w * f(x)) by central differences; the sum is taken in float64 over the
 * outputs' change, so the only float32 error is the forward pass's own rounding.
 */
async function numericGradient(backend: Backend, f: Pool, x: HostTensor, w: HostTensor, h: number): Promise<HostTensor> {
  const grad = new Float32Array(x.values.length);
  const shifted: HostTensor[] = [];
  for (let i = 0; i < x.values.length; i++) {
    for (const delta of [h, -h]) {
      const values = x.values.slice();
      values[i] = values[i]! + delta;
      shifted.push({ shape: x.shape, values });
    }
  }
  const outputs = await runOn(backend, shifted, (...xs) => xs.map((t) => f(t as tf.Tensor4D)));
  for (let i = 0; i < grad.length; i++) {
    const up = outputs[2 * i]!.values;
    const down = outputs[2 * i + 1]!.values;
    let change = 0;
    for (let k = 0; k < up.length; k++) change += w.values[k]! * (up[k]! - down[k]!);
    grad[i] = change / (2 * h);
  }
  return { shape: x.shape, values: grad };
}

async function analyticGradient(backend: Backend, f: Pool, x: HostTensor, w: HostTensor): Promise<HostTensor> {
  const [dx] = await runOn(backend, [x, w], (input, weights) => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t as tf.Tensor4D), weights!)))(input!));
  return dx!;
}

/** Relative error of the analytic gradient against finite differences for one mode and shape. */
async function gradientError(backend: Backend, mode: PoolMode, shape: [number, number, number, number], seed: number): Promise<number> {
  const f = pool(mode);
  const outShape = tf.backend_util.computePool2DInfo(shape, mode.filter, mode.stride, 1, mode.pad).outShape;
  const w = randomHost(outShape, seed + 7);
  // avg is linear (any step is exact); max needs a step well inside the gap between values.
  const x = mode.kind === 'max' ? distinct(shape, seed, 0.01) : randomHost(shape, seed);
  const h = mode.kind === 'max' ? 0.002 : 0.05;
  const numeric = await numericGradient(backend, f, x, w, h);
  const analytic = await analyticGradient(backend, f, x, w);
  return relativeError(analytic, numeric);
}

const modes: PoolMode[] = [];
for (const kind of ['avg', 'max'] as const) {
  for (const pad of ['same', 'valid'] as const) {
    for (const stride of [1, 2]) {
      for (const filter of [2, 3]) modes.push({ kind, filter, stride, pad });
    }
  }
}
const describeMode = (m: PoolMode) => `${m.kind}pool ${m.filter}x${m.filter} stride ${m.stride} ${m.pad}`;

beforeAll(() => {
  registerWasmTrainingKernels();
});

describe.each<Backend>(['cpu', 'wasm'])('pool gradients match finite differences on %s', (backend) => {
  // 5x7: odd sizes, so 'same' windows overlap the padding at the bottom/right (and, for 3x3 stride 2, at the top/left).
  it.each(modes.map((m) => [describeMode(m), m] as const))('%s on [2, 5, 7, 2]', async (_name, mode) => {
    expect(await gradientError(backend, mode, [2, 5, 7, 2], 11)).toBeLessThan(1e-4);
  });

  it('avgPool(2, 2, same) of x = 1..9 as [1, 3, 3, 1] with dy = 1: each input gets 1 / (its window\'s in-bounds count)', async () => {
    const x: HostTensor = { shape: [1, 3, 3, 1], values: Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]) };
    const [y, dx] = await runOn(backend, [x], (input) => [
      tf.avgPool(input as tf.Tensor4D, 2, 2, 'same'),
      tf.grad((t: tf.Tensor) => tf.sum(tf.avgPool(t as tf.Tensor4D, 2, 2, 'same')))(input!),
    ]);
    expect(Array.from(y!.values)).toEqual([3, 4.5, 7.5, 9]); // the forward divides by 4, 2, 2, 1
    expect(Array.from(dx!.values)).toEqual([0.25, 0.25, 0.5, 0.25, 0.25, 0.5, 0.5, 0.5, 1]);
  });

  it('random geometries: every pooling mode, odd and even sizes, windows over the padding', async () => {
    const geometry = fc.record({
      kind: fc.constantFrom<'avg' | 'max'>('avg', 'max'),
      pad: fc.constantFrom<'same' | 'valid'>('same', 'valid'),
      stride: fc.constantFrom(1, 2, 3),
      filter: fc.integer({ min: 1, max: 4 }),
      height: fc.integer({ min: 1, max: 7 }),
      width: fc.integer({ min: 1, max: 7 }),
      channels: fc.integer({ min: 1, max: 3 }),
      seed: fc.integer({ min: 1, max: 1_000_000 }),
    }).filter((c) => c.pad === 'same' || (c.filter <= c.height && c.filter <= c.width));
    await fc.assert(fc.asyncProperty(geometry, async (c) => {
      const mode: PoolMode = { kind: c.kind, filter: c.filter, stride: c.stride, pad: c.pad };
      expect(await gradientError(backend, mode, [1, c.height, c.width, c.channels], c.seed)).toBeLessThan(1e-4);
    }), { numRuns: 15 });
  });

  it('global average and max pooling', async () => {
    const shape = [2, 3, 5, 2];
    const x = distinct(shape, 5, 0.01);
    const w = randomHost([2, 2], 6);
    for (const f of [(t: tf.Tensor4D) => tf.mean(t, [1, 2]), (t: tf.Tensor4D) => tf.max(t, [1, 2])]) {
      const numeric = await numericGradient(backend, f, x, w, 0.002);
      const analytic = await analyticGradient(backend, f, x, w);
      expect(relativeError(analytic, numeric)).toBeLessThan(1e-4);
    }
  });
});

describe('registration', () => {
  it("replaces tfjs-backend-cpu's AvgPoolGrad for the cpu backend that `mono run --backend cpu` selects", async () => {
    await selectBackend({ force: 'cpu' });
    expect(cpuKernelFixesRegistered()).toBe(true);
    expect(tf.getKernel(tf.AvgPoolGrad, 'cpu')).not.toBe(tf.getKernel(tf.AvgPoolGrad, 'wasm'));
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.avgPool(t as tf.Tensor4D, 2, 2, 'same')))(x);
    expect(Array.from(dx.dataSync())).toEqual([0.25, 0.25, 0.5, 0.25, 0.25, 0.5, 0.5, 0.5, 1]);
    tf.dispose([x, dx]);
  });
});
