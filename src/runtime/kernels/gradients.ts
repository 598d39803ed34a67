// Gradients of the ops that training a ResNet uses. tfjs-core's Node bundle
// registers no gradients at all (they live in its ES-module files, which Node
// cannot import), so mono supplies these, for every backend. Each is registered
// only where none exists, so tfjs's own stay in force if something loads them.
import * as tf from '@tensorflow/tfjs-core';
import { batchNormGradient } from './batch-norm-grad.js';
import { sumToShape } from './broadcast.js';

export { sumToShape } from './broadcast.js';

type Shape = number[];
type Grad = tf.GradConfig['gradFunc'];

function single(dy: tf.Tensor | tf.Tensor[]): tf.Tensor {
  if (Array.isArray(dy)) throw new Error('mono gradients: expected one upstream gradient');
  return dy;
}

function saved(tensors: tf.Tensor[], index: number): tf.Tensor {
  const t = tensors[index];
  if (t === undefined) throw new Error(`mono gradients: saved tensor ${index} missing`);
  return t;
}

/** Shape of a reduction's result with the reduced axes kept as size 1. */
function keptShape(xShape: Shape, axis: number | number[]): Shape {
  const axes = tf.util.parseAxisParam(axis, xShape);
  return xShape.map((size, i) => (axes.includes(i) ? 1 : size));
}

function binary(kernelName: string, da: (a: tf.Tensor, b: tf.Tensor, dy: tf.Tensor) => tf.Tensor,
  db: (a: tf.Tensor, b: tf.Tensor, dy: tf.Tensor) => tf.Tensor): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, s) => {
      const g = single(dy);
      const a = saved(s, 0);
      const b = saved(s, 1);
      return {
        a: () => sumToShape(da(a, b, g), a.shape),
        b: () => sumToShape(db(a, b, g), b.shape),
      };
    },
  };
}

function unaryFromInput(kernelName: string, dx: (x: tf.Tensor, dy: tf.Tensor, attrs: tf.NamedAttrMap) => tf.Tensor): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: ['x'],
    gradFunc: (dy, s, attrs) => ({ x: () => dx(saved(s, 0), single(dy), attrs) }),
  };
}

function unaryFromOutput(kernelName: string, dx: (y: tf.Tensor, dy: tf.Tensor) => tf.Tensor): tf.GradConfig {
  return {
    kernelName,
    outputsToSave: [true],
    gradFunc: (dy, s) => ({ x: () => dx(saved(s, 0), single(dy)) }),
  };
}

const mask = (condition: tf.Tensor): tf.Tensor => tf.cast(condition, 'float32');

const conv2dGrad: Grad = (dy, s, attrs) => {
  const g = single(dy) as tf.Tensor4D;
  const x = saved(s, 0) as tf.Tensor4D;
  const filter = saved(s, 1) as tf.Tensor4D;
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as unknown as tf.Conv2DAttrs;
  if (!tf.backend_util.tupleValuesAreOne(dilations)) {
    throw new Error('mono gradients: Conv2D gradient with dilations > 1 is not supported');
  }
  const common = { strides, pad, dataFormat, dimRoundingMode };
  return {
    x: () => tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: g, filter },
      { ...common, inputShape: x.shape } as unknown as tf.NamedAttrMap) as tf.Tensor,
    filter: () => tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy: g },
      { ...common, filterShape: filter.shape } as unknown as tf.NamedAttrMap) as tf.Tensor,
  };
};

const batchMatMulGrad: Grad = (dy, s, attrs) => {
  const g = single(dy);
  const a = saved(s, 0);
  const b = saved(s, 1);
  const { transposeA, transposeB } = attrs as unknown as tf.BatchMatMulAttrs;
  let da: () => tf.Tensor;
  let db: () => tf.Tensor;
  if (!transposeA && !transposeB) {
    da = () => tf.matMul(g, b, false, true);
    db = () => tf.matMul(a, g, true, false);
  } else if (!transposeA && transposeB) {
    da = () => tf.matMul(g, b, false, false);
    db = () => tf.matMul(g, a, true, false);
  } else if (transposeA && !transposeB) {
    da = () => tf.matMul(b, g, false, true);
    db = () => tf.matMul(a, g, false, false);
  } else {
    da = () => tf.matMul(b, g, true, true);
    db = () => tf.matMul(g, a, true, true);
  }
  return { a: () => sumToShape(da(), a.shape), b: () => sumToShape(db(), b.shape) };
};

