import * as tf from '@tensorflow/tfjs-core';
import type { GradientOptimizerSpec, IR, PhaseSpec } from '../ir/types.js';
import type { OptimizedParam, Optimizer, StepHyper } from '../optim/optimizers.js';
import type { SynapseCost } from '../optim/synapse-cost.js';
import { evaluationBatch } from '../summary/memory.js';
import type { Split } from './data/dataset.js';
import { exampleLength } from './data/types.js';
import { GraphError, type Network } from './graph.js';
import { OnnxForward } from './onnx-forward.js';

/** What one phase runs: frozen partitions (no tape), trained ones, and the head that gives the loss. */
export interface PhaseGraph {
  frozen: string[];
  trainable: string[];
  /** Partition whose proxy head gives the loss, or null for the network's own output. */
  headPartition: string | null;
  /** The variables the gradient is taken for: the trainable partitions' (and the proxy head's). */
  variables: tf.Variable[];
}

export function phaseGraph(network: Network, phase: PhaseSpec): PhaseGraph {
  const trainable = [...phase.trainable];
  const last = trainable[trainable.length - 1];
  if (!last) throw new GraphError(`phase ${phase.name} trains no partition`);
  const order = network.ir.partitions.map((p) => p.name);
  const expected = order.slice(0, order.indexOf(last) + 1);
  const runs = [...phase.frozen, ...trainable];
  if (runs.length !== expected.length || runs.some((name, i) => name !== expected[i])) {
    throw new GraphError(`phase ${phase.name}: frozen + trainable partitions [${runs}] are not the network's first partitions in order`);
  }
  let headPartition: string | null = null;
  if (phase.head === 'none') {
    // An stdp phase: no head, no loss; the rule reads the partition's own spikes.
  } else if (phase.head === 'proxy') {
    headPartition = phase.partition ?? last;
    if (!network.partition(headPartition).head) throw new GraphError(`phase ${phase.name}: partition ${headPartition} has no proxy head`);
  } else if (last !== order[order.length - 1]) {
    throw new GraphError(`phase ${phase.name} trains through the network's output but stops at partition ${last}`);
  }
  const headName = headPartition ? network.partition(headPartition).head!.name : undefined;
  const variables = network
    .paramSpecs()
    .filter((s) => s.trainable && trainable.includes(s.partition) && (s.head === undefined || s.head === headName))
    .map((s) => network.variable(s.name));
  return { frozen: [...phase.frozen], trainable, headPartition, variables };
}

/**
 * The parameters a phase's optimizer updates, each tagged with its partition and
 * sections (what lr-multiplier globs may name) and grouped by partition (layer-wise lr).
 */
export function optimizedParams(network: Network, graph: PhaseGraph): OptimizedParam[] {
  const trained = new Set(graph.variables.map((v) => v.name));
  return network
    .paramSpecs()
    .filter((spec) => trained.has(network.variable(spec.name).name))
    .map((spec) => ({
      name: spec.name,
      variable: network.variable(spec.name),
      lrMult: spec.lrMult,
      tags: [spec.partition, ...sectionsUsing(network.ir, spec.name)],
      group: spec.partition,
    }));
}

/** Sections of the nodes (main network and heads) that use a parameter. */
function sectionsUsing(ir: IR, paramName: string): string[] {
  const sections = new Set<string>();
  const nodes = [...ir.nodes, ...ir.partitions.flatMap((p) => p.head?.nodes ?? [])];
  for (const node of nodes) if (node.params.includes(paramName)) sections.add(node.section);
  return [...sections];
}

/** A gradient phase's optimizer; an `stdp` phase has none (it runs through src/optim/stdp.ts). */
export function gradientOptimizer(phase: PhaseSpec): GradientOptimizerSpec {
  if (phase.optimizer.type === 'stdp') throw new GraphError(`phase ${phase.name} is trained by stdp, not by a gradient optimizer`);
  return phase.optimizer;
}

/** The optimizer's own momentum: the base value of the momentum schedule (beta1 for adam). */
export function baseMomentum(spec: GradientOptimizerSpec): number {
  return spec.type === 'adam' ? spec.beta1 : spec.momentum;
}

/**
 * A partition's own head, for measuring it: the partitions up to it (inference
 * only), then its proxy head, or the network's output for the last partition.
 * Undefined for an inner partition without a proxy head.
 */
