// Training-mode batch normalisation as one op, `batchNormTrain`, so that its
// gradient knows mean and variance are x's batch moments and needs no chain of
// ~10 elementwise and reduction kernels (tf.moments + tf.batchNorm): on wasm,
// JS loops over the heap compute dx in two passes and dgamma/dbeta in one.
// Backends without these kernels get tf.moments + tf.batchNorm.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  batchNormTrainForward, batchNormTrainInputGrad, batchNormTrainParamGrads, type BatchNormShape,
} from './batch-norm-train-math.js';

export const BATCH_NORM_TRAIN = 'MonoBatchNormTrain';
const INPUT_GRAD = 'MonoBatchNormTrainInputGrad';
const PARAM_GRADS = 'MonoBatchNormTrainParamGrads';

interface Attrs { epsilon: number }

function shapeOf(x: tf.TensorInfo): BatchNormShape {
  const channels = x.shape[x.shape.length - 1] ?? 1;
  return { rows: channels === 0 ? 0 : tf.util.sizeFromShape(x.shape) / channels, channels };
}

function input(inputs: tf.NamedTensorInfoMap, name: string): tf.TensorInfo {
  const t = inputs[name];
  if (t === undefined) throw new Error(`mono kernels: ${name} missing`);
  if (t.dtype !== 'float32') throw new Error(`mono kernels: batch norm needs float32 ${name}, got ${t.dtype}`);
  return t;
}

/** A wasm kernel: outputs are made first (growing the heap detaches older views), then views are taken. */
function wasmKernel(kernelName: string, inputNames: string[], outputShapes: (x: tf.TensorInfo) => number[][],
  body: (s: BatchNormShape, epsilon: number, ins: Float32Array[], outs: Float32Array[]) => void): tf.KernelConfig {
  return {
    kernelName,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const wasm = backend as BackendWasm;
      const infos = inputNames.map((name) => input(inputs, name));
      const x = infos[0]!;
      const outputs = outputShapes(x).map((shape) => wasm.makeOutput(shape, 'float32'));
      const view = (info: tf.TensorInfo): Float32Array => wasm.typedArrayFromHeap(info) as Float32Array;
      body(shapeOf(x), (attrs as unknown as Attrs).epsilon, infos.map(view), outputs.map(view));
      return outputs;
    },
  };
}

const perChannel = (x: tf.TensorInfo): number[] => [x.shape[x.shape.length - 1] ?? 1];

export const batchNormTrainWasmKernels: readonly tf.KernelConfig[] = [
  wasmKernel(BATCH_NORM_TRAIN, ['x', 'gamma', 'beta'], (x) => [x.shape, perChannel(x), perChannel(x)],
    (s, eps, [x, gamma, beta], [y, mean, variance]) => batchNormTrainForward(s, eps, x!, gamma!, beta!, y!, mean!, variance!)),
  wasmKernel(INPUT_GRAD, ['x', 'dy', 'mean', 'variance', 'gamma', 'dmean', 'dvariance'], (x) => [x.shape],
    (s, eps, [x, dy, mean, variance, gamma, dmean, dvariance], [dx]) =>
      batchNormTrainInputGrad(s, eps, x!, dy!, mean!, variance!, gamma!, dmean!, dvariance!, dx!)),
  wasmKernel(PARAM_GRADS, ['x', 'dy', 'mean', 'variance'], (x) => [perChannel(x), perChannel(x)],
    (s, eps, [x, dy, mean, variance], [dgamma, dbeta]) =>
      batchNormTrainParamGrads(s, eps, x!, dy!, mean!, variance!, dgamma!, dbeta!)),
];

function run(name: string, inputs: Record<string, tf.Tensor>, attrs: Attrs): tf.Tensor[] {
  return tf.engine().runKernel(name, inputs, attrs as unknown as tf.NamedAttrMap) as unknown as tf.Tensor[];
}

export const batchNormTrainGradient: tf.GradConfig = {
  kernelName: BATCH_NORM_TRAIN,
  inputsToSave: ['x', 'gamma'],
  outputsToSave: [false, true, true],
  gradFunc: (dys, saved, attrs) => {
    const [dy, dmean, dvariance] = dys as tf.Tensor[];
    const [x, gamma, mean, variance] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    if (dy === undefined || dmean === undefined || dvariance === undefined) {
      throw new Error('mono gradients: MonoBatchNormTrain has three outputs');
    }
    const a = attrs as unknown as Attrs;
    // Each closure runs in its own tidy, so dgamma and dbeta are one pass each.
    return {
      x: () => run(INPUT_GRAD, { x, dy, mean, variance, gamma, dmean, dvariance }, a)[0]!,
      gamma: () => run(PARAM_GRADS, { x, dy, mean, variance }, a)[0]!,
      beta: () => run(PARAM_GRADS, { x, dy, mean, variance }, a)[1]!,
    };
  },
};

export interface BatchNormTrainResult {
  y: tf.Tensor;
  /** Batch mean and biased variance per channel (for moving statistics). */
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/**
 * Batch normalisation with the batch's own statistics over every axis but the
 * last (channels last), differentiable in x, gamma and beta. Equals
 * tf.moments + tf.batchNorm; fused where the backend has mono's kernels.
 */
export function batchNormTrain(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number): BatchNormTrainResult {
  if (tf.getKernel(BATCH_NORM_TRAIN, tf.getBackend()) !== undefined && x.dtype === 'float32') {
    const [y, mean, variance] = run(BATCH_NORM_TRAIN, { x, gamma, beta }, { epsilon });
    return { y: y!, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
  }
  const axes = [...Array(x.rank - 1).keys()];
  const { mean, variance } = tf.moments(x, axes);
  return {
    y: tf.batchNorm(x, mean, variance, beta, gamma, epsilon),
    mean: mean as tf.Tensor1D,
    variance: variance as tf.Tensor1D,
  };
}
