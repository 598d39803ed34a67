// Conv2DBackpropFilter for wasm, which ships none (tensorflow/tfjs#8474).
//
// dW[kh,kw,ci,co] = sum over b,oh,ow of x[b, oh*s+kh-pt, ow*s+kw-pl, ci] * dy[b,oh,ow,co].
// mono's SIMD kernel (wasm/conv.ts) computes that straight from NHWC. Where it cannot
// reach the backend's memory, the fallback is a forward convolution in which the input
// channels play the batch, the batch plays the input channels, dy is the filter and the
// stride becomes the dilation (XNNPACK's forward convolution, with transposes around it:
// 2-4x slower, docs/kernels.md).
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { withRunner, type TensorInfo } from './backend-kernel.js';
import { convGeometry, explicitPadding } from './conv-geometry.js';
import { simdKernels } from './simd/module.js';

type Shape4 = [number, number, number, number];

export function conv2dBackpropFilterViaForwardConv(
  backend: tf.KernelBackend,
  backendName: string,
  x: TensorInfo,
  dy: TensorInfo,
  attrs: tf.Conv2DBackpropFilterAttrs,
): TensorInfo {
  const g = convGeometry(x.shape as Shape4, attrs.filterShape, attrs.strides, attrs.pad,
    attrs.dataFormat, attrs.dimRoundingMode);
  // Rows past the last one any output reads must go (negative bottom padding).
  const padBottom = (g.outHeight - 1) * g.strideHeight + g.filterHeight - g.inHeight - g.padTop;
  const padRight = (g.outWidth - 1) * g.strideWidth + g.filterWidth - g.inWidth - g.padLeft;
  return withRunner(backend, backendName, (run) => {
    let input = x;
    if (padBottom < 0 || padRight < 0) {
      input = run.run('Slice', { x }, {
        begin: [0, 0, 0, 0],
        size: [g.batch, g.inHeight + Math.min(padBottom, 0), g.inWidth + Math.min(padRight, 0), g.inChannels],
      });
    }
    const channelsAsBatch = run.run('Transpose', { x: input }, { perm: [3, 1, 2, 0] });
    const dyAsFilter = run.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
    const perInChannel = run.run('Conv2D', { x: channelsAsBatch, filter: dyAsFilter }, {
      strides: [1, 1],
      dilations: [g.strideHeight, g.strideWidth],
      pad: explicitPadding(g.padTop, Math.max(padBottom, 0), g.padLeft, Math.max(padRight, 0)),
      dataFormat: 'NHWC',
    });
    return run.run('Transpose', { x: perInChannel }, { perm: [1, 2, 0, 3] });
  });
}

/** The filter gradient by mono's SIMD kernel, or null when it cannot run on this backend. */
export function conv2dBackpropFilterSimd(
  backend: BackendWasm,
  x: TensorInfo,
  dy: TensorInfo,
  attrs: tf.Conv2DBackpropFilterAttrs,
): TensorInfo | null {
  const kernels = simdKernels(backend);
  if (kernels === null || x.dtype !== 'float32' || dy.dtype !== 'float32') return null;
  const g = convGeometry(x.shape as Shape4, attrs.filterShape, attrs.strides, attrs.pad,
    attrs.dataFormat, attrs.dimRoundingMode);
  const dw = backend.makeOutput([g.filterHeight, g.filterWidth, g.inChannels, g.outChannels], 'float32');
  const at = (info: TensorInfo): number => backend.getMemoryOffset(info.dataId);
  kernels.convFilterGradient(at(x), at(dy), at(dw), g.batch, g.inHeight, g.inWidth, g.inChannels,
    g.outHeight, g.outWidth, g.outChannels, g.filterHeight, g.filterWidth, g.strideHeight, g.strideWidth, g.padTop, g.padLeft);
  return dw;
}

export function conv2dBackpropFilterKernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: tf.Conv2DBackpropFilter,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as tf.Conv2DBackpropFilterInputs;
      if (x === undefined || dy === undefined) throw new Error('Conv2DBackpropFilter needs x and dy');
      const convAttrs = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
      const simd = backendName === 'wasm' ? conv2dBackpropFilterSimd(backend as BackendWasm, x, dy, convAttrs) : null;
      return simd ?? conv2dBackpropFilterViaForwardConv(backend as tf.KernelBackend, backendName, x, dy, convAttrs);
    },
  };
}