export function ownHeadGraph(network: Network, partition: string): PhaseGraph | undefined {
  const order = network.ir.partitions.map((p) => p.name);
  const index = order.indexOf(partition);
  if (index < 0) throw new GraphError(`no partition named ${partition}`);
  const isLast = index === order.length - 1;
  if (!isLast && !network.partition(partition).head) return undefined;
  return { frozen: order.slice(0, index + 1), trainable: [], headPartition: isLast ? null : partition, variables: [] };
}

/** Mean softmax cross-entropy of logits [batch, classes] against integer labels. */
export function crossEntropy(logits: tf.Tensor, labels: tf.Tensor, classes: number): tf.Scalar {
  const logProbabilities = tf.logSoftmax(logits as tf.Tensor2D);
  const oneHot = tf.oneHot(labels as tf.Tensor1D, classes);
  return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, logProbabilities), 1))) as tf.Scalar;
}

/** The logits of the phase's head for a batch of images, in inference mode: each output released once consumed. */
function inferenceLogits(network: Network, graph: PhaseGraph, images: tf.Tensor): tf.Tensor {
  const mode = { training: false };
  const features = network.runPartitions([...graph.frozen, ...graph.trainable], images, mode);
  return graph.headPartition ? network.runHead(graph.headPartition, features, mode, true) : features;
}

export interface StepResult {
  loss: number;
  correct: number;
}

/** A step's loss and top-1 count left on the backend (kept: the caller disposes them). */
export interface StepTensors {
  loss: tf.Scalar;
  correct: tf.Scalar;
}

type Batch = { images: Float32Array; labels: Int32Array; size: number; shape: number[] };

/** A phase's frozen partitions on onnxruntime, made at the phase's first step with the weights then (they do not change in the phase). */
const frozenForwards = new WeakMap<PhaseGraph, { loads: number; forward: OnnxForward | null }>();

/** Frees the onnxruntime session runFrozen made for a phase's frozen partitions (the phase is over), if any. */
export function releaseFrozen(graph: PhaseGraph): void {
  frozenForwards.get(graph)?.forward?.dispose();
  frozenForwards.delete(graph);
}

/**
 * The frozen partitions' output for a batch, in inference mode and outside any tape (the
 * images themselves when nothing is frozen): on onnxruntime where it runs them
 * (onnx-forward.ts), on the backend otherwise.
 */
export function runFrozen(network: Network, graph: PhaseGraph, batch: Omit<Batch, 'labels'>): tf.Tensor {
  if (graph.frozen.length > 0) {
    let known = frozenForwards.get(graph);
    if (known === undefined || known.loads !== network.loads) {
      known?.forward?.dispose();
      known = { loads: network.loads, forward: OnnxForward.build(network, graph.frozen) };
      frozenForwards.set(graph, known);
    }
    if (known.forward !== null) return known.forward.run(batch.images, batch.size);
  }
  const images = tf.tensor(batch.images, [batch.size, ...batch.shape]);
  if (graph.frozen.length === 0) return images;
  const output = tf.tidy(() => network.runPartitions(graph.frozen, images, { training: false }));
  images.dispose();
  return output;
}

/**
 * The forward and backward pass of one step: the frozen partitions first, in inference
 * mode and outside the gradient tape, so their output is a constant for the trained
 * partitions (no gradient can reach them, their BatchNorm statistics stay as they are).
 * Nothing is read back. `frozenOutput`, when given, stands in for the frozen partitions'
 * output on this batch (a cached prefix, see prefix-cache.ts): they are then not run.
 */
function lossAndGradients(network: Network, graph: PhaseGraph, batch: Batch, nextSeed: () => number, frozenOutput?: tf.Tensor): {
  loss: tf.Scalar; correct: tf.Scalar; grads: Map<string, tf.Tensor>;
} {
  const classes = network.ir.classes;
  const labels = tf.tensor1d(batch.labels, 'int32');
  let input: tf.Tensor;
  if (frozenOutput) {
    input = frozenOutput;
  } else {
    input = runFrozen(network, graph, batch);
  }
  let correct: tf.Scalar | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const mode = { training: true, nextSeed };
    const features = network.runPartitions(graph.trainable, input, mode);
    const logits = graph.headPartition ? network.runHead(graph.headPartition, features, mode) : features;
    correct = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32'))) as tf.Scalar;
    return crossEntropy(logits, labels, classes);
  }, graph.variables);
  if (input !== frozenOutput) input.dispose();
  labels.dispose();
  const byParam = new Map<string, tf.Tensor>();
  for (const [variableName, grad] of Object.entries(grads)) byParam.set(network.paramName(variableName), grad);
  return { loss: value, correct: correct!, grads: byParam };
}

