// Shared geometry of 2-D convolutions (NHWC, no dilation) for backprop kernels.
import * as tf from '@tensorflow/tfjs-core';

type Pad = tf.Conv2DAttrs['pad'];
type Shape4 = [number, number, number, number];

export interface ConvGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padLeft: number;
}

export function convGeometry(
  inputShape: Shape4,
  filterShape: Shape4,
  strides: [number, number] | number,
  pad: Pad,
  dataFormat: 'NHWC' | 'NCHW',
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
): ConvGeometry {
  if (dataFormat !== 'NHWC') {
    throw new Error(`mono kernels: convolution gradients support NHWC only, got ${dataFormat}`);
  }
  const info = tf.backend_util.computeConv2DInfo(
    inputShape, filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

/** Explicit NHWC padding; negative amounts are not allowed by the kernels. */
export function explicitPadding(top: number, bottom: number, left: number, right: number): tf.backend_util.ExplicitPadding {
  return [[0, 0], [top, bottom], [left, right], [0, 0]];
}
