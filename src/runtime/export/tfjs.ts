/**
 * An export graph as a TensorFlow.js LayersModel: `model.json` (a Keras functional
 * model's topology, the weights manifest and mono's metadata) and weight shards of at
 * most 4 MiB, which `tf.loadLayersModel` reads. The model takes pixels scaled to [0, 1]
 * (NHWC, as the data loaders give them): its first layer applies the run's own
 * normalisation (a BatchNormalization with the run's mean and variance and epsilon 0);
 * its last, a softmax: it outputs class probabilities. Layer by layer: conv2d ->
 * Conv2D, batchnorm -> BatchNormalization (inference uses the moving statistics), add
 * -> Add, with a Rescaling on the branch for a residual scale other than 1 (the 1/N of
 * a shared stack), crop -> Cropping2D, pools, dense (a Flatten first when its input is
 * not flat), activations -> Activation/LeakyReLU/ELU (gelu as Multiply, Rescaling, Add
 * and tanh layers: tfjs cannot load its own 'gelu_new' from JSON). A parameter used by several
 * nodes (a `repeat N shared`) is one layer called once per use: its weights are shared
 * in the model too. The step activation `binary` has no layer and is refused.
 */
import type { ExportGraph, ExportNode } from './graph.js';
import { INPUT, normalizes, numberAttr, poolWindow, safeName } from './graph.js';

export const TFJS_MODEL_FILE = 'model.json';
/** Shard size of tfjs's own converter: browsers fetch several smaller files in parallel and cache them. */
const SHARD_BYTES = 4 * 1024 * 1024;

/** Why tfjs-layers cannot express a node, or undefined. */
export function tfjsExpressible(node: ExportNode): string | undefined {
  if (node.op === 'binary') return "TensorFlow.js layers have no step activation (1 for x >= 0, else 0); export it with --format onnx, which has one";
  if (node.op === 'conv2d' || node.op === 'maxpool' || node.op === 'avgpool' || node.op === 'crop' || node.op === 'global_avg_pool' || node.op === 'global_max_pool') {
    if (node.inputShapes[0]?.length !== 3) return `it needs an image input [h, w, c], not ${JSON.stringify(node.inputShapes[0])}`;
  }
  return undefined;
}

interface KerasLayer {
  class_name: string;
  config: Record<string, unknown>;
  name: string;
  inbound_nodes: [string, number, number, Record<string, never>][][];
}

interface WeightEntry {
  name: string;
  shape: number[];
  dtype: 'float32';
}

export interface LayersModelFiles {
  /** model.json's content. */
  modelJson: Record<string, unknown>;
  /** Shard file names (in model.json's manifest) and their bytes. */
  shards: { name: string; bytes: Uint8Array }[];
}

/** A reference to a layer's output: [layer name, call index, tensor index]. */
type TensorRef = [string, number, number];

