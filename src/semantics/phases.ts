import { didYouMean } from '../diagnostics/suggest.js';
import type { EarlyStopSpec, LrMultiplier, MonitoredMetric, NoiseProbeSpec, OptimizerSpec, PhaseSpec, ScheduleSpec, SynapseCostSpec } from '../ir/types.js';
import type { PhaseDeclaration } from '../syntax/ast.js';
import { optimizerCatalog, regularizerCatalog } from './catalog/optimizers.js';
import { PROBE_VALUE, probeCatalog } from './catalog/probes.js';
import { SCHEDULE_VALUE } from './catalog/schedules.js';
import { DEFAULT_BEST_METRIC, MONITORED_METRICS, STOP_VALUE, stoppingCatalog } from './catalog/stopping.js';
import type { Environment } from './environment.js';
import { evaluate, evaluateArguments } from './evaluate.js';
import type { Layout } from './layout.js';
import type { Reporter } from './reporter.js';
import { resolveSchedule } from './schedules.js';
import { firstSettings, settingValues } from './settings.js';
import type { BoundArguments } from './signature.js';
import { argumentLoc, bindArguments, booleanArg, numberArg, wordArg } from './signature.js';
import type { SymbolTable } from './symbols.js';
import { coerce, T } from './types.js';
import type { CallValue } from './values.js';
import { checkStdpLayers, stdpSpec, type StdpNetworkView } from './stdp.js';

export interface PhaseContext {
  symbols: SymbolTable;
  /** The data's incremental tasks (undefined: none, or the data block has errors). */
  tasks?: readonly (readonly number[])[];
  layout: Layout;
  env: Environment;
  reporter: Reporter;
  /** Whether a glob (or section/partition name) matches any parameter: unmatched ones get a warning. */
  matchesAnyParameter(pattern: string): boolean;
  /** Examples the data block holds out (undefined when it has errors): what `best` and `stop early` watch. */
  holdout: number | undefined;
  /** The expanded network, for the layer checks of `stdp` phases (undefined when it has errors). */
  stdp?: StdpNetworkView;
}

/**
 * The schedule's `best METRIC`: the hold-out metric that chooses the epoch best.bin
 * keeps (val_acc when absent). Needs hold-out data when written.
 */
export function resolveBestMetric(context: PhaseContext): MonitoredMetric {
  const setting = context.symbols.schedule === undefined ? undefined : firstSettings(context.symbols.schedule.settings).get('best');
  if (setting === undefined) return DEFAULT_BEST_METRIC;
  const values = settingValues(setting, [T.enum(...MONITORED_METRICS)], context.env, context.reporter);
  const metric = values?.[0]?.kind === 'word' ? (values[0].name as MonitoredMetric) : DEFAULT_BEST_METRIC;
  if (values !== undefined && context.holdout === 0) {
    context.reporter.error(
      'no-holdout',
      `'best ${metric}' chooses the best epoch by the hold-out ${metric === 'val_acc' ? 'accuracy' : 'loss'}, but the data block holds out no examples (holdout 0)`,
      setting.values[0]!.loc,
      "hold out examples with 'holdout N' in the data block, or remove 'best'",
    );
  }
  return metric;
}

/** Resolves every phase of the schedule to its IR spec (trainable sets, optimizer, schedules, early stop). */
export function resolvePhases(context: PhaseContext, bestMetric: MonitoredMetric = DEFAULT_BEST_METRIC): PhaseSpec[] {
  const schedule = context.symbols.schedule;
  if (schedule === undefined) return [];
  const seen = new Map<string, number>();
  const phases: PhaseSpec[] = [];
  const partitionNames = context.layout.partitions.map((partition) => partition.name);
  const trained = new Set<string>();
  for (const declaration of schedule.phases) {
    const phase = resolvePhase(declaration, partitionNames, trained, context, bestMetric);
    const taskSettings = resolveTaskSettings(declaration, context);
    if (phase === undefined || taskSettings === undefined) continue;
    const count = (seen.get(phase.name) ?? 0) + 1;
    seen.set(phase.name, count);
    if (count > 1) phase.name = `${phase.name}#${count}`;
    if (taskSettings.synapseCost) phase.synapseCost = taskSettings.synapseCost;
    if (!taskSettings.eachTask) {
      phases.push(phase);
      continue;
    }
    // `each task`: the phase runs once per task, in order, each on that task's classes.
    (context.tasks ?? []).forEach((_, task) => phases.push({ ...phase, name: `${phase.name}.task${task + 1}`, task }));
  }
  return phases;
}

interface TaskSettings {
  eachTask: boolean;
  synapseCost?: SynapseCostSpec;
}