/**
 * One training step that reads nothing back (issue 8: no device sync per step): the
 * update is applied and the step's loss and top-1 count are returned on the backend,
 * for the caller to read every few steps (Trainer). A non-finite loss is therefore
 * seen after its update; the caller stops the run then, before anything is saved.
 */
export function trainStepDeferred(network: Network, graph: PhaseGraph, batch: Batch, optimizer: Optimizer, hyper: StepHyper,
  nextSeed: () => number, frozenOutput?: tf.Tensor, synapseCost?: SynapseCost): StepTensors {
  const { loss, correct, grads } = lossAndGradients(network, graph, batch, nextSeed, frozenOutput);
  applyUpdate(grads, optimizer, hyper, synapseCost);
  tf.dispose([...grads.values()]);
  return { loss, correct };
}

/** The optimizer's update, through the cost per synapse when the phase has one (it adds its penalty's gradient). */
function applyUpdate(grads: Map<string, tf.Tensor>, optimizer: Optimizer, hyper: StepHyper, synapseCost?: SynapseCost): void {
  if (synapseCost) synapseCost.step(grads, (name) => optimizer.stepLr(name, hyper), (penalized) => optimizer.step(penalized, hyper));
  else optimizer.step(grads, hyper);
}

/**
 * One training step, read back at once (the LR range test and the benchmarks, which
 * need every step's loss): the update is skipped when the loss is not finite.
 */
export async function trainStep(
  network: Network,
  graph: PhaseGraph,
  batch: Batch,
  optimizer: Optimizer,
  hyper: StepHyper,
  nextSeed: () => number,
  synapseCost?: SynapseCost,
): Promise<StepResult> {
  const { loss: value, correct, grads } = lossAndGradients(network, graph, batch, nextSeed);
  // One read: the loss (for the NaN check) and the correct count together (asynchronous: webgpu has no synchronous read in Node).
  const stats = tf.tidy(() => tf.stack([value, correct]));
  const [loss, correctCount] = await stats.data();
  if (Number.isFinite(loss)) applyUpdate(grads, optimizer, hyper, synapseCost);
  tf.dispose([value, correct, stats, ...grads.values()]);
  return { loss: loss!, correct: correctCount! };
}

export interface Evaluation {
  loss: number;
  acc: number;
  predicted: Int32Array;
  count: number;
}

/**
 * Loss, top-1 and predictions of the phase's head over a split, inference mode, in
 * batches of at most `batchSize`: fewer when the memory model says a batch that size
 * would need more memory than a training step of the phase (src/summary/memory.ts).
 */
export async function evaluate(network: Network, graph: PhaseGraph, split: Split, batchSize: number): Promise<Evaluation> {
  const largest = evaluationBatch(network.ir, graph, batchSize);
  const predicted = new Int32Array(split.count);
  const length = exampleLength(split.shape);
  let lossSum = 0;
  let correct = 0;
  // The whole forward pass on onnxruntime where it runs it (onnx-forward.ts), with the weights of now.
  const forward = split.count > 0 ? OnnxForward.build(network, [...graph.frozen, ...graph.trainable], graph.headPartition ?? undefined) : null;
  try {
    for (let start = 0; start < split.count; start += largest) {
      const size = Math.min(largest, split.count - start);
      const [batchLoss, batchPredicted] = tf.tidy(() => {
        const pixels = split.images.subarray(start * length, (start + size) * length);
        const labels = tf.tensor1d(split.labels.subarray(start, start + size), 'int32');
        const logits = forward ? forward.run(pixels, size) : inferenceLogits(network, graph, tf.tensor(pixels, [size, ...split.shape]));
        return [tf.mul(crossEntropy(logits, labels, network.ir.classes), size), tf.argMax(logits, 1)];
      });
      lossSum += (await batchLoss.data())[0]!;
      const classes = await batchPredicted.data();
      for (let i = 0; i < size; i++) {
        predicted[start + i] = classes[i]!;
        if (classes[i] === split.labels[start + i]) correct++;
      }
      tf.dispose([batchLoss, batchPredicted]);
    }
  } finally {
    forward?.dispose();
  }
  const count = split.count;
  return { loss: count ? lossSum / count : NaN, acc: count ? correct / count : NaN, predicted, count };
}
