/**
 * The memory model: the peak bytes of one training step of a phase, and of one
 * evaluation batch, computed from the IR alone (no TensorFlow.js: `mono check` and
 * `mono compile` use it and must start fast).
 *
 * It counts what the runtime really holds at the peak, as TensorFlow.js 4.22 on the
 * wasm backend accounts it (`tf.memory().numBytes`):
 * - every parameter of the network (all partitions and proxy heads, frozen ones and
 *   BatchNorm statistics too), the optimizer's slots for the trained parameters
 *   (msgd 1, adam 2, sgd none), their gradients;
 * - the input batch (images, labels) and the frozen prefix's output;
 * - the frozen prefix's forward pass (inference; each node's output is released once
 *   its consumers have run, see Network.runPartition);
 * - the trained partitions and the loss head on the gradient tape. tfjs keeps every
 *   output of the forward pass until it ends, a copy of each tensor a gradient needs
 *   ("saved": the wasm Identity kernel copies), and every gradient the backward pass
 *   computes until it ends. Per op, these were measured once (the coefficients in
 *   trainingCost(), in units of the op's input and output sizes) and checked against
 *   whole steps of plans/quickstart.mono, mi-lr.mono and monolithnet.mono
 *   (test/runtime/memory-model.test.ts: within 25%; docs/runtime.md has the numbers);
 * - the optimizer step's temporaries (one parameter at a time).
 * Buffers a kernel allocates and frees inside itself (XNNPACK scratch, transposes in
 * mono's Conv2DBackpropFilter) are not tensors and are not counted.
 *
 * Every term is fixed (parameters) or proportional to the batch (activations), so
 * the peak is the largest of a few linear functions of the batch: the largest batch
 * that fits a limit follows exactly.
 */
import { fusedBatchNormRelu } from '../ir/fusion.js';
import type { IR, IRNode, OptimizerSpec, ParamSpec, PhaseSpec, Shape } from '../ir/types.js';

const FLOAT32_BYTES = 4;

/**
 * The most a wasm32 module can address, and what @tensorflow/tfjs-backend-wasm 4.22
 * allows: its binaries declare a maximum of 65536 pages of 64 KiB (4 GiB), and its
 * Emscripten glue grows the heap to at most 4 GiB - 64 KiB (`getHeapMax`).
 */
export const WASM_MEMORY_LIMIT_BYTES = 65536 * 65536 - 65536;

/**
 * The wasm heap a step needs per byte of tensors: its allocator leaves gaps between
 * buffers. Measured (monolithnet width=1 depth=1, fine-tune, after 2-3 steps): 1803
 * MiB of heap for 1648 MiB of tensors at batch 256, 2124 for 1931 at 300, 3797 for
 * 3474 at 540; at 590 (3796 MiB) the heap reached its 4 GiB maximum and the steps
 * still ran; at 636 (4091 MiB) the first step made no progress in 11 minutes.
 */
export const WASM_HEAP_PER_TENSOR_BYTE = 1.1;

/** bytes = fixed + perExample x batch. */
export interface Linear {
  fixed: number;
  perExample: number;
}

const ZERO: Linear = { fixed: 0, perExample: 0 };
const add = (...terms: Linear[]): Linear => sumLinear(terms);
/** The sum of many terms (no spread: a plan may have hundreds of thousands of nodes). */
function sumLinear(terms: readonly Linear[]): Linear {
  let fixedSum = 0;
  let perExampleSum = 0;
  for (const term of terms) {
    fixedSum += term.fixed;
    perExampleSum += term.perExample;
  }
  return { fixed: fixedSum, perExample: perExampleSum };
}
const valueAt = (form: Linear, batch: number) => form.fixed + form.perExample * batch;
/** Values (float32) per example -> bytes. */
const perExample = (values: number): Linear => ({ fixed: 0, perExample: values * FLOAT32_BYTES });
/** Values that do not grow with the batch (parameters) -> bytes. */
const fixed = (values: number): Linear => ({ fixed: values * FLOAT32_BYTES, perExample: 0 });

