import * as tf from '@tensorflow/tfjs-core';
import type { IR, MonitoredMetric, PhaseSpec } from '../ir/types.js';
import type { GradientNoiseStatistics } from '../optim/gradient-covariance.js';
import type { ConfusionRecord } from '../report/types.js';
import type { BackendChoice } from './backend-choices.js';
import { confusionCounts, mutualInformation } from '../optim/mutual-information.js';
import { Optimizer, type OptimizerState } from '../optim/optimizers.js';
import { SynapseCost, type SynapseCostState } from '../optim/synapse-cost.js';
import { taskMetrics, type TaskMetrics, type TaskRecord } from '../optim/task-metrics.js';
import { createSchedule, needsLrFindBounds, planLrBounds, withBounds, type EpochReport, type LrBounds, type Schedule } from '../optim/schedule.js';
import { batchesPerEpoch, epochBatches } from './data/batches.js';
import type { LoadedData, Split } from './data/dataset.js';
import { phaseTrainSplit, restrictToClasses, taskClasses } from './data/tasks.js';
import { checkDataFitsNetwork, networkExpectation } from './data/fit.js';
import { NonFiniteLossError, NonFiniteStateError, RuntimeFailure } from './errors.js';
import type { NamedWeights, Network } from './graph.js';
import { lrRangeTest, type LrFindOptions, type LrFindResult } from './lr-find.js';
import { assertProbeFits, probeGradientNoise } from './noise-probe.js';
import { memoryLimitOf } from './memory-check.js';
import { PrefixCache } from './prefix-cache.js';
import { prefixCachePlan } from '../summary/prefix-cache.js';
import { Rng } from './rng.js';
import { StdpPhase, type StdpEpochMetrics, type StdpState } from './stdp-phase.js';
import { baseMomentum, evaluate, gradientOptimizer, optimizedParams, ownHeadGraph, phaseGraph, releaseFrozen, runFrozen, trainStepDeferred, type Evaluation, type PhaseGraph } from './step.js';

/**
 * Training losses are read back from the backend every this many steps (and at the end
 * of an epoch), all in one read: no device sync per step (issue 8). A non-finite loss
 * is therefore noticed up to this many steps after it happened; the run stops then,
 * naming the step, before anything of that epoch is recorded.
 */
export const LOSS_READ_EVERY = 16;

