// Training-mode batch normalisation as one op, `batchNormTrain`, optionally with the ReLU
// that follows it: on wasm two SIMD passes forward (moments; normalise + ReLU) and two
// backward (the two gradient sums; dx, with dgamma and dbeta from the same sums), in place
// of the ~10 forward and ~15 backward elementwise and reduction kernels of tf.moments +
// tf.batchNorm + tf.relu and their gradients. The passes are mono's AssemblyScript kernels
// (wasm/batch-norm.ts) running on tfjs's heap (simd/module.ts). Other backends, and a wasm
// backend whose memory the kernels cannot reach, get tf.moments + tf.batchNorm (+ tf.relu).
//
// y = (x - mean) * invStd * gamma + beta, invStd = 1 / sqrt(variance + eps), as
// y = x * scale + shift with per-channel scale and shift computed (in float64, then
// rounded) the same way forward and backward, so the ReLU mask recomputed backward is
// the forward pass's to the bit.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { simdKernels, withScratch, type SimdKernels } from './simd/module.js';

export const BATCH_NORM_TRAIN = 'MonoBatchNormTrain';
const BATCH_NORM_TRAIN_GRAD = 'MonoBatchNormTrainGrad';

interface Attrs { epsilon: number; relu: boolean }

function floatInput(inputs: tf.NamedTensorInfoMap, name: string): tf.TensorInfo {
  const t = inputs[name];
  if (t === undefined) throw new Error(`mono kernels: ${name} missing`);
  if (t.dtype !== 'float32') throw new Error(`mono kernels: batch norm needs float32 ${name}, got ${t.dtype}`);
  return t;
}

function geometry(x: tf.TensorInfo): { rows: number; channels: number } {
  const channels = x.shape[x.shape.length - 1] ?? 1;
  return { rows: channels === 0 ? 0 : tf.util.sizeFromShape(x.shape) / channels, channels };
}

function kernelsOf(backend: BackendWasm): SimdKernels {
  const kernels = simdKernels(backend);
  if (!kernels) throw new Error('mono kernels: the SIMD kernels cannot reach this wasm backend\'s memory');
  return kernels;
}

/** Per channel, from float32 statistics: the scale and shift of y = x * scale + shift (rounded to float32). */
function scaleAndShift(c: number, gamma: Float32Array, beta: Float32Array, mean: Float32Array, variance: Float32Array,
  epsilon: number, scale: Float32Array, shift: Float32Array): void {
  for (let ch = 0; ch < c; ch++) {
    const s = Math.fround(gamma[ch]! / Math.sqrt(variance[ch]! + epsilon));
    scale[ch] = s;
    shift[ch] = beta[ch]! - mean[ch]! * s;
  }
}

const f32 = (heap: ArrayBufferLike, pointer: number, length: number): Float32Array => new Float32Array(heap, pointer, length);
const f64 = (heap: ArrayBufferLike, pointer: number, length: number): Float64Array => new Float64Array(heap, pointer, length);

const forwardKernel: tf.KernelConfig = {
  kernelName: BATCH_NORM_TRAIN,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const wasm = backend as BackendWasm;
    const kernels = kernelsOf(wasm);
    const [x, gamma, beta] = ['x', 'gamma', 'beta'].map((name) => floatInput(inputs, name)) as [tf.TensorInfo, tf.TensorInfo, tf.TensorInfo];
    const { epsilon, relu } = attrs as unknown as Attrs;
    const { rows, channels: c } = geometry(x);
    const y = wasm.makeOutput(x.shape, 'float32');
    const mean = wasm.makeOutput([c], 'float32');
    const variance = wasm.makeOutput([c], 'float32');
    if (rows === 0 || c === 0) return [y, mean, variance];
    const at = (info: tf.TensorInfo): number => wasm.getMemoryOffset(info.dataId);
    // Scratch: sums, squares (float64); block sums, block squares, shift k, scale, shift (float32).
    withScratch(wasm, 16 * c + 20 * c, (p, heap) => {
      const sums = p;
      const squares = p + 8 * c;
      const [blockSums, blockSquares, k, scale, shift] = [0, 1, 2, 3, 4].map((i) => p + 16 * c + 4 * c * i) as [number, number, number, number, number];
      // Shifting by the first row keeps the variance's digits when the mean is far from 0.
      f32(heap(), k, c).set(f32(heap(), at(x), c));
      kernels.moments(at(x), rows, c, k, sums, squares, blockSums, blockSquares);
      const h = heap();
      const [s, q, kk, m, v] = [f64(h, sums, c), f64(h, squares, c), f32(h, k, c), f32(h, at(mean), c), f32(h, at(variance), c)];
      for (let ch = 0; ch < c; ch++) {
        const offset = s[ch]! / rows;
        m[ch] = kk[ch]! + offset;
        v[ch] = Math.max(q[ch]! / rows - offset * offset, 0);
      }
      scaleAndShift(c, f32(h, at(gamma), c), f32(h, at(beta), c), m, v, epsilon, f32(h, scale, c), f32(h, shift, c));
      kernels.affine(at(x), rows, c, scale, shift, relu ? 1 : 0, at(y));
    });
    return [y, mean, variance];
  },
};

