import type { IR, OptimizerSpec, PhaseSpec } from '../ir/types.js';
import { confusionCounts, mutualInformation } from '../optim/mutual-information.js';
import { Optimizer, type OptimizedParam, type OptimizerState } from '../optim/optimizers.js';
import { createSchedule, type Schedule } from '../optim/schedule.js';
import { batchesPerEpoch, epochBatches } from './data/batches.js';
import type { LoadedData } from './data/dataset.js';
import { NonFiniteLossError, RuntimeFailure } from './errors.js';
import type { Network } from './graph.js';
import { Rng } from './rng.js';
import { evaluate, phaseGraph, trainStep, type PhaseGraph } from './step.js';

/** One line of metrics.jsonl: one epoch of one phase. */
export interface EpochMetrics {
  phase: string;
  /** 1-based epoch within the phase. */
  epoch: number;
  epochs: number;
  /** Which head the numbers are of: a proxy head (`p1.head`) or `network`. */
  head: string;
  loss: number;
  acc: number;
  val_loss: number | null;
  val_acc: number | null;
  /** Normalised MI of the head on the hold-out data (I / H(Y)). */
  mi: number | null;
  lr: number;
  momentum: number;
  seconds: number;
  examples_per_s: number;
}

export interface BatchProgress {
  phase: string;
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  /** Running mean train loss of the epoch so far. */
  loss: number;
  examplesPerSecond: number;
}

/** Where the trainer stands between two epochs, without the weights (checkpoints add those). */
export interface TrainerState {
  phaseIndex: number;
  /** Next epoch (0-based) of phase `phaseIndex` to run. */
  nextEpoch: number;
  /** The current phase's optimizer and schedules (null at a phase boundary: the next phase starts fresh). */
  optimizer: OptimizerState | null;
  schedules: { lr: unknown; momentum: unknown; groups: Record<string, unknown> } | null;
  rng: { data: number[]; dropout: number[] };
}

export interface TrainerHooks {
  onBatch?(progress: BatchProgress): void;
  /** After every epoch, state already advanced; return 'stop' to end the run there (tests, --max-epochs). */
  onEpoch?(metrics: EpochMetrics, trainer: Trainer): Promise<void | 'stop'> | void | 'stop';
}

export interface TrainerOptions {
  network: Network;
  data: LoadedData;
  seed: number;
  hooks?: TrainerHooks;
  /** Examples per batch when evaluating the hold-out data. */
  evalBatch?: number;
}

/** The data and dropout streams of a run, both derived from its seed. Stream 1 initialises the network. */
export function runRngs(seed: number): { init: Rng; data: Rng; dropout: Rng } {
  const root = new Rng(seed);
  return { init: root.fork(1), data: root.fork(2), dropout: root.fork(3) };
}

/** The optimizer's own momentum: the base value of the momentum schedule (beta1 for adam). */
function baseMomentum(spec: OptimizerSpec): number {
  return spec.type === 'adam' ? spec.beta1 : spec.momentum;
}

interface ActivePhase {
  spec: PhaseSpec;
  graph: PhaseGraph;
  optimizer: Optimizer;
  lr: Schedule;
  momentum: Schedule;
  /** Layer-wise lr: one schedule per trained partition, fed by that partition's own MI. */
  groupLr: Map<string, Schedule>;
}

/**
 * Runs the phases of an IR in order, epoch by epoch. Each phase gets a fresh optimizer
 * and fresh schedules whose clock starts at 0; all randomness comes from the seed, so
 * a run resumed from a checkpoint continues exactly as the uninterrupted run would.
 */
export class Trainer {
  readonly ir: IR;
  private readonly network: Network;
  private readonly data: LoadedData;
  private readonly hooks: TrainerHooks;
  private readonly evalBatch: number;
  private dataRng: Rng;
  private dropoutRng: Rng;
  private phaseIndex = 0;
  private nextEpoch = 0;
  private active: ActivePhase | null = null;
  private pending: Pick<TrainerState, 'optimizer' | 'schedules'> | null = null;