const reductionGrads: tf.GradConfig[] = [
  {
    kernelName: tf.Sum,
    inputsToSave: ['x'],
    gradFunc: (dy, s, attrs) => {
      const x = saved(s, 0);
      const { axis } = attrs as unknown as tf.SumAttrs;
      return { x: () => tf.mul(tf.reshape(single(dy), keptShape(x.shape, axis)), tf.onesLike(x)) };
    },
  },
  {
    kernelName: tf.Mean,
    inputsToSave: ['x'],
    gradFunc: (dy, s, attrs) => {
      const x = saved(s, 0);
      const { axis } = attrs as unknown as tf.MeanAttrs;
      const kept = keptShape(x.shape, axis);
      const count = x.size / tf.util.sizeFromShape(kept);
      return { x: () => tf.mul(tf.reshape(tf.div(single(dy), count), kept), tf.onesLike(x)) };
    },
  },
  {
    kernelName: tf.Max,
    inputsToSave: ['x'],
    outputsToSave: [true],
    gradFunc: (dy, s, attrs) => {
      const x = saved(s, 0);
      const kept = keptShape(x.shape, (attrs as unknown as tf.MaxAttrs).reductionIndices);
      const y = tf.reshape(saved(s, 1), kept);
      return { x: () => tf.mul(tf.reshape(single(dy), kept), mask(tf.equal(x, y))) };
    },
  },
];

const shapeGrads: tf.GradConfig[] = [
  unaryFromInput(tf.Reshape, (x, dy) => tf.reshape(dy, x.shape)),
  unaryFromInput(tf.Identity, (_x, dy) => dy.clone()),
  unaryFromInput(tf.Cast, (_x, dy) => dy.clone()),
  unaryFromInput(tf.Transpose, (_x, dy, attrs) => {
    const perm = (attrs as unknown as tf.TransposeAttrs).perm;
    return tf.transpose(dy, tf.backend_util.getUndoAxesPermutation(perm));
  }),
  unaryFromInput(tf.PadV2, (x, dy, attrs) => {
    const before = (attrs as unknown as tf.PadV2Attrs).paddings.map((p) => p[0]);
    return tf.slice(dy, before, x.shape);
  }),
  unaryFromInput(tf.Slice, (x, dy, attrs) => {
    const { begin, size } = attrs as unknown as tf.SliceAttrs;
    const [begins, sizes] = tf.slice_util.parseSliceParams(x, begin, size) as [number[], number[]];
    return tf.pad(dy, x.shape.map((dim, i) => [begins[i]!, dim - begins[i]! - sizes[i]!] as [number, number]));
  }),
  unaryFromInput(tf.Tile, (x, dy, attrs) => {
    // dy viewed as [reps0, x0, reps1, x1, ...] summed over the reps axes.
    const reps = (attrs as unknown as tf.TileAttrs).reps;
    const interleaved = x.shape.flatMap((dim, i) => [reps[i]!, dim]);
    const repAxes = x.shape.map((_d, i) => 2 * i);
    return tf.reshape(tf.sum(tf.reshape(dy, interleaved), repAxes), x.shape);
  }),
  {
    kernelName: tf.Concat,
    saveAllInputs: true,
    gradFunc: (dy, s, attrs) => {
      const shapes = s.map((t) => t.shape);
      const axis = tf.util.parseAxisParam((attrs as unknown as tf.ConcatAttrs).axis, shapes[0]!)[0]!;
      const pieces = tf.split(single(dy), shapes.map((shape) => shape[axis]!), axis);
      return Object.fromEntries(pieces.map((piece, i) => [String(i), () => piece]));
    },
  },
  {
    kernelName: tf.AddN,
    saveAllInputs: true,
    gradFunc: (dy, s) => Object.fromEntries(s.map((_t, i) => [String(i), () => single(dy).clone()])),
  },
];

