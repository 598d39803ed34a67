import type { IR, PhaseSpec } from '../ir/types.js';
import { confusionCounts, mutualInformation } from '../optim/mutual-information.js';
import { Optimizer, type OptimizerState } from '../optim/optimizers.js';
import { createSchedule, needsLrFindBounds, planLrBounds, withBounds, type EpochReport, type LrBounds, type Schedule } from '../optim/schedule.js';
import { batchesPerEpoch, epochBatches } from './data/batches.js';
import type { LoadedData } from './data/dataset.js';
import { checkDataFitsNetwork, networkExpectation } from './data/fit.js';
import { NonFiniteLossError, NonFiniteStateError, RuntimeFailure } from './errors.js';
import type { Network } from './graph.js';
import { lrRangeTest, type LrFindOptions, type LrFindResult } from './lr-find.js';
import { Rng } from './rng.js';
import { baseMomentum, evaluate, optimizedParams, ownHeadGraph, phaseGraph, trainStep, type Evaluation, type PhaseGraph } from './step.js';

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
  /**
   * The same head on the source's own test split, on the last epoch of each phase of a
   * plan with `test true`; null on every other line.
   */
  test_loss: number | null;
  test_acc: number | null;
  /** Normalised MI of the head on the hold-out data (I / H(Y)). */
  mi: number | null;
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

/**
 * The confusion matrix of the latest hold-out evaluation of the trained head:
 * counts[true class][predicted class]. What confusion.json in a run folder holds.
 */
