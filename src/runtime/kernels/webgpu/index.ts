// mono's kernels for tfjs-backend-webgpu: the shipped kernels that are wrong for
// training, replaced (docs/kernels.md, "webgpu"). Everything else a training step
// runs is tfjs's own and matches the cpu backend (test/runtime/kernels/webgpu.test.ts).
// Imports the webgpu backend's kernels first, so their registration never runs after ours.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgpu';
import type { KernelStatus } from '../index.js';
import { webgpuAvgPoolGradKernel, webgpuMaxPoolGradKernel } from './pool-grads.js';

const WEBGPU = 'webgpu';

const monoWebgpuKernels: readonly tf.KernelConfig[] = [webgpuMaxPoolGradKernel, webgpuAvgPoolGradKernel];

/** Forward and backward kernels a ResNet training step runs on webgpu (BatchNorm as tf.moments + tf.batchNorm). */
const trainingKernelNames: readonly string[] = [
  tf.Conv2D, tf.FusedConv2D, tf.Conv2DBackpropFilter, tf.Conv2DBackpropInput, tf.FusedBatchNorm, tf.Relu, tf.Add,
  tf.Multiply, tf.Sub, tf.RealDiv, tf.MaxPool, tf.MaxPoolGrad, tf.AvgPool, tf.AvgPoolGrad, tf.Mean, tf.Sum,
  tf.BatchMatMul, tf.Softmax, tf.Exp, tf.Log, tf.Max, tf.Reshape, tf.Transpose, tf.Greater, tf.GreaterEqual, tf.Cast,
  tf.SquaredDifference, tf.Rsqrt, tf.Neg, tf.ArgMax, tf.Equal, tf.OneHot, tf.Select, tf.Tile,
];

/** Registers mono's webgpu kernels over the shipped ones. Idempotent; before or after the backend starts. */
export function registerWebgpuTrainingKernels(): void {
  for (const config of monoWebgpuKernels) {
    const current = tf.getKernel(config.kernelName, WEBGPU);
    if (current === config) continue;
    if (current !== undefined) tf.unregisterKernel(config.kernelName, WEBGPU);
    tf.registerKernel(config);
  }
}

/** Who supplies each kernel that training needs on webgpu (for `mono doctor`). */
export function webgpuKernelReport(): KernelStatus[] {
  return trainingKernelNames.map((kernel): KernelStatus => {
    const config = tf.getKernel(kernel, WEBGPU);
    if (config === undefined) return { kernel, status: 'missing' };
    return { kernel, status: monoWebgpuKernels.includes(config) ? 'mono' : 'native' };
  });
}
