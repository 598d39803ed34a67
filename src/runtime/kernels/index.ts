// mono's training kernels for the tfjs wasm backend, and the few gradients of mono's that
// replace TensorFlow.js's own because they measured faster. See docs/kernels.md.
//
// TensorFlow.js's gradients come from @tensorflow/tfjs, which registers all of them when
// it loads (tfjs-core's Node bundle registers none; tfjs-node loads @tensorflow/tfjs too),
// so every backend runs the same gradient set, and the finite-difference tests check it.
//
// registerWasmTrainingKernels() may run before or after tf.setBackend('wasm'):
// this module imports the wasm and cpu backends first, so their shipped kernels are
// already in the registry (one entry per kernel name and backend) and are replaced,
// not re-registered over ours later.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { batchNormGradient } from './batch-norm-grad.js';
import { batchNormInferenceKernel } from './batch-norm-inference.js';
import { BATCH_NORM_TRAIN, batchNormTrainGradient, batchNormTrainWasmKernels } from './batch-norm-train.js';
import { conv2dKernel } from './conv2d.js';
import { conv2dBackpropFilterKernel } from './conv2d-backprop-filter.js';
import { conv2dBackpropInputKernel } from './conv2d-backprop-input.js';
import { explicitSamePaddingKernel } from './explicit-same-padding.js';
import { sharedIdentityKernel } from './identity.js';
import { reductionGradients, sigmoidGradient } from './gradients.js';
import { avgPoolGradKernel, maxPoolGradKernel } from './pool-grads.js';

export { batchNormTrain, type BatchNormTrainResult } from './batch-norm-train.js';

const WASM = 'wasm';
const CPU = 'cpu';

/** Shipped forward convolutions, wrapped to fix their 'same' padding. */
const paddingFixes = [tf.Conv2D, tf.FusedConv2D]
  .map((name) => tf.getKernel(name, WASM))
  .filter((config): config is tf.KernelConfig => config !== undefined)
  .map(explicitSamePaddingKernel)
  // Conv2D runs on onnxruntime where it loads, the padding-fixed XNNPACK kernel otherwise.
  .map((config) => (config.kernelName === tf.Conv2D ? conv2dKernel(config) : config));

/** The shipped FusedBatchNorm, behind mono's SIMD pass (its fallback). */
const shippedBatchNorm = tf.getKernel(tf.FusedBatchNorm, WASM);

const monoKernels: readonly tf.KernelConfig[] = [
  ...paddingFixes,
  ...(shippedBatchNorm === undefined ? [] : [batchNormInferenceKernel(shippedBatchNorm)]),
  conv2dBackpropFilterKernel(WASM),
  conv2dBackpropInputKernel(WASM),
  sharedIdentityKernel(WASM),
  maxPoolGradKernel(),
  avgPoolGradKernel(),
  ...batchNormTrainWasmKernels,
];

/**
 * Kernels mono replaces on the cpu backend because the shipped one is wrong: its
 * AvgPoolGrad divides by the full window where the forward pass divides by the
 * in-bounds count ('same' padding).
 */
const cpuKernels: readonly tf.KernelConfig[] = [avgPoolGradKernel(CPU)];

/**
 * Gradients mono installs in place of tfjs's, each because it measured faster on wasm
 * (bench/gradients.ts), plus the gradient of mono's own MonoBatchNormTrain kernel.
 */
const monoGradientOverrides: readonly tf.GradConfig[] = [batchNormGradient, ...reductionGradients, sigmoidGradient, batchNormTrainGradient];

/** mono's gradients that replace tfjs's, for bench/gradients.ts (which times them against tfjs's). */
export const candidateGradients: readonly tf.GradConfig[] = monoGradientOverrides.filter((g) => g !== batchNormTrainGradient);

/** Forward and backward kernels a ResNet training step runs on wasm. */
const trainingKernelNames: readonly string[] = [
  tf.Conv2D, tf.FusedConv2D, tf.Conv2DBackpropFilter, tf.Conv2DBackpropInput, tf.FusedBatchNorm, tf.Relu, tf.Add,
  tf.Multiply, tf.Sub, tf.RealDiv, tf.MaxPool, tf.MaxPoolGrad, tf.AvgPool, tf.AvgPoolGrad, tf.Mean,
  tf.Sum, tf.BatchMatMul, tf.Softmax, tf.Exp, tf.Log, tf.Max, tf.Reshape, tf.Transpose, tf.Greater, tf.GreaterEqual,
  tf.Cast, BATCH_NORM_TRAIN,
];