/** What one step runs: frozen partitions (inference), trained ones, and the head that gives the loss. */
export interface StepGraph {
  frozen: readonly string[];
  trainable: readonly string[];
  /** The partition whose proxy head gives the loss, or null for the network's own output. */
  headPartition: string | null;
  /** Slots per trained parameter follow the optimizer: msgd 1, adam 2, sgd 0. */
  optimizer: OptimizerSpec['type'];
  /**
   * Cost per synapse (docs/tasks.md): 4 more values per trained parameter (omega, Omega,
   * theta*, theta at the task's start), and in the optimizer step a copy of the weights
   * before the update and the penalised gradients.
   */
  synapseCost?: boolean;
}

export function stepGraphOf(phase: PhaseSpec): StepGraph {
  const last = phase.trainable[phase.trainable.length - 1] ?? null;
  return {
    frozen: phase.frozen,
    trainable: phase.trainable,
    headPartition: phase.head === 'proxy' ? (phase.partition ?? last) : null,
    optimizer: phase.optimizer.type,
    ...(phase.synapseCost ? { synapseCost: true } : {}),
  };
}

/** One moment of a step and the bytes alive then, as a function of the batch. */
export interface Moment {
  what: 'frozen forward' | 'forward' | 'backward' | 'optimizer step';
  bytes: Linear;
}

/** A tensor of the step: a node's output (per example), an input batch, or a parameter. */
export interface TensorSize {
  name: string;
  /** Shape without the batch dimension for activations; the full shape for a parameter. */
  shape: Shape;
  /** Values: fixed + perExample x batch. */
  values: { fixed: number; perExample: number };
}

export interface MemoryModel {
  /** Every parameter, all partitions and heads (BatchNorm statistics too). */
  weights: number;
  /** Optimizer slots of the trained parameters. */
  optimizer: number;
  /** Gradients of the trained parameters (alive at the end of the backward pass and in the optimizer step). */
  gradients: number;
  /** The peak is the largest of these, each including weights and slots. */
  moments: Moment[];
  /** The tensor with the most values per example, and the largest parameter. */
  largestActivation: TensorSize;
  largestParameter: TensorSize | null;
}

export interface MemoryEstimate {
  batch: number;
  peakBytes: number;
  /** The moment of the peak. */
  peakAt: Moment['what'];
  weightsBytes: number;
  optimizerBytes: number;
  gradientBytes: number;
  /** The rest of the peak: input batch, activations, saved tensors, activation gradients, temporaries. */
  activationBytes: number;
  /** The largest single tensor at this batch. */
  largestTensor: { name: string; shape: Shape; bytes: number };
}

/** The estimate of a model at `batch`. */
export function estimateAt(model: MemoryModel, batch: number): MemoryEstimate {
  let peak = model.moments[0]!;
  for (const moment of model.moments) if (valueAt(moment.bytes, batch) > valueAt(peak.bytes, batch)) peak = moment;
  const peakBytes = valueAt(peak.bytes, batch);
  const gradientBytes = peak.what === 'backward' || peak.what === 'optimizer step' ? model.gradients : 0;
  const activation = model.largestActivation;
  const parameter = model.largestParameter;
  const activationTensor = { name: activation.name, shape: [batch, ...activation.shape], bytes: tensorValues(activation, batch) * FLOAT32_BYTES };
  const largestTensor =
    parameter !== null && tensorValues(parameter, batch) > tensorValues(activation, batch)
      ? { name: parameter.name, shape: parameter.shape, bytes: tensorValues(parameter, batch) * FLOAT32_BYTES }
      : activationTensor;
  return {
    batch,
    peakBytes,
    peakAt: peak.what,
    weightsBytes: model.weights,
    optimizerBytes: model.optimizer,
    gradientBytes,
    activationBytes: peakBytes - model.weights - model.optimizer - gradientBytes,
    largestTensor,
  };
}