/** `each task` and `regularize synapse_cost(...)` of a phase; undefined after reporting. */
function resolveTaskSettings(declaration: PhaseDeclaration, context: PhaseContext): TaskSettings | undefined {
  const { env, reporter } = context;
  const settings = firstSettings(declaration.settings);
  const result: TaskSettings = { eachTask: false };
  let ok = true;
  const each = settings.get('each');
  if (each !== undefined) {
    const value = settingValues(each, [EACH_VALUE], env, reporter)?.[0];
    if (value === undefined) ok = false;
    else if (context.tasks === undefined) {
      if (context.symbols.data !== undefined && !hasTasksSetting(context)) {
        reporter.error('no-tasks', "'each task' needs the data split into tasks", each.name.loc, "add 'tasks 5' (or 'tasks [0, 1], [2, 3], ...') to the data block");
      } else if (context.symbols.data === undefined) {
        reporter.error('no-tasks', "'each task' needs the data split into tasks, and the plan has no data block", each.name.loc, "add a data block with 'tasks 5' (or 'tasks [0, 1], [2, 3], ...')");
      }
      ok = false; // with a broken tasks setting, that setting's error says why
    } else result.eachTask = true;
  }
  const regularize = settings.get('regularize');
  if (regularize !== undefined) {
    const value = settingValues(regularize, [REGULARIZER_VALUE], env, reporter)?.[0];
    if (value?.kind !== 'call') return undefined;
    const signature = regularizerCatalog.get(value.callee)!;
    const args = bindArguments(signature, value.args, value.calleeLoc, reporter);
    if (args === undefined) return undefined;
    if (each === undefined) {
      reporter.error(
        'regularizer-needs-tasks',
        `${value.callee} consolidates each weight's importance at the end of a task, but this phase does not train task by task`,
        regularize.name.loc,
        "add 'each task' to the phase (and 'tasks ...' to the data block)",
      );
      return undefined;
    }
    result.synapseCost = { c: numberArg(args, 'c'), damping: numberArg(args, 'damping') };
  }
  return ok ? result : undefined;
}

const EACH_VALUE = T.enum('task');
const REGULARIZER_VALUE = T.call('regularizer', ...regularizerCatalog.keys());

function hasTasksSetting(context: PhaseContext): boolean {
  return context.symbols.data?.settings.some((setting) => setting.name.name === 'tasks') ?? false;
}

function resolvePhase(declaration: PhaseDeclaration, partitionNames: string[], trained: Set<string>, context: PhaseContext, bestMetric: MonitoredMetric): PhaseSpec | undefined {
  const { reporter, env } = context;
  const epochsValue = coerce(evaluate(declaration.epochs, env, reporter), T.positiveInt, 'the number of epochs', reporter);
  const epochs = epochsValue?.kind === 'number' ? epochsValue.value : undefined;

  let partition: string | null = null;
  let frozen: string[] = [];
  let trainable: string[];
  let head: PhaseSpec['head'] = 'network';
  if (declaration.mode === 'train') {
    const index = partitionNames.indexOf(declaration.target.name);
    if (index < 0) {
      // Reported by the name checks; the optimizer is still checked.
      resolveOptimizer(declaration, epochs ?? 1, context);
      return undefined;
    }
    partition = declaration.target.name;
    frozen = partitionNames.slice(0, index);
    trainable = [partition];
    head = index < partitionNames.length - 1 ? 'proxy' : 'network';
    const untrained = frozen.find((name) => !trained.has(name));
    if (untrained !== undefined) {
      reporter.warning(
        'phase-order',
        `partition '${partition}' is trained on the output of '${untrained}', which no earlier phase trains`,
        declaration.target.loc,
      );
    }
    trained.add(partition);
  } else {
    trainable = [...partitionNames];
    for (const name of partitionNames) trained.add(name);
  }

  const optimizer = resolveOptimizer(declaration, epochs ?? 1, context);
  if (optimizer?.spec.type === 'stdp') {
    head = 'none';
    if (partition !== null && context.stdp && !checkStdpLayers(partition, optimizer.spec, optimizer.args, declaration.optimizer.callee.loc, context.stdp, reporter)) return undefined;
  }
  const noiseProbe = resolveNoiseProbe(declaration, epochs ?? 1, context);
  const stopSetting = firstSettings(declaration.settings).get('stop');
  const earlyStop = stopSetting === undefined ? undefined : resolveEarlyStop(stopSetting, bestMetric, context);
  if (epochs === undefined || optimizer === undefined || earlyStop === null || noiseProbe === null) return undefined;
  return {
    name: declaration.mode === 'train' ? partition! : 'finetune',
    kind: declaration.mode,
    partition,
    epochs,
    frozen,
    trainable,
    head,
    optimizer: optimizer.spec,
    lr: optimizer.lr,
    momentum: optimizer.momentum,
    lrMultipliers: optimizer.lrMultipliers,
    ...(noiseProbe ? { noiseProbe } : {}),
    ...(earlyStop ? { earlyStop } : {}),
  };
}

