import type { AttrValue, Initializer, OpName, Shape } from '../../ir/types.js';
import type { BoundArguments, Signature } from '../signature.js';
import { booleanArg, defaults, numberArg, wordArg } from '../signature.js';
import { formatShape, isFlat, isImage, shapeSize, windowOutput } from '../shapes.js';
import { T } from '../types.js';

export type ParamRole = 'kernel' | 'bias' | 'gamma' | 'beta' | 'moving_mean' | 'moving_variance';

export interface LayerParam {
  role: ParamRole;
  shape: Shape;
  init: Initializer;
  trainable: boolean;
}

export interface LayerOutput {
  shape: Shape;
  attrs: Record<string, AttrValue>;
  params: LayerParam[];
  /** Forward FLOPs per example: 2 x MACs, plus 1 per output element for elementwise work. */
  flops: number;
}

/** A shape the layer cannot take; `argument` names the argument to point at, when one is to blame. */
export interface LayerShapeError {
  error: string;
  argument?: string;
}

export interface LayerDefinition {
  name: string;
  op: OpName;
  signature: Signature;
  infer(input: Shape, args: BoundArguments): LayerOutput | LayerShapeError;
}

const padding = T.enum('same', 'valid');
/**
 * Initialisation of a conv or dense kernel: he_normal (N(0, 2/fan_in)), fan_in_uniform
 * (U(+-1/sqrt(fan_in)), PyTorch's default for conv and linear layers), or stdp_normal
 * (N(0.8, 0.01^2) in [0, 1], the spiking-network paper's start for STDP kernels).
 */
export const kernelInit = T.enum('he_normal', 'fan_in_uniform', 'stdp_normal');

/** The `init` argument of a conv, dense or residual (its projection), he_normal by default. */
export function kernelInitArg(args: BoundArguments): Initializer {
  const init = wordArg(args, 'init');
  return init === 'fan_in_uniform' || init === 'stdp_normal' ? init : 'he_normal';
}

function imageOnly(layer: string, input: Shape): LayerShapeError | undefined {
  if (isImage(input)) return undefined;
  return {
    error: `${layer} expects an image input [h, w, c] but gets ${formatShape(input)}; ${layer} cannot follow flatten, dense or a global pool`,
  };
}

function elementwise(name: string, op: OpName, params: Signature['params'] = [], attrs: (args: BoundArguments) => Record<string, AttrValue> = () => ({})): LayerDefinition {
  return {
    name,
    op,
    signature: { name, params },
    infer: (input, args) => ({ shape: input, attrs: attrs(args), params: [], flops: shapeSize(input) }),
  };
}

function pooling(name: 'maxpool' | 'avgpool'): LayerDefinition {
  return {
    name,
    op: name,
    signature: {
      name,
      params: [
        { name: 'size', type: T.positiveInt, default: defaults.number(2) },
        { name: 'stride', type: T.positiveInt, optional: true },
        { name: 'padding', type: padding, default: defaults.word('valid') },
      ],
    },
    infer(input, args) {
      const notImage = imageOnly(name, input);
      if (notImage) return notImage;
      const [h, w, c] = input as [number, number, number];
      const size = numberArg(args, 'size');
      const stride = args.has('stride') ? numberArg(args, 'stride') : size;
      const pad = wordArg(args, 'padding') === 'same' ? 'same' : 'valid';
      const oh = windowOutput(h, size, stride, pad);
      const ow = windowOutput(w, size, stride, pad);
      if (oh < 1 || ow < 1)
        return { error: `${name} of size ${size} is larger than its input ${h}x${w} (padding ${pad})`, argument: 'size' };
      return { shape: [oh, ow, c], attrs: { size, stride, padding: pad }, params: [], flops: oh * ow * c * size * size };
    },
  };
}

function globalPool(name: 'global_avg_pool' | 'global_max_pool'): LayerDefinition {
  return {
    name,
    op: name,
    signature: { name, params: [] },
    infer(input) {
      const notImage = imageOnly(name, input);
      if (notImage) return notImage;
      return { shape: [input[2]!], attrs: {}, params: [], flops: shapeSize(input) };
    },
  };
}

const conv: LayerDefinition = {
  name: 'conv',
  op: 'conv2d',
  signature: {
    name: 'conv',
    params: [
      { name: 'filters', type: T.positiveInt },
      { name: 'kernel', type: T.positiveInt },
      { name: 'stride', type: T.positiveInt, default: defaults.number(1) },
      { name: 'padding', type: padding, default: defaults.word('same') },
      { name: 'bias', type: T.boolean, default: defaults.boolean(false) },
      { name: 'init', type: kernelInit, default: defaults.word('he_normal') },
    ],
  },
  infer(input, args) {
    const notImage = imageOnly('conv', input);
    if (notImage) return notImage;
    const [h, w, c] = input as [number, number, number];
    const filters = numberArg(args, 'filters');
    const kernel = numberArg(args, 'kernel');
    const stride = numberArg(args, 'stride');
    const pad = wordArg(args, 'padding') === 'valid' ? 'valid' : 'same';
    const bias = booleanArg(args, 'bias');
    const oh = windowOutput(h, kernel, stride, pad);
    const ow = windowOutput(w, kernel, stride, pad);
    if (oh < 1 || ow < 1)
      return { error: `conv kernel ${kernel} is larger than its input ${h}x${w} (padding valid)`, argument: 'kernel' };
    const init = kernelInitArg(args);
    const params: LayerParam[] = [{ role: 'kernel', shape: [kernel, kernel, c, filters], init, trainable: true }];
    if (bias) params.push({ role: 'bias', shape: [filters], init: 'zeros', trainable: true });
    const outputs = oh * ow * filters;
    return {
      shape: [oh, ow, filters],
      attrs: { filters, kernel, stride, padding: pad, bias },
      params,
      flops: 2 * kernel * kernel * c * outputs + (bias ? outputs : 0),
    };
  },
};