const tensorValues = (tensor: TensorSize, batch: number) => tensor.values.fixed + tensor.values.perExample * batch;

/**
 * The largest batch whose peak stays within `limitBytes` and whose largest tensor
 * holds at most `maxTensorValues` values; 0 when not even one example fits (the
 * parameters alone are too large).
 */
export function largestBatchWithin(model: MemoryModel, limitBytes: number, maxTensorValues = Number.POSITIVE_INFINITY): number {
  let largest = Number.POSITIVE_INFINITY;
  for (const { bytes } of model.moments) {
    if (bytes.fixed > limitBytes) return 0;
    if (bytes.perExample > 0) largest = Math.min(largest, Math.floor((limitBytes - bytes.fixed) / bytes.perExample));
  }
  const parameter = model.largestParameter;
  if (parameter !== null && tensorValues(parameter, 0) > maxTensorValues) return 0;
  const activation = model.largestActivation.values;
  if (activation.perExample > 0) largest = Math.min(largest, Math.floor(maxTensorValues / activation.perExample));
  return Number.isFinite(largest) ? Math.max(0, largest) : Number.MAX_SAFE_INTEGER;
}

// ---------------------------------------------------------------- the graph of a step

const elements = (shape: readonly number[]) => shape.reduce((product, size) => product * size, 1);

class Graph {
  readonly nodeById = new Map<string, IRNode>();
  readonly specByName = new Map<string, ParamSpec>();
  readonly inputValues: number;
  constructor(readonly ir: IR) {
    this.inputValues = elements(ir.input.shape);
    for (const node of ir.nodes) this.nodeById.set(node.id, node);
    for (const partition of ir.partitions) for (const node of partition.head?.nodes ?? []) this.nodeById.set(node.id, node);
    for (const spec of ir.parameters) if (!this.specByName.has(spec.name)) this.specByName.set(spec.name, spec);
  }

  /** Values per example of the tensor `id` (a node's output, or the input images), or of a parameter. */
  valuesOf(id: string, kind: 'activation' | 'parameter' = 'activation'): number {
    if (kind === 'parameter') {
      const spec = this.specByName.get(id);
      return spec ? elements(spec.shape) : 0;
    }
    if (id === 'input') return this.inputValues;
    const node = this.nodeById.get(id);
    return node ? elements(node.shape) : 0;
  }

  /** Values per example a dense layer reshapes first (its input is a feature map), else 0. */
  flattened(node: IRNode): number {
    const input = node.inputs[0];
    return node.op === 'dense' && input !== undefined && this.shapeOf(input).length > 1 ? this.valuesOf(input) : 0;
  }

  shapeOf(id: string): Shape {
    if (id === 'input') return this.ir.input.shape;
    return this.nodeById.get(id)?.shape ?? [];
  }

  partition(name: string) {
    const partition = this.ir.partitions.find((p) => p.name === name);
    if (!partition) throw new Error(`memory model: no partition '${name}'`);
    return partition;
  }

  /** Nodes of the partitions in order, then the head's. */
  sequence(partitions: readonly string[], headPartition: string | null): { runs: { input: string; output: string; nodes: IRNode[] }[] } {
    const runs = partitions.map((name) => {
      const partition = this.partition(name);
      return { input: partition.input, output: partition.output, nodes: partition.nodes.map((id) => this.nodeById.get(id)!).filter(Boolean) };
    });
    if (headPartition !== null) {
      const partition = this.partition(headPartition);
      const head = partition.head;
      if (head) runs.push({ input: partition.output, output: head.output, nodes: head.nodes });
    }
    return { runs };
  }
}

// ---------------------------------------------------------------- per-op costs

