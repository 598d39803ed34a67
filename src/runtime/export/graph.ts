/**
 * What an export writes, whatever the format: the nodes from the input to the logits
 * (the whole network, or partitions up to P followed by P's proxy head), each with its
 * input shapes, and the weights they use. Shared weights stay shared (several nodes
 * name one parameter); dropout is dropped (inference). Formats refuse a layer they
 * cannot express here, naming it and where it is in the plan.
 */
import type { AttrValue, IR, IRNode, OpName, Shape } from '../../ir/types.js';
import type { InputNormalization } from '../checkpoint.js';
import { RuntimeFailure } from '../errors.js';
import type { NamedWeights } from '../graph.js';

export interface ExportNode {
  id: string;
  op: OpName;
  attrs: Record<string, AttrValue>;
  /** Node ids, or INPUT for the (normalised) input. */
  inputs: string[];
  inputShapes: Shape[];
  /** Output shape without the batch. */
  shape: Shape;
  params: string[];
  /** Where it comes from in the plan: `stage1/basic#2/residual/conv#1`. */
  path: string;
}

export interface ExportGraph {
  plan: string;
  /** The exported partition (with its proxy head), or null for the whole network. */
  partition: string | null;
  /** The proxy head at the end, or null (the network's own output). */
  head: string | null;
  inputShape: Shape;
  classes: number;
  nodes: ExportNode[];
  /** The node whose output are the logits (or the features, see `ending`). */
  output: string;
  /** 'probabilities': a softmax over the logits (exports); 'features': the output node's values as they are (onnx-forward.ts). */
  ending: 'probabilities' | 'features';
  weights: ReadonlyMap<string, NamedWeights>;
  /** How many nodes use each parameter (more than one: shared weights). */
  uses: ReadonlyMap<string, number>;
  normalization: InputNormalization;
}

/** The id that stands for the model's input in ExportNode.inputs. */
export const INPUT = 'input';

/** A format's refusal of a node it cannot express: why, in words. */
export type Expressible = (node: ExportNode) => string | undefined;

/**
 * The graph to export from a run's IR and weights. `partition`: export partitions up to
 * it with its proxy head (the last partition is the whole network). A layer `format`
 * cannot express is a RuntimeFailure naming the layer, its place and why.
 */
export function exportGraph(
  ir: IR,
  weights: readonly NamedWeights[],
  normalization: InputNormalization,
  options: { partition?: string; format: string; expressible: Expressible },
): ExportGraph {
  const names = ir.partitions.map((p) => p.name);
  let partition: string | null = null;
  let selected: IRNode[] = ir.nodes;
  let output = ir.output;
  let head: string | null = null;
  if (options.partition !== undefined) {
    const index = names.indexOf(options.partition);
    if (index < 0) throw new RuntimeFailure(`--partition ${options.partition}: ${ir.plan} has no partition of that name (its partitions: ${names.join(', ')})`);
    const spec = ir.partitions[index]!;
    partition = spec.name;
    if (index < names.length - 1) {
      if (!spec.head) throw new RuntimeFailure(`--partition ${spec.name}: it has no proxy head to classify with (only a partition with a proxy head, or the last one, can be exported on its own)`);
      const ids = new Set(ir.partitions.slice(0, index + 1).flatMap((p) => p.nodes));
      selected = [...ir.nodes.filter((n) => ids.has(n.id)), ...spec.head.nodes];
      output = spec.head.output;
      head = spec.head.name;
    }
  }
  return graphOf(ir, selected, output, { partition, head, ending: 'probabilities' }, weights, normalization, options);
}

/**
 * The first partitions of the network, `partitions` (in order, from the input), ending at
 * the last one's output, or at the logits of `head`'s proxy head; no normalisation, no
 * softmax: what onnx-forward.ts runs (frozen partitions, evaluation).
 */