  constructor(options: TrainerOptions) {
    this.network = options.network;
    this.ir = options.network.ir;
    this.data = options.data;
    this.hooks = options.hooks ?? {};
    this.evalBatch = options.evalBatch ?? 500;
    const rngs = runRngs(options.seed);
    this.dataRng = rngs.data;
    this.dropoutRng = rngs.dropout;
  }

  /** True when every phase has run. */
  get finished(): boolean {
    return this.phaseIndex >= this.ir.phases.length;
  }

  getState(): TrainerState {
    const active = this.active;
    return {
      phaseIndex: this.phaseIndex,
      nextEpoch: this.nextEpoch,
      optimizer: active ? active.optimizer.getState() : null,
      schedules: active
        ? {
            lr: active.lr.getState(),
            momentum: active.momentum.getState(),
            groups: Object.fromEntries([...active.groupLr].map(([group, s]) => [group, s.getState()])),
          }
        : null,
      rng: { data: this.dataRng.getState(), dropout: this.dropoutRng.getState() },
    };
  }

  /** Continues from a saved state (weights are restored separately, on the network). */
  setState(state: TrainerState): void {
    this.disposeActive();
    this.phaseIndex = state.phaseIndex;
    this.nextEpoch = state.nextEpoch;
    this.dataRng = Rng.fromState(state.rng.data);
    this.dropoutRng = Rng.fromState(state.rng.dropout);
    this.pending = state.optimizer || state.schedules ? { optimizer: state.optimizer, schedules: state.schedules } : null;
  }

  async run(): Promise<void> {
    try {
      while (!this.finished) {
        const phase = this.ir.phases[this.phaseIndex]!;
        const active = this.active ?? this.startPhase(phase);
        const metrics = this.runEpoch(active, this.nextEpoch);
        this.nextEpoch++;
        if (this.nextEpoch >= phase.epochs) {
          this.disposeActive();
          this.phaseIndex++;
          this.nextEpoch = 0;
        }
        if ((await this.hooks.onEpoch?.(metrics, this)) === 'stop') return;
      }
    } finally {
      this.disposeActive();
    }
  }

  private startPhase(phase: PhaseSpec): ActivePhase {
    const graph = phaseGraph(this.network, phase);
    const trained = new Set(graph.variables.map((v) => v.name));
    const params: OptimizedParam[] = this.network
      .paramSpecs()
      .filter((spec) => trained.has(this.network.variable(spec.name).name))
      .map((spec) => ({
        name: spec.name,
        variable: this.network.variable(spec.name),
        lrMult: spec.lrMult,
        tags: [spec.partition, ...sectionsUsing(this.ir, spec.name)],
        group: spec.partition,
      }));
    const base = phase.optimizer;
    let lr: Schedule;
    let momentum: Schedule;
    const groupLr = new Map<string, Schedule>();
    try {
      lr = createSchedule(phase.lr, base.lr, phase.epochs);
      momentum = createSchedule(phase.momentum, baseMomentum(base), phase.epochs);
      if (phase.lr.type === 'layerwise') {
        for (const group of graph.trainable) groupLr.set(group, createSchedule(phase.lr, base.lr, phase.epochs));
      }
    } catch (error) {
      throw new RuntimeFailure(`phase ${phase.name}: ${(error as Error).message}`);
    }
    const optimizer = new Optimizer(base, params, phase.lrMultipliers);
    const pending = this.pending;
    this.pending = null;
    if (pending?.optimizer) optimizer.setState(pending.optimizer);
    if (pending?.schedules) {
      lr.setState(pending.schedules.lr);
      momentum.setState(pending.schedules.momentum);
      for (const [group, schedule] of groupLr) {
        const saved = pending.schedules.groups[group];
        if (saved !== undefined) schedule.setState(saved);
      }
    }
    this.active = { spec: phase, graph, optimizer, lr, momentum, groupLr };
    return this.active;
  }