/**
 * Values (float32) one op holds on the gradient tape (tfjs 4.22 on wasm, mono's
 * gradients; measured op by op, see the module comment). Per example unless *Fixed
 * (parameter-sized):
 * - forward: its outputs, alive until the forward pass ends;
 * - saved: the copies kept for its gradient, alive until the backward pass ends;
 * - retained: the gradients its backward computes (of its inputs, its parameters and
 *   its internal tensors), alive until the backward pass ends;
 * - transient: what its gradient allocates and frees again.
 */
interface TrainingCost {
  forward: number;
  saved: number;
  savedFixed: number;
  retained: number;
  retainedFixed: number;
  transient: number;
}

/**
 * What one op allocates in inference mode (its output included), released when it
 * returns, in values per example. `flattened`: values a dense layer first reshapes (its
 * input is a feature map), else 0.
 */
function inferenceCost(node: IRNode, flattened: number, output: number): number {
  const hasBias = node.params.length > 1;
  switch (node.op) {
    case 'conv2d':
      return output * (hasBias ? 2 : 1);
    case 'dense':
      return flattened + output * (hasBias ? 2 : 1);
    case 'batchnorm':
    case 'swish':
    case 'avgpool':
      return 2 * output;
    case 'gelu':
      return 9 * output;
    case 'binary':
      return 1.25 * output;
    case 'dropout':
      return 0;
    case 'add':
      return output * (isScaled(node) ? 2 : 1);
    default:
      return output;
  }
}

const isScaled = (node: IRNode) => node.attrs['scale'] !== undefined && node.attrs['scale'] !== 1;

/** The sizes of one op on the tape, in values. */
interface OpSizes {
  /** All inputs, per example. */
  input: number;
  /** The inputs that carry a gradient (functions of a trained variable), per example. */
  inputGrad: number;
  /** As in inferenceCost. */
  flattened: number;
  output: number;
  /** Parameter values of a conv or dense layer. */
  kernel: number;
  bias: number;
}

/** `depends`: whether the op's output carries a gradient at all (else tfjs prunes it from the backward pass). */
function trainingCost(node: IRNode, sizes: OpSizes, depends: boolean): TrainingCost {
  const { input: I, inputGrad: dI, output: O, flattened, kernel, bias } = sizes;
  const tape = (forward: number, saved: number, retained: number, transient = 0, savedFixed = 0, retainedFixed = 0): TrainingCost =>
    depends ? { forward, saved, savedFixed, retained, retainedFixed, transient } : { forward, saved, savedFixed, retained: 0, retainedFixed: 0, transient: 0 };
  const withGrad = (values: number) => (dI > 0 ? values : 0);
  switch (node.op) {
    case 'conv2d':
    case 'dense': {
      // A bias is one more op: add(y, bias) saves y and the bias, and gives both gradients.
      const biased = bias > 0 ? O : 0;
      const flattenGrad = flattened > 0 ? dI : 0;
      return tape(flattened + O + biased, flattened + I + biased, flattenGrad + dI + biased, 0, kernel + bias, kernel + bias);
    }
    case 'batchnorm':
      // mono's fused kernel (wasm): y, and a copy of x saved; its gradient computes dx
      // (with dgamma, dbeta) whether or not x needs it. A relu it absorbs costs nothing.
      return tape(O, O, O);
    case 'relu':
      return tape(O, I, dI, 1.25 * O);
    case 'leaky_relu':
      return tape(O, I, dI, 4.5 * O);
    case 'elu':
      return tape(O, 2 * O, withGrad(4.25 * O), 1.25 * O);
    case 'gelu':
      return tape(9 * O, 12 * O, withGrad(12 * O), O);
    case 'swish':
      return tape(2 * O, 3 * O, withGrad(3 * O), 2 * O);
    case 'sigmoid':
    case 'tanh':
      return tape(O, O, withGrad(O), 2 * O);
    case 'binary':
      return tape(O, O, withGrad(2.75 * O));
    case 'maxpool':
      return tape(O, I + O, dI);
    case 'avgpool':
      return tape(O, I + O, withGrad(I + O));
    case 'global_avg_pool':
      return tape(O, I, dI, I);
    case 'global_max_pool':
      return tape(O, I + O, withGrad(I + O), 1.25 * I);
    case 'flatten':
      return tape(O, I, dI);
    case 'crop':
      // A slice: its gradient pads dy back to the input's size; nothing saved but the shape.
      return tape(O, 0, dI);
    case 'dropout': {
      const rate = node.attrs['rate'];
      if (typeof rate === 'number' && rate <= 0) return tape(0, 0, 0);
      return tape(O, 4 * O, withGrad(O), O);
    }
    case 'add':
      return isScaled(node) ? tape(2 * O, 3 * O, dI + withGrad(O), O) : tape(O, 2 * O, dI);
  }
}