const gradientKernel: tf.KernelConfig = {
  kernelName: BATCH_NORM_TRAIN_GRAD,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const wasm = backend as BackendWasm;
    const kernels = kernelsOf(wasm);
    const names = ['x', 'dy', 'mean', 'variance', 'gamma', 'beta', 'dmean', 'dvariance'];
    const [x, dy, mean, variance, gamma, beta, dmean, dvariance] = names.map((name) => floatInput(inputs, name)) as tf.TensorInfo[];
    const { epsilon, relu } = attrs as unknown as Attrs;
    const { rows, channels: c } = geometry(x!);
    const dx = wasm.makeOutput(x!.shape, 'float32');
    const dgamma = wasm.makeOutput([c], 'float32');
    const dbeta = wasm.makeOutput([c], 'float32');
    if (rows === 0 || c === 0) return [dx, dgamma, dbeta];
    const at = (info: tf.TensorInfo): number => wasm.getMemoryOffset(info.dataId);
    // Scratch: sum dy, sum dy * (x - mean) (float64); two block sums, scale, shift, k1, k2, k0 (float32).
    withScratch(wasm, 16 * c + 28 * c, (p, heap) => {
      const sumDy = p;
      const sumDyCentred = p + 8 * c;
      const [blockA, blockB, scale, shift, k1, k2, k0] = [0, 1, 2, 3, 4, 5, 6].map((i) => p + 16 * c + 4 * c * i) as number[];
      let h = heap();
      const view = (info: tf.TensorInfo): Float32Array => f32(h, at(info), c);
      scaleAndShift(c, view(gamma!), view(beta!), view(mean!), view(variance!), epsilon, f32(h, scale!, c), f32(h, shift!, c));
      kernels.gradientSums(at(x!), at(dy!), rows, c, at(mean!), scale!, shift!, relu ? 1 : 0, sumDy, sumDyCentred, blockA!, blockB!);
      h = heap();
      const [sd, sdc] = [f64(h, sumDy, c), f64(h, sumDyCentred, c)];
      const [g, m, v, dm, dv] = [gamma!, mean!, variance!, dmean!, dvariance!].map(view) as Float32Array[];
      const [a1, a2, a0, dg, db] = [f32(h, k1!, c), f32(h, k2!, c), f32(h, k0!, c), view(dgamma), view(dbeta)];
      for (let ch = 0; ch < c; ch++) {
        // dx = gamma*invStd/N * (N*g - sum(g) - xhat*sum(g*xhat)) + dmean/N + 2*dvariance*(x-mean)/N
        //    = k1*g + k2*(x - mean) + k3, written as k1*g + k2*x + k0.
        const invStd = 1 / Math.sqrt(v![ch]! + epsilon);
        const scaled = g![ch]! * invStd;
        const slope = (-scaled * invStd * invStd * sdc[ch]! + 2 * dv![ch]!) / rows;
        const constant = (-scaled * sd[ch]! + dm![ch]!) / rows;
        a1[ch] = scaled;
        a2[ch] = slope;
        a0[ch] = constant - slope * m![ch]!;
        dg[ch] = sdc[ch]! * invStd;
        db[ch] = sd[ch]!;
      }
      kernels.inputGradient(at(x!), at(dy!), rows, c, scale!, shift!, relu ? 1 : 0, k1!, k2!, k0!, at(dx));
    });
    return [dx, dgamma, dbeta];
  },
};

/** mono's wasm kernels for batchNormTrain (registered by registerWasmTrainingKernels). */
export const batchNormTrainWasmKernels: readonly tf.KernelConfig[] = [forwardKernel, gradientKernel];

export const batchNormTrainGradient: tf.GradConfig = {
  kernelName: BATCH_NORM_TRAIN,
  inputsToSave: ['x', 'gamma', 'beta'],
  outputsToSave: [false, true, true],
  gradFunc: (dys, saved, attrs) => {
    const [dy, dmean, dvariance] = dys as tf.Tensor[];
    const [x, gamma, beta, mean, variance] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    if (dy === undefined || dmean === undefined || dvariance === undefined) {
      throw new Error('mono gradients: MonoBatchNormTrain has three outputs');
    }
    // dx, dgamma and dbeta come from the same two passes: computed once, here, and handed out.
    const [dx, dgamma, dbeta] = tf.engine().runKernel(BATCH_NORM_TRAIN_GRAD,
      { x, dy, mean, variance, gamma, beta, dmean, dvariance }, attrs) as unknown as tf.Tensor[];
    return { x: () => dx!, gamma: () => dgamma!, beta: () => dbeta! };
  },
};

export interface BatchNormTrainResult {
  /** The normalised output, after the ReLU when asked for. */
  y: tf.Tensor;
  /** Batch mean and biased variance per channel (for moving statistics). */
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/** Whether batchNormTrain runs fused on the active backend. */
export function batchNormTrainIsFused(): boolean {
  if (tf.getKernel(BATCH_NORM_TRAIN, tf.getBackend()) === undefined) return false;
  return tf.getBackend() !== 'wasm' || simdKernels(tf.backend() as BackendWasm) !== null;
}

/**
 * Batch normalisation with the batch's own statistics over every axis but the last
 * (channels last), then max(y, 0) with `relu`, differentiable in x, gamma and beta.
 * Equals tf.moments + tf.batchNorm (+ tf.relu); fused where the backend has mono's kernels.
 */
export function batchNormTrain(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number,
  options: { relu?: boolean } = {}): BatchNormTrainResult {
  const relu = options.relu ?? false;
  if (x.dtype === 'float32' && batchNormTrainIsFused()) {
    const [y, mean, variance] = tf.engine().runKernel(BATCH_NORM_TRAIN, { x, gamma, beta },
      { epsilon, relu } as unknown as tf.NamedAttrMap) as unknown as tf.Tensor[];
    return { y: y!, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
  }
  const axes = [...Array(x.rank - 1).keys()];
  const { mean, variance } = tf.moments(x, axes);
  const normalised = tf.batchNorm(x, mean, variance, beta, gamma, epsilon);
  return {
    y: relu ? tf.relu(normalised) : normalised,
    mean: mean as tf.Tensor1D,
    variance: variance as tf.Tensor1D,
  };
}
