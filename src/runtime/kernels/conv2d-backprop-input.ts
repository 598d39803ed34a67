// Conv2DBackpropInput (dx, also conv2dTranspose) for wasm through the fast
// forward convolution (XNNPACK): dx is the convolution of dy with the filter turned by
// 180 degrees and its in/out channels swapped. The shipped wasm kernel is a naive loop,
// 10-20x slower than the forward convolution.
//
// With stride s > 1, dx splits into s x s phases (the rows r, r + s, r + 2s, ... and
// likewise the columns): each phase is a stride-1 convolution of dy itself with the
// filter taps of that phase, and mono's SIMD kernel writes it into its rows and columns
// of dx. The fallback, where the SIMD kernels cannot reach the backend's memory, inserts
// s - 1 zeros between dy's pixels and convolves that: s*s times the work.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { withRunner, type BackendKernelRunner, type TensorInfo } from './backend-kernel.js';
import { convGeometry, explicitPadding, type ConvGeometry } from './conv-geometry.js';
import { simdKernels } from './simd/module.js';

/** Inserts stride-1 zeros after every row and column: [b,h,w,c] -> [b,h*sh,w*sw,c]. */
function dilate(run: BackendKernelRunner, dy: TensorInfo, strideHeight: number, strideWidth: number): TensorInfo {
  const [b, h, w, c] = dy.shape as [number, number, number, number];
  const spread = run.run('Reshape', { x: dy }, { shape: [b, h, 1, w, 1, c] });
  const padded = run.run('PadV2', { x: spread }, {
    paddings: [[0, 0], [0, 0], [0, strideHeight - 1], [0, 0], [0, strideWidth - 1], [0, 0]],
    constantValue: 0,
  });
  return run.run('Reshape', { x: padded }, { shape: [b, h * strideHeight, w * strideWidth, c] });
}

export function conv2dBackpropInputViaForwardConv(
  backend: tf.KernelBackend,
  backendName: string,
  dy: TensorInfo,
  filter: TensorInfo,
  attrs: tf.Conv2DBackpropInputAttrs,
): TensorInfo {
  const g = convGeometry(attrs.inputShape, filter.shape as [number, number, number, number],
    attrs.strides, attrs.pad, attrs.dataFormat, attrs.dimRoundingMode);
  return withRunner(backend, backendName, (run) => {
    const strided = g.strideHeight > 1 || g.strideWidth > 1;
    let source = strided ? dilate(run, dy, g.strideHeight, g.strideWidth) : dy;
    // The dilated dy carries stride-1 trailing zeros that count as bottom/right padding.
    const trailingRows = g.strideHeight - 1;
    const trailingCols = g.strideWidth - 1;
    const usedRows = (g.outHeight - 1) * g.strideHeight + 1;
    const usedCols = (g.outWidth - 1) * g.strideWidth + 1;
    let top = g.filterHeight - 1 - g.padTop;
    let left = g.filterWidth - 1 - g.padLeft;
    let bottom = g.inHeight + g.filterHeight - 1 - usedRows - top - trailingRows;
    let right = g.inWidth + g.filterWidth - 1 - usedCols - left - trailingCols;
    if (top < 0 || left < 0 || bottom < 0 || right < 0) {
      // Padding wider than the filter: drop the rows/columns no output reads.
      const [b, h, w, c] = source.shape as [number, number, number, number];
      const cutTop = Math.max(-top, 0);
      const cutLeft = Math.max(-left, 0);
      source = run.run('Slice', { x: source }, {
        begin: [0, cutTop, cutLeft, 0],
        size: [b, h - cutTop - Math.max(-bottom, 0), w - cutLeft - Math.max(-right, 0), c],
      });
      top = Math.max(top, 0);
      left = Math.max(left, 0);
      bottom = Math.max(bottom, 0);
      right = Math.max(right, 0);
    }
    const turned = run.run('Reverse', { x: filter }, { dims: [0, 1] });
    const swapped = run.run('Transpose', { x: turned }, { perm: [0, 1, 3, 2] });
    return run.run('Conv2D', { x: source, filter: swapped }, {
      strides: [1, 1],
      dilations: [1, 1],
      pad: explicitPadding(top, bottom, left, right),
      dataFormat: 'NHWC',
    });
  });
}

/** The filter taps of one stride phase along one axis, as a stride-1 correlation of dy. */
interface PhaseAxis {
  /** The first tap of the phase; the others follow every `stride` taps. */
  firstTap: number;
  taps: number;
  /** Output positions of this phase (rows r, r + s, ... of dx). */
  length: number;
  /** Padding of dy before / after for the stride-1 correlation (negative: dy rows to drop). */
  before: number;
  after: number;
}

function phaseAxis(phase: number, stride: number, filter: number, pad: number, input: number, output: number): PhaseAxis {
  // dx[s*a + r] = sum over taps k = r + pad (mod s) of dy[(s*a + r + pad - k) / s] * w[k].
  const firstTap = (phase + pad) % stride;
  const taps = firstTap < filter ? Math.ceil((filter - firstTap) / stride) : 0;
  const length = phase < input ? Math.ceil((input - phase) / stride) : 0;
  const shift = (phase + pad - firstTap) / stride;
  return { firstTap, taps, length, before: taps - 1 - shift, after: length + shift - output };
}

/**
 * The filter of one phase for a forward convolution of dy: taps firstTap, firstTap + s, ...
 * in reverse order, in/out channels swapped: [tapsH, tapsW, outC, inC].
 */