/**
 * The loss head on the logits (log-softmax, one-hot, cross-entropy, top-1 count) and
 * its gradient: a few tensors of [batch, classes] (measured: about 20 of them).
 */
const LOSS_VALUES_PER_CLASS = 20;

/** Temporaries of the optimizer's update of one parameter, in copies of that parameter. */
// rmsprop's are not measured: it does about as many elementwise ops as adam, and its two
// slots count the momentum buffer, which it keeps only with momentum > 0.
// stdp keeps no slots; its update's temporaries (a few kernel-sized tensors) are not measured: counted as sgd's.
const OPTIMIZER_TEMPORARIES: Record<OptimizerSpec['type'], number> = { sgd: 4, msgd: 6, adam: 16, rmsprop: 16, stdp: 4 };
const SLOTS: Record<OptimizerSpec['type'], number> = { sgd: 0, msgd: 1, adam: 2, rmsprop: 2, stdp: 0 };
/** Cost per synapse keeps omega, Omega, theta* and theta_start per trained parameter. */
const SYNAPSE_SLOTS = 4;

// ---------------------------------------------------------------- inference (frozen prefix, evaluation)

/**
 * The most values per example alive while partitions run in inference mode, each
 * node's output released once its consumers have run (Network.runPartition); the
 * input given is the caller's and stays, later partitions' inputs are released.
 */
function inferencePeak(graph: Graph, partitions: readonly string[], headPartition: string | null): { peak: number; output: number } {
  const { runs } = graph.sequence(partitions, headPartition);
  let peak = 0;
  let live = 0;
  let output = 0;
  runs.forEach((run, index) => {
    const owned = index > 0;
    const remaining = new Map<string, number>();
    for (const node of run.nodes) for (const input of node.inputs) remaining.set(input, (remaining.get(input) ?? 0) + 1);
    // Values each live tensor holds; the caller's input is not counted here.
    const sizes = new Map<string, number>([[run.input, owned ? graph.valuesOf(run.input) : 0]]);
    for (const node of run.nodes) {
      const out = elements(node.shape);
      peak = Math.max(peak, live + inferenceCost(node, graph.flattened(node), out));
      if (node.op === 'dropout') {
        // It hands back its input: the one tensor lives on under the new name.
        const input = node.inputs[0]!;
        sizes.set(node.id, sizes.get(input) ?? 0);
        sizes.set(input, 0);
      } else {
        sizes.set(node.id, out);
        live += out;
      }
      for (const id of node.inputs) {
        const left = remaining.get(id)! - 1;
        remaining.set(id, left);
        if (left === 0 && id !== run.output) live -= sizes.get(id) ?? 0;
      }
    }
    output = graph.valuesOf(run.output);
    live = output;
  });
  return { peak, output };
}

// ---------------------------------------------------------------- the step

