/**
 * An export graph as an ONNX model (opset 17), encoded with protobufjs from the official
 * schema (proto/onnx.proto, vendored from onnx v1.22.0). Like the TensorFlow.js export,
 * the model takes pixels scaled to [0, 1] in NHWC, `input` [batch, h, w, c], applies the
 * run's normalisation (Sub, Div), and outputs class probabilities, `probabilities`
 * [batch, classes] (Softmax).
 *
 * Layout: ONNX convolutions and pools are NCHW, so one Transpose follows the
 * normalisation and conv kernels are stored OIHW (mono's are HWIO). Before a Flatten or
 * a Dense on a feature map, a Transpose back to NHWC makes the flattening order mono's
 * (and the dense kernel's). TensorFlow's 'same' padding is asymmetric for stride 2 (the
 * extra row and column go at the end): pads are written out explicitly. AveragePool
 * does not count padding (count_include_pad 0), as TensorFlow. A residual scale is a
 * Mul by a constant; shared weights are one initializer read by several nodes.
 */
import { encodeModelProto, float, int, ints, ONNX_FLOAT, ONNX_INT64, ONNX_IR_VERSION, ONNX_OPSET, tensorType, type OnnxAttribute } from '../onnx-model.js';
import type { ExportGraph, ExportNode } from './graph.js';
import { INPUT, normalizes, numberAttr, poolWindow, safeName } from './graph.js';

export const ONNX_MODEL_FILE = 'model.onnx';
export { ONNX_OPSET };
const FLOAT = ONNX_FLOAT;
const INT64 = ONNX_INT64;

/** Every op mono has can be written in ONNX; an image op on a flat input cannot. */
export function onnxExpressible(node: ExportNode): string | undefined {
  if (node.op === 'conv2d' || node.op === 'maxpool' || node.op === 'avgpool' || node.op === 'crop' || node.op === 'global_avg_pool' || node.op === 'global_max_pool') {
    if (node.inputShapes[0]?.length !== 3) return `it needs an image input [h, w, c], not ${JSON.stringify(node.inputShapes[0])}`;
  }
  return undefined;
}

interface OnnxNode {
  opType: string;
  name: string;
  input: string[];
  output: string[];
  attribute: OnnxAttribute[];
}


interface Initializer {
  name: string;
  dims: number[];
  dataType: number;
  rawData: Uint8Array;
}

