import fc from 'fast-check';

type Pick = <T>(items: readonly T[]) => T;
type Int = (min: number, max: number) => number;

/** Tracks the shape while generating, so that every generated network type-checks. */
interface Cursor {
  size: number;
  channels: number;
}

function layerItem(pick: Pick, int: Int, cursor: Cursor, width: number): string {
  const kind = pick(['block', 'repeat', 'shared', 'conv', 'residual'] as const);
  switch (kind) {
    case 'block': {
      const filters = pick([width, 2 * width]);
      const stride = cursor.size >= 2 && int(0, 1) === 1 ? 2 : 1;
      cursor.channels = filters;
      if (stride === 2) cursor.size = Math.ceil(cursor.size / 2);
      return stride === 2 ? `basic(${filters}, stride: 2)` : `basic(${filters})`;
    }
    case 'repeat': {
      const filters = pick([width, cursor.channels]);
      cursor.channels = filters;
      return `repeat ${int(1, 3)} basic(${filters})`;
    }
    case 'shared':
      return int(0, 1) === 0 ? `repeat ${int(2, 4)} shared basic(${cursor.channels})` : `repeat ${int(2, 3)} shared(scale: 0.5) basic(${cursor.channels})`;
    case 'conv': {
      const filters = pick([width, 2 * width]);
      cursor.channels = filters;
      return `conv(${filters}, ${pick([1, 3])}) bn ${pick(['relu', 'swish', 'tanh', 'leaky_relu(alpha: 0.1)'])}`;
    }
    case 'residual':
      return `residual(scale: 0.5) { conv(${cursor.channels}, 3) bn }`;
  }
}

function optimizer(pick: Pick): string {
  return pick([
    'msgd(lr: 0.1, momentum: 0.9, decay: 5e-4)',
    'msgd(lr: mi(max: 0.1, min: 1e-3))',
    'sgd(lr: 0.05)',
    'adam(lr: 1e-3)',
    'rmsprop(lr: 1e-3, momentum: 0.5) { momentum cosine(to: 0.1) }',
    'msgd(lr: 0.1) { lr cosine(to: 1e-3) momentum anneal(to: 0.5, from: 80%) }',
    'msgd(lr: 0.1, lars: 0.001) { lr warmup(epochs: 1, then: step(every: 2)) lr_mult "*.bias", 2 }',
    'msgd(lr: 0.2) { lr layerwise(mi) }',
    'sgd(lr: 0.05) { probe noise(examples: 64, top: 4, every: 2) }',
  ]);
}

/** An `stdp` phase's rule, the paper's defaults or a choice of its arguments. */
function stdpRule(pick: Pick): string {
  return pick(['stdp', 'stdp(a_plus: 0.01)', 'stdp(a_plus: 0.004, a_minus: 0.001, growth: 1.5, every: 100, a_max: 0.5)', 'stdp(winners: 2, batch: 4)']);
}

/**
 * Source text of a random valid plan: a small residual network cut into partitions with
 * proxy heads, sometimes after a partition of STDP features (binary units, no head).
 */
export function validPlanText(pick: Pick, int: Int): string {
  const size = pick([4, 8]);
  const inputChannels = pick([1, 3]);
  const classes = int(2, 10);
  const width = pick([2, 4]);
  const cursor: Cursor = { size, channels: width };
  const stdp = int(0, 2) === 0;
  const sections = stdp ? [`spikes: binary conv(${width}, 3, init: stdp_normal) binary(threshold: ${pick([1, 2.5])})`] : [];
  const featureSections = sections.length;
  sections.push(`stem: conv(${width}, 3) bn relu`);
  const middle = int(0, 3);
  for (let index = 1; index <= middle; index++) {
    const items = Array.from({ length: int(1, 3) }, () => layerItem(pick, int, cursor, width));
    sections.push(`s${index}: ${items.join(' ')}`);
  }
  sections.push(`out: ${pick(['global_avg_pool', 'flatten'])} dense(${classes})`);
  const names = sections.slice(featureSections).map((section) => section.slice(0, section.indexOf(':')));

  // Cut the sections into consecutive partitions.
  const cuts = names.slice(1).map(() => int(0, 2) === 0);
  const ranges: Array<[string, string]> = [];
  let first = names[0]!;
  names.forEach((name, index) => {
    const last = index === names.length - 1;
    if (last || cuts[index]) {
      ranges.push([first, name]);
      if (!last) first = names[index + 1]!;
    }
  });
  const partitions = ranges.map(([from, to], index) => {
    const range = from === to ? from : `${from} .. ${to}`;
    const proxy = index < ranges.length - 1 ? ` proxy ${pick([`gap(${classes})`, `mlp(${classes})`, `mlp(${classes}, hidden: 6)`])}` : '';
    return `partition p${index + 1} = ${range}${proxy}`;
  });
  const phases = ranges.map((_, index) => `  train p${index + 1} for ${int(1, 3)} epochs with ${optimizer(pick)}`);
  if (stdp) {
    partitions.unshift('partition features = spikes');
    phases.unshift(`  train features for ${int(1, 2)} epochs with ${stdpRule(pick)}`);
  }
  if (int(0, 1) === 1) phases.push(`  finetune all for 1 epoch with ${optimizer(pick)}`);
  const data =
    int(0, 1) === 1 ? `data synthetic(examples: 120, classes: ${classes}, shape: [${size}, ${size}, ${inputChannels}]) { batch 8 augment flip }` : '';

  return [
    `plan generated`,
    `param unused = ${int(0, 9)}`,
    data,
    'block basic(f, stride = 1) {',
    '  residual { conv(f, 3, stride: stride) bn relu conv(f, 3) bn }',
    '  relu',
    '}',
    'head gap(classes) { global_avg_pool dense(classes) }',
    'head mlp(classes, hidden = 8) { flatten dense(hidden) relu dense(classes) }',
    `network input [${size}, ${size}, ${inputChannels}] {`,
    ...sections.map((section) => `  ${section}`),
    '}',
    ...partitions,
    'schedule {',
    ...phases,
    '}',
    '',
  ].join('\n');
}

/** fast-check arbitrary of valid plan texts. */
export const validPlan: fc.Arbitrary<string> = fc.gen().map((g) =>
  validPlanText(
    (items) => g(fc.constantFrom, ...items),
    (min, max) => g(fc.integer, { min, max }),
  ),
);