const elementwiseGrads: tf.GradConfig[] = [
  binary(tf.Add, (_a, _b, dy) => dy, (_a, _b, dy) => dy),
  binary(tf.Sub, (_a, _b, dy) => dy, (_a, _b, dy) => tf.neg(dy)),
  binary(tf.Multiply, (_a, b, dy) => tf.mul(dy, b), (a, _b, dy) => tf.mul(dy, a)),
  binary(tf.RealDiv, (_a, b, dy) => tf.div(dy, b), (a, b, dy) => tf.neg(tf.div(tf.mul(dy, a), tf.square(b)))),
  binary(tf.Maximum, (a, b, dy) => tf.mul(dy, mask(tf.greaterEqual(a, b))), (a, b, dy) => tf.mul(dy, mask(tf.less(a, b)))),
  binary(tf.Minimum, (a, b, dy) => tf.mul(dy, mask(tf.lessEqual(a, b))), (a, b, dy) => tf.mul(dy, mask(tf.greater(a, b)))),
  binary(tf.SquaredDifference, (a, b, dy) => tf.mul(dy, tf.mul(2, tf.sub(a, b))), (a, b, dy) => tf.mul(dy, tf.mul(2, tf.sub(b, a)))),
  unaryFromInput(tf.Neg, (_x, dy) => tf.neg(dy)),
  unaryFromInput(tf.Square, (x, dy) => tf.mul(dy, tf.mul(x, 2))),
  unaryFromInput(tf.Abs, (x, dy) => tf.mul(dy, tf.sign(x))),
  unaryFromInput(tf.Log, (x, dy) => tf.div(dy, x)),
  unaryFromInput(tf.Rsqrt, (x, dy) => tf.mul(dy, tf.mul(-0.5, tf.pow(x, -1.5)))),
  unaryFromInput(tf.Relu, (x, dy) => tf.mul(dy, mask(tf.greater(x, 0)))),
  unaryFromInput(tf.Relu6, (x, dy) => tf.mul(dy, mask(tf.logicalAnd(tf.greater(x, 0), tf.lessEqual(x, 6))))),
  unaryFromInput(tf.LeakyRelu, (x, dy, attrs) =>
    tf.mul(dy, tf.where(tf.greater(x, 0), tf.onesLike(x), tf.fill(x.shape, (attrs as unknown as tf.LeakyReluAttrs).alpha)))),
  unaryFromInput(tf.ClipByValue, (x, dy, attrs) => {
    const { clipValueMin, clipValueMax } = attrs as unknown as tf.ClipByValueAttrs;
    return tf.mul(dy, mask(tf.logicalAnd(tf.greaterEqual(x, clipValueMin), tf.lessEqual(x, clipValueMax))));
  }),
  unaryFromInput(tf.Step, (x) => tf.zerosLike(x)),
  unaryFromOutput(tf.Sqrt, (y, dy) => tf.div(dy, tf.mul(y, 2))),
  unaryFromOutput(tf.Exp, (y, dy) => tf.mul(dy, y)),
  unaryFromOutput(tf.Sigmoid, (y, dy) => tf.mul(dy, tf.mul(y, tf.sub(1, y)))),
  unaryFromOutput(tf.Tanh, (y, dy) => tf.mul(dy, tf.sub(1, tf.square(y)))),
  {
    kernelName: tf.Softmax,
    outputsToSave: [true],
    gradFunc: (dy, s, attrs) => {
      const y = saved(s, 0);
      const g = single(dy);
      const dim = (attrs as unknown as tf.SoftmaxAttrs).dim;
      return { logits: () => tf.mul(y, tf.sub(g, tf.sum(tf.mul(g, y), dim, true))) };
    },
  },
];

const networkGrads: tf.GradConfig[] = [
  { kernelName: tf.Conv2D, inputsToSave: ['x', 'filter'], gradFunc: conv2dGrad },
  { kernelName: tf.BatchMatMul, inputsToSave: ['a', 'b'], gradFunc: batchMatMulGrad },
  {
    kernelName: tf.MaxPool,
    inputsToSave: ['x'],
    outputsToSave: [true],
    gradFunc: (dy, s, attrs) => ({
      x: () => tf.engine().runKernel(tf.MaxPoolGrad, { dy: single(dy), input: saved(s, 0), output: saved(s, 1) },
        attrs) as tf.Tensor,
    }),
  },
  {
    kernelName: tf.AvgPool,
    inputsToSave: ['x'],
    gradFunc: (dy, s, attrs) => ({
      x: () => tf.engine().runKernel(tf.AvgPoolGrad, { dy: single(dy), input: saved(s, 0) }, attrs) as tf.Tensor,
    }),
  },
];

export const trainingGradients: readonly tf.GradConfig[] = [
  ...elementwiseGrads, ...reductionGrads, ...shapeGrads, ...networkGrads, batchNormGradient,
];

/** Registers each gradient that no one has registered yet. Idempotent. */
export function registerTrainingGradients(): void {
  for (const config of trainingGradients) {
    if (tf.getGradient(config.kernelName) === undefined) tf.registerGradient(config);
  }
}
