// FusedBatchNorm (tf.batchNorm with given statistics: frozen partitions, evaluation) on
// wasm as one pass of mono's SIMD `affine` kernel: y = x * scale + shift with per-channel
// scale = gamma / sqrt(variance + eps) and shift = beta - mean * scale. The shipped wasm
// kernel takes ~7 ns per element; with a partition's prefix frozen it was ~15% of a step.
// Statistics that are not one value per channel (or one for all) go to the shipped kernel.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { simdKernels, withScratch } from './simd/module.js';

/** The values of `t` per channel (broadcast from one value), or null when it has another size. */
function perChannel(backend: BackendWasm, t: tf.TensorInfo | undefined, channels: number, absent: number): Float32Array | null {
  if (t === undefined) return new Float32Array(channels).fill(absent);
  const size = tf.util.sizeFromShape(t.shape);
  if (t.dtype !== 'float32' || (size !== channels && size !== 1)) return null;
  const values = backend.typedArrayFromHeap(t) as Float32Array;
  return size === channels ? values.slice() : new Float32Array(channels).fill(values[0]!);
}

/** FusedBatchNorm for wasm: the SIMD pass where it applies, else `shipped`. */
export function batchNormInferenceKernel(shipped: tf.KernelConfig): tf.KernelConfig {
  const config: tf.KernelConfig = {
    kernelName: tf.FusedBatchNorm,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const backend = args.backend as BackendWasm;
      const { x, mean, variance, offset, scale } = args.inputs as tf.FusedBatchNormInputs;
      const kernels = simdKernels(backend);
      if (kernels === null || x === undefined || x.dtype !== 'float32' || x.shape.length === 0) return shipped.kernelFunc(args);
      const channels = x.shape[x.shape.length - 1]!;
      const rows = channels === 0 ? 0 : tf.util.sizeFromShape(x.shape) / channels;
      const m = perChannel(backend, mean, channels, 0);
      const v = perChannel(backend, variance, channels, 1);
      const beta = perChannel(backend, offset, channels, 0);
      const gamma = perChannel(backend, scale, channels, 1);
      if (m === null || v === null || beta === null || gamma === null) return shipped.kernelFunc(args);
      const { varianceEpsilon } = args.attrs as unknown as tf.FusedBatchNormAttrs;
      const y = backend.makeOutput(x.shape, 'float32');
      if (rows === 0) return y;
      withScratch(backend, 8 * channels, (p, heap) => {
        const s = new Float32Array(heap(), p, channels);
        const shift = new Float32Array(heap(), p + 4 * channels, channels);
        for (let c = 0; c < channels; c++) {
          s[c] = gamma[c]! / Math.sqrt(v[c]! + varianceEpsilon);
          shift[c] = beta[c]! - m[c]! * s[c]!;
        }
        kernels.affine(backend.getMemoryOffset(x.dataId), rows, channels, p, p + 4 * channels, 0, backend.getMemoryOffset(y.dataId));
      });
      return y;
    },
  };
  // The backend runs setup functions of the kernels registered when it starts.
  if (shipped.setupFunc !== undefined) config.setupFunc = shipped.setupFunc;
  if (shipped.disposeFunc !== undefined) config.disposeFunc = shipped.disposeFunc;
  return config;
}