/** One line of metrics.jsonl: one epoch of one phase. */
export interface EpochMetrics {
  phase: string;
  /** 1-based epoch within the phase. */
  epoch: number;
  epochs: number;
  /** Which head the numbers are of: a proxy head (`p1.head`) or `network`. */
  head: string;
  /** Training loss and accuracy (null in an `stdp` phase, which has no loss: see `stdp`). */
  loss: number | null;
  acc: number | null;
  val_loss: number | null;
  val_acc: number | null;
  /**
   * The same head on the source's own test split, on the last epoch of each phase of a
   * plan with `test true`; null on every other line.
   */
  test_loss: number | null;
  test_acc: number | null;
  /** Normalised MI of the head on the hold-out data (I / H(Y)). */
  mi: number | null;
  /** The lr at the epoch's last step; in an `stdp` phase, the rule's a_plus. */
  lr: number;
  momentum: number;
  /** lr of each trained partition's parameter group at the epoch's last step (before lr multipliers). */
  lr_groups: Record<string, number>;
  /**
   * Normalised hold-out MI of each trained partition through its own head: its proxy
   * head, or the network's output for the last partition (null without hold-out data).
   */
  mi_groups: Record<string, number> | null;
  /** The bounds an `mi(bounds: lr_find)` phase runs with (only in such phases). */
  lr_bounds?: LrBounds;
  /** Where they came from (see ResolvedLrBounds); absent after resuming a checkpoint that predates it. */
  lr_bounds_source?: ResolvedLrBounds['source'];
  /** Why the LR range test's suggestion was rejected (lr_bounds_source 'plan'). */
  lr_find_rejected?: string;
  /**
   * Phases of `each task` (docs/tasks.md): the 1-based task on every line (train, val_*
   * are then of that task's examples only); on the task's last line the accuracy on every
   * task seen so far, their mean, and the forgetting of each earlier task.
   */
  task?: number;
  task_acc?: TaskMetrics['task_acc'];
  avg_acc?: number;
  forgetting?: number[];
  avg_forgetting?: number | null;
  /** Which split task_acc was measured on: the hold-out, or the test split with `test true`. */
  task_split?: 'holdout' | 'test';
  /** Cost per synapse: c * sum Omega (theta - theta*)^2 at the epoch's end (0 during the first task). */
  synapse_penalty?: number;
  /** An `stdp` phase's epoch (head `none`): the rule's rates and, per conv, its weight change, activity and convergence. */
  stdp?: StdpEpochMetrics;
  seconds: number;
  examples_per_s: number;
  /**
   * On the epochs of a phase's `probe noise(...)`: the covariance of per-example
   * gradients of each trained partition (src/runtime/noise-probe.ts), and the seconds
   * the probe took (not part of `seconds`).
   */
  noise?: Record<string, GradientNoiseStatistics>;
  noise_seconds?: number;
  /** This epoch is the run's best so far by the plan's `best` metric: best.bin now holds its weights. */
  best?: true;
  /**
   * On the last line of a phase with `stop early`: whether it stopped before its last
   * epoch, and (with `restore: true`) the 1-based epoch whose weights it ended with.
   */
  early_stop?: { stopped: boolean; best_epoch: number; restored: boolean };
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

/** The confusion matrix of the latest hold-out evaluation of the trained head: what confusion.json in a run folder holds (the report reads it). */
export type LastConfusion = ConfusionRecord;

/** Where the trainer stands between two epochs, without the weights (checkpoints add those). */
export interface TrainerState {
  phaseIndex: number;
  /** Next epoch (0-based) of phase `phaseIndex` to run. */
  nextEpoch: number;
  /** The current phase's optimizer and schedules (null at a phase boundary: the next phase starts fresh). */
  optimizer: OptimizerState | null;
  schedules: { lr: unknown; momentum: unknown; groups: Record<string, unknown> } | null;
  rng: { data: number[]; dropout: number[] };
  /** lr bounds resolved for `mi(bounds: lr_find)` phases, by phase name (absent in older checkpoints). */
  lrBounds?: Record<string, ResolvedLrBounds>;
  /** The run's best epoch so far by the plan's `best` metric (absent until one is measured on the network's output). */
  best?: BestEpoch;
  /** The current phase's `stop early` watch (absent or null before its first epoch ends, and between phases). */
  earlyStop?: EarlyStopState | null;
  /** Cost per synapse across tasks (absent before any phase used it, and in older checkpoints). */
  synapse?: SynapseCostState;
  /** Task accuracies measured at the end of each task so far (for forgetting). */
  taskRecords?: TaskRecord[];
  /** The current `stdp` phase's rule state (absent or null outside one, and between phases). */
  stdp?: StdpState | null;
}

/** Which epoch best.bin holds: the best value of the plan's `best` metric, measured on the network's own output. */
export interface BestEpoch {
  metric: MonitoredMetric;
  value: number;
  phase: string;
  /** 1-based epoch within the phase. */
  epoch: number;
}

/** Where a phase with `stop early` stands after an epoch. */
export interface EarlyStopState {
  /** The best value of the monitored metric in this phase so far. */
  best: number;
  /** Its 0-based epoch within the phase. */
  bestEpoch: number;
  /** Epochs since it improved. */
  stalled: number;
  /**
   * With `restore: true`: the trained partitions' (and head's) parameters at the best
   * epoch, BatchNorm statistics included; a checkpoint stores them as `best` tensors.
   */
  weights?: NamedWeights[];
}

/** The bounds an `mi(bounds: lr_find)` phase runs with, and where they came from. */
export interface ResolvedLrBounds extends LrBounds {
  /**
   * `lr-find`: the LR range test's suggestion; `given`: TrainerOptions.lrBounds (`mono run
   * --lr-find DIR`); `plan`: the plan's own `mi(max:, min:)`, kept because the sweep was
   * unusable. Absent in checkpoints older than this field.
   */
  source?: 'lr-find' | 'given' | 'plan';
  /** Why the sweep was unusable (source `plan`). */
  rejected?: string;
}

/** A TrainerState without the optimizer's slot values, the early-stop weights and the synapse tensors: what a checkpoint's header holds. */
export type TrainerScalars = Omit<TrainerState, 'optimizer' | 'earlyStop' | 'synapse'> & {
  optimizer: Omit<OptimizerState, 'slots'> | null;
  earlyStop?: Omit<EarlyStopState, 'weights'> | null;
  synapse?: Omit<SynapseCostState, 'tensors'>;
};

/** One optimizer slot for a checkpoint; `values()` reads it when called (the cpu backend's own buffer: do not keep or change it). */
export interface SlotSource {
  name: string;
  shape: number[];
  /** The slot itself, for a writer that saves from the backend's memory (tensorSource). */
  tensor: tf.Tensor;
  values(): Promise<Float32Array>;
}

/** Where a phase's `mi(bounds: lr_find)` bounds came from. */
export interface LrBoundsEvent {
  phase: string;
  bounds: LrBounds;
  /**
   * `lr-find`: the LR range test just ran and its suggestion is used; `plan`: it ran but
   * was unusable (`rejected` says why), so the plan's own bounds stay; `given`:
   * TrainerOptions.lrBounds; `checkpoint`: a resumed run's.
   */
  source: 'lr-find' | 'plan' | 'given' | 'checkpoint';
  /** Why the sweep's suggestion was not used (source `plan`, or `checkpoint` of such a phase). */
  rejected?: string;
  result?: LrFindResult;
}

export interface TrainerHooks {
  onBatch?(progress: BatchProgress): void;
  /**
   * An epoch measured on the network's own output beat the run's best (`best` in the
   * state already says so), before anything else moves the weights: save them (best.bin).
   */
  onBest?(best: BestEpoch, trainer: Trainer): Promise<void> | void;
  /** After every epoch, state already advanced; return 'stop' to end the run there (tests, --max-epochs). */
  onEpoch?(metrics: EpochMetrics, trainer: Trainer): Promise<void | 'stop'> | void | 'stop';
  /** When a phase's lr_find bounds are settled, before its first step. */
  onLrBounds?(event: LrBoundsEvent): Promise<void> | void;
}

export interface TrainerOptions {
  network: Network;
  data: LoadedData;
  seed: number;
  hooks?: TrainerHooks;
  /** Examples per batch when evaluating the hold-out data. */
  evalBatch?: number;
  /** Bounds for `mi(bounds: lr_find)` phases, by phase name; phases not named run the LR range test. */
  lrBounds?: Record<string, LrBounds>;
  /** Settings of the LR range test run for lr_find phases (defaults of lr-find.ts otherwise). */
  lrFind?: Omit<LrFindOptions, 'onStep'>;
  /** Cache the frozen prefix's outputs where it fits (default true; false recomputes them every step, as before). */
  cachePrefix?: boolean;
  /**
   * Read the training losses back every this many steps (default LOSS_READ_EVERY). 1 reads
   * every step, at the cost of a device sync per step: for a caller that needs each
   * step's loss in onBatch (the PyTorch parity check).
   */
  lossReadEvery?: number;
}

/** The backend choice (for its memory limit) of the active tfjs backend. */
function activeBackendChoice(): BackendChoice {
  const name = tf.getBackend();
  return name === 'tensorflow' ? 'node' : name === 'wasm' ? 'wasm' : 'cpu';
}

/** Whether `value` of `metric` beats `best` by more than `minDelta` (val_loss: lower is better). */
export function improves(metric: MonitoredMetric, value: number, best: number, minDelta: number): boolean {
  return metric === 'val_loss' ? value < best - minDelta : value > best + minDelta;
}

/**
 * The parameters a phase changes: those of its trained partitions and of the head that
 * gives its loss (BatchNorm statistics included), what `stop early(restore: true)` keeps.
 */
export function phaseParameterNames(network: Network, graph: PhaseGraph): string[] {
  const head = graph.headPartition ? network.partition(graph.headPartition).head?.name : undefined;
  return network
    .paramSpecs()
    .filter((s) => graph.trainable.includes(s.partition) && (s.head === undefined || s.head === head))
    .map((s) => s.name);
}

/**
 * The random streams of a run, all derived from its seed: 1 initialises the network,
 * 2 orders and augments the data, 3 drops out, and 4 (forked by phase index) drives
 * the LR range test of a phase, in `mono run` and `mono lr-find` alike.
 */
export function runRngs(seed: number): { init: Rng; data: Rng; dropout: Rng; lrFind(phaseIndex: number): Rng } {
  const root = new Rng(seed);
  return { init: root.fork(1), data: root.fork(2), dropout: root.fork(3), lrFind: (phaseIndex) => new Rng(seed).fork(4).fork(phaseIndex) };
}

interface ActivePhase {
  spec: PhaseSpec;
  graph: PhaseGraph;
  /** The frozen partitions' outputs for every training example, when cached (prefix-cache.ts). */
  prefix: PrefixCache | null;
  optimizer: Optimizer;
  lr: Schedule;
  momentum: Schedule;
  /** Layer-wise lr: one schedule per trained partition, fed by that partition's own MI. */
  groupLr: Map<string, Schedule>;
  /** The examples the phase trains and validates on: its task's, or all. */
  train: Split;
  holdout: Split;
  /** Set in a phase with cost per synapse. */
  synapseCost?: SynapseCost;
}

/** A phase trained by the STDP rule: no optimizer, schedules, head or hold-out evaluation. */
interface ActiveStdpPhase {
  spec: PhaseSpec;
  graph: PhaseGraph;
  prefix: PrefixCache | null;
  rule: StdpPhase;
  train: Split;
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
  private readonly seed: number;
  private readonly givenBounds: Record<string, LrBounds>;
  private readonly lrFind: Omit<LrFindOptions, 'onStep'>;
  private readonly cachePrefix: boolean;
  private readonly lossReadEvery: number;
  private lrBounds: Record<string, ResolvedLrBounds> = {};
  private dataRng: Rng;
  private dropoutRng: Rng;
  private phaseIndex = 0;
  private nextEpoch = 0;
  private active: ActivePhase | null = null;
  private activeStdp: ActiveStdpPhase | null = null;
  /** An stdp phase's rule state from a checkpoint, for the phase when it starts. */
  private pendingStdp: StdpState | null = null;
  private pending: Pick<TrainerState, 'optimizer' | 'schedules'> | null = null;
  /**
   * The optimizer of the phase a resume continues, made before the checkpoint is read
   * (optimizerForResume) so that the reader writes its slots in place; the phase's start
   * adopts it.
   */
  private resumedOptimizer: { phaseIndex: number; optimizer: Optimizer } | null = null;
  private best: BestEpoch | undefined;
  private earlyStop: EarlyStopState | null = null;
  /** Cost per synapse, kept across the phases (tasks) that use it. */
  private synapse: SynapseCost | null = null;
  private taskRecords: TaskRecord[] = [];
  /** Splits restricted to one task's classes, by `split/task`. */
  private readonly taskSplits = new Map<string, Split>();
  /** The latest epoch's hold-out confusion matrix (null before the first epoch, or without hold-out data). */
  lastConfusion: LastConfusion | null = null;

