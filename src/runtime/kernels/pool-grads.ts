// MaxPoolGrad and AvgPoolGrad as single passes over the wasm heap. The shipped
// wasm kernels take 10-30x the forward pool's time; these loops visit each window
// once with the channel innermost (contiguous in NHWC).
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type Shape4 = [number, number, number, number];
type PoolAttrs = tf.MaxPoolGradAttrs;

interface PoolGeometry {
  batch: number; inHeight: number; inWidth: number; channels: number;
  outHeight: number; outWidth: number; filterHeight: number; filterWidth: number;
  strideHeight: number; strideWidth: number; padTop: number; padLeft: number;
}

export function poolGeometry(inputShape: Shape4, attrs: PoolAttrs): PoolGeometry {
  const info = tf.backend_util.computePool2DInfo(inputShape, attrs.filterSize, attrs.strides, 1, attrs.pad,
    attrs.dimRoundingMode);
  return {
    batch: info.batchSize, inHeight: info.inHeight, inWidth: info.inWidth, channels: info.inChannels,
    outHeight: info.outHeight, outWidth: info.outWidth, filterHeight: info.filterHeight,
    filterWidth: info.filterWidth, strideHeight: info.strideHeight, strideWidth: info.strideWidth,
    padTop: info.padInfo.top, padLeft: info.padInfo.left,
  };
}

/**
 * dx of max pooling: each output's gradient goes to the first (row-major) largest
 * input of its window, as the cpu backend does; overlapping windows add up.
 */
export function maxPoolBackprop(g: PoolGeometry, x: Float32Array, dy: Float32Array, dx: Float32Array): void {
  const c = g.channels;
  const best = new Float32Array(c);
  const bestAt = new Int32Array(c);
  dx.fill(0);
  for (let b = 0; b < g.batch; b++) {
    for (let oh = 0; oh < g.outHeight; oh++) {
      const rowStart = oh * g.strideHeight - g.padTop;
      const rowFrom = Math.max(rowStart, 0);
      const rowTo = Math.min(rowStart + g.filterHeight, g.inHeight);
      for (let ow = 0; ow < g.outWidth; ow++) {
        const colStart = ow * g.strideWidth - g.padLeft;
        const colFrom = Math.max(colStart, 0);
        const colTo = Math.min(colStart + g.filterWidth, g.inWidth);
        best.fill(Number.NEGATIVE_INFINITY);
        bestAt.fill(-1);
        for (let r = rowFrom; r < rowTo; r++) {
          for (let col = colFrom; col < colTo; col++) {
            const base = ((b * g.inHeight + r) * g.inWidth + col) * c;
            for (let ch = 0; ch < c; ch++) {
              const v = x[base + ch]!;
              if (v > best[ch]!) {
                best[ch] = v;
                bestAt[ch] = base + ch;
              }
            }
          }
        }
        const dyBase = ((b * g.outHeight + oh) * g.outWidth + ow) * c;
        for (let ch = 0; ch < c; ch++) {
          const at = bestAt[ch]!;
          if (at >= 0) dx[at] = dx[at]! + dy[dyBase + ch]!;
        }
      }
    }
  }
}

/**
 * dx of average pooling with the cpu backend's convention: every in-bounds input
 * of a window receives dy / (filterHeight * filterWidth).
 */
export function avgPoolBackprop(g: PoolGeometry, dy: Float32Array, dx: Float32Array): void {
  const c = g.channels;
  const share = 1 / (g.filterHeight * g.filterWidth);
  dx.fill(0);
  for (let b = 0; b < g.batch; b++) {
    for (let oh = 0; oh < g.outHeight; oh++) {
      const rowStart = oh * g.strideHeight - g.padTop;
      const rowFrom = Math.max(rowStart, 0);
      const rowTo = Math.min(rowStart + g.filterHeight, g.inHeight);
      for (let ow = 0; ow < g.outWidth; ow++) {
        const colStart = ow * g.strideWidth - g.padLeft;
        const colFrom = Math.max(colStart, 0);
        const colTo = Math.min(colStart + g.filterWidth, g.inWidth);
        const dyBase = ((b * g.outHeight + oh) * g.outWidth + ow) * c;
        for (let r = rowFrom; r < rowTo; r++) {
          for (let col = colFrom; col < colTo; col++) {
            const base = ((b * g.inHeight + r) * g.inWidth + col) * c;
            for (let ch = 0; ch < c; ch++) dx[base + ch] = dx[base + ch]! + dy[dyBase + ch]! * share;
          }
        }
      }
    }
  }
}

function float32View(backend: BackendWasm, info: tf.TensorInfo): Float32Array {
  if (info.dtype !== 'float32') throw new Error(`mono kernels: pool gradient needs float32, got ${info.dtype}`);
  return backend.typedArrayFromHeap(info) as Float32Array;
}

/**
 * A wasm kernel config for a pool gradient: `backprop` writes dx from views taken
 * after makeOutput (growing the heap detaches older views).
 */
function poolGradKernel(
  kernelName: string,
  backprop: (g: PoolGeometry, input: Float32Array, dy: Float32Array, dx: Float32Array) => void,
): tf.KernelConfig {
  return {
    kernelName,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { dy, input } = inputs as tf.AvgPoolGradInputs; // dy and input: what both gradients read
      if (dy === undefined || input === undefined) throw new Error(`${kernelName} needs dy and input`);
      const wasm = backend as BackendWasm;
      const g = poolGeometry(input.shape as Shape4, attrs as unknown as PoolAttrs);
      const out = wasm.makeOutput(input.shape, 'float32');
      backprop(g, float32View(wasm, input), float32View(wasm, dy), float32View(wasm, out));
      return out;
    },
  };
}

export function maxPoolGradKernel(): tf.KernelConfig {
  return poolGradKernel(tf.MaxPoolGrad, maxPoolBackprop);
}

export function avgPoolGradKernel(): tf.KernelConfig {
  return poolGradKernel(tf.AvgPoolGrad, (g, _input, dy, dx) => avgPoolBackprop(g, dy, dx));
}
