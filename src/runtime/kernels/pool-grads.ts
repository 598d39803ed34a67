// MaxPoolGrad and AvgPoolGrad as single passes over the wasm heap. The shipped
// wasm kernels take 10-30x the forward pool's time; these loops visit each window
// once with the channel innermost (contiguous in NHWC).
//
// AvgPoolGrad is also registered for the cpu backend: the forward average of a
// 'same'-padded window that overlaps the padding divides by its in-bounds count
// (tfjs's kernels on every backend), but tfjs-backend-cpu's AvgPoolGrad divides by the
// full window size, so its gradient is wrong on those windows (docs/kernels.md).
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { simdKernels } from './simd/module.js';

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
 * dx of average pooling: every in-bounds input of a window receives dy / n, n the
 * window's in-bounds count, which is what the forward pass divides by (n is
 * filterHeight * filterWidth except where a 'same' window overlaps the padding).
 */
export function avgPoolBackprop(g: PoolGeometry, dy: Float32Array, dx: Float32Array): void {
  const c = g.channels;
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
        const inBounds = (rowTo - rowFrom) * (colTo - colFrom);
        if (inBounds <= 0) continue;
        const share = 1 / inBounds;
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

type Backprop = (g: PoolGeometry, input: Float32Array, dy: Float32Array, dx: Float32Array) => void;

function poolGradInputs(kernelName: string, inputs: tf.NamedTensorInfoMap): { dy: tf.TensorInfo; input: tf.TensorInfo } {
  const { dy, input } = inputs as tf.AvgPoolGradInputs; // dy and input: what both gradients read
  if (dy === undefined || input === undefined) throw new Error(`${kernelName} needs dy and input`);
  return { dy, input };
}

/**
 * A wasm kernel config for a pool gradient: `backprop` writes dx from views taken
 * after makeOutput (growing the heap detaches older views).
 */
function poolGradKernel(kernelName: string, backprop: Backprop): tf.KernelConfig {
  return {
    kernelName,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { dy, input } = poolGradInputs(kernelName, inputs);
      const wasm = backend as BackendWasm;
      const g = poolGeometry(input.shape as Shape4, attrs as unknown as PoolAttrs);
      const out = wasm.makeOutput(input.shape, 'float32');
      backprop(g, float32View(wasm, input), float32View(wasm, dy), float32View(wasm, out));
      return out;
    },
  };
}

/** The same for a backend that keeps its tensors in JS memory (cpu): read, compute, write. */
function hostPoolGradKernel(kernelName: string, backendName: string, backprop: Backprop): tf.KernelConfig {
  return {
    kernelName,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { dy, input } = poolGradInputs(kernelName, inputs);
      const host = backend as tf.KernelBackend;
      const read = (info: tf.TensorInfo): Float32Array => {
        if (info.dtype !== 'float32') throw new Error(`mono kernels: pool gradient needs float32, got ${info.dtype}`);
        return host.readSync(info.dataId) as Float32Array;
      };
      const g = poolGeometry(input.shape as Shape4, attrs as unknown as PoolAttrs);
      const dx = new Float32Array(tf.util.sizeFromShape(input.shape));
      backprop(g, read(input), read(dy), dx);
      return { dataId: host.write(dx, input.shape, 'float32'), shape: input.shape, dtype: 'float32' };
    },
  };
}

/**
 * MaxPoolGrad for wasm: mono's SIMD kernel (wasm/conv.ts maxPoolGradient, the same
 * rule as maxPoolBackprop, four channels at a time), or the JS pass where the SIMD
 * kernels cannot reach the backend's memory.
 */
export function maxPoolGradKernel(): tf.KernelConfig {
  const js = poolGradKernel(tf.MaxPoolGrad, maxPoolBackprop);
  return {
    ...js,
    kernelFunc: (args) => {
      const wasm = args.backend as BackendWasm;
      const kernels = simdKernels(wasm);
      const { dy, input } = poolGradInputs(tf.MaxPoolGrad, args.inputs);
      if (kernels === null || dy.dtype !== 'float32' || input.dtype !== 'float32') return js.kernelFunc(args);
      const g = poolGeometry(input.shape as Shape4, args.attrs as unknown as PoolAttrs);
      const out = wasm.makeOutput(input.shape, 'float32');
      const at = (info: tf.TensorInfo): number => wasm.getMemoryOffset(info.dataId);
      kernels.maxPoolGradient(at(input), at(dy), at(out), g.batch, g.inHeight, g.inWidth, g.channels, g.outHeight, g.outWidth,
        g.filterHeight, g.filterWidth, g.strideHeight, g.strideWidth, g.padTop, g.padLeft);
      return out;
    },
  };
}

const avgBackprop: Backprop = (g, _input, dy, dx) => avgPoolBackprop(g, dy, dx);

/** AvgPoolGrad for `backendName`: 'wasm' works on the wasm heap; others (cpu) must keep tensors in JS memory. */
export function avgPoolGradKernel(backendName = 'wasm'): tf.KernelConfig {
  return backendName === 'wasm' ? poolGradKernel(tf.AvgPoolGrad, avgBackprop) : hostPoolGradKernel(tf.AvgPoolGrad, backendName, avgBackprop);
}
