/**
 * Learning-rate and momentum schedules: ScheduleSpec (src/ir/types.ts) -> a
 * value for every step of a phase. Pure maths, no tfjs. Formulas and the
 * MI-driven reconstruction are documented in docs/optimizers.md.
 */
import type { ScheduleSpec } from '../ir/types.js';

/** What the trainer measured at the end of an epoch on the hold-out data. */
export interface EpochReport {
  /** Hold-out loss of the head being trained. */
  valLoss: number;
  /** Normalised MI (I(Yhat;Y) / H(Y), in [0, 1]) of the head being trained. */
  mi?: number;
}

export interface Schedule {
  /** Value at fractional epoch t in [0, epochs) of the phase (t = epoch + stepInEpoch / stepsPerEpoch). */
  valueAt(t: number): number;
  /** Called once at the end of every epoch, before the next epoch's valueAt calls: feeds plateau / mi. */
  endEpoch(report: EpochReport): void;
  /**
   * MI-driven schedules only: the measurement before the phase's first step (the
   * head as earlier phases left it), which becomes the "previous" MI, so the end of
   * the first epoch can already decay. Changes no value by itself.
   */
  baseline?(report: EpochReport): void;
  /** JSON-serialisable state for checkpoints (empty object for stateless schedules). */
  getState(): unknown;
  setState(state: unknown): void;
}

export interface LrBounds {
  min: number;
  max: number;
}

/** Whether the spec (or its post-warmup part) is an `mi` schedule that waits for LR range test bounds. */
export function needsLrFindBounds(spec: ScheduleSpec): boolean {
  if (spec.type === 'mi') return spec.boundsFrom === 'lr_find';
  if (spec.type === 'warmup') return needsLrFindBounds(spec.then);
  return false;
}

/**
 * The plan's own `max`/`min` of an `mi(bounds: lr_find)` schedule (also inside a warmup's
 * `then`): what the phase keeps when the LR range test is unusable. Undefined for other specs.
 */
export function planLrBounds(spec: ScheduleSpec): LrBounds | undefined {
  if (spec.type === 'mi' && spec.boundsFrom === 'lr_find') return { min: spec.min, max: spec.max };
  if (spec.type === 'warmup') return planLrBounds(spec.then);
  return undefined;
}

/**
 * Fills the bounds of an `mi(bounds: lr_find)` schedule (also inside a warmup's
 * `then`) with those the LR range test suggested, marking them as resolved
 * (`boundsFrom: 'plan'`). Other specs come back unchanged. createSchedule refuses
 * an unresolved lr_find spec, so a plan can never silently train on placeholders.
 */
export function withBounds(spec: ScheduleSpec, bounds: LrBounds): ScheduleSpec {
  if (spec.type === 'mi' && spec.boundsFrom === 'lr_find') {
    return { ...spec, min: bounds.min, max: bounds.max, boundsFrom: 'plan' };
  }
  if (spec.type === 'warmup') return { ...spec, then: withBounds(spec.then, bounds) };
  return spec;
}

/** A schedule whose value depends on t only. */
function stateless(valueAt: (t: number) => number): Schedule {
  return {
    valueAt,
    endEpoch: () => {},
    getState: () => ({}),
    setState: () => {},
  };
}

/** Half-cosine interpolation from a (p = 0, exactly) to b (p = 1). */
function cosineBetween(a: number, b: number, p: number): number {
  return a + ((b - a) * (1 - Math.cos(Math.PI * p))) / 2;
}

function linearBetween(a: number, b: number, p: number): number {
  return a + (b - a) * p;
}

