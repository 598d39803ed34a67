import type { Augmentation, DataSource, DataSpec, Normalization, Shape } from '../ir/types.js';
import type { DataDeclaration } from '../syntax/ast.js';
import type { SourceRange } from '../syntax/location.js';
import { DATA_DEFAULTS, dataSourceCatalog, type DataSourceInfo } from './catalog/data.js';
import type { Environment } from './environment.js';
import { evaluateArguments } from './evaluate.js';
import type { Reporter } from './reporter.js';
import { firstSettings, settingValues } from './settings.js';
import { resolveTasks } from './tasks.js';
import { argumentLoc, bindArguments, defaults, numberArg, numberListArg, stringArg } from './signature.js';
import { formatShape, isFlat, isImage, sameShape } from './shapes.js';
import { coerce, T } from './types.js';
import type { Value } from './values.js';

export interface NetworkInterface {
  inputShape?: Shape;
  inputLoc: SourceRange;
  /** Units of the network's flat output, when known. */
  classes?: number;
  outputLoc: SourceRange;
}

export interface ResolvedData {
  spec: DataSpec;
  /** The source's class count when known before reading it. */
  classes?: number;
}

const AUGMENTATION = T.call('augmentation', 'crop', 'flip');
const CROP_SIGNATURE = { name: 'crop', params: [{ name: 'pad', type: T.nonNegativeInt, default: defaults.number(4) }] };
const NORMALIZATION = T.union(T.enum('per_channel', 'none'), T.call('normalization', 'fixed'));
const FIXED_SIGNATURE = {
  name: 'fixed',
  params: [
    { name: 'mean', type: T.list(T.number, 1) },
    { name: 'std', type: T.list(T.positive, 1) },
  ],
};

/**
 * The data spec with defaults filled in, checked against the network: the input
 * shape must be the examples' shape and the output units the class count. A plan
 * without a data block trains on synthetic data shaped to fit the network.
 */
export function resolveData(declaration: DataDeclaration | undefined, network: NetworkInterface, env: Environment, reporter: Reporter): ResolvedData | undefined {
  const source = resolveSource(declaration, network, env, reporter);
  if (source === undefined) return undefined;
  const { spec: sourceSpec, classes, examples } = source;
  // A source whose example shape is known only when read (idx) takes the network's for the checks below.
  const shape = source.shape ?? network.inputShape ?? [1];
  let ok = true;

  if (network.inputShape && source.shape && !sameShape(network.inputShape, source.shape)) {
    reporter.error(
      'input-shape-mismatch',
      `the network input ${formatShape(network.inputShape)} does not match the data: ${sourceSpec.type} examples are ${formatShape(source.shape)}`,
      network.inputLoc,
      isImage(source.shape) && isFlat(network.inputShape)
        ? `write 'network input ${formatShape(source.shape)}' and start the network with flatten to feed the images to dense layers`
        : `write 'network input ${formatShape(source.shape)}'`,
    );
    ok = false;
  }
  if (network.classes !== undefined && classes !== undefined && network.classes !== classes) {
    reporter.error(
      'class-count-mismatch',
      `the network outputs ${network.classes} values, but the data has ${classes} classes`,
      network.outputLoc,
    );
    ok = false;
  }

  const settings = firstSettings(declaration?.settings ?? []);
  const single = (name: string, type: Parameters<typeof coerce>[1]): Value | undefined => {
    const setting = settings.get(name);
    if (setting === undefined) return undefined;
    const values = settingValues(setting, [type], env, reporter);
    if (values === undefined) ok = false;
    return values?.[0];
  };
  const numberSetting = (name: string, type: Parameters<typeof coerce>[1], fallback: number): number => {
    const value = single(name, type);
    return value?.kind === 'number' ? value.value : fallback;
  };

  const batch = numberSetting('batch', T.positiveInt, DATA_DEFAULTS.batch);
  const seed = numberSetting('seed', T.nonNegativeInt, DATA_DEFAULTS.seed);
  const limit = numberSetting('limit', T.nonNegativeInt, DATA_DEFAULTS.limit);
  // The runtime takes the hold-out first and then caps the rest at `limit`, so the
  // hold-out competes with the whole training set, not with the limit.
  const holdoutValue = single('holdout', T.nonNegativeInt);
  const holdout =
    holdoutValue?.kind === 'number' ? holdoutValue.value : examples === undefined ? DATA_DEFAULTS.maxHoldout : Math.min(DATA_DEFAULTS.maxHoldout, Math.floor(examples / 10));
  if (holdoutValue?.kind === 'number' && examples !== undefined && holdout >= examples) {
    reporter.error('holdout-too-large', `holdout ${holdout} leaves no training examples: only ${examples} are available`, holdoutValue.loc);
    ok = false;
  }

  const testValue = single('test', T.boolean);
  const test = testValue?.kind === 'boolean' ? testValue.value : DATA_DEFAULTS.test;
  const noTestSplit = declaration === undefined ? undefined : dataSourceCatalog.get(sourceSpec.type)?.noTestSplit;
  if (test && testValue && noTestSplit !== undefined) {
    reporter.error('no-test-split', `'test true' evaluates on the source's own test split, but ${noTestSplit}`, testValue.loc);
    ok = false;
  }

  const normalize = resolveNormalization(single('normalize', NORMALIZATION), shape, reporter);
  if (normalize === undefined) ok = false;
  const augment = resolveAugmentations(settings.get('augment'), shape, env, reporter);
  if (augment === undefined) ok = false;
  const tasks = resolveTasks(settings.get('tasks'), settings.get('task_overlap'), classes ?? network.classes, env, reporter);
  if (tasks === null) ok = false;
  if (!ok || normalize === undefined || augment === undefined || tasks === null) return undefined;
  return { spec: { source: sourceSpec, batch, holdout, augment, normalize, seed, limit, test, ...(tasks ? { tasks } : {}) }, ...(classes !== undefined ? { classes } : {}) };
}