  constructor(options: TrainerOptions) {
    this.network = options.network;
    this.ir = options.network.ir;
    this.data = options.data;
    // Data that was not loaded by loadDataFor (tests, embedders) gets the same check before any step.
    checkDataFitsNetwork(this.data, networkExpectation(this.ir));
    for (const phase of this.ir.phases) if (phase.noiseProbe) assertProbeFits(this.data.train, phase.noiseProbe.examples, phase.name);
    this.hooks = options.hooks ?? {};
    this.evalBatch = options.evalBatch ?? 500;
    this.seed = options.seed;
    this.givenBounds = options.lrBounds ?? {};
    this.lrFind = options.lrFind ?? {};
    this.cachePrefix = options.cachePrefix ?? true;
    this.lossReadEvery = Math.max(1, Math.floor(options.lossReadEvery ?? LOSS_READ_EVERY));
    const rngs = runRngs(options.seed);
    this.dataRng = rngs.data;
    this.dropoutRng = rngs.dropout;
  }

  /** True when every phase has run. */
  get finished(): boolean {
    return this.phaseIndex >= this.ir.phases.length;
  }

  async getState(): Promise<TrainerState> {
    const { state, slots, synapse } = this.stateForCheckpoint();
    // One tensor read at a time (asynchronously: webgpu has no synchronous read in Node).
    const copies = async (sources: readonly SlotSource[]) => {
      const out = [];
      for (const s of sources) out.push({ name: s.name, shape: s.shape, values: Float32Array.from(await s.values()) });
      return out;
    };
    const { synapse: synapseScalars, ...rest } = state;
    return {
      ...rest,
      optimizer: state.optimizer ? { ...state.optimizer, slots: await copies(slots) } : null,
      ...(this.earlyStop ? { earlyStop: { ...this.earlyStop } } : {}),
      ...(synapseScalars ? { synapse: { ...synapseScalars, tensors: await copies(synapse) } } : {}),
    };
  }

  /** The early-stop weights of the current phase (`restore: true`), for a checkpoint's `best` tensors. */
  earlyStopWeights(): NamedWeights[] {
    return this.earlyStop?.weights ?? [];
  }