const dense: LayerDefinition = {
  name: 'dense',
  op: 'dense',
  signature: {
    name: 'dense',
    params: [
      { name: 'units', type: T.positiveInt },
      { name: 'bias', type: T.boolean, default: defaults.boolean(true) },
      { name: 'init', type: kernelInit, default: defaults.word('he_normal') },
    ],
  },
  infer(input, args) {
    if (!isFlat(input))
      return {
        error: `dense expects a flat input [n] but gets ${formatShape(input)}; add flatten or global_avg_pool`,
      };
    const n = input[0];
    const units = numberArg(args, 'units');
    const bias = booleanArg(args, 'bias');
    const init = kernelInitArg(args);
    const params: LayerParam[] = [{ role: 'kernel', shape: [n, units], init, trainable: true }];
    if (bias) params.push({ role: 'bias', shape: [units], init: 'zeros', trainable: true });
    return { shape: [units], attrs: { units, bias }, params, flops: 2 * n * units + (bias ? units : 0) };
  },
};

/**
 * gamma, beta and the moving statistics of a batchnorm over `channels`. They
 * share one shape array (a large plan has hundreds of thousands of them), and
 * this is a plain function, not a closure made per call.
 */
export function batchnormParams(channels: number): LayerParam[] {
  const shape = [channels];
  return [
    { role: 'gamma', shape, init: 'ones', trainable: true },
    { role: 'beta', shape, init: 'zeros', trainable: true },
    { role: 'moving_mean', shape, init: 'zeros', trainable: false },
    { role: 'moving_variance', shape, init: 'ones', trainable: false },
  ];
}

const batchnorm: LayerDefinition = {
  name: 'bn',
  op: 'batchnorm',
  signature: {
    name: 'bn',
    params: [
      { name: 'momentum', type: T.unitOpen, default: defaults.number(0.99) },
      { name: 'eps', type: T.positive, default: defaults.number(1e-3) },
    ],
  },
  infer(input, args) {
    return {
      shape: input,
      attrs: { momentum: numberArg(args, 'momentum'), epsilon: numberArg(args, 'eps') },
      params: batchnormParams(input[input.length - 1] ?? 1),
      flops: shapeSize(input),
    };
  },
};

const flatten: LayerDefinition = {
  name: 'flatten',
  op: 'flatten',
  signature: { name: 'flatten', params: [] },
  infer: (input) => ({ shape: [shapeSize(input)], attrs: {}, params: [], flops: 0 }),
};

const dropout: LayerDefinition = {
  name: 'dropout',
  op: 'dropout',
  signature: { name: 'dropout', params: [{ name: 'rate', type: T.unitOpen }] },
  // Identity at inference: no FLOPs.
  infer: (input, args) => ({ shape: input, attrs: { rate: numberArg(args, 'rate') }, params: [], flops: 0 }),
};

const LAYERS: readonly LayerDefinition[] = [
  conv,
  dense,
  batchnorm,
  elementwise('relu', 'relu'),
  elementwise('leaky_relu', 'leaky_relu', [{ name: 'alpha', type: T.nonNegative, default: defaults.number(0.2) }], (args) => ({
    alpha: numberArg(args, 'alpha'),
  })),
  elementwise('elu', 'elu'),
  elementwise('gelu', 'gelu'),
  elementwise('swish', 'swish'),
  elementwise('sigmoid', 'sigmoid'),
  elementwise('tanh', 'tanh'),
  // `threshold`: the unit fires when its input reaches it (x - threshold >= 0), the
  // integrate-and-fire threshold of an STDP feature layer (docs/stdp.md).
  elementwise(
    'binary',
    'binary',
    [
      { name: 'tau', type: T.positive, default: defaults.number(0.5) },
      { name: 'threshold', type: T.number, default: defaults.number(0) },
    ],
    (args) => ({ tau: numberArg(args, 'tau'), threshold: numberArg(args, 'threshold') }),
  ),
  pooling('maxpool'),
  pooling('avgpool'),
  globalPool('global_avg_pool'),
  globalPool('global_max_pool'),
  flatten,
  dropout,
];

export const layerCatalog: ReadonlyMap<string, LayerDefinition> = new Map(LAYERS.map((layer) => [layer.name, layer]));

export function isLayerShapeError(result: LayerOutput | LayerShapeError): result is LayerShapeError {
  return 'error' in result;
}
