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
 *   computes until it ends. Per op, these were measured once (op-level coefficients in
 *   TRAINING_COSTS, in units of the op's input and output sizes) and checked against
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
import type { IR, IRNode, OptimizerSpec, ParamSpec, PhaseSpec, Shape } from '../ir/types.js';

const FLOAT32_BYTES = 4;

/**
 * The most a wasm32 module can address, and what @tensorflow/tfjs-backend-wasm 4.22
 * allows: its binaries declare a maximum of 65536 pages of 64 KiB (4 GiB), and its
 * Emscripten glue grows the heap to at most 4 GiB - 64 KiB (`getHeapMax`).
 */
export const WASM_MEMORY_LIMIT_BYTES = 65536 * 65536 - 65536;

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
}

export function stepGraphOf(phase: PhaseSpec): StepGraph {
  const last = phase.trainable[phase.trainable.length - 1] ?? null;
  return {
    frozen: phase.frozen,
    trainable: phase.trainable,
    headPartition: phase.head === 'proxy' ? (phase.partition ?? last) : null,
    optimizer: phase.optimizer.type,
  };
}

/** One moment of a step and the bytes alive then, as a function of the batch. */
export interface Moment {
  what: 'frozen forward' | 'forward' | 'backward' | 'optimizer step' | 'evaluation';
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
  constructor(readonly ir: IR) {
    for (const node of ir.nodes) this.nodeById.set(node.id, node);
    for (const partition of ir.partitions) for (const node of partition.head?.nodes ?? []) this.nodeById.set(node.id, node);
    for (const spec of ir.parameters) if (!this.specByName.has(spec.name)) this.specByName.set(spec.name, spec);
  }