  private runEpoch(active: ActivePhase, epoch: number): EpochMetrics {
    const { spec, graph, optimizer } = active;
    const train = this.data.train;
    const batch = this.ir.data.batch;
    // Full batches only (when there is at least one): every step sees the same batch size.
    const dropLast = train.count >= batch;
    const steps = batchesPerEpoch(train.count, batch, dropLast);
    const started = performance.now();
    let lossSum = 0;
    let correct = 0;
    let examples = 0;
    let step = 0;
    let lr = 0;
    let momentum = 0;
    const nextSeed = () => this.dropoutRng.int(2 ** 31);
    for (const b of epochBatches(train, { batch, shuffle: true, augment: this.ir.data.augment, rng: this.dataRng, dropLast })) {
      const t = epoch + step / steps;
      lr = active.lr.valueAt(t);
      momentum = active.momentum.valueAt(t);
      const groupLr = active.groupLr;
      const lrOfGroup = groupLr.size > 0 ? (group: string) => groupLr.get(group)?.valueAt(t) : undefined;
      const result = trainStep(this.network, graph, b, optimizer, { lr, momentum, ...(lrOfGroup ? { lrOfGroup } : {}) }, nextSeed);
      step++;
      if (!Number.isFinite(result.loss)) throw new NonFiniteLossError(spec.name, epoch + 1, step, result.loss);
      lossSum += result.loss * b.size;
      correct += result.correct;
      examples += b.size;
      this.hooks.onBatch?.({
        phase: spec.name,
        epoch: epoch + 1,
        epochs: spec.epochs,
        step,
        steps,
        loss: lossSum / examples,
        examplesPerSecond: examples / ((performance.now() - started) / 1000),
      });
    }
    const seconds = (performance.now() - started) / 1000;
    const holdout = this.data.holdout;
    let valLoss: number | null = null;
    let valAcc: number | null = null;
    let mi: number | null = null;
    if (holdout.count > 0) {
      const evaluation = evaluate(this.network, graph, holdout, this.evalBatch);
      valLoss = evaluation.loss;
      valAcc = evaluation.acc;
      mi = mutualInformation(confusionCounts(evaluation.predicted, holdout.labels, this.ir.classes), this.ir.classes).normalized;
    }
    const report = { valLoss: valLoss ?? lossSum / examples, ...(mi !== null ? { mi } : {}) };
    active.lr.endEpoch(report);
    active.momentum.endEpoch(report);
    for (const [group, schedule] of active.groupLr) schedule.endEpoch(this.groupReport(graph, group) ?? report);
    return {
      phase: spec.name,
      epoch: epoch + 1,
      epochs: spec.epochs,
      head: graph.headPartition ? this.network.partition(graph.headPartition).head!.name : 'network',
      loss: lossSum / examples,
      acc: correct / examples,
      val_loss: valLoss,
      val_acc: valAcc,
      mi,
      lr,
      momentum,
      seconds,
      examples_per_s: examples / seconds,
    };
  }

  /**
   * Layer-wise lr: a partition's own hold-out loss and MI, through its proxy head
   * (or the network's output for the last partition). Undefined without hold-out data.
   */
  private groupReport(graph: PhaseGraph, group: string): { valLoss: number; mi: number } | undefined {
    const holdout = this.data.holdout;
    if (holdout.count === 0) return undefined;
    const order = this.ir.partitions.map((p) => p.name);
    const upTo = order.slice(0, order.indexOf(group) + 1);
    const isLast = group === order[order.length - 1];
    if (!isLast && !this.network.partition(group).head) return undefined;
    const view: PhaseGraph = { frozen: upTo, trainable: [], headPartition: isLast ? null : group, variables: graph.variables };
    const evaluation = evaluate(this.network, view, holdout, this.evalBatch);
    const mi = mutualInformation(confusionCounts(evaluation.predicted, holdout.labels, this.ir.classes), this.ir.classes).normalized;
    return { valLoss: evaluation.loss, mi };
  }

  private disposeActive(): void {
    this.active?.optimizer.dispose();
    this.active = null;
  }
}

/** Sections of the nodes (main network and heads) that use a parameter. */
function sectionsUsing(ir: IR, paramName: string): string[] {
  const sections = new Set<string>();
  const nodes = [...ir.nodes, ...ir.partitions.flatMap((p) => p.head?.nodes ?? [])];
  for (const node of nodes) if (node.params.includes(paramName)) sections.add(node.section);
  return [...sections];
}
