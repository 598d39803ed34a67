import * as tf from '@tensorflow/tfjs-core';
import { fusedBatchNormRelu } from '../ir/fusion.js';
import type { IR, IRNode, ParamSpec, PartitionSpec } from '../ir/types.js';
import { initialValues, parameterStream, type RandomSource } from './initializers.js';
import { applyNode, GraphError, type ForwardMode } from './layers.js';

export { GraphError, type ForwardMode } from './layers.js';

/** Values of one parameter, for checkpoints and --init-from. */
export interface NamedWeights {
  name: string;
  shape: number[];
  values: Float32Array;
}

// tfjs keeps one global registry of variable names; this prefix keeps networks apart.
let networkCount = 0;

/**
 * The IR made executable: one tf.Variable per ParamSpec name (so a shared group is
 * one variable, and autodiff sums the gradients of its uses), and forward functions
 * per partition, per proxy head, and for the whole network.
 */
export class Network {
  readonly ir: IR;
  private readonly variables = new Map<string, tf.Variable>();
  private readonly specs = new Map<string, ParamSpec>();
  private readonly nodes = new Map<string, IRNode>();
  private readonly partitions = new Map<string, PartitionSpec>();
  private readonly prefix: string;
  private weightsLoaded = 0;

  constructor(ir: IR, rng: RandomSource) {
    this.ir = ir;
    this.prefix = `mono${++networkCount}/`;
    for (const node of ir.nodes) this.nodes.set(node.id, node);
    for (const partition of ir.partitions) this.partitions.set(partition.name, partition);
    const last = ir.partitions[ir.partitions.length - 1];
    if (!last || last.output !== ir.output) {
      throw new GraphError(`the network output '${ir.output}' is not the last partition's output`);
    }
    for (const spec of ir.parameters) {
      if (this.specs.has(spec.name)) continue;
      this.specs.set(spec.name, spec);
      const values = initialValues(spec.init, spec.shape, rng.fork(parameterStream(spec.name)));
      // In a tidy: the variable keeps the initial tensor's data, the tensor itself must go.
      const variable = tf.tidy(() => tf.variable(tf.tensor(values, spec.shape, 'float32'), spec.trainable, this.prefix + spec.name));
      this.variables.set(spec.name, variable);
    }
  }

  /** The variable of a parameter (by ParamSpec name). */
  variable(name: string): tf.Variable {
    const variable = this.variables.get(name);
    if (!variable) throw new GraphError(`unknown parameter '${name}'`);
    return variable;
  }

  /** The variable of a parameter, or undefined where the plan has none of that name. */
  findVariable(name: string): tf.Variable | undefined {
    return this.variables.get(name);
  }

  /** The ParamSpec name behind a tf.Variable name (as used in variableGrads' map). */
  paramName(variableName: string): string {
    return variableName.startsWith(this.prefix) ? variableName.slice(this.prefix.length) : variableName;
  }

  paramSpecs(): ParamSpec[] {
    return [...this.specs.values()];
  }

  partition(name: string): PartitionSpec {
    const partition = this.partitions.get(name);
    if (!partition) throw new GraphError(`unknown partition '${name}'`);
    return partition;
  }

  /**
   * Runs one partition's nodes from its input (the previous partition's output, or the
   * images). In inference mode, outside a gradient tape, each node's output is
   * released as soon as the nodes that consume it have run, and each node's own
   * temporaries when it returns, so the memory held is a few feature maps, not all of
   * them (src/summary/memory.ts counts it so). The input is released too when
   * `ownsInput` (an intermediate of runPartitions), never when it is the caller's.
   */
  runPartition(name: string, input: tf.Tensor, mode: ForwardMode, ownsInput = false): tf.Tensor {
    const partition = this.partition(name);
    const nodes = partition.nodes.map((id) => {
      const node = this.nodes.get(id);
      if (!node) throw new GraphError(`partition ${name} lists unknown node '${id}'`);
      return node;
    });
    return this.runNodes(nodes, partition.input, input, partition.output, mode, ownsInput, `partition ${name}`);
  }

  /** Runs partitions in order, each feeding the next; in inference mode the intermediate outputs are released. */
  runPartitions(names: readonly string[], input: tf.Tensor, mode: ForwardMode): tf.Tensor {
    let x = input;
    for (const name of names) x = this.runPartition(name, x, mode, x !== input);
    return x;
  }

  /** Runs a partition's proxy head on that partition's output: the head's logits. `ownsInput` as in runPartition. */
  runHead(partitionName: string, feature: tf.Tensor, mode: ForwardMode, ownsInput = false): tf.Tensor {
    const head = this.partition(partitionName).head;
    if (!head) throw new GraphError(`partition ${partitionName} has no proxy head`);
    return this.runNodes(head.nodes, this.partition(partitionName).output, feature, head.output, mode, ownsInput, `head ${head.name}`);
  }