  /** Values per example of the tensor `id` (a node's output, or the input images). */
  valuesOf(id: string): number {
    if (id === 'input') return elements(this.ir.input.shape);
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
 * Bytes one op holds on the gradient tape, in four parts (tfjs 4.22, wasm, mono's
 * gradients; measured op by op, see the module comment):
 * - forward: its outputs, alive until the forward pass ends;
 * - saved: the copies kept for its gradient, alive until the backward pass ends;
 * - retained: the gradients its backward computes (inputs', parameters', and those of
 *   its internal tensors), alive until the backward pass ends;
 * - transient: what its gradient allocates and frees again.
 */
interface TrainingCost {
  forward: Linear;
  saved: Linear;
  retained: Linear;
  transient: Linear;
}

/**
 * What one op allocates in inference mode (its output included), released when it
 * returns. `flattened`: values per example a dense layer first reshapes (a feature map), else 0.
 */
function inferenceCost(node: IRNode, flattened: number, output: number): Linear {
  const hasBias = node.params.length > 1;
  switch (node.op) {
    case 'conv2d':
      return perExample(output * (hasBias ? 2 : 1));
    case 'dense':
      return perExample(flattened + output * (hasBias ? 2 : 1));
    case 'batchnorm':
    case 'swish':
    case 'avgpool':
      return perExample(2 * output);
    case 'gelu':
      return perExample(9 * output);
    case 'binary':
      return perExample(1.25 * output);
    case 'dropout':
      return ZERO;
    case 'add':
      return perExample(output * (node.attrs['scale'] === undefined || node.attrs['scale'] === 1 ? 1 : 2));
    default:
      return perExample(output);
  }
}

/**
 * `inputs`: values per example of each input; `inputGrad`: those of the inputs that
 * carry a gradient (a function of a trained variable); `flattened`: as in
 * inferenceCost; `kernel` and `bias`: parameter values; `depends`: whether the output
 * carries a gradient at all (else tfjs prunes the op from the backward pass).
 */
function trainingCost(
  node: IRNode,
  sizes: { inputs: number[]; inputGrad: number; flattened: number; output: number; kernel: number; bias: number },
  depends: boolean,
): TrainingCost {
  const { inputs, inputGrad, flattened, output, kernel, bias } = sizes;
  const I = inputs.reduce((a, b) => a + b, 0);
  const O = output;
  const dI = inputGrad;
  const cost = (forward: Linear, saved: Linear, retained: Linear, transient: Linear = ZERO): TrainingCost =>
    depends ? { forward, saved, retained, transient } : { forward, saved, retained: ZERO, transient: ZERO };
  const grows = (values: number) => perExample(values);
  const withGrad = (values: number) => (dI > 0 ? values : 0);
  switch (node.op) {
    case 'conv2d':
    case 'dense': {
      const flatten = flattened;
      const flattenGrad = flatten > 0 ? dI : 0;
      const biasPart = bias > 0 ? add(grows(O), fixed(bias)) : ZERO;
      return cost(
        grows(flatten + O * (bias > 0 ? 2 : 1)),
        add(grows(flatten + I), fixed(kernel), biasPart),
        add(grows(flattenGrad + dI), fixed(kernel), biasPart),
      );
    }
    case 'batchnorm':
      return cost(grows(O), grows(7 * O), grows(withGrad(7 * O)), grows(O));
    case 'relu':
      return cost(grows(O), grows(I), grows(dI), grows(1.25 * O));
    case 'leaky_relu':
      return cost(grows(O), grows(I), grows(dI), grows(4.5 * O));
    case 'elu':
      return cost(grows(O), grows(2 * O), grows(withGrad(4.25 * O)), grows(1.25 * O));
    case 'gelu':
      return cost(grows(9 * O), grows(12 * O), grows(withGrad(12 * O)), grows(O));
    case 'swish':
      return cost(grows(2 * O), grows(3 * O), grows(withGrad(3 * O)), grows(2 * O));
    case 'sigmoid':
    case 'tanh':
      return cost(grows(O), grows(O), grows(withGrad(O)), grows(2 * O));
    case 'binary':
      return cost(grows(O), grows(O), grows(withGrad(2.75 * O)));
    case 'maxpool':
      return cost(grows(O), grows(I + O), grows(dI));
    case 'avgpool':
      return cost(grows(O), grows(I + O), grows(withGrad(I + O)));
    case 'global_avg_pool':
      return cost(grows(O), grows(I), grows(dI), grows(I));
    case 'global_max_pool':
      return cost(grows(O), grows(I + O), grows(withGrad(I + O)), grows(1.25 * I));
    case 'flatten':
      return cost(grows(O), grows(I), grows(dI));
    case 'dropout': {
      const rate = node.attrs['rate'];
      if (typeof rate === 'number' && rate <= 0) return cost(ZERO, ZERO, ZERO);
      return cost(grows(O), grows(4 * O), grows(withGrad(O)), grows(O));
    }
    case 'add': {
      const scaled = node.attrs['scale'] !== undefined && node.attrs['scale'] !== 1;
      return scaled ? cost(grows(2 * O), grows(3 * O), grows(dI + withGrad(O)), grows(O)) : cost(grows(O), grows(2 * O), grows(dI));
    }
  }
}

/**
 * The loss head on the logits (log-softmax, one-hot, cross-entropy, top-1 count) and
 * its gradient: a few tensors of [batch, classes] (measured: about 20 of them).
 */
const LOSS_VALUES_PER_CLASS = 20;

/** Temporaries of the optimizer's update of one parameter, in copies of that parameter. */
const OPTIMIZER_TEMPORARIES: Record<OptimizerSpec['type'], number> = { sgd: 4, msgd: 6, adam: 16 };
const SLOTS: Record<OptimizerSpec['type'], number> = { sgd: 0, msgd: 1, adam: 2 };

// ---------------------------------------------------------------- inference (frozen prefix, evaluation)

/**
 * The most bytes alive while partitions run in inference mode, each node's output
 * released once its consumers have run (the input given is the caller's and stays).
 * Per example: all of it grows with the batch.
 */
function inferencePeak(graph: Graph, partitions: readonly string[], headPartition: string | null): { peak: number; output: number } {
  const { runs } = graph.sequence(partitions, headPartition);
  let peak = 0;
  let live = 0;
  let carried = 0; // the previous run's output, alive until this run's consumers of it are done
  let output = 0;
  runs.forEach((run, index) => {
    const remaining = new Map<string, number>();
    for (const node of run.nodes) for (const input of node.inputs) remaining.set(input, (remaining.get(input) ?? 0) + 1);
    const owned = index > 0; // the first run's input is the caller's
    const sizes = new Map<string, number>([[run.input, graph.valuesOf(run.input)]]);
    live = owned ? carried : 0;
    for (const node of run.nodes) {
      const out = elements(node.shape);
      peak = Math.max(peak, live + inferenceCost(node, graph.flattened(node), out).perExample / FLOAT32_BYTES);
      // dropout in inference hands back its input: no new tensor
      const aliases = node.op === 'dropout';
      if (!aliases) live += out;
      sizes.set(node.id, aliases ? 0 : out);
      for (const id of node.inputs) {
        const left = (remaining.get(id) ?? 0) - 1;
        remaining.set(id, left);
        if (left === 0 && id !== run.output && (id !== run.input || owned)) live -= sizes.get(id) ?? 0;
      }
    }
    carried = graph.valuesOf(run.output);
    output = carried;
    // The run's own input, if nothing consumed it, stays until the run ends.
  });
  return { peak, output };
}

// ---------------------------------------------------------------- the step

/** The memory model of one training step of `step` (see the module comment). */
export function stepMemoryModel(ir: IR, step: StepGraph): MemoryModel {
  const graph = new Graph(ir);
  const headName = step.headPartition !== null ? (graph.partition(step.headPartition).head?.name ?? null) : null;
  const trained = [...graph.specByName.values()].filter(
    (spec) => spec.trainable && step.trainable.includes(spec.partition) && (spec.head === undefined || spec.head === headName),
  );
  const trainedNames = new Set(trained.map((spec) => spec.name));
  const weights = sumOf([...graph.specByName.values()], (spec) => elements(spec.shape)) * FLOAT32_BYTES;
  const trainedValues = sumOf(trained, (spec) => elements(spec.shape));
  const optimizer = trainedValues * SLOTS[step.optimizer] * FLOAT32_BYTES;
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
    if (elements(shape) > largestActivation.values.perExample) largestActivation = { name, shape, values: { fixed: 0, perExample: elements(shape) } };
  };
  for (const partition of step.frozen) for (const id of graph.partition(partition).nodes) consider(id, graph.shapeOf(id));
  for (const run of runs) {
    for (const node of run.nodes) {
      consider(node.id, node.shape);
      const inputs = node.inputs.map((id) => graph.valuesOf(id));
      const inputGrad = sumOf(node.inputs, (id) => (carries.has(id) ? graph.valuesOf(id) : 0));
      const params = node.params.map((name) => graph.specByName.get(name));
      const hasTrained = node.params.some((name) => trainedNames.has(name));
      const depends = inputGrad > 0 || hasTrained;
      if (depends) carries.add(node.id);
      const kernel = params[0] && (node.op === 'conv2d' || node.op === 'dense') ? elements(params[0].shape) : 0;
      const bias = params[1] && (node.op === 'conv2d' || node.op === 'dense') ? elements(params[1].shape) : 0;
      const flattened = graph.flattened(node);
      costs.push(trainingCost(node, { inputs, inputGrad, flattened, output: elements(node.shape), kernel, bias }, depends));
    }
  }
  const loss = perExample(LOSS_VALUES_PER_CLASS * ir.classes);
  const saved = sumLinear(costs.map((c) => c.saved));
  const alive = add(resident, images, frozenOutput, loss, saved);
  moments.push({ what: 'forward', bytes: add(alive, sumLinear(costs.map((c) => c.forward))) });
  // Backward: ops in reverse order; what each retains stays until the pass ends, so the
  // last op's moment holds the most, unless an earlier op's temporaries outweigh what came after it.
  const backward: Moment[] = [];
  let retained = ZERO;
  for (let i = costs.length - 1; i >= 0; i--) {
    retained = add(retained, costs[i]!.retained);
    backward.push({ what: 'backward', bytes: add(alive, retained, costs[i]!.transient) });
  }
  const end = backward[backward.length - 1];
  for (const moment of backward) if (moment === end || moment.bytes.perExample > end!.bytes.perExample) moments.push(moment);
  const largestTrained = trained.reduce((max, spec) => Math.max(max, elements(spec.shape)), 0);
  moments.push({
    what: 'optimizer step',
    bytes: add(resident, images, frozenOutput, fixed(trainedValues + OPTIMIZER_TEMPORARIES[step.optimizer] * largestTrained)),
  });

  let largestParameter: TensorSize | null = null;
  for (const spec of graph.specByName.values()) {
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
  const budget = estimateAt(model, ir.data.batch).peakBytes - model.weights;
  const perExampleBytes = evaluationBytesPerExample(ir, view);
  return Math.max(1, Math.min(requested, Math.floor(budget / perExampleBytes)));
}

function sumOf<T>(items: readonly T[], value: (item: T) => number): number {
  let sum = 0;
  for (const item of items) sum += value(item);
  return sum;
}