  /** The state with the optimizer's slots left on the backend, for a checkpoint writer to read one at a time. */
  stateForCheckpoint(): { state: TrainerScalars; slots: SlotSource[]; synapse: SlotSource[] } {
    const active = this.active;
    const slots: SlotSource[] = (active?.optimizer.slotVariables() ?? []).map(({ name, variable }) => ({
      name,
      shape: [...variable.shape],
      tensor: variable,
      values: () => variable.data() as Promise<Float32Array>,
    }));
    const state: TrainerScalars = {
      phaseIndex: this.phaseIndex,
      nextEpoch: this.nextEpoch,
      optimizer: active ? active.optimizer.scalars() : null,
      schedules: active
        ? {
            lr: active.lr.getState(),
            momentum: active.momentum.getState(),
            groups: Object.fromEntries([...active.groupLr].map(([group, s]) => [group, s.getState()])),
          }
        : null,
      rng: { data: this.dataRng.getState(), dropout: this.dropoutRng.getState() },
      lrBounds: { ...this.lrBounds },
      ...(this.best ? { best: { ...this.best } } : {}),
      ...(this.earlyStop ? { earlyStop: { best: this.earlyStop.best, bestEpoch: this.earlyStop.bestEpoch, stalled: this.earlyStop.stalled } } : {}),
      ...(this.synapse ? { synapse: { consolidated: this.synapse.consolidated } } : {}),
      ...(this.taskRecords.length > 0 ? { taskRecords: this.taskRecords.map((r) => ({ task: r.task, acc: [...r.acc] })) } : {}),
      ...(this.activeStdp ? { stdp: this.activeStdp.rule.state() } : this.pendingStdp ? { stdp: { ...this.pendingStdp } } : {}),
    };
    const synapse: SlotSource[] = (this.synapse?.tensors() ?? []).map(({ name, variable }) => ({
      name,
      shape: [...variable.shape],
      tensor: variable,
      values: () => variable.data() as Promise<Float32Array>,
    }));
    return { state, slots, synapse };
  }

  /**
   * The slot variables of the optimizer that the phase at `state` will train with (zero
   * until written), by checkpoint name (`<param>/first`), made now so that a checkpoint
   * reader can write the saved slots straight into them (restoreCheckpointFile): a
   * resume then holds each slot once, instead of a read array and a zero slot the
   * phase's start would make and overwrite. Empty where `state` has no optimizer state or
   * another optimizer than the phase's (a forced resume of a changed plan). setState
   * must follow with the same state: the scalars come from there, and slots that state
   * lists override these; release() frees them if the run never starts.
   */
  optimizerForResume(state: Pick<TrainerScalars, 'phaseIndex' | 'optimizer'>): Map<string, tf.Variable> {
    this.releaseResumedOptimizer();
    const phase = this.ir.phases[state.phaseIndex];
    if (!phase || !state.optimizer || phase.optimizer.type === 'stdp' || phase.optimizer.type !== state.optimizer.type) return new Map();
    const optimizer = new Optimizer(gradientOptimizer(phase), optimizedParams(this.network, phaseGraph(this.network, phase)), phase.lrMultipliers);
    this.resumedOptimizer = { phaseIndex: state.phaseIndex, optimizer };
    return new Map(optimizer.slotVariables().map(({ name, variable }) => [name, variable]));
  }

  /**
   * Frees what the trainer holds on the backend: the current phase's optimizer and
   * caches, a resume's optimizer never adopted, the cost-per-synapse tensors. For the
   * owner of a trainer whose run is over or never started (runSession); after it, only
   * a new setState makes the trainer usable again.
   */
  release(): void {
    this.disposeActive();
    this.releaseResumedOptimizer();
    this.synapse?.dispose();
    this.synapse = null;
  }

  private releaseResumedOptimizer(): void {
    this.resumedOptimizer?.optimizer.dispose();
    this.resumedOptimizer = null;
  }

  /** Continues from a saved state (weights are restored separately, on the network). */
  setState(state: TrainerState): void {
    this.disposeActive();
    this.phaseIndex = state.phaseIndex;
    this.nextEpoch = state.nextEpoch;
    this.dataRng = Rng.fromState(state.rng.data);
    this.dropoutRng = Rng.fromState(state.rng.dropout);
    this.lrBounds = { ...(state.lrBounds ?? {}) };
    this.synapse?.dispose();
    this.synapse = null;
    if (state.synapse) {
      this.synapse = new SynapseCost();
      this.synapse.setState(state.synapse);
    }
    this.taskRecords = (state.taskRecords ?? []).map((r) => ({ task: r.task, acc: [...r.acc] }));
    this.pending = state.optimizer || state.schedules ? { optimizer: state.optimizer, schedules: state.schedules } : null;
    this.best = state.best ? { ...state.best } : undefined;
    this.earlyStop = state.earlyStop ? { ...state.earlyStop } : null;
    this.pendingStdp = state.stdp ? { ...state.stdp } : null;
  }