/** Kernels of a training step whose gradient the backward pass runs. */
const gradientKernelNames: readonly string[] = [
  tf.Conv2D, tf.FusedBatchNorm, BATCH_NORM_TRAIN, tf.Relu, tf.Add, tf.Multiply, tf.Sub, tf.RealDiv, tf.MaxPool, tf.AvgPool,
  tf.Mean, tf.Sum, tf.Max, tf.BatchMatMul, tf.Softmax, tf.Exp, tf.Log, tf.Reshape, tf.Cast, tf.Sigmoid,
];

/** The shipped wasm kernels that mono's replaced, by kernel name. */
const shippedKernels = new Map<string, tf.KernelConfig>();

function replaceKernel(config: tf.KernelConfig): void {
  const current = tf.getKernel(config.kernelName, config.backendName);
  if (current === config) return;
  if (current !== undefined) {
    if (config.backendName === WASM && !monoKernels.includes(current)) shippedKernels.set(config.kernelName, current);
    tf.unregisterKernel(config.kernelName, config.backendName);
  }
  tf.registerKernel(config);
}

function replaceGradient(config: tf.GradConfig): void {
  const current = tf.getGradient(config.kernelName);
  if (current === config) return;
  if (current !== undefined) tf.unregisterGradient(config.kernelName);
  tf.registerGradient(config);
}

/** Registers mono's wasm kernels, its cpu kernel fixes and its gradient overrides. Idempotent. */
export function registerWasmTrainingKernels(): void {
  for (const config of monoKernels) replaceKernel(config);
  for (const config of cpuKernels) replaceKernel(config);
  registerTrainingGradients();
}

/**
 * Puts mono's gradient overrides in place (tfjs's own are registered when @tensorflow/tfjs
 * loads; a package that loads it again, e.g. tfjs-node, would put tfjs's back). Idempotent.
 */
export function registerTrainingGradients(): void {
  for (const config of monoGradientOverrides) replaceGradient(config);
}

/**
 * Puts back the kernels tfjs ships for wasm (benchmarks' "before"); mono's kernels
 * that tfjs has no version of are unregistered. `keep` names kernels of mono's to
 * leave in place (e.g. Conv2DBackpropFilter, without which shipped wasm cannot train
 * a conv net). Gradients stay as they are.
 */
export function restoreShippedWasmKernels(options: { keep?: readonly string[] } = {}): void {
  for (const config of monoKernels) {
    if (options.keep?.includes(config.kernelName)) continue;
    if (tf.getKernel(config.kernelName, WASM) !== config) continue;
    tf.unregisterKernel(config.kernelName, WASM);
    const shipped = shippedKernels.get(config.kernelName);
    if (shipped === undefined) continue;
    tf.registerKernel(shipped);
    // A backend started while ours was registered never ran the shipped setup.
    const backend = tf.findBackend(WASM);
    if (backend !== null && shipped.setupFunc !== undefined) shipped.setupFunc(backend);
  }
}

export interface KernelStatus {
  kernel: string;
  status: 'native' | 'mono' | 'missing';
}

/** Whether the cpu backend runs mono's AvgPoolGrad (registered by registerWasmTrainingKernels). */
export function cpuKernelFixesRegistered(): boolean {
  return cpuKernels.every((config) => tf.getKernel(config.kernelName, CPU) === config);
}

/** Who supplies each kernel and gradient that training needs on wasm (for `mono doctor`). */
export function wasmKernelReport(): KernelStatus[] {
  const kernels = trainingKernelNames.map((kernel): KernelStatus => {
    const config = tf.getKernel(kernel, WASM);
    if (config === undefined) return { kernel, status: 'missing' };
    return { kernel, status: monoKernels.includes(config) ? 'mono' : 'native' };
  });
  const gradients = gradientKernelNames.map((name): KernelStatus => {
    const kernel = `${name} (gradient)`;
    const config = tf.getGradient(name);
    if (config === undefined) return { kernel, status: 'missing' };
    return { kernel, status: monoGradientOverrides.includes(config) ? 'mono' : 'native' };
  });
  return [...kernels, ...gradients];
}