/** `probe noise(examples:, top:, every:)`: undefined without one, null after reporting a problem. */
function resolveNoiseProbe(declaration: PhaseDeclaration, epochs: number, context: PhaseContext): NoiseProbeSpec | undefined | null {
  const { reporter, env } = context;
  const setting = declaration.settings.find((s) => s.name.name === 'probe');
  if (setting === undefined) return undefined;
  const values = settingValues(setting, [PROBE_VALUE], env, reporter);
  const call = values?.[0];
  if (call?.kind !== 'call') return null;
  const args = bindArguments(probeCatalog.get(call.callee)!, call.args, call.calleeLoc, reporter);
  if (args === undefined) return null;
  const spec = { examples: numberArg(args, 'examples'), top: numberArg(args, 'top'), every: numberArg(args, 'every') };
  let ok = true;
  if (spec.examples < 2) {
    reporter.error('value-out-of-range', `the noise probe needs at least 2 examples for a covariance, but got ${spec.examples}`, argumentLoc(args, 'examples', call.calleeLoc), 'the covariance of n examples has rank at most n - 1; the default is 256');
    ok = false;
  }
  if (spec.top > spec.examples) {
    reporter.error(
      'value-out-of-range',
      `top: ${spec.top} asks for more eigenvalues than ${spec.examples} examples give (the covariance has rank at most ${spec.examples - 1})`,
      argumentLoc(args, 'top', call.calleeLoc),
    );
    ok = false;
  }
  if (spec.every > epochs) {
    reporter.warning('probe-every', `every: ${spec.every} is longer than the phase's ${epochs} epoch(s): the probe runs once, after the last epoch`, argumentLoc(args, 'every', call.calleeLoc));
  }
  return ok ? spec : null;
}

/** `stop early(monitor:, patience:, restore:, min_delta:)`; null after reporting a problem. */
function resolveEarlyStop(setting: PhaseDeclaration['settings'][number], bestMetric: MonitoredMetric, context: PhaseContext): EarlyStopSpec | null {
  const { env, reporter } = context;
  const values = settingValues(setting, [STOP_VALUE], env, reporter);
  const call = values?.[0];
  if (call?.kind !== 'call') return null;
  const signature = stoppingCatalog.get(call.callee);
  if (signature === undefined) return null;
  const args = bindArguments(signature, call.args, call.calleeLoc, reporter);
  if (args === undefined) return null;
  const monitor = (wordArg(args, 'monitor') as MonitoredMetric | undefined) ?? bestMetric;
  if (context.holdout === 0) {
    reporter.error(
      'no-holdout',
      `stop early watches the hold-out ${monitor === 'val_acc' ? 'accuracy' : 'loss'} (${monitor}), but the data block holds out no examples (holdout 0)`,
      argumentLoc(args, 'monitor', call.calleeLoc),
      "hold out examples with 'holdout N' in the data block",
    );
    return null;
  }
  return { monitor, patience: numberArg(args, 'patience'), minDelta: numberArg(args, 'min_delta'), restore: booleanArg(args, 'restore') };
}

interface ResolvedOptimizer {
  spec: OptimizerSpec;
  lr: ScheduleSpec;
  momentum: ScheduleSpec;
  lrMultipliers: LrMultiplier[];
  args: BoundArguments;
}