/** The memory model of one training step of `step` (see the module comment). */
export function stepMemoryModel(ir: IR, step: StepGraph): MemoryModel {
  const graph = new Graph(ir);
  const headName = step.headPartition !== null ? (graph.partition(step.headPartition).head?.name ?? null) : null;
  const specs = [...graph.specByName.values()];
  const trained = specs.filter((spec) => spec.trainable && step.trainable.includes(spec.partition) && (spec.head === undefined || spec.head === headName));
  const trainedNames = new Set(trained.map((spec) => spec.name));
  const weights = sumOf(specs, (spec) => elements(spec.shape)) * FLOAT32_BYTES;
  const trainedValues = sumOf(trained, (spec) => elements(spec.shape));
  const synapseSlots = step.synapseCost ? SYNAPSE_SLOTS : 0;
  const optimizer = trainedValues * (SLOTS[step.optimizer] + synapseSlots) * FLOAT32_BYTES;
  const gradients = trainedValues * FLOAT32_BYTES;
  const resident = fixed((weights + optimizer) / FLOAT32_BYTES);

  // The input batch: images and labels, for the whole step.
  const images = perExample(elements(ir.input.shape) + 1);

  // The frozen prefix runs first, in inference mode.
  const moments: Moment[] = [];
  let frozenOutput = ZERO;
  if (step.frozen.length > 0) {
    const { peak, output } = inferencePeak(graph, step.frozen, null);
    moments.push({ what: 'frozen forward', bytes: add(resident, images, perExample(peak)) });
    frozenOutput = perExample(output);
  }

  // The trained partitions and the head on the tape.
  const { runs } = graph.sequence(step.trainable, step.headPartition);
  const carries = new Set<string>(); // tensors that are a function of a trained variable
  const costs: TrainingCost[] = [];
  let largestActivation: TensorSize = { name: 'input', shape: ir.input.shape, values: { fixed: 0, perExample: elements(ir.input.shape) } };
  const consider = (name: string, shape: Shape) => {
    const values = elements(shape);
    if (values > largestActivation.values.perExample) largestActivation = { name, shape, values: { fixed: 0, perExample: values } };
  };
  for (const partition of step.frozen) for (const id of graph.partition(partition).nodes) consider(id, graph.shapeOf(id));
  for (const run of runs) {
    const fusedRelus = new Set(fusedBatchNormRelu(run.nodes, run.output).values());
    for (const node of run.nodes) {
      consider(node.id, node.shape);
      let input = 0;
      let inputGrad = 0;
      for (const id of node.inputs) {
        const values = graph.valuesOf(id);
        input += values;
        if (carries.has(id)) inputGrad += values;
      }
      const depends = inputGrad > 0 || node.params.some((name) => trainedNames.has(name));
      if (depends) carries.add(node.id);
      const layer = node.op === 'conv2d' || node.op === 'dense';
      const kernel = layer && node.params[0] !== undefined ? graph.valuesOf(node.params[0], 'parameter') : 0;
      const bias = layer && node.params[1] !== undefined ? graph.valuesOf(node.params[1], 'parameter') : 0;
      // A relu run inside the batchnorm before it: its output is the batchnorm's.
      if (fusedRelus.has(node.id)) continue;
      costs.push(trainingCost(node, { input, inputGrad, flattened: graph.flattened(node), output: elements(node.shape), kernel, bias }, depends));
    }
  }
  const loss = perExample(LOSS_VALUES_PER_CLASS * ir.classes);
  const saved: Linear = fixed(sumOf(costs, (c) => c.savedFixed));
  saved.perExample = sumOf(costs, (c) => c.saved) * FLOAT32_BYTES;
  const alive = add(resident, images, frozenOutput, loss, saved);
  moments.push({ what: 'forward', bytes: add(alive, perExample(sumOf(costs, (c) => c.forward))) });
  // Backward: ops in reverse order; what each retains stays until the pass ends, so
  // the last op's moment holds the most, unless an earlier op's temporaries outweigh
  // what the ops after it retain.
  const retainedTotal = sumOf(costs, (c) => c.retained);
  const last = costs[0];
  if (last) {
    const end = retainedTotal + last.transient;
    let retained = 0;
    let retainedFixed = 0;
    for (let i = costs.length - 1; i >= 0; i--) {
      retained += costs[i]!.retained;
      retainedFixed += costs[i]!.retainedFixed;
      // Only the moments that may exceed the last one (the same or less of everything else).
      if (i === 0 || retained + costs[i]!.transient > end) {
        moments.push({ what: 'backward', bytes: add(alive, fixed(retainedFixed), perExample(retained + costs[i]!.transient)) });
      }
    }
  }
  const largestTrained = trained.reduce((max, spec) => Math.max(max, elements(spec.shape)), 0);
  moments.push({
    what: 'optimizer step',
    bytes: add(resident, images, frozenOutput, fixed((step.synapseCost ? 3 : 1) * trainedValues + OPTIMIZER_TEMPORARIES[step.optimizer] * largestTrained)),
  });

  let largestParameter: TensorSize | null = null;
  for (const spec of specs) {
    if (largestParameter === null || elements(spec.shape) > largestParameter.values.fixed) {
      largestParameter = { name: spec.name, shape: spec.shape, values: { fixed: elements(spec.shape), perExample: 0 } };
    }
  }
  return { weights, optimizer, gradients, moments: pruneMoments(moments), largestActivation, largestParameter };
}