  async run(): Promise<void> {
    try {
      while (!this.finished) {
        const phase = this.ir.phases[this.phaseIndex]!;
        let metrics: EpochMetrics;
        let stopped = false;
        if (phase.optimizer.type === 'stdp') {
          metrics = await this.runStdpEpoch(this.activeStdp ?? this.startStdpPhase(phase), this.nextEpoch);
        } else {
          const active = this.active ?? (await this.startPhase(phase));
          metrics = await this.runEpoch(active, this.nextEpoch);
          if (this.recordBest(metrics)) {
            metrics.best = true;
            await this.hooks.onBest?.(this.best!, this);
          }
          stopped = phase.earlyStop ? await this.watchEarlyStop(phase, active.graph, metrics) : false;
        }
        this.nextEpoch++;
        if (stopped || this.nextEpoch >= phase.epochs) {
          if (phase.earlyStop) metrics.early_stop = this.endEarlyStop(phase, stopped);
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

  private startStdpPhase(phase: PhaseSpec): ActiveStdpPhase {
    if (phase.optimizer.type !== 'stdp' || phase.partition === null) throw new RuntimeFailure(`phase ${phase.name}: stdp trains one partition`);
    const graph = phaseGraph(this.network, phase);
    const train = this.data.train;
    // A resumed phase continues with the images it had seen (the rates follow from them).
    const rule = new StdpPhase(this.network, phase.optimizer, phase.partition, this.pendingStdp);
    this.pendingStdp = null;
    this.activeStdp = { spec: phase, graph, rule, train, prefix: this.buildPrefixCache(phase, graph, train) };
    return this.activeStdp;
  }

  /**
   * One epoch of an stdp phase: every training example once, in the data stream's
   * shuffled order (no augmentation: the rule learns the images as they are), through
   * the frozen prefix into the rule. No loss, no hold-out evaluation: the line reports
   * the rule's own measures.
   */
  private async runStdpEpoch(active: ActiveStdpPhase, epoch: number): Promise<EpochMetrics> {
    const { spec, graph, rule, train } = active;
    const batch = this.ir.data.batch;
    const steps = batchesPerEpoch(train.count, batch, false);
    const started = performance.now();
    let step = 0;
    let examples = 0;
    for (const b of epochBatches(train, { batch, shuffle: true, augment: [], rng: this.dataRng, dropLast: false })) {
      const input = active.prefix?.rows(b.indices) ?? runFrozen(this.network, graph, b);
      try {
        rule.learn(input);
      } finally {
        input.dispose();
      }
      step++;
      examples += b.size;
      this.hooks.onBatch?.({ phase: spec.name, epoch: epoch + 1, epochs: spec.epochs, step, steps, loss: NaN, examplesPerSecond: examples / ((performance.now() - started) / 1000) });
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const stdp = await rule.endEpoch();
    const seconds = (performance.now() - started) / 1000;
    await this.assertFinite(spec, epoch + 1, graph, undefined);
    this.lastConfusion = null;
    return {
      phase: spec.name,
      epoch: epoch + 1,
      epochs: spec.epochs,
      head: 'none',
      loss: null,
      acc: null,
      val_loss: null,
      val_acc: null,
      test_loss: null,
      test_acc: null,
      mi: null,
      lr: stdp.a_plus,
      momentum: 0,
      lr_groups: Object.fromEntries(graph.trainable.map((group) => [group, stdp.a_plus])),
      mi_groups: null,
      stdp,
      seconds,
      examples_per_s: examples / seconds,
    };
  }

  private async startPhase(phase: PhaseSpec): Promise<ActivePhase> {
    const graph = phaseGraph(this.network, phase);
    const params = optimizedParams(this.network, graph);
    const base = gradientOptimizer(phase);
    const lrSpec = needsLrFindBounds(phase.lr) ? withBounds(phase.lr, await this.resolveLrBounds(phase)) : phase.lr;
    let lr: Schedule;
    let momentum: Schedule;
    const groupLr = new Map<string, Schedule>();
    try {
      lr = createSchedule(lrSpec, base.lr, phase.epochs);
      momentum = createSchedule(phase.momentum, baseMomentum(base), phase.epochs);
      if (lrSpec.type === 'layerwise') {
        for (const group of graph.trainable) groupLr.set(group, createSchedule(lrSpec, base.lr, phase.epochs));
      }
    } catch (error) {
      throw new RuntimeFailure(`phase ${phase.name}: ${(error as Error).message}`);
    }
    const optimizer = this.adoptResumedOptimizer() ?? new Optimizer(base, params, phase.lrMultipliers);
    // Until the phase is active, its optimizer is freed here if its start fails (an empty task, a prefix cache too large).
    try {
      let synapseCost: SynapseCost | undefined;
      if (phase.synapseCost) {
        synapseCost = this.synapse ??= new SynapseCost();
        synapseCost.attach(params, phase.synapseCost);
        // A resumed task keeps its path integral and start from the checkpoint.
        if (this.nextEpoch === 0) synapseCost.beginTask();
      }
      const { train, holdout } = this.phaseSplits(phase);
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
      } else {
        await this.measureBaseline(graph, holdout, lr, momentum, groupLr);
      }
      this.active = { spec: phase, graph, optimizer, lr, momentum, groupLr, train, holdout, ...(synapseCost ? { synapseCost } : {}), prefix: this.buildPrefixCache(phase, graph, train) };
      return this.active;
    } catch (error) {
      optimizer.dispose();
      throw error;
    }
  }

  /** The training and hold-out examples of a phase: its task's classes only, or all. */
  private phaseSplits(phase: PhaseSpec): { train: Split; holdout: Split } {
    if (phase.task === undefined) return { train: this.data.train, holdout: this.data.holdout };
    return { train: this.taskSplit('train', phase.task, phase), holdout: this.taskSplit('holdout', phase.task, phase) };
  }

  /** A split restricted to a task's classes, made once per split and task (the training one never empty: phaseTrainSplit). */
  private taskSplit(which: 'train' | 'holdout' | 'test', task: number, phase: PhaseSpec): Split {
    const key = `${which}/${task}`;
    let split = this.taskSplits.get(key);
    if (!split) {
      if (which === 'train') split = phaseTrainSplit(this.data, this.ir, phase); // phaseSplits: the phase's own task
      else split = restrictToClasses(which === 'test' ? this.data.test! : this.data[which], taskClasses(this.ir, task, phase));
      this.taskSplits.set(key, split);
    }
    return split;
  }

  /**
   * The end of a task: consolidate the cost per synapse, then measure every task seen so
   * far (tasks 0..phase.task) on the test split (`test true`) or the hold-out, each
   * restricted to its classes, through the phase's head (single head over all classes).
   */
  private async endTask(active: ActivePhase): Promise<Pick<EpochMetrics, 'task_acc' | 'avg_acc' | 'forgetting' | 'avg_forgetting' | 'task_split'>> {
    const { spec, graph } = active;
    active.synapseCost?.endTask();
    const which = this.ir.data.test && this.data.test ? 'test' : 'holdout';
    const acc: number[] = [];
    for (let task = 0; task <= spec.task!; task++) {
      const split = this.taskSplit(which, task, spec);
      acc.push(split.count > 0 ? (await evaluate(this.network, graph, split, this.evalBatch)).acc : NaN);
    }
    this.taskRecords.push({ task: spec.task!, acc });
    const metrics = taskMetrics(this.taskRecords);
    return { task_acc: metrics.task_acc, avg_acc: metrics.avg_acc, forgetting: metrics.forgetting, avg_forgetting: metrics.avg_forgetting, task_split: which };
  }

  /**
   * The frozen prefix's outputs for every training example, computed once for the phase
   * (the weights it depends on are frozen, and without augmentation its inputs are the
   * same every epoch), when src/summary/prefix-cache.ts says it fits beside the step.
   */
  /** `train`: the phase's training examples (its task's, in a task phase), which the batches' indices point into. */
  private buildPrefixCache(phase: PhaseSpec, graph: PhaseGraph, train: Split): PrefixCache | null {
    if (!this.cachePrefix) return null;
    const plan = prefixCachePlan(this.ir, phase, memoryLimitOf(activeBackendChoice()).bytes, train.count);
    if (!plan.cached) return null;
    return PrefixCache.build(this.network, graph.frozen, train, this.evalBatch);
  }

  /**
   * Bounds of an `mi(bounds: lr_find)` phase: kept from a checkpoint, given by the
   * caller, or found by the LR range test on the network as it stands at the start
   * of the phase. The sweep draws from its own stream (4, forked per phase) and
   * restores the weights, so the training streams and a resumed run are unaffected.
   */
  private async resolveLrBounds(phase: PhaseSpec): Promise<LrBounds> {
    const kept = this.lrBounds[phase.name];
    if (kept) {
      const bounds = { min: kept.min, max: kept.max };
      await this.hooks.onLrBounds?.({ phase: phase.name, bounds, source: 'checkpoint', ...(kept.rejected ? { rejected: kept.rejected } : {}) });
      return bounds;
    }
    const given = this.givenBounds[phase.name];
    let event: LrBoundsEvent;
    if (given) {
      event = { phase: phase.name, bounds: { ...given }, source: 'given' };
    } else {
      const rng = runRngs(this.seed).lrFind(this.phaseIndex);
      let result: LrFindResult;
      try {
        // The sweep shows on the progress bar as its own pseudo-epoch.
        const onBatch = this.hooks.onBatch;
        const onStep: LrFindOptions['onStep'] = onBatch
          ? (p) => onBatch({ phase: `${phase.name} lr-find`, epoch: 1, epochs: 1, step: p.step, steps: p.steps, loss: p.smoothed, examplesPerSecond: p.examplesPerSecond })
          : undefined;
        result = await lrRangeTest(this.network, this.phaseSplits(phase).train, phase, rng, { ...this.lrFind, ...(onStep ? { onStep } : {}) });
      } catch (error) {
        if (error instanceof RangeError) throw new RuntimeFailure(`phase ${phase.name}: ${error.message}`);
        throw error;
      }
      event = result.problem === null
        ? { phase: phase.name, bounds: { min: result.bounds.min, max: result.bounds.max }, source: 'lr-find', result }
        : { phase: phase.name, bounds: this.planBounds(phase, result.problem), source: 'plan', rejected: result.problem, result };
    }
    const source = event.source === 'checkpoint' ? undefined : event.source;
    this.lrBounds[phase.name] = { ...event.bounds, ...(source ? { source } : {}), ...(event.rejected ? { rejected: event.rejected } : {}) };
    await this.hooks.onLrBounds?.(event);
    return event.bounds;
  }

  /** The plan's own mi(max:, min:) of a phase whose sweep was unusable (`problem`). */
  private planBounds(phase: PhaseSpec, problem: string): LrBounds {
    const bounds = planLrBounds(phase.lr);
    if (!bounds || !(bounds.min > 0 && bounds.min <= bounds.max)) {
      throw new RuntimeFailure(`phase ${phase.name}: the LR range test is unusable (${problem}) and the plan's mi bounds are not 0 < min <= max to fall back on`);
    }
    return bounds;
  }

  /** The lr_bounds fields of a metrics line of an `mi(bounds: lr_find)` phase. */
  private lrBoundsMetrics(phase: PhaseSpec): Pick<EpochMetrics, 'lr_bounds' | 'lr_bounds_source' | 'lr_find_rejected'> {
    const resolved = this.lrBounds[phase.name];
    if (!resolved || !needsLrFindBounds(phase.lr)) return {};
    return {
      lr_bounds: { min: resolved.min, max: resolved.max },
      ...(resolved.source ? { lr_bounds_source: resolved.source } : {}),
      ...(resolved.rejected ? { lr_find_rejected: resolved.rejected } : {}),
    };
  }

  private async runEpoch(active: ActivePhase, epoch: number): Promise<EpochMetrics> {
    const { spec, graph, optimizer, train } = active;
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
    const lastGroupLr = new Map<string, number>();
    const nextSeed = () => this.dropoutRng.int(2 ** 31);
    // Losses stay on the backend and are read every lossReadEvery steps (one read for
    // all of them, no device sync per step); the NaN check and the running loss use them then.
    const unread: { loss: tf.Scalar; correct: tf.Scalar; size: number }[] = [];
    const readLosses = async (): Promise<void> => {
      if (unread.length === 0) return;
      const batch = unread.splice(0, unread.length);
      const stacked = tf.tidy(() => tf.stack(batch.flatMap((s) => [s.loss, s.correct])));
      const values = await stacked.data();
      tf.dispose([stacked, ...batch.flatMap((s) => [s.loss, s.correct])]);
      const firstStep = step - batch.length + 1;
      for (let i = 0; i < batch.length; i++) {
        const loss = values[2 * i]!;
        if (!Number.isFinite(loss)) throw new NonFiniteLossError(spec.name, epoch + 1, firstStep + i, loss);
        lossSum += loss * batch[i]!.size;
        correct += values[2 * i + 1]!;
        lossExamples += batch[i]!.size;
      }
    };
    let lossExamples = 0;
    try {
      for (const b of epochBatches(train, { batch, shuffle: true, augment: this.ir.data.augment, rng: this.dataRng, dropLast })) {
        const t = epoch + step / steps;
        lr = active.lr.valueAt(t);
        momentum = active.momentum.valueAt(t);
        for (const [group, schedule] of active.groupLr) lastGroupLr.set(group, schedule.valueAt(t));
        const lrOfGroup = lastGroupLr.size > 0 ? (group: string) => lastGroupLr.get(group) : undefined;
        const hyper = { lr, momentum, ...(lrOfGroup ? { lrOfGroup } : {}) };
        const frozenOutput = active.prefix?.rows(b.indices);
        try {
          unread.push({ ...trainStepDeferred(this.network, graph, b, optimizer, hyper, nextSeed, frozenOutput, active.synapseCost), size: b.size });
        } finally {
          frozenOutput?.dispose();
        }
        step++;
        examples += b.size;
        if (unread.length >= this.lossReadEvery || step === steps) await readLosses();
        this.hooks.onBatch?.({
          phase: spec.name,
          epoch: epoch + 1,
          epochs: spec.epochs,
          step,
          steps,
          // The running mean over the steps read so far.
          loss: lossExamples > 0 ? lossSum / lossExamples : NaN,
          examplesPerSecond: examples / ((performance.now() - started) / 1000),
        });
        // Between steps the event loop runs, so SIGINT/SIGTERM handlers are heard during an epoch.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      await readLosses();
    } finally {
      tf.dispose(unread.flatMap((s) => [s.loss, s.correct]));
    }
    const seconds = (performance.now() - started) / 1000;
    const trainLoss = lossSum / examples;
    const holdout = active.holdout;
    const evaluation = holdout.count > 0 ? await evaluate(this.network, graph, holdout, this.evalBatch) : undefined;
    await this.assertFinite(spec, epoch + 1, graph, evaluation?.loss);
    const mi = evaluation ? this.normalizedMi(evaluation, holdout) : null;
    const report: EpochReport = { valLoss: evaluation?.loss ?? trainLoss, ...(mi !== null ? { mi } : {}) };
    active.lr.endEpoch(report);
    active.momentum.endEpoch(report);
    const groupReports = await this.groupReports(graph, evaluation, holdout);
    // Layer-wise lr: each group follows its own head; one without a head follows the trained head.
    for (const [group, schedule] of active.groupLr) schedule.endEpoch(groupReports.get(group) ?? report);
    const lrGroups = Object.fromEntries(graph.trainable.map((group) => [group, lastGroupLr.get(group) ?? lr]));
    // The test split is looked at once per phase, at its end: never while choosing anything.
    const lastEpoch = epoch === spec.epochs - 1;
    const testSplit = this.data.test && spec.task !== undefined ? this.taskSplit('test', spec.task, spec) : this.data.test;
    const test = this.ir.data.test && testSplit && lastEpoch ? await evaluate(this.network, graph, testSplit, this.evalBatch) : undefined;
    const synapsePenalty = active.synapseCost?.penalty();
    const taskFields = spec.task !== undefined && lastEpoch ? await this.endTask(active) : {};
    const probe = spec.noiseProbe;
    let noise: Pick<EpochMetrics, 'noise' | 'noise_seconds'> = {};
    if (probe && ((epoch + 1) % probe.every === 0 || epoch === spec.epochs - 1)) {
      const probeStarted = performance.now();
      const statistics = await probeGradientNoise(this.network, graph, train, probe);
      noise = { noise: statistics, noise_seconds: (performance.now() - probeStarted) / 1000 };
    }
    const head = graph.headPartition ? this.network.partition(graph.headPartition).head!.name : 'network';
    this.lastConfusion = evaluation ? this.confusion(spec.name, epoch + 1, head, evaluation, holdout) : null;
    return {
      phase: spec.name,
      epoch: epoch + 1,
      epochs: spec.epochs,
      head,
      loss: trainLoss,
      acc: correct / examples,
      val_loss: evaluation?.loss ?? null,
      val_acc: evaluation?.acc ?? null,
      test_loss: test?.loss ?? null,
      test_acc: test?.acc ?? null,
      mi,
      lr,
      momentum,
      lr_groups: lrGroups,
      mi_groups: evaluation ? Object.fromEntries([...groupReports].map(([group, r]) => [group, r.mi!])) : null,
      ...this.lrBoundsMetrics(spec),
      ...(spec.task !== undefined ? { task: spec.task + 1 } : {}),
      ...taskFields,
      ...(synapsePenalty !== undefined ? { synapse_penalty: synapsePenalty } : {}),
      seconds,
      examples_per_s: examples / seconds,
      ...noise,
    };
  }

  /**
   * The end of an epoch, before anything records it: the hold-out loss and every
   * parameter of the trained partitions (weights and BatchNorm moving statistics) must
   * be finite. A finite training loss does not ensure that (BatchNorm normalises away
   * weights near 1e30); training on would only checkpoint the damage.
   */
  private async assertFinite(phase: PhaseSpec, epoch: number, graph: PhaseGraph, holdoutLoss: number | undefined): Promise<void> {
    if (holdoutLoss !== undefined && !Number.isFinite(holdoutLoss)) throw new NonFiniteStateError(phase.name, epoch, `the hold-out loss (${holdoutLoss})`);
    const specs = this.network.paramSpecs().filter((s) => graph.trainable.includes(s.partition));
    const bad = await this.network.firstNonFinite(specs.map((s) => s.name));
    if (bad === undefined) return;
    const spec = specs.find((s) => s.name === bad)!;
    const kind = /moving_(mean|variance)$/.test(bad) && !spec.trainable ? 'BatchNorm statistic' : 'weight';
    throw new NonFiniteStateError(phase.name, epoch, `${kind} ${bad}`);
  }

  /**
   * A fresh phase whose schedules are MI-driven: measure the heads on the hold-out
   * data before the first step, as the "previous" MI of their first epoch end.
   */
  private async measureBaseline(graph: PhaseGraph, holdout: Split, lr: Schedule, momentum: Schedule, groupLr: Map<string, Schedule>): Promise<void> {
    const wantBaseline = [lr, momentum, ...groupLr.values()].some((s) => s.baseline);
    if (!wantBaseline || holdout.count === 0) return;
    const evaluation = await evaluate(this.network, graph, holdout, this.evalBatch);
    const report: EpochReport = { valLoss: evaluation.loss, mi: this.normalizedMi(evaluation, holdout) };
    lr.baseline?.(report);
    momentum.baseline?.(report);
    const groupReports = groupLr.size > 0 ? await this.groupReports(graph, evaluation, holdout) : new Map<string, EpochReport>();
    for (const [group, schedule] of groupLr) schedule.baseline?.(groupReports.get(group) ?? report);
  }

  private confusion(phase: string, epoch: number, head: string, evaluation: Evaluation, holdout: Split): LastConfusion {
    const classes = this.ir.classes;
    const flat = confusionCounts(evaluation.predicted, holdout.labels, classes);
    // confusionCounts is indexed [predicted][truth]; the report reads rows as true classes.
    const counts = Array.from({ length: classes }, (_, truth) => Array.from({ length: classes }, (_, predicted) => flat[predicted * classes + truth]!));
    return { phase, epoch, head, classes, examples: evaluation.predicted.length, counts };
  }

  private normalizedMi(evaluation: Evaluation, holdout: Split): number {
    const classes = this.ir.classes;
    return mutualInformation(confusionCounts(evaluation.predicted, holdout.labels, classes), classes).normalized;
  }

  /**
   * Hold-out loss and MI of each trained partition through its own head (proxy head,
   * or the network's output for the last partition). The trained head's evaluation
   * is reused; in `finetune all` the other partitions' proxy heads are evaluated too,
   * although the loss does not use them. Empty without hold-out data.
   */
  private async groupReports(graph: PhaseGraph, trained: Evaluation | undefined, holdout: Split): Promise<Map<string, EpochReport>> {
    const reports = new Map<string, EpochReport>();
    if (!trained) return reports;
    const lastPartition = this.ir.partitions[this.ir.partitions.length - 1]!.name;
    for (const group of graph.trainable) {
      const isTrainedHead = graph.headPartition === null ? group === lastPartition : group === graph.headPartition;
      let evaluation: Evaluation | undefined = isTrainedHead ? trained : undefined;
      if (!evaluation) {
        const view = ownHeadGraph(this.network, group);
        if (view) evaluation = await evaluate(this.network, view, holdout, this.evalBatch);
      }
      if (evaluation) reports.set(group, { valLoss: evaluation.loss, mi: this.normalizedMi(evaluation, holdout) });
    }
    return reports;
  }

  /**
   * Whether this epoch beats the run's best by the plan's `best` metric. Only epochs
   * measured on the network's own output count (a proxy head's accuracy is not the
   * network's), and only with hold-out data.
   */
  private recordBest(metrics: EpochMetrics): boolean {
    const metric = this.ir.best?.metric ?? 'val_acc';
    const value = metrics[metric];
    if (metrics.head !== 'network' || value === null) return false;
    if (this.best !== undefined && this.best.metric === metric && !improves(metric, value, this.best.value, 0)) return false;
    this.best = { metric, value, phase: metrics.phase, epoch: metrics.epoch };
    return true;
  }

  /**
   * `stop early`: after an epoch of the phase, whether its monitored metric has now not
   * improved for `patience` epochs. An improvement restarts the count and, with
   * `restore`, keeps a copy of the phase's parameters.
   */
  private async watchEarlyStop(phase: PhaseSpec, graph: PhaseGraph, metrics: EpochMetrics): Promise<boolean> {
    const rule = phase.earlyStop!;
    const value = metrics[rule.monitor];
    if (value === null) return false;
    const watch = this.earlyStop;
    if (watch === null || improves(rule.monitor, value, watch.best, rule.minDelta)) {
      this.earlyStop = {
        best: value,
        bestEpoch: this.nextEpoch,
        stalled: 0,
        ...(rule.restore ? { weights: await this.network.getWeights(phaseParameterNames(this.network, graph)) } : {}),
      };
      return false;
    }
    watch.stalled++;
    return watch.stalled >= rule.patience;
  }

  /** The end of a phase with `stop early`: with `restore`, its best epoch's parameters go back in; what the metrics line says. */
  private endEarlyStop(phase: PhaseSpec, stopped: boolean): NonNullable<EpochMetrics['early_stop']> {
    const watch = this.earlyStop;
    this.earlyStop = null;
    const restored = phase.earlyStop!.restore && watch?.weights !== undefined;
    if (restored) this.network.setWeights(watch!.weights!);
    return { stopped, best_epoch: (watch?.bestEpoch ?? phase.epochs - 1) + 1, restored };
  }

  /** The optimizer made for this phase before a resume's read (optimizerForResume), if the trainer is still at that phase. */
  private adoptResumedOptimizer(): Optimizer | undefined {
    const resumed = this.resumedOptimizer;
    if (!resumed || resumed.phaseIndex !== this.phaseIndex) {
      this.releaseResumedOptimizer();
      return undefined;
    }
    this.resumedOptimizer = null;
    return resumed.optimizer;
  }

  private disposeActive(): void {
    if (this.active) releaseFrozen(this.active.graph);
    if (this.activeStdp) releaseFrozen(this.activeStdp.graph);
    this.active?.optimizer.dispose();
    this.active?.prefix?.dispose();
    this.active = null;
    this.activeStdp?.rule.dispose();
    this.activeStdp?.prefix?.dispose();
    this.activeStdp = null;
  }
}