  /** The whole network: images to the logits of its own output head. */
  forward(input: tf.Tensor, mode: ForwardMode): tf.Tensor {
    return this.runPartitions(
      this.ir.partitions.map((p) => p.name),
      input,
      mode,
    );
  }

  /** Copies of the parameters' values: all of them, or the ones named (read asynchronously: webgpu has no synchronous read in Node). */
  async getWeights(names?: readonly string[]): Promise<NamedWeights[]> {
    const specs = names === undefined ? this.paramSpecs() : names.map((name) => {
      const spec = this.specs.get(name);
      if (!spec) throw new GraphError(`unknown parameter '${name}'`);
      return spec;
    });
    const weights: NamedWeights[] = [];
    for (const spec of specs) {
      // A copy: the cpu backend hands out its own buffer.
      weights.push({ name: spec.name, shape: [...spec.shape], values: Float32Array.from((await this.variable(spec.name).data()) as Float32Array) });
    }
    return weights;
  }

  /** How many times weights were loaded (setWeights, markLoaded): what a copy of the weights made elsewhere (onnx-forward.ts) checks. */
  get loads(): number {
    return this.weightsLoaded;
  }

  /** Counts a load that wrote into the parameters' own memory (a resume reads the checkpoint in place). */
  markLoaded(): void {
    this.weightsLoaded++;
  }

  /** Loads the weights whose name and shape match; returns what was loaded and what was not. */
  setWeights(weights: readonly NamedWeights[]): { loaded: string[]; skipped: { name: string; reason: string }[] } {
    const loaded: string[] = [];
    const skipped: { name: string; reason: string }[] = [];
    for (const w of weights) {
      const spec = this.specs.get(w.name);
      if (!spec) {
        skipped.push({ name: w.name, reason: 'not in this plan' });
      } else if (spec.shape.length !== w.shape.length || spec.shape.some((d, i) => d !== w.shape[i])) {
        skipped.push({ name: w.name, reason: `shape [${w.shape}] differs from [${spec.shape}]` });
      } else {
        const variable = this.variable(w.name);
        tf.tidy(() => variable.assign(tf.tensor(w.values, spec.shape, 'float32')));
        loaded.push(w.name);
        this.weightsLoaded++;
      }
    }
    return { loaded, skipped };
  }

  /**
   * The first of the named parameters that holds a NaN or an infinity, or undefined:
   * one reduction per tensor on the backend, read back together (one sync).
   */
  async firstNonFinite(names: readonly string[]): Promise<string | undefined> {
    if (names.length === 0) return undefined;
    const flags = tf.tidy(() => tf.stack(names.map((name) => tf.cast(tf.all(tf.isFinite(this.variable(name))), 'int32'))));
    const finite = await flags.data();
    flags.dispose();
    const index = names.findIndex((_, i) => finite[i] !== 1);
    return index < 0 ? undefined : names[index];
  }

  dispose(): void {
    for (const variable of this.variables.values()) variable.dispose();
    this.variables.clear();
  }

  private runNodes(nodes: readonly IRNode[], inputId: string, input: tf.Tensor, outputId: string, mode: ForwardMode, ownsInput: boolean, what: string): tf.Tensor {
    const env = new Map<string, tf.Tensor>([[inputId, input]]);
    // Released early only in inference with no tape recording (a gradient may need any output).
    const release = !mode.training && !tf.engine().isTapeOn();
    const remaining = new Map<string, number>();
    if (release) for (const node of nodes) for (const id of node.inputs) remaining.set(id, (remaining.get(id) ?? 0) + 1);
    const fused = mode.training ? fusedBatchNormRelu(nodes, outputId) : new Map<string, string>();
    const fusedRelus = new Set(fused.values());
    for (const node of nodes) {
      const inputs = node.inputs.map((id) => this.lookup(env, id, `node ${node.id}`));
      if (fusedRelus.has(node.id)) {
        // Already applied by the batchnorm before it (one kernel on wasm).
        env.set(node.id, inputs[0]!);
        continue;
      }
      const params = node.params.map((name) => this.variable(name));
      const fuseRelu = fused.has(node.id);
      env.set(node.id, release ? tf.tidy(() => applyNode(node, inputs, params, mode, fuseRelu)) : applyNode(node, inputs, params, mode, fuseRelu));
      if (!release) continue;
      for (const id of node.inputs) {
        const left = remaining.get(id)! - 1;
        remaining.set(id, left);
        if (left > 0 || id === outputId) continue;
        const tensor = env.get(id)!;
        env.delete(id);
        // Not the caller's input, and not still alive under another name (dropout hands back its input).
        if ((tensor !== input || ownsInput) && ![...env.values()].includes(tensor)) tensor.dispose();
      }
    }
    return this.lookup(env, outputId, what);
  }

  private lookup(env: Map<string, tf.Tensor>, id: string, user: string): tf.Tensor {
    const tensor = env.get(id);
    if (!tensor) throw new GraphError(`${user} needs '${id}', which is not computed before it in the same partition`);
    return tensor;
  }
}