/** TensorFlow's 'same' padding along one axis: [before, after], the odd one after. */
export function samePads(size: number, kernel: number, stride: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernel - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** ONNX pads [top, left, bottom, right] of a conv or pool on [h, w]. */
function pads(node: ExportNode, kernel: number, stride: number, padding: 'same' | 'valid'): number[] {
  if (padding === 'valid') return [0, 0, 0, 0];
  const [h, w] = node.inputShapes[0]!;
  const [top, bottom] = samePads(h!, kernel, stride);
  const [left, right] = samePads(w!, kernel, stride);
  return [top, left, bottom, right];
}

/** The ModelProto of `graph`, as a plain object for protobufjs (encodeOnnx turns it into bytes). */
export function toOnnxModel(graph: ExportGraph, metadata: Record<string, unknown>, producerVersion: string): Record<string, unknown> {
  const nodes: OnnxNode[] = [];
  const initializers: Initializer[] = [];
  const names = new Set<string>();
  const fresh = (base: string) => {
    let name = safeName(base);
    for (let n = 2; names.has(name); n++) name = `${safeName(base)}_${n}`;
    names.add(name);
    return name;
  };
  const add = (opType: string, base: string, input: string[], attribute: OnnxAttribute[] = []): string => {
    const name = fresh(base);
    nodes.push({ opType, name, input, output: [name], attribute });
    return name;
  };
  const floatConstant = (base: string, dims: number[], values: ArrayLike<number>): string => {
    const name = fresh(base);
    const bytes = new Uint8Array(values.length * 4);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
    initializers.push({ name, dims, dataType: FLOAT, rawData: bytes });
    return name;
  };
  const int64Constant = (base: string, values: number[]): string => {
    const name = fresh(base);
    const bytes = new Uint8Array(values.length * 8);
    const view = new DataView(bytes.buffer);
    values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
    initializers.push({ name, dims: [values.length], dataType: INT64, rawData: bytes });
    return name;
  };
  /** A parameter's initializer, made once however many nodes read it (shared weights); conv kernels as OIHW. */
  const parameters = new Map<string, string>();
  const parameter = (param: string, layout: 'as-is' | 'oihw' = 'as-is'): string => {
    const known = parameters.get(`${param} ${layout}`);
    if (known !== undefined) return known;
    const w = graph.weights.get(param)!;
    let name: string;
    if (layout === 'oihw') {
      const [kh, kw, cin, cout] = w.shape as [number, number, number, number];
      const oihw = new Float32Array(w.values.length);
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++)
          for (let i = 0; i < cin; i++) for (let o = 0; o < cout; o++) oihw[((o * cin + i) * kh + y) * kw + x] = w.values[((y * kw + x) * cin + i) * cout + o]!;
      name = floatConstant(param, [cout, cin, kh, kw], oihw);
    } else name = floatConstant(param, [...w.shape], w.values);
    parameters.set(`${param} ${layout}`, name);
    return name;
  };

  const inputName = fresh(INPUT);
  const rank = graph.inputShape.length;
  let x = inputName;
  if (normalizes(graph.normalization)) {
    const { mean, std } = graph.normalization;
    x = add('Sub', 'normalize_sub', [x, floatConstant('normalize_mean', [mean.length], mean)]);
    x = add('Div', 'normalize', [x, floatConstant('normalize_std', [std.length], std)]);
  }
  // Each value's name and whether it is a feature map held as NCHW.
  const values = new Map<string, { name: string; nchw: boolean }>();
  values.set(INPUT, rank === 3 ? { name: add('Transpose', 'input_nchw', [x], [ints('perm', [0, 3, 1, 2])]), nchw: true } : { name: x, nchw: false });
  /** A value flattened in mono's (NHWC) order: [batch, h * w * c]. */
  const flattened = (id: string, base: string): string => {
    const value = values.get(id)!;
    const nhwc = value.nchw ? add('Transpose', `${base}_nhwc`, [value.name], [ints('perm', [0, 2, 3, 1])]) : value.name;
    return add('Flatten', `${base}_flat`, [nhwc], [int('axis', 1)]);
  };

  for (const node of graph.nodes) {
    const inputs = node.inputs.map((id) => values.get(id)!);
    const x0 = inputs[0]!.name;
    const image = node.shape.length === 3;
    let out: string;
    switch (node.op) {
      case 'conv2d': {
        const k = numberAttr(node, 'kernel', 1);
        const s = numberAttr(node, 'stride', 1);
        const padding = node.attrs['padding'] === 'valid' ? 'valid' : 'same';
        const operands = [x0, parameter(node.params[0]!, 'oihw'), ...(node.params[1] ? [parameter(node.params[1])] : [])];
        out = add('Conv', node.id, operands, [ints('kernel_shape', [k, k]), ints('strides', [s, s]), ints('pads', pads(node, k, s, padding)), ints('dilations', [1, 1]), int('group', 1)]);
        break;
      }
      case 'dense': {
        const flat = node.inputShapes[0]!.length === 1 ? x0 : flattened(node.inputs[0]!, node.id);
        out = node.params[1]
          ? add('Gemm', node.id, [flat, parameter(node.params[0]!), parameter(node.params[1])])
          : add('MatMul', node.id, [flat, parameter(node.params[0]!)]);
        break;
      }
      case 'batchnorm':
        // Inputs X, scale (gamma), B (beta), mean, var: mono's parameter order.
        out = add('BatchNormalization', node.id, [x0, ...node.params.map((p) => parameter(p))], [float('epsilon', numberAttr(node, 'epsilon', 1e-3))]);
        break;
      case 'relu':
        out = add('Relu', node.id, [x0]);
        break;
      case 'leaky_relu':
        out = add('LeakyRelu', node.id, [x0], [float('alpha', numberAttr(node, 'alpha', 0.2))]);
        break;
      case 'elu':
        out = add('Elu', node.id, [x0], [float('alpha', 1)]);
        break;
      case 'sigmoid':
        out = add('Sigmoid', node.id, [x0]);
        break;
      case 'tanh':
        out = add('Tanh', node.id, [x0]);
        break;
      case 'swish':
        out = add('Mul', node.id, [x0, add('Sigmoid', `${node.id}_sigmoid`, [x0])]);
        break;
      case 'gelu': {
        // The tanh approximation, as mono computes it: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
        const c = (name: string, v: number) => floatConstant(`${node.id}_${name}`, [], [v]);
        const cube = add('Mul', `${node.id}_x3`, [add('Mul', `${node.id}_x2`, [x0, x0]), x0]);
        const inner = add('Mul', `${node.id}_inner`, [c('k', Math.sqrt(2 / Math.PI)), add('Add', `${node.id}_sum`, [x0, add('Mul', `${node.id}_cubic`, [c('a', 0.044715), cube])])]);
        const onePlus = add('Add', `${node.id}_one_plus`, [c('one', 1), add('Tanh', `${node.id}_tanh`, [inner])]);
        out = add('Mul', node.id, [add('Mul', `${node.id}_half_x`, [c('half', 0.5), x0]), onePlus]);
        break;
      }
      case 'binary': {
        // 1 for x >= threshold, else 0: the step itself (its surrogate gradient is for training only).
        const threshold = typeof node.attrs['threshold'] === 'number' ? node.attrs['threshold'] : 0;
        out = add('Cast', node.id, [add('GreaterOrEqual', `${node.id}_ge`, [x0, floatConstant(`${node.id}_threshold`, [], [threshold])])], [int('to', FLOAT)]);
        break;
      }
      case 'maxpool':
      case 'avgpool': {
        const { size, stride, padding } = poolWindow(node);
        const common = [ints('kernel_shape', [size, size]), ints('strides', [stride, stride]), ints('pads', pads(node, size, stride, padding))];
        out = node.op === 'maxpool' ? add('MaxPool', node.id, [x0], common) : add('AveragePool', node.id, [x0], [...common, int('count_include_pad', 0)]);
        break;
      }
      case 'global_avg_pool':
      case 'global_max_pool':
        out = add('Flatten', node.id, [add(node.op === 'global_avg_pool' ? 'GlobalAveragePool' : 'GlobalMaxPool', `${node.id}_pool`, [x0])], [int('axis', 1)]);
        break;
      case 'flatten':
        out = flattened(node.inputs[0]!, node.id);
        break;
      case 'crop':
        out = add('Slice', node.id, [
          x0,
          int64Constant(`${node.id}_starts`, [0, 0]),
          int64Constant(`${node.id}_ends`, [numberAttr(node, 'height', 0), numberAttr(node, 'width', 0)]),
          int64Constant(`${node.id}_axes`, [2, 3]),
        ]);
        break;
      case 'add': {
        const scale = numberAttr(node, 'scale', 1);
        const branch = scale === 1 ? inputs[1]!.name : add('Mul', `${node.id}_scale`, [inputs[1]!.name, floatConstant(`${node.id}_scale_value`, [], [scale])]);
        out = add('Add', node.id, [x0, branch]);
        break;
      }
      case 'dropout':
        throw new Error('internal: dropout in an ONNX export (graph.ts drops it)');
    }
    values.set(node.id, { name: out, nchw: image });
  }
  const last = values.get(graph.output)!;
  const outputName = graph.ending === 'features' ? 'features' : 'probabilities';
  names.add(outputName);
  if (graph.ending === 'features') {
    // The output node's values in mono's layout (NHWC for a feature map).
    nodes.push(last.nchw
      ? { opType: 'Transpose', name: outputName, input: [last.name], output: [outputName], attribute: [ints('perm', [0, 2, 3, 1])] }
      : { opType: 'Identity', name: outputName, input: [last.name], output: [outputName], attribute: [] });
  } else {
    nodes.push({ opType: 'Softmax', name: outputName, input: [last.name], output: [outputName], attribute: [int('axis', -1)] });
  }
  const outputShape = graph.ending === 'features' ? graph.nodes.find((n) => n.id === graph.output)?.shape ?? [] : [graph.classes];

  return {
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'mono',
    producerVersion,
    docString: graph.ending === 'features'
      ? `${graph.plan}, partitions up to ${graph.partition}: normalised inputs (NHWC) -> that partition's output`
      : `${graph.plan}${graph.partition ? `, partitions up to ${graph.partition} with ${graph.head ?? 'the network output'}` : ''}: pixels in [0, 1] (NHWC) -> class probabilities`,
    metadataProps: [{ key: 'mono', value: JSON.stringify(metadata) }],
    graph: {
      name: safeName(graph.partition ? `${graph.plan}-${graph.partition}` : graph.plan),
      node: nodes,
      initializer: initializers,
      input: [{ name: inputName, type: tensorType(['batch', ...graph.inputShape]) }],
      output: [{ name: outputName, type: tensorType(['batch', ...outputShape]) }],
    },
  };
}

/** Encodes a ModelProto object (async for the export's callers; the encoding itself is synchronous). */
export async function encodeOnnx(model: Record<string, unknown>): Promise<Uint8Array> {
  return encodeModelProto(model);
}
