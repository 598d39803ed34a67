// Every kernel mono's training runs, forward and backward, on the webgpu backend
// against the cpu backend (relative error < 1e-4): the checks of bench/kernel-checks.ts
// (convolutions with stride and 'same' padding, both pooling gradients (mono's WGSL
// kernels), BatchNorm in training mode, the loss head, the optimizer update) as
// properties. Few runs each: every new shape compiles shaders (seconds on lavapipe).
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkOn, KERNEL_CHECKS, KERNEL_TOLERANCE, runKernelChecks } from '../../../bench/kernel-checks.js';
import { selectBackend } from '../../../src/runtime/backend.js';
import { webgpuKernelReport } from '../../../src/runtime/kernels/webgpu/index.js';
import { skipWithoutWebgpu } from '../../support/webgpu.js';
import { runOn, type HostTensor } from './helpers.js';

const skip = skipWithoutWebgpu();
const RUNS = 8;

describe.skipIf(skip)('training kernels on webgpu against cpu', () => {
  beforeAll(async () => {
    await selectBackend({ force: 'webgpu' });
  });

  it("replaces tfjs's MaxPoolGrad and AvgPoolGrad and has every other training kernel", () => {
    const report = webgpuKernelReport();
    expect(report.filter((k) => k.status === 'missing')).toEqual([]);
    expect(report.filter((k) => k.status === 'mono').map((k) => k.kernel).sort()).toEqual([tf.AvgPoolGrad, tf.MaxPoolGrad]);
  });

  for (const kernelCheck of KERNEL_CHECKS) {
    it(kernelCheck.name, async () => {
      await fc.assert(fc.asyncProperty(kernelCheck.arbitrary, async (c) => {
        expect(await checkOn('webgpu', kernelCheck, c)).toBeLessThan(KERNEL_TOLERANCE);
      }), { numRuns: RUNS });
    });
  }

  it('the 1..9 example of docs/kernels.md: avgPool(2, 2, same) and its gradient', async () => {
    const x: HostTensor = { shape: [1, 3, 3, 1], values: Float32Array.from({ length: 9 }, (_v, i) => i + 1) };
    const [y, dx] = await runOn('webgpu', [x], (input) => [
      tf.avgPool(input as tf.Tensor4D, 2, 2, 'same'),
      tf.grad((t: tf.Tensor) => tf.sum(tf.avgPool(t as tf.Tensor4D, 2, 2, 'same')))(input!),
    ]);
    expect(Array.from(y!.values)).toEqual([3, 4.5, 7.5, 9]);
    expect(Array.from(dx!.values)).toEqual([0.25, 0.25, 0.5, 0.25, 0.25, 0.5, 0.5, 0.5, 1]);
  });

  it('runs as the GPU check script runs them (seeded samples, worst error per check)', async () => {
    const results = await runKernelChecks('webgpu', 2, 7);
    expect(results.map((r) => r.name)).toEqual(KERNEL_CHECKS.map((k) => k.name));
    for (const r of results) expect(r.worst, r.name).toBeLessThan(KERNEL_TOLERANCE);
  });
});
