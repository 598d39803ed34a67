// The shipped wasm Conv2D/FusedConv2D hand 'same' padding to XNNPACK as its
// TensorFlow-SAME flag, which gives zeros in some strided cases (e.g. width 1,
// filter width 2, stride 2; the cpu backend gives the right values). Passing the
// padding tfjs computes as explicit amounts gives the right result at no cost.
import * as tf from '@tensorflow/tfjs-core';

type ConvLikeAttrs = tf.Conv2DAttrs;

function withExplicitPadding(x: tf.TensorInfo, filter: tf.TensorInfo, attrs: ConvLikeAttrs): ConvLikeAttrs {
  if (attrs.pad !== 'same' || attrs.dataFormat === 'NCHW') return attrs;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
    attrs.strides, attrs.dilations, 'same', attrs.dimRoundingMode, false, 'channelsLast');
  const { top, bottom, left, right } = info.padInfo;
  return { ...attrs, pad: [[0, 0], [top, bottom], [left, right], [0, 0]] };
}

/** Wraps the shipped kernel `shipped` (Conv2D or FusedConv2D) to pass explicit padding. */
export function explicitSamePaddingKernel(shipped: tf.KernelConfig): tf.KernelConfig {
  const config: tf.KernelConfig = {
    kernelName: shipped.kernelName,
    backendName: shipped.backendName,
    kernelFunc: (args) => {
      const { x, filter } = args.inputs;
      if (x === undefined || filter === undefined) throw new Error(`${shipped.kernelName} needs x and filter`);
      const attrs = withExplicitPadding(x, filter, args.attrs as unknown as ConvLikeAttrs);
      return shipped.kernelFunc({ ...args, attrs: attrs as unknown as tf.NamedAttrMap });
    },
  };
  // The backend runs setup functions of the kernels registered when it starts.
  if (shipped.setupFunc !== undefined) config.setupFunc = shipped.setupFunc;
  if (shipped.disposeFunc !== undefined) config.disposeFunc = shipped.disposeFunc;
  return config;
}
