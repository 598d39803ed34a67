/**
 * `mono evaluate`: a trained run measured on the source's test split (by default, when
 * the source has one) or on its hold-out split: loss, accuracy, per-class precision and
 * recall, the confusion matrix (also drawn as confusion.svg in the run folder), and the
 * mutual information between prediction and label of the network's output and of each
 * proxy head (each on the partitions up to it, as trained).
 */
import path from 'node:path';
import type { IR } from '../../ir/types.js';
import { confusionCounts, mutualInformation } from '../../optim/mutual-information.js';
import { renderHeatmap } from '../../plot/heatmap.js';
import type { BackendChoice } from '../backend-choices.js';
import { loadData, testSplitFiles, type Split } from '../data/dataset.js';
import { networkExpectation } from '../data/fit.js';
import { RuntimeFailure } from '../errors.js';
import { writeFileAtomically } from '../run-folder.js';
import { evaluate, ownHeadGraph } from '../step.js';
import { loadNetwork } from './network.js';
import { openRun, type CheckpointChoice } from './run-model.js';

export type { CheckpointChoice } from './run-model.js';

/** `test`: the source's own test split; `holdout`: the examples the plan held out of training. */
export type SplitChoice = 'test' | 'holdout';

export const CONFUSION_FILE = 'confusion.svg';

export interface EvaluateOptions {
  /** The run folder (absolute). */
  dir: string;
  /** Default: `test` when the source has a test split, else `holdout` (RunEvaluation.split.note says so). */
  split?: SplitChoice;
  checkpoint?: CheckpointChoice;
  backend?: BackendChoice;
  cacheDir?: string;
  /** The run is open and its data loaded: which checkpoint and split, before the network runs. */
  onReady?(info: Pick<RunEvaluation, 'checkpoint' | 'split'>): void;
}

export interface ClassScores {
  class: number;
  /** Of the examples predicted as this class, the share that are (null when none was predicted). */
  precision: number | null;
  /** Of the examples of this class, the share predicted as it (null when the split has none). */
  recall: number | null;
  /** Examples of this class in the split. */
  support: number;
}

export interface HeadInformation {
  /** `network` for the network's own output, else the proxy head's name (`p1.head`). */
  head: string;
  /** The partition it classifies the output of. */
  partition: string;
  loss: number;
  accuracy: number;
  /** I(prediction; label) in bits, and normalised by H(label). */
  bits: number;
  normalized: number;
}

export interface RunEvaluation {
  dir: string;
  plan: string;
  checkpoint: { which: CheckpointChoice; file: string; epoch: string; note?: string };
  split: { name: SplitChoice; examples: number; origin: string; note?: string };
  classes: number;
  loss: number;
  accuracy: number;
  perClass: ClassScores[];
  /** confusion[truth][predicted]: examples of class `truth` predicted as `predicted`. */
  confusion: number[][];
  /** The network's own output first, then each proxy head in partition order. */
  information: HeadInformation[];
  /** The confusion matrix drawn (confusion.svg in the run folder). */
  files: string[];
}

export async function evaluateRun(options: EvaluateOptions): Promise<RunEvaluation> {
  const run = await openRun(options.dir, options.checkpoint !== undefined ? { checkpoint: options.checkpoint } : {});
  const { ir } = run;
  const { split, name, note, origin } = await loadSplit(ir, options.split, path.dirname(run.info.planFile), options.cacheDir);
  const checkpoint = { which: run.which, file: run.file, epoch: run.epoch, ...(run.note ? { note: run.note } : {}) };
  const splitInfo = { name, examples: split.count, origin, ...(note ? { note } : {}) };
  options.onReady?.({ checkpoint, split: splitInfo });

  const { network } = await loadNetwork(run, options.backend !== undefined ? { backend: options.backend } : {});
  const information: HeadInformation[] = [];
  let confusion: Float64Array;
  let loss: number;
  let accuracy: number;
  try {
    const last = ir.partitions[ir.partitions.length - 1]!.name;
    const heads = [last, ...ir.partitions.filter((p) => p.head && p.name !== last).map((p) => p.name)];
    const outputs = [];
    for (const partition of heads) outputs.push({ partition, result: await evaluate(network, ownHeadGraph(network, partition)!, split, 500) });
    const own = outputs[0]!.result;
    confusion = confusionCounts(own.predicted, split.labels, ir.classes);
    loss = own.loss;
    accuracy = own.acc;
    for (const { partition, result } of outputs) {
      const mi = mutualInformation(confusionCounts(result.predicted, split.labels, ir.classes), ir.classes);
      const head = partition === last ? 'network' : ir.partitions.find((p) => p.name === partition)!.head!.name;
      information.push({ head, partition, loss: result.loss, accuracy: result.acc, bits: mi.bits, normalized: mi.normalized });
    }
  } finally {
    network.dispose();
  }
  // confusionCounts lays counts out [predicted][truth]; the report reads [truth][predicted].
  const classes = ir.classes;
  const table = Array.from({ length: classes }, (_, truth) => Array.from({ length: classes }, (_, predicted) => confusion[predicted * classes + truth]!));
  const perClass = table.map((row, c): ClassScores => {
    const support = row.reduce((a, b) => a + b, 0);
    const predictedAs = table.reduce((sum, r) => sum + r[c]!, 0);
    return { class: c, precision: predictedAs === 0 ? null : row[c]! / predictedAs, recall: support === 0 ? null : row[c]! / support, support };
  });
  const svg = renderHeatmap({
    title: `${ir.plan}: ${name === 'test' ? 'test split' : 'hold-out split'} (${split.count} examples), ${run.which} checkpoint, accuracy ${(accuracy * 100).toFixed(2)}%`,
    values: table,
    rows: table.map((_, c) => String(c)),
    columns: table.map((_, c) => String(c)),
    rowTitle: 'true class',
    columnTitle: 'predicted class',
  });
  const file = path.join(run.dir, CONFUSION_FILE);
  await writeFileAtomically(file, svg);
  return { dir: run.dir, plan: ir.plan, checkpoint, split: splitInfo, classes, loss, accuracy, perClass, confusion: table, information, files: [file] };
}

/** The split to evaluate on, loaded and normalised as the run's data was. */
async function loadSplit(ir: IR, wanted: SplitChoice | undefined, baseDir: string, cacheDir: string | undefined): Promise<{ split: Split; name: SplitChoice; note?: string; origin: string }> {
  const paths = { baseDir, ...(cacheDir !== undefined ? { cacheDir } : {}), network: networkExpectation(ir) };
  if (wanted === 'holdout') {
    if (ir.data.holdout === 0) throw new RuntimeFailure(`${ir.plan} holds out no examples (holdout 0), so there is no hold-out split to evaluate on; try --split test`);
    const data = await loadData({ ...ir.data, test: false }, paths);
    return { split: data.holdout, name: 'holdout', origin: data.origin };
  }
  // `test`, asked for or by default: the source's own, whether or not the plan evaluated on it.
  const data = await loadData({ ...ir.data, test: wanted === 'test' }, { ...paths, keepTest: true });
  if (data.test) return { split: data.test, name: 'test', origin: data.origin };
  if (ir.data.holdout === 0) throw new RuntimeFailure(`${data.origin} has no test split (${testSplitFiles(ir.data.source.type)}) and ${ir.plan} holds out no examples (holdout 0): nothing to evaluate on`);
  const files = testSplitFiles(ir.data.source.type);
  const why = files.startsWith('no test split') ? files : `no test split found (expected ${files})`;
  return { split: data.holdout, name: 'holdout', origin: data.origin, note: `${why}: evaluated on the hold-out split` };
}