function resolveOptimizer(declaration: PhaseDeclaration, epochs: number, context: PhaseContext): ResolvedOptimizer | undefined {
  const { reporter, env } = context;
  const call = declaration.optimizer;
  const signature = optimizerCatalog.get(call.callee.name);
  if (signature === undefined) return undefined; // reported by the name checks
  const args = bindArguments(signature, evaluateArguments(call.args, env, reporter), call.callee.loc, reporter);
  if (call.callee.name === 'stdp') {
    // No lr, momentum or multipliers: the phase's gradient settings are refused by checkStdpPhase.
    return args === undefined ? undefined : { spec: stdpSpec(args), lr: { type: 'constant' }, momentum: { type: 'constant' }, lrMultipliers: [], args };
  }

  // `lr: mi(max: ...)` gives both the base lr (its max) and the lr schedule.
  const lrValue = args?.get('lr');
  let baseLr = lrValue?.kind === 'number' ? lrValue.value : undefined;
  let lrCall: CallValue | undefined;
  if (lrValue?.kind === 'call') {
    lrCall = lrValue;
    const max = lrValue.args.find((arg) => arg.name === 'max')?.value;
    if (max?.kind === 'number') baseLr = max.value;
    else {
      reporter.error('missing-argument', `${lrValue.callee} as the optimizer's lr needs 'max' (the base learning rate)`, lrValue.calleeLoc);
      return undefined;
    }
  }

  let ok = args !== undefined && baseLr !== undefined;
  let lr: ScheduleSpec | undefined = { type: 'constant' };
  let momentum: ScheduleSpec | undefined = { type: 'constant' };
  const lrMultipliers: LrMultiplier[] = [];
  const settings = new Map<string, CallValue>();
  for (const setting of declaration.settings) {
    const name = setting.name.name;
    if (name === 'lr' || name === 'momentum') {
      if (settings.has(name)) continue; // a duplicate, reported by the name checks
      if (name === 'momentum' && call.callee.name !== 'msgd' && call.callee.name !== 'rmsprop') {
        const why = call.callee.name === 'adam' ? 'adam has no momentum to schedule (it uses beta1)' : `${call.callee.name} has no momentum; use msgd (or rmsprop with momentum)`;
        reporter.error('no-momentum', why, setting.name.loc);
        ok = false;
        continue;
      }
      const values = settingValues(setting, [SCHEDULE_VALUE], env, reporter);
      if (values?.[0]?.kind === 'call') settings.set(name, values[0]);
      else ok = false;
    } else if (name === 'lr_mult') {
      const multiplier = resolveLrMultiplier(setting, context);
      if (multiplier) lrMultipliers.push(multiplier);
      else ok = false;
    }
  }
  if (!ok || args === undefined || baseLr === undefined) return undefined;

  const lrSetting = settings.get('lr');
  if (lrSetting && lrCall) {
    reporter.warning('lr-schedule-overridden', `the phase's lr schedule replaces ${lrCall.callee}(...) given as the optimizer's lr; only its max is kept`, lrSetting.calleeLoc);
  }
  const lrSource = lrSetting ?? lrCall;
  if (lrSource) lr = resolveSchedule(lrSource, { target: 'lr', base: baseLr, epochs }, reporter);
  const spec = optimizerSpec(call.callee.name, baseLr, args);
  const momentumSetting = settings.get('momentum');
  if (momentumSetting && (spec.type === 'msgd' || spec.type === 'rmsprop')) momentum = resolveSchedule(momentumSetting, { target: 'momentum', base: spec.momentum, epochs }, reporter);
  if (lr === undefined || momentum === undefined) return undefined;
  return { spec, lr, momentum, lrMultipliers, args };
}

function optimizerSpec(name: string, lr: number, args: BoundArguments): OptimizerSpec {
  const weightDecay = numberArg(args, 'decay');
  switch (name) {
    case 'adam':
      return { type: 'adam', lr, beta1: numberArg(args, 'beta1'), beta2: numberArg(args, 'beta2'), epsilon: numberArg(args, 'eps'), weightDecay };
    case 'rmsprop':
      return { type: 'rmsprop', lr, rho: numberArg(args, 'rho'), epsilon: numberArg(args, 'eps'), momentum: numberArg(args, 'momentum'), weightDecay };
    case 'sgd': {
      const eta = numberArg(args, 'lars');
      return { type: 'sgd', lr, momentum: 0, weightDecay, lars: eta > 0 ? { eta } : null };
    }
    default: {
      const eta = numberArg(args, 'lars');
      return { type: 'msgd', lr, momentum: numberArg(args, 'momentum'), weightDecay, lars: eta > 0 ? { eta } : null };
    }
  }
}

/** `lr_mult "glob", factor` or `lr_mult section_or_partition, factor`. */
function resolveLrMultiplier(setting: PhaseDeclaration['settings'][number], context: PhaseContext): LrMultiplier | undefined {
  const { symbols, layout, env, reporter } = context;
  const values = settingValues(setting, [T.any, T.nonNegative], env, reporter);
  if (values === undefined) return undefined;
  const [target, factor] = values as [(typeof values)[number], (typeof values)[number]];
  if (factor.kind !== 'number') return undefined;
  if (target.kind === 'word') {
    const names = [...symbols.sections.keys(), ...layout.partitions.map((partition) => partition.name)];
    if (!names.includes(target.name)) {
      reporter.error('unknown-name', `lr_mult: '${target.name}' is not a section or partition; write a glob over parameter names as a string`, target.loc, didYouMean(target.name, names));
      return undefined;
    }
    return { pattern: target.name, factor: factor.value };
  }
  if (target.kind !== 'string') {
    if (target.kind !== 'error')
      reporter.error('type-mismatch', "lr_mult expects a glob string (\"stage1.*\") or a section or partition name", target.loc);
    return undefined;
  }
  if (!context.matchesAnyParameter(target.value)) {
    const hint = target.value.includes('/') ? "parameter names use '.' between parts, e.g. 'stage1.basic1.conv1.kernel'" : undefined;
    reporter.warning('lr-mult-no-match', `lr_mult pattern "${target.value}" matches no parameter, section or partition`, target.loc, hint);
  }
  return { pattern: target.value, factor: factor.value };
}
