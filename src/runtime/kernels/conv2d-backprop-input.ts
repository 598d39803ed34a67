// Conv2DBackpropInput (dx, also conv2dTranspose) for wasm through the fast
// forward convolution: dx is the convolution of dy, dilated by the stride (zeros
// between its pixels) and padded, with the filter turned by 180 degrees and its
// in/out channels swapped. The shipped wasm kernel is a naive loop, 10-20x
// slower than the forward convolution.
import * as tf from '@tensorflow/tfjs-core';
import { withRunner, type BackendKernelRunner, type TensorInfo } from './backend-kernel.js';
import { convGeometry, explicitPadding } from './conv-geometry.js';

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

export function conv2dBackpropInputKernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: tf.Conv2DBackpropInput,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { dy, filter } = inputs as tf.Conv2DBackpropInputInputs;
      if (dy === undefined || filter === undefined) throw new Error('Conv2DBackpropInput needs dy and filter');
      return conv2dBackpropInputViaForwardConv(backend as tf.KernelBackend, backendName, dy, filter,
        attrs as unknown as tf.Conv2DBackpropInputAttrs);
    },
  };
}
