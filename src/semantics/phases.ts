import { didYouMean } from '../diagnostics/suggest.js';
import type { LrMultiplier, OptimizerSpec, PhaseSpec, ScheduleSpec, SynapseCostSpec } from '../ir/types.js';
import type { PhaseDeclaration } from '../syntax/ast.js';
import { optimizerCatalog, regularizerCatalog } from './catalog/optimizers.js';
import { SCHEDULE_VALUE } from './catalog/schedules.js';
import type { Environment } from './environment.js';
import { evaluate, evaluateArguments } from './evaluate.js';
import type { Layout } from './layout.js';
import type { Reporter } from './reporter.js';
import { resolveSchedule } from './schedules.js';
import { firstSettings, settingValues } from './settings.js';
import type { BoundArguments } from './signature.js';
import { bindArguments, numberArg } from './signature.js';
import type { SymbolTable } from './symbols.js';
import { coerce, T } from './types.js';
import type { CallValue } from './values.js';

export interface PhaseContext {
  symbols: SymbolTable;
  /** The data's incremental tasks (undefined: none, or the data block has errors). */
  tasks?: readonly (readonly number[])[];
  layout: Layout;
  env: Environment;
  reporter: Reporter;
  /** Whether a glob (or section/partition name) matches any parameter: unmatched ones get a warning. */
  matchesAnyParameter(pattern: string): boolean;
}

/** Resolves every phase of the schedule to its IR spec (trainable sets, optimizer, schedules). */
export function resolvePhases(context: PhaseContext): PhaseSpec[] {
  const schedule = context.symbols.schedule;
  if (schedule === undefined) return [];
  const seen = new Map<string, number>();
  const phases: PhaseSpec[] = [];
  const partitionNames = context.layout.partitions.map((partition) => partition.name);
  const trained = new Set<string>();
  for (const declaration of schedule.phases) {
    const phase = resolvePhase(declaration, partitionNames, trained, context);
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

function resolvePhase(declaration: PhaseDeclaration, partitionNames: string[], trained: Set<string>, context: PhaseContext): PhaseSpec | undefined {
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
  if (epochs === undefined || optimizer === undefined) return undefined;
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
  };
}

interface ResolvedOptimizer {
  spec: OptimizerSpec;
  lr: ScheduleSpec;
  momentum: ScheduleSpec;
  lrMultipliers: LrMultiplier[];
}

function resolveOptimizer(declaration: PhaseDeclaration, epochs: number, context: PhaseContext): ResolvedOptimizer | undefined {
  const { reporter, env } = context;
  const call = declaration.optimizer;
  const signature = optimizerCatalog.get(call.callee.name);
  if (signature === undefined) return undefined; // reported by the name checks
  const args = bindArguments(signature, evaluateArguments(call.args, env, reporter), call.callee.loc, reporter);

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
      if (name === 'momentum' && call.callee.name !== 'msgd') {
        const why = call.callee.name === 'adam' ? 'adam has no momentum to schedule (it uses beta1)' : `${call.callee.name} has no momentum; use msgd`;
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
  if (momentumSetting && spec.type === 'msgd') momentum = resolveSchedule(momentumSetting, { target: 'momentum', base: spec.momentum, epochs }, reporter);
  if (lr === undefined || momentum === undefined) return undefined;
  return { spec, lr, momentum, lrMultipliers };
}

function optimizerSpec(name: string, lr: number, args: BoundArguments): OptimizerSpec {
  const weightDecay = numberArg(args, 'decay');
  switch (name) {
    case 'adam':
      return { type: 'adam', lr, beta1: numberArg(args, 'beta1'), beta2: numberArg(args, 'beta2'), epsilon: numberArg(args, 'eps'), weightDecay };
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