export interface LastConfusion {
  phase: string;
  epoch: number;
  head: string;
  classes: number;
  examples: number;
  counts: number[][];
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
  /** lr bounds resolved for `mi(bounds: lr_find)` phases, by phase name (absent in older checkpoints). */
  lrBounds?: Record<string, ResolvedLrBounds>;
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

/** A TrainerState without the optimizer's slot values: what a checkpoint's header holds. */
export type TrainerScalars = Omit<TrainerState, 'optimizer'> & { optimizer: Omit<OptimizerState, 'slots'> | null };

/** One optimizer slot for a checkpoint; `values()` reads it when called (the cpu backend's own buffer: do not keep or change it). */
export interface SlotSource {
  name: string;
  shape: number[];
  values(): Float32Array;
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
}

/** The data and dropout streams of a run, both derived from its seed. Stream 1 initialises the network. */
export function runRngs(seed: number): { init: Rng; data: Rng; dropout: Rng } {
  const root = new Rng(seed);
  return { init: root.fork(1), data: root.fork(2), dropout: root.fork(3) };
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
  private readonly seed: number;
  private readonly givenBounds: Record<string, LrBounds>;
  private readonly lrFind: Omit<LrFindOptions, 'onStep'>;
  private lrBounds: Record<string, ResolvedLrBounds> = {};
  private dataRng: Rng;
  private dropoutRng: Rng;
  private phaseIndex = 0;
  private nextEpoch = 0;
  private active: ActivePhase | null = null;
  private pending: Pick<TrainerState, 'optimizer' | 'schedules'> | null = null;
  /** The latest epoch's hold-out confusion matrix (null before the first epoch, or without hold-out data). */
  lastConfusion: LastConfusion | null = null;

  constructor(options: TrainerOptions) {
    this.network = options.network;
    this.ir = options.network.ir;
    this.data = options.data;
    // Data that was not loaded by loadDataFor (tests, embedders) gets the same check before any step.
    checkDataFitsNetwork(this.data, networkExpectation(this.ir));
    this.hooks = options.hooks ?? {};
    this.evalBatch = options.evalBatch ?? 500;
    this.seed = options.seed;
    this.givenBounds = options.lrBounds ?? {};
    this.lrFind = options.lrFind ?? {};
    const rngs = runRngs(options.seed);
    this.dataRng = rngs.data;
    this.dropoutRng = rngs.dropout;
  }

  /** True when every phase has run. */
  get finished(): boolean {
    return this.phaseIndex >= this.ir.phases.length;
  }

  getState(): TrainerState {
    const { state, slots } = this.stateForCheckpoint();
    return { ...state, optimizer: state.optimizer ? { ...state.optimizer, slots: slots.map((s) => ({ name: s.name, shape: s.shape, values: Float32Array.from(s.values()) })) } : null };
  }

  /** The state with the optimizer's slots left on the backend, for a checkpoint writer to read one at a time. */
  stateForCheckpoint(): { state: TrainerScalars; slots: SlotSource[] } {
    const active = this.active;
    const slots: SlotSource[] = (active?.optimizer.slotVariables() ?? []).map(({ name, variable }) => ({
      name,
      shape: [...variable.shape],
      values: () => variable.dataSync() as Float32Array,
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
    };
    return { state, slots };
  }

  /** Continues from a saved state (weights are restored separately, on the network). */
  setState(state: TrainerState): void {
    this.disposeActive();
    this.phaseIndex = state.phaseIndex;
    this.nextEpoch = state.nextEpoch;
    this.dataRng = Rng.fromState(state.rng.data);
    this.dropoutRng = Rng.fromState(state.rng.dropout);
    this.lrBounds = { ...(state.lrBounds ?? {}) };
    this.pending = state.optimizer || state.schedules ? { optimizer: state.optimizer, schedules: state.schedules } : null;
  }

  async run(): Promise<void> {
    try {
      while (!this.finished) {
        const phase = this.ir.phases[this.phaseIndex]!;
        const active = this.active ?? (await this.startPhase(phase));
        const metrics = await this.runEpoch(active, this.nextEpoch);
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

  private async startPhase(phase: PhaseSpec): Promise<ActivePhase> {
    const graph = phaseGraph(this.network, phase);
    const params = optimizedParams(this.network, graph);
    const base = phase.optimizer;
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
    } else {
      this.measureBaseline(graph, lr, momentum, groupLr);
    }
    this.active = { spec: phase, graph, optimizer, lr, momentum, groupLr };
    return this.active;
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
      const rng = new Rng(this.seed).fork(4).fork(this.phaseIndex);
      let result: LrFindResult;
      try {
        // The sweep shows on the progress bar as its own pseudo-epoch.
        const onBatch = this.hooks.onBatch;
        const onStep: LrFindOptions['onStep'] = onBatch
          ? (p) => onBatch({ phase: `${phase.name} lr-find`, epoch: 1, epochs: 1, step: p.step, steps: p.steps, loss: p.smoothed, examplesPerSecond: p.examplesPerSecond })
          : undefined;
        result = lrRangeTest(this.network, this.data, phase, rng, { ...this.lrFind, ...(onStep ? { onStep } : {}) });
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
    const lastGroupLr = new Map<string, number>();
    const nextSeed = () => this.dropoutRng.int(2 ** 31);
    for (const b of epochBatches(train, { batch, shuffle: true, augment: this.ir.data.augment, rng: this.dataRng, dropLast })) {
      const t = epoch + step / steps;
      lr = active.lr.valueAt(t);
      momentum = active.momentum.valueAt(t);
      for (const [group, schedule] of active.groupLr) lastGroupLr.set(group, schedule.valueAt(t));
      const lrOfGroup = lastGroupLr.size > 0 ? (group: string) => lastGroupLr.get(group) : undefined;
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
      // Between steps the event loop runs, so SIGINT/SIGTERM handlers are heard during an epoch.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const seconds = (performance.now() - started) / 1000;
    const trainLoss = lossSum / examples;
    const holdout = this.data.holdout;
    const evaluation = holdout.count > 0 ? evaluate(this.network, graph, holdout, this.evalBatch) : undefined;
    this.assertFinite(spec, epoch + 1, graph, evaluation?.loss);
    const mi = evaluation ? this.normalizedMi(evaluation) : null;
    const report: EpochReport = { valLoss: evaluation?.loss ?? trainLoss, ...(mi !== null ? { mi } : {}) };
    active.lr.endEpoch(report);
    active.momentum.endEpoch(report);
    const groupReports = this.groupReports(graph, evaluation);
    // Layer-wise lr: each group follows its own head; one without a head follows the trained head.
    for (const [group, schedule] of active.groupLr) schedule.endEpoch(groupReports.get(group) ?? report);
    const lrGroups = Object.fromEntries(graph.trainable.map((group) => [group, lastGroupLr.get(group) ?? lr]));
    // The test split is looked at once per phase, at its end: never while choosing anything.
    const test = this.ir.data.test && this.data.test && epoch === spec.epochs - 1 ? evaluate(this.network, graph, this.data.test, this.evalBatch) : undefined;
    const head = graph.headPartition ? this.network.partition(graph.headPartition).head!.name : 'network';
    this.lastConfusion = evaluation ? this.confusion(spec.name, epoch + 1, head, evaluation) : null;
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
      seconds,
      examples_per_s: examples / seconds,
    };
  }

  /**
   * The end of an epoch, before anything records it: the hold-out loss and every
   * parameter of the trained partitions (weights and BatchNorm moving statistics) must
   * be finite. A finite training loss does not ensure that (BatchNorm normalises away
   * weights near 1e30); training on would only checkpoint the damage.
   */
  private assertFinite(phase: PhaseSpec, epoch: number, graph: PhaseGraph, holdoutLoss: number | undefined): void {
    if (holdoutLoss !== undefined && !Number.isFinite(holdoutLoss)) throw new NonFiniteStateError(phase.name, epoch, `the hold-out loss (${holdoutLoss})`);
    const specs = this.network.paramSpecs().filter((s) => graph.trainable.includes(s.partition));
    const bad = this.network.firstNonFinite(specs.map((s) => s.name));
    if (bad === undefined) return;
    const spec = specs.find((s) => s.name === bad)!;
    const kind = /moving_(mean|variance)$/.test(bad) && !spec.trainable ? 'BatchNorm statistic' : 'weight';
    throw new NonFiniteStateError(phase.name, epoch, `${kind} ${bad}`);
  }

  /**
   * A fresh phase whose schedules are MI-driven: measure the heads on the hold-out
   * data before the first step, as the "previous" MI of their first epoch end.
   */
  private measureBaseline(graph: PhaseGraph, lr: Schedule, momentum: Schedule, groupLr: Map<string, Schedule>): void {
    const wantBaseline = [lr, momentum, ...groupLr.values()].some((s) => s.baseline);
    if (!wantBaseline || this.data.holdout.count === 0) return;
    const evaluation = evaluate(this.network, graph, this.data.holdout, this.evalBatch);
    const report: EpochReport = { valLoss: evaluation.loss, mi: this.normalizedMi(evaluation) };
    lr.baseline?.(report);
    momentum.baseline?.(report);
    const groupReports = groupLr.size > 0 ? this.groupReports(graph, evaluation) : new Map<string, EpochReport>();
    for (const [group, schedule] of groupLr) schedule.baseline?.(groupReports.get(group) ?? report);
  }

  private confusion(phase: string, epoch: number, head: string, evaluation: Evaluation): LastConfusion {
    const classes = this.ir.classes;
    const flat = confusionCounts(evaluation.predicted, this.data.holdout.labels, classes);
    // confusionCounts is indexed [predicted][truth]; the report reads rows as true classes.
    const counts = Array.from({ length: classes }, (_, truth) => Array.from({ length: classes }, (_, predicted) => flat[predicted * classes + truth]!));
    return { phase, epoch, head, classes, examples: evaluation.predicted.length, counts };
  }

  private normalizedMi(evaluation: Evaluation): number {
    const classes = this.ir.classes;
    return mutualInformation(confusionCounts(evaluation.predicted, this.data.holdout.labels, classes), classes).normalized;
  }

  /**
   * Hold-out loss and MI of each trained partition through its own head (proxy head,
   * or the network's output for the last partition). The trained head's evaluation
   * is reused; in `finetune all` the other partitions' proxy heads are evaluated too,
   * although the loss does not use them. Empty without hold-out data.
   */
  private groupReports(graph: PhaseGraph, trained: Evaluation | undefined): Map<string, EpochReport> {
    const reports = new Map<string, EpochReport>();
    if (!trained) return reports;
    const lastPartition = this.ir.partitions[this.ir.partitions.length - 1]!.name;
    for (const group of graph.trainable) {
      const isTrainedHead = graph.headPartition === null ? group === lastPartition : group === graph.headPartition;
      let evaluation: Evaluation | undefined = isTrainedHead ? trained : undefined;
      if (!evaluation) {
        const view = ownHeadGraph(this.network, group);
        if (view) evaluation = evaluate(this.network, view, this.data.holdout, this.evalBatch);
      }
      if (evaluation) reports.set(group, { valLoss: evaluation.loss, mi: this.normalizedMi(evaluation) });
    }
    return reports;
  }

  private disposeActive(): void {
    this.active?.optimizer.dispose();
    this.active = null;
  }
}