function clamp01(p: number): number {
  return Math.min(1, Math.max(0, p));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stateError(type: string, state: unknown): Error {
  return new Error(`invalid ${type} schedule state in checkpoint: ${JSON.stringify(state)}`);
}

// ------------------------------------------------------------ plateau

interface PlateauState {
  type: 'plateau';
  value: number;
  /** Best hold-out loss so far; null before the first epoch (JSON has no Infinity). */
  best: number | null;
  badEpochs: number;
}

function plateauSchedule(spec: Extract<ScheduleSpec, { type: 'plateau' }>, base: number): Schedule {
  let state: PlateauState = { type: 'plateau', value: base, best: null, badEpochs: 0 };
  return {
    valueAt: () => state.value,
    endEpoch({ valLoss }) {
      // Relative improvement: the loss must beat best by more than threshold * |best|.
      const improved =
        Number.isFinite(valLoss) &&
        (state.best === null || valLoss < state.best - spec.threshold * Math.abs(state.best));
      if (improved) {
        state = { ...state, best: valLoss, badEpochs: 0 };
        return;
      }
      const badEpochs = state.badEpochs + 1;
      if (badEpochs < spec.patience) {
        state = { ...state, badEpochs };
        return;
      }
      // Never below min, and never up (a base already under min stays where it is).
      const reduced = Math.min(state.value, Math.max(state.value * spec.factor, spec.min));
      state = { ...state, value: reduced, badEpochs: 0 };
    },
    getState: () => ({ ...state }),
    setState(raw) {
      if (
        !isRecord(raw) ||
        raw['type'] !== 'plateau' ||
        typeof raw['value'] !== 'number' ||
        !(raw['best'] === null || typeof raw['best'] === 'number') ||
        typeof raw['badEpochs'] !== 'number'
      ) {
        throw stateError('plateau', raw);
      }
      state = { type: 'plateau', value: raw['value'], best: raw['best'], badEpochs: raw['badEpochs'] };
    },
  };
}

// ------------------------------------------------------------ mi / layerwise

interface MiState {
  type: 'mi';
  lr: number;
  /** Normalised MI of the previous epoch; null before the first measurement. */
  lastMi: number | null;
}

interface MiParams {
  max: number;
  min: number;
  threshold: number;
  start: number | null;
}

/**
 * mono's reconstruction of Vasudevan's MI-driven lr decay (Entropy 2020; the
 * paper's Algorithm 1 is not published in full): hold the lr while the
 * normalised MI rises by more than `threshold` (absolute change) per epoch;
 * otherwise move it to clamp(max * (1 - nMI), min, max), never upwards.
 */
function miSchedule(params: MiParams): Schedule {
  const { max, min, threshold } = params;
  if (!(min <= max)) throw new RangeError(`mi schedule needs min <= max, got min ${min}, max ${max}`);
  const start = Math.min(max, Math.max(min, params.start ?? max));
  let state: MiState = { type: 'mi', lr: start, lastMi: null };
  return {
    valueAt: () => state.lr,
    baseline({ mi }) {
      if (state.lastMi === null && mi !== undefined && Number.isFinite(mi)) state = { ...state, lastMi: mi };
    },
    endEpoch({ mi }) {
      // An epoch without a usable MI measurement changes nothing.
      if (mi === undefined || !Number.isFinite(mi)) return;
      const previous = state.lastMi;
      state = { ...state, lastMi: mi };
      // The first measurement has nothing to compare with: hold.
      if (previous === null || mi - previous > threshold) return;
      const target = Math.min(max, Math.max(min, max * (1 - mi)));
      state = { ...state, lr: Math.min(state.lr, target) };
    },
    getState: () => ({ ...state }),
    setState(raw) {
      if (
        !isRecord(raw) ||
        raw['type'] !== 'mi' ||
        typeof raw['lr'] !== 'number' ||
        !(raw['lastMi'] === null || typeof raw['lastMi'] === 'number')
      ) {
        throw stateError('mi', raw);
      }
      state = { type: 'mi', lr: raw['lr'], lastMi: raw['lastMi'] };
    },
  };
}

// ------------------------------------------------------------ warmup

interface WarmupState {
  type: 'warmup';
  epochsEnded: number;
  then: unknown;
}

function warmupSchedule(
  spec: Extract<ScheduleSpec, { type: 'warmup' }>,
  base: number,
  epochs: number,
): Schedule {
  const warm = spec.epochs;
  // `then` runs on its own clock over the remaining epochs (kept > 0 so its
  // formulas stay finite when the warmup fills the whole phase and `then` is never used).
  const rest = createSchedule(spec.then, base, Math.max(epochs - warm, Number.EPSILON));
  let epochsEnded = 0;
  const schedule: Schedule = {
    valueAt(t) {
      if (t < warm) return linearBetween(spec.from, base, t / warm);
      return rest.valueAt(t - warm);
    },
    endEpoch(report) {
      epochsEnded += 1;
      // Only epochs that reached past the warmup belong to `then`'s clock; the last
      // one inside it is where `then` starts from, so it is `then`'s baseline.
      if (epochsEnded > warm) rest.endEpoch(report);
      else if (epochsEnded + 1 > warm) rest.baseline?.(report);
    },
    getState: (): WarmupState => ({ type: 'warmup', epochsEnded, then: rest.getState() }),
    setState(raw) {
      if (!isRecord(raw) || raw['type'] !== 'warmup' || typeof raw['epochsEnded'] !== 'number') {
        throw stateError('warmup', raw);
      }
      rest.setState(raw['then']);
      epochsEnded = raw['epochsEnded'];
    },
  };
  // Without a warmup, the phase's own baseline is `then`'s.
  const restBaseline = rest.baseline;
  if (warm <= 0 && restBaseline !== undefined) schedule.baseline = (report) => restBaseline.call(rest, report);
  return schedule;
}

// ------------------------------------------------------------ onecycle

function onecycleValue(spec: Extract<ScheduleSpec, { type: 'onecycle' }>, base: number, fraction: number): number {
  // base -> peak over [0, pct), peak -> end over [pct, 1), both half-cosine.
  if (fraction < spec.pct) return cosineBetween(base, spec.peak, fraction / spec.pct);
  if (spec.pct >= 1) return spec.peak;
  return cosineBetween(spec.peak, spec.end, clamp01((fraction - spec.pct) / (1 - spec.pct)));
}

// ------------------------------------------------------------ anneal

function annealValue(spec: Extract<ScheduleSpec, { type: 'anneal' }>, base: number, fraction: number): number {
  if (fraction < spec.from || spec.from >= 1) return base;
  const p = clamp01((fraction - spec.from) / (1 - spec.from));
  return spec.shape === 'cosine' ? cosineBetween(base, spec.to, p) : linearBetween(base, spec.to, p);
}

// ------------------------------------------------------------ factory

/** Parameters that would make a formula NaN or meaningless (the compiler should already refuse them). */
function parameterProblem(spec: ScheduleSpec): string | null {
  switch (spec.type) {
    case 'step':
      return spec.every > 0 ? null : `step every must be > 0, got ${spec.every}`;
    case 'warmup':
      return spec.epochs >= 0 ? null : `warmup epochs must be >= 0, got ${spec.epochs}`;
    case 'onecycle':
      return spec.pct >= 0 && spec.pct <= 1 ? null : `onecycle pct must be in [0, 1], got ${spec.pct}`;
    case 'anneal':
      return spec.from >= 0 && spec.from <= 1 ? null : `anneal from must be in [0, 1], got ${spec.from}`;
    case 'plateau':
      return spec.factor > 0 && spec.factor <= 1 && spec.patience >= 0
        ? null
        : `plateau needs factor in (0, 1] and patience >= 0, got ${spec.factor} and ${spec.patience}`;
    default:
      return null;
  }
}

/**
 * A schedule for one phase of `epochs` epochs, starting from `base` (the
 * optimizer's lr or momentum). `mi` with `boundsFrom: 'lr_find'` must first go
 * through `withBounds`; otherwise this throws.
 */
export function createSchedule(spec: ScheduleSpec, base: number, epochs: number): Schedule {
  if (!(epochs > 0)) throw new RangeError(`a schedule needs a phase of > 0 epochs, got ${epochs}`);
  const problem = parameterProblem(spec);
  if (problem !== null) throw new RangeError(problem);
  switch (spec.type) {
    case 'constant':
      return stateless(() => base);
    case 'step':
      return stateless((t) => base * spec.factor ** Math.floor(t / spec.every));
    case 'multistep':
      return stateless((t) => base * spec.factor ** spec.milestones.filter((m) => m <= t).length);
    case 'exponential':
      // Decays once per epoch (like PyTorch's ExponentialLR), constant within an epoch.
      return stateless((t) => base * spec.gamma ** Math.floor(t));
    case 'cosine':
      return stateless((t) => cosineBetween(base, spec.to, clamp01(t / epochs)));
    case 'linear':
      return stateless((t) => linearBetween(base, spec.to, clamp01(t / epochs)));
    case 'warmup':
      return warmupSchedule(spec, base, epochs);
    case 'onecycle':
      return stateless((t) => onecycleValue(spec, base, clamp01(t / epochs)));
    case 'anneal':
      return stateless((t) => annealValue(spec, base, clamp01(t / epochs)));
    case 'plateau':
      return plateauSchedule(spec, base);
    case 'mi':
      if (spec.boundsFrom === 'lr_find') {
        throw new Error(
          "mi(bounds: lr_find) needs the LR range test's bounds: pass the spec through withBounds() first",
        );
      }
      return miSchedule(spec);
    case 'layerwise':
      // One group's lr; the trainer makes one schedule per partition group.
      return miSchedule({ max: spec.max, min: spec.min, threshold: spec.threshold, start: null });
  }
}