/** Drops moments that another one exceeds at every batch (the backward pass has one per op). */
function pruneMoments(moments: Moment[]): Moment[] {
  const kept: Moment[] = [];
  for (const moment of moments) {
    if (kept.some((k) => k.bytes.fixed >= moment.bytes.fixed && k.bytes.perExample >= moment.bytes.perExample)) continue;
    for (let i = kept.length - 1; i >= 0; i--) {
      const k = kept[i]!;
      if (moment.bytes.fixed >= k.bytes.fixed && moment.bytes.perExample >= k.bytes.perExample) kept.splice(i, 1);
    }
    kept.push(moment);
  }
  return kept;
}

/** The model of one phase of the plan. */
export function phaseMemoryModel(ir: IR, phase: PhaseSpec): MemoryModel {
  return stepMemoryModel(ir, stepGraphOf(phase));
}

/**
 * Evaluation of a batch (inference mode, each output released once consumed): what
 * it needs beyond what is resident during training (weights and slots), per example.
 */
export function evaluationBytesPerExample(ir: IR, view: Pick<StepGraph, 'frozen' | 'trainable' | 'headPartition'>): number {
  const graph = new Graph(ir);
  const { peak } = inferencePeak(graph, [...view.frozen, ...view.trainable], view.headPartition);
  return (elements(ir.input.shape) + 1 + peak + LOSS_VALUES_PER_CLASS * ir.classes) * FLOAT32_BYTES;
}

export const EVALUATION_HEADROOM = 0.97;

/**
 * The evaluation batch: at most `requested`, and small enough that an evaluation
 * batch needs no more memory than a training step of the same partitions at the
 * plan's batch (at least 1). A view that trains nothing (a partition measured through
 * its own head) is compared with training its last partition through that head.
 */
export function evaluationBatch(ir: IR, view: Pick<StepGraph, 'frozen' | 'trainable' | 'headPartition'>, requested: number): number {
  const step: StepGraph =
    view.trainable.length > 0
      ? { ...view, optimizer: 'sgd' }
      : { frozen: view.frozen.slice(0, -1), trainable: view.frozen.slice(-1), headPartition: view.headPartition, optimizer: 'sgd' };
  const model = stepMemoryModel(ir, step);
  // 3% headroom: the step estimate is within ~2% of tfjs's measured peak (docs/runtime.md,
  // "Estimated against measured"), and evaluation must stay under the step as measured.
  const budget = EVALUATION_HEADROOM * (estimateAt(model, ir.data.batch).peakBytes - model.weights);
  const perExampleBytes = evaluationBytesPerExample(ir, view);
  return Math.max(1, Math.min(requested, Math.floor(budget / perExampleBytes)));
}

function sumOf<T>(items: readonly T[], value: (item: T) => number): number {
  let sum = 0;
  for (const item of items) sum += value(item);
  return sum;
}