export function featuresGraph(ir: IR, weights: readonly NamedWeights[], partitions: readonly string[],
  options: { head?: string; format: string; expressible: Expressible }): ExportGraph {
  const names = ir.partitions.map((p) => p.name);
  if (partitions.length === 0 || partitions.some((name, i) => names[i] !== name)) {
    throw new RuntimeFailure(`partitions [${partitions.join(', ')}] are not the first partitions of ${ir.plan} in order`);
  }
  const ids = new Set(ir.partitions.slice(0, partitions.length).flatMap((p) => p.nodes));
  const last = ir.partitions[partitions.length - 1]!;
  let selected: IRNode[] = ir.nodes.filter((n) => ids.has(n.id));
  let output = last.output;
  if (options.head !== undefined) {
    const head = ir.partitions.find((p) => p.name === options.head)?.head;
    if (!head || !partitions.includes(options.head)) throw new RuntimeFailure(`partition ${options.head} has no proxy head among [${partitions.join(', ')}]`);
    selected = [...selected, ...head.nodes];
    output = head.output;
  }
  return graphOf(ir, selected, output, { partition: last.name, head: options.head ?? null, ending: 'features' },
    weights, { mean: [], std: [] }, options);
}

function graphOf(ir: IR, selected: readonly IRNode[], output: string,
  ending: { partition: string | null; head: string | null; ending: ExportGraph['ending'] },
  weights: readonly NamedWeights[], normalization: InputNormalization, options: { format: string; expressible: Expressible }): ExportGraph {
  const shapes = new Map<string, Shape>([[INPUT, ir.input.shape]]);
  // Dropout is the identity in inference: its consumers read its input instead.
  const alias = new Map<string, string>();
  const resolve = (id: string) => alias.get(id) ?? id;
  const nodes: ExportNode[] = [];
  const uses = new Map<string, number>();
  for (const node of selected) {
    const inputs = node.inputs.map(resolve);
    if (node.op === 'dropout') {
      alias.set(node.id, inputs[0]!);
      continue;
    }
    const exported: ExportNode = {
      id: node.id,
      op: node.op,
      attrs: node.attrs,
      inputs,
      inputShapes: inputs.map((id) => shapes.get(id) ?? missing(node, id)),
      shape: node.shape,
      params: node.params,
      path: node.path,
    };
    const refusal = options.expressible(exported);
    if (refusal !== undefined) throw new RuntimeFailure(`layer '${node.op}' at ${node.path} cannot be exported to ${options.format}: ${refusal}`);
    shapes.set(node.id, node.shape);
    for (const param of node.params) uses.set(param, (uses.get(param) ?? 0) + 1);
    nodes.push(exported);
  }
  const byName = new Map(weights.map((w) => [w.name, w]));
  for (const name of uses.keys()) if (!byName.has(name)) throw new RuntimeFailure(`the checkpoint has no weights for ${name}`);
  return {
    plan: ir.plan,
    ...ending,
    inputShape: ir.input.shape,
    classes: ir.classes,
    nodes,
    output: resolve(output),
    weights: byName,
    uses,
    normalization,
  };
}

function missing(node: IRNode, id: string): never {
  throw new RuntimeFailure(`node ${node.id} (${node.path}) reads '${id}', which the exported graph does not compute before it`);
}

/** A number attribute (a one-element list counts). */
export function numberAttr(node: ExportNode, name: string, fallback: number): number {
  const value = node.attrs[name];
  if (typeof value === 'number') return value;
  if (Array.isArray(value) && typeof value[0] === 'number') return value[0];
  return fallback;
}

/** Window size and stride of a pooling node (stride defaults to the size, as the runtime does). */
export function poolWindow(node: ExportNode): { size: number; stride: number; padding: 'same' | 'valid' } {
  const size = numberAttr(node, 'size', 2);
  return { size, stride: numberAttr(node, 'stride', size), padding: node.attrs['padding'] === 'same' ? 'same' : 'valid' };
}

/** Whether the normalisation does anything (not mean 0, std 1 everywhere). */
export function normalizes(normalization: InputNormalization): boolean {
  return normalization.mean.some((m) => m !== 0) || normalization.std.some((s) => s !== 1);
}

/** Names safe in both formats: letters, digits, `.`, `_`, `-`; anything else becomes `_`. */
export function safeName(id: string): string {
  const cleaned = id.replace(/[^A-Za-z0-9._-]/g, '_');
  return /^[A-Za-z0-9]/.test(cleaned) ? cleaned : `n${cleaned}`;
}