/** Builds the LayersModel of `graph`; `metadata` goes to model.json's userDefinedMetadata. */
export function toLayersModel(graph: ExportGraph, metadata: Record<string, unknown>): LayersModelFiles {
  const layers: KerasLayer[] = [];
  const byName = new Map<string, KerasLayer>();
  const weights: { entry: WeightEntry; values: Float32Array }[] = [];
  const used = new Set<string>();
  const unique = (base: string) => {
    let name = safeName(base);
    for (let n = 2; used.has(name); n++) name = `${safeName(base)}_${n}`;
    used.add(name);
    return name;
  };
  /** Adds a call of a new layer (or of `shared`, an existing one) on `inputs`; returns its output. */
  const call = (className: string, base: string, config: Record<string, unknown>, inputs: TensorRef[], layerWeights: [string, string][] = [], shared?: string): TensorRef => {
    let layer = shared !== undefined ? byName.get(shared) : undefined;
    if (!layer) {
      const name = unique(base);
      layer = { class_name: className, config: { name, trainable: false, ...config }, name, inbound_nodes: [] };
      layers.push(layer);
      byName.set(name, layer);
      for (const [role, param] of layerWeights) {
        const w = graph.weights.get(param)!;
        weights.push({ entry: { name: `${name}/${role}`, shape: [...w.shape], dtype: 'float32' }, values: w.values });
      }
    }
    layer.inbound_nodes.push(inputs.map(([n, i, t]) => [n, i, t, {}]));
    return [layer.name, layer.inbound_nodes.length - 1, 0];
  };

  const inputName = unique(INPUT);
  layers.push({ class_name: 'InputLayer', config: { batch_input_shape: [null, ...graph.inputShape], dtype: 'float32', sparse: false, name: inputName }, name: inputName, inbound_nodes: [] });
  byName.set(inputName, layers[0]!);
  let input: TensorRef = [inputName, 0, 0];
  if (normalizes(graph.normalization)) {
    // (x - mean) / sqrt(std^2 + 0): the run's normalisation, exactly, for any input rank.
    const { mean, std } = graph.normalization;
    const name = unique('normalize');
    layers.push({
      class_name: 'BatchNormalization',
      config: { name, trainable: false, axis: -1, momentum: 0.99, epsilon: 0, center: false, scale: false },
      name,
      inbound_nodes: [[[inputName, 0, 0, {}]]],
    });
    weights.push({ entry: { name: `${name}/moving_mean`, shape: [mean.length], dtype: 'float32' }, values: Float32Array.from(mean) });
    weights.push({ entry: { name: `${name}/moving_variance`, shape: [std.length], dtype: 'float32' }, values: Float32Array.from(std, (s) => s * s) });
    input = [name, 0, 0];
  }

  const outputs = new Map<string, TensorRef>([[INPUT, input]]);
  /** Layers shared by nodes that use the same parameters (a `repeat N shared`): key -> layer name. */
  const sharedLayers = new Map<string, string>();
  for (const node of graph.nodes) {
    const x = node.inputs.map((id) => outputs.get(id)!);
    const sharedKey = node.params.some((p) => (graph.uses.get(p) ?? 1) > 1) ? `${node.op} ${JSON.stringify(node.attrs)} ${node.params.join(',')}` : undefined;
    const withParams = (className: string, config: Record<string, unknown>, roles: string[], inputs: TensorRef[]) => {
      const layerWeights = roles.map((role, i): [string, string] => [role, node.params[i]!]);
      const ref = call(className, node.id, config, inputs, layerWeights, sharedKey !== undefined ? sharedLayers.get(sharedKey) : undefined);
      if (sharedKey !== undefined) sharedLayers.set(sharedKey, ref[0]);
      return ref;
    };
    const activation = (name: string) => call('Activation', node.id, { activation: name }, x);
    let out: TensorRef;
    switch (node.op) {
      case 'conv2d': {
        const k = numberAttr(node, 'kernel', 1);
        const s = numberAttr(node, 'stride', 1);
        const bias = node.params.length > 1;
        out = withParams(
          'Conv2D',
          { filters: numberAttr(node, 'filters', node.shape[2]!), kernel_size: [k, k], strides: [s, s], padding: node.attrs['padding'] === 'valid' ? 'valid' : 'same', data_format: 'channels_last', dilation_rate: [1, 1], activation: 'linear', use_bias: bias },
          bias ? ['kernel', 'bias'] : ['kernel'],
          x,
        );
        break;
      }
      case 'dense': {
        const bias = node.params.length > 1;
        const flat = node.inputShapes[0]!.length === 1 ? x : [call('Flatten', `${node.id}_flatten`, {}, x)];
        out = withParams('Dense', { units: node.shape[0], activation: 'linear', use_bias: bias }, bias ? ['kernel', 'bias'] : ['kernel'], flat);
        break;
      }
      case 'batchnorm':
        out = withParams(
          'BatchNormalization',
          { axis: -1, momentum: numberAttr(node, 'momentum', 0.99), epsilon: numberAttr(node, 'epsilon', 1e-3), center: true, scale: true },
          ['gamma', 'beta', 'moving_mean', 'moving_variance'],
          x,
        );
        break;
      case 'relu':
      case 'sigmoid':
      case 'tanh':
      case 'swish':
        out = activation(node.op);
        break;
      case 'gelu': {
        // mono's gelu is the tanh approximation (layers.ts), tfjs's 'gelu_new'; but
        // tf.loadLayersModel camel-cases activation names ('geluNew', unregistered) and
        // cannot load it, so it is spelled out in layers:
        // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
        const part = (suffix: string, className: string, config: Record<string, unknown>, inputs: TensorRef[]) => call(className, `${node.id}_${suffix}`, config, inputs);
        // A Multiply of a tensor with itself fails in predict (tfjs disposes it after its
        // first use): the square is x times 0.044715 x.
        const scaled = part('scaled', 'Rescaling', { scale: 0.044715, offset: 0 }, [x[0]!]);
        const cubic = part('cubic', 'Multiply', {}, [part('square', 'Multiply', {}, [x[0]!, scaled]), x[0]!]);
        const sum = part('sum', 'Add', {}, [x[0]!, cubic]);
        const tanh = part('tanh', 'Activation', { activation: 'tanh' }, [part('inner', 'Rescaling', { scale: Math.sqrt(2 / Math.PI), offset: 0 }, [sum])]);
        const half = part('half_one_plus', 'Rescaling', { scale: 0.5, offset: 0.5 }, [tanh]);
        out = call('Multiply', node.id, {}, [x[0]!, half]);
        break;
      }
      case 'leaky_relu':
        out = call('LeakyReLU', node.id, { alpha: numberAttr(node, 'alpha', 0.2) }, x);
        break;
      case 'elu':
        out = call('ELU', node.id, { alpha: 1 }, x);
        break;
      case 'maxpool':
      case 'avgpool': {
        const { size, stride, padding } = poolWindow(node);
        out = call(node.op === 'maxpool' ? 'MaxPooling2D' : 'AveragePooling2D', node.id, { pool_size: [size, size], strides: [stride, stride], padding, data_format: 'channels_last' }, x);
        break;
      }
      case 'global_avg_pool':
        out = call('GlobalAveragePooling2D', node.id, { data_format: 'channels_last' }, x);
        break;
      case 'global_max_pool':
        out = call('GlobalMaxPooling2D', node.id, { data_format: 'channels_last' }, x);
        break;
      case 'flatten':
        out = node.inputShapes[0]!.length === 1 ? x[0]! : call('Flatten', node.id, {}, x);
        break;
      case 'crop': {
        const [h, w] = node.inputShapes[0]!;
        out = call('Cropping2D', node.id, { cropping: [[0, h! - numberAttr(node, 'height', h!)], [0, w! - numberAttr(node, 'width', w!)]], data_format: 'channels_last' }, x);
        break;
      }
      case 'add': {
        const scale = numberAttr(node, 'scale', 1);
        const branch = scale === 1 ? x[1]! : call('Rescaling', `${node.id}_scale`, { scale, offset: 0 }, [x[1]!]);
        out = call('Add', node.id, {}, [x[0]!, branch]);
        break;
      }
      case 'dropout':
      case 'binary':
        // Dropout never reaches here (graph.ts drops it); binary is refused by tfjsExpressible.
        throw new Error(`internal: ${node.op} in a TensorFlow.js export`);
    }
    outputs.set(node.id, out);
  }
  const probabilities = call('Activation', 'probabilities', { activation: 'softmax' }, [outputs.get(graph.output)!]);

  const shards = shardWeights(weights.map((w) => w.values));
  const modelJson = {
    format: 'layers-model',
    generatedBy: 'mono',
    convertedBy: null,
    modelTopology: {
      class_name: 'Model',
      config: {
        name: safeName(graph.partition ? `${graph.plan}-${graph.partition}` : graph.plan),
        layers,
        input_layers: [[inputName, 0, 0]],
        output_layers: [probabilities],
      },
      keras_version: 'tfjs-layers 4.22.0',
      backend: 'tensor_flow.js',
    },
    weightsManifest: [{ paths: shards.map((s) => s.name), weights: weights.map((w) => w.entry) }],
    userDefinedMetadata: metadata,
  };
  return { modelJson, shards };
}

/** All weights back to back (float32, little-endian), cut into shards of at most SHARD_BYTES. */
function shardWeights(values: readonly Float32Array[]): { name: string; bytes: Uint8Array }[] {
  const total = values.reduce((sum, v) => sum + v.length * 4, 0);
  const all = new Uint8Array(total);
  const view = new DataView(all.buffer);
  let offset = 0;
  for (const v of values) for (let i = 0; i < v.length; i++, offset += 4) view.setFloat32(offset, v[i]!, true);
  const count = Math.max(1, Math.ceil(total / SHARD_BYTES));
  return Array.from({ length: count }, (_, i) => ({
    name: `group1-shard${i + 1}of${count}.bin`,
    bytes: all.subarray(i * SHARD_BYTES, Math.min(total, (i + 1) * SHARD_BYTES)),
  }));
}