function phaseFilter(w: Float32Array, g: ConvGeometry, rows: PhaseAxis, cols: PhaseAxis, into: Float32Array): void {
  const { inChannels: ci, outChannels: co, filterWidth: fw } = g;
  let at = 0;
  for (let i = 0; i < rows.taps; i++) {
    const kh = rows.firstTap + g.strideHeight * (rows.taps - 1 - i);
    for (let j = 0; j < cols.taps; j++) {
      const kw = cols.firstTap + g.strideWidth * (cols.taps - 1 - j);
      const tap = (kh * fw + kw) * ci * co;
      for (let o = 0; o < co; o++) {
        for (let c = 0; c < ci; c++) into[at++] = w[tap + c * co + o]!;
      }
    }
  }
}

/**
 * dx phase by phase (no zeros inserted into dy), each phase one forward convolution of dy;
 * null when mono's SIMD kernels (which write the phases into dx) cannot run here.
 */
export function conv2dBackpropInputByPhases(
  backend: BackendWasm,
  dy: TensorInfo,
  filter: TensorInfo,
  attrs: tf.Conv2DBackpropInputAttrs,
): TensorInfo | null {
  const kernels = simdKernels(backend);
  if (kernels === null || dy.dtype !== 'float32' || filter.dtype !== 'float32') return null;
  const g = convGeometry(attrs.inputShape, filter.shape as [number, number, number, number],
    attrs.strides, attrs.pad, attrs.dataFormat, attrs.dimRoundingMode);
  const rowPhases = Array.from({ length: g.strideHeight }, (_, r) =>
    phaseAxis(r, g.strideHeight, g.filterHeight, g.padTop, g.inHeight, g.outHeight));
  const colPhases = Array.from({ length: g.strideWidth }, (_, r) =>
    phaseAxis(r, g.strideWidth, g.filterWidth, g.padLeft, g.inWidth, g.outWidth));
  const single = rowPhases.length === 1 && colPhases.length === 1;
  return withRunner(backend, 'wasm', (run) => {
    const w = backend.readSync(filter.dataId) as Float32Array;
    const dx = single ? null : backend.makeOutput([g.batch, g.inHeight, g.inWidth, g.inChannels], 'float32');
    const at = (info: TensorInfo): number => backend.getMemoryOffset(info.dataId);
    // A phase without taps (filter smaller than the stride) leaves its part of dx at zero.
    const empty = rowPhases.some((p) => p.taps === 0 && p.length > 0) || colPhases.some((p) => p.taps === 0 && p.length > 0);
    if (dx !== null && empty) kernels.zeroFill(at(dx), g.batch * g.inHeight * g.inWidth * g.inChannels);
    for (const [rh, rows] of rowPhases.entries()) {
      for (const [rw, cols] of colPhases.entries()) {
        if (rows.taps === 0 || cols.taps === 0 || rows.length === 0 || cols.length === 0) continue;
        const sub = run.adopt(backend.makeOutput([rows.taps, cols.taps, g.outChannels, g.inChannels], 'float32'));
        phaseFilter(w, g, rows, cols, backend.typedArrayFromHeap(sub) as Float32Array);
        let source = dy;
        if (rows.before < 0 || rows.after < 0 || cols.before < 0 || cols.after < 0) {
          // Padding wider than the filter: drop the rows/columns no output reads.
          const cutTop = Math.max(-rows.before, 0);
          const cutLeft = Math.max(-cols.before, 0);
          source = run.run('Slice', { x: dy }, {
            begin: [0, cutTop, cutLeft, 0],
            size: [g.batch, g.outHeight - cutTop - Math.max(-rows.after, 0), g.outWidth - cutLeft - Math.max(-cols.after, 0), g.outChannels],
          });
        }
        const phase = run.run('Conv2D', { x: source, filter: sub }, {
          strides: [1, 1],
          dilations: [1, 1],
          pad: explicitPadding(Math.max(rows.before, 0), Math.max(rows.after, 0), Math.max(cols.before, 0), Math.max(cols.after, 0)),
          dataFormat: 'NHWC',
        });
        if (dx === null) return phase;
        kernels.scatterPhase(at(phase), at(dx), g.batch, rows.length, cols.length, g.inChannels,
          g.inHeight, g.inWidth, rh, rw, g.strideHeight, g.strideWidth);
      }
    }
    if (dx === null) {
      // Stride 1 with a filter of no taps cannot happen; an empty dx (batch 0) can.
      const zeros = backend.makeOutput([g.batch, g.inHeight, g.inWidth, g.inChannels], 'float32');
      kernels.zeroFill(at(zeros), g.batch * g.inHeight * g.inWidth * g.inChannels);
      return zeros;
    }
    return dx;
  });
}

export function conv2dBackpropInputKernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: tf.Conv2DBackpropInput,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { dy, filter } = inputs as tf.Conv2DBackpropInputInputs;
      if (dy === undefined || filter === undefined) throw new Error('Conv2DBackpropInput needs dy and filter');
      const convAttrs = attrs as unknown as tf.Conv2DBackpropInputAttrs;
      const phased = backendName === 'wasm' ? conv2dBackpropInputByPhases(backend as BackendWasm, dy, filter, convAttrs) : null;
      return phased ?? conv2dBackpropInputViaForwardConv(backend as tf.KernelBackend, backendName, dy, filter, convAttrs);
    },
  };
}