interface ResolvedSource {
  spec: DataSource;
  /** Undefined where only the files tell (idx). */
  shape?: Shape;
  classes?: number;
  examples?: number;
}

function resolveSource(declaration: DataDeclaration | undefined, network: NetworkInterface, env: Environment, reporter: Reporter): ResolvedSource | undefined {
  const fallbackShape = network.inputShape ?? [1];
  const fallbackClasses = network.classes ?? 10;
  if (declaration === undefined) {
    const examples = 1000;
    return { spec: { type: 'synthetic', examples, classes: fallbackClasses, shape: fallbackShape, noise: 0.1 }, shape: fallbackShape, classes: fallbackClasses, examples };
  }
  const node = declaration.source;
  const callee = node.kind === 'Call' ? node.callee : { name: node.name, loc: node.loc };
  const info = dataSourceCatalog.get(callee.name);
  if (info === undefined) return undefined; // reported by the name checks
  const args = bindArguments(info.signature, node.kind === 'Call' ? evaluateArguments(node.args, env, reporter) : [], callee.loc, reporter);
  if (args === undefined) return undefined;
  switch (callee.name) {
    case 'mnist':
      return { spec: { type: 'mnist' }, ...knownFacts(info) };
    case 'idx':
    case 'fashion_mnist':
    case 'cifar10': {
      const type = callee.name;
      return { spec: { type, path: stringArg(args, 'path') ?? '' }, ...knownFacts(info) };
    }
    default: {
      const examples = numberArg(args, 'examples');
      const shape = args.has('shape') ? numberListArg(args, 'shape') : fallbackShape;
      const classes = args.has('classes') ? numberArg(args, 'classes') : fallbackClasses;
      if (classes < 2) {
        reporter.error('value-out-of-range', `synthetic data needs at least 2 classes, but the network outputs ${classes}`, argumentLoc(args, 'classes', callee.loc));
        return undefined;
      }
      return { spec: { type: 'synthetic', examples, classes, shape, noise: numberArg(args, 'noise') }, shape, classes, examples };
    }
  }
}

/** What the catalog knows of a real source before reading it. */
function knownFacts(info: DataSourceInfo): Omit<ResolvedSource, 'spec'> {
  return {
    ...(info.shape ? { shape: info.shape } : {}),
    ...(info.classes !== undefined ? { classes: info.classes } : {}),
    ...(info.trainingExamples !== undefined ? { examples: info.trainingExamples } : {}),
  };
}

function resolveNormalization(value: Value | undefined, shape: Shape, reporter: Reporter): Normalization | undefined {
  if (value === undefined) return { type: 'per_channel' };
  if (value.kind === 'word') return value.name === 'none' ? { type: 'none' } : { type: 'per_channel' };
  if (value.kind !== 'call') return undefined;
  const args = bindArguments(FIXED_SIGNATURE, value.args, value.calleeLoc, reporter);
  if (args === undefined) return undefined;
  const mean = numberListArg(args, 'mean');
  const std = numberListArg(args, 'std');
  // Normalisation works along the last axis: channels of an image, features of a vector.
  const channels = shape[shape.length - 1] ?? 1;
  const unit = isImage(shape) ? 'channel' : 'feature';
  for (const [name, list] of [['mean', mean], ['std', std]] as const) {
    if (list.length !== 1 && list.length !== channels) {
      reporter.error(
        'normalization-length',
        `fixed normalization '${name}' needs 1 or ${channels} values (one per ${unit}), but has ${list.length}`,
        argumentLoc(args, name, value.calleeLoc),
      );
      return undefined;
    }
  }
  return { type: 'fixed', mean, std };
}

function resolveAugmentations(setting: DataDeclaration['settings'][number] | undefined, shape: Shape, env: Environment, reporter: Reporter): Augmentation[] | undefined {
  if (setting === undefined) return [];
  const augmentations: Augmentation[] = [];
  let ok = true;
  const values = settingValues(setting, setting.values.map(() => AUGMENTATION), env, reporter);
  if (values === undefined) return undefined;
  for (const value of values) {
    if (value.kind !== 'call') continue;
    if (!isImage(shape)) {
      reporter.error('augment-needs-images', `${value.callee} augments images, but the examples are ${formatShape(shape)}`, value.loc);
      ok = false;
      continue;
    }
    if (value.callee === 'flip') {
      if (value.args.length > 0) {
        reporter.error('too-many-arguments', 'flip takes no arguments', value.args[0]!.loc);
        ok = false;
      }
      augmentations.push({ type: 'flip' });
      continue;
    }
    const args = bindArguments(CROP_SIGNATURE, value.args, value.calleeLoc, reporter);
    if (args === undefined) ok = false;
    else augmentations.push({ type: 'crop', pad: numberArg(args, 'pad') });
  }
  return ok ? augmentations : undefined;
}

