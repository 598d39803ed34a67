/**
 * A trained run folder read as a model: its IR (ir.json), how it was started (run.json),
 * and the header of its best epoch's checkpoint (best.bin) or its last one
 * (checkpoint.bin), checked against the IR. What `mono evaluate`, `predict` and `export`
 * start from. The weights are read later, by what needs them: straight into a network
 * (loadNetwork: evaluate, predict) or into arrays (readRunWeights: export, which makes no
 * tensors); the file's checksum is checked then.
 */
import path from 'node:path';
import type { IR } from '../../ir/types.js';
import { BEST_CHECKPOINT_FILE, CHECKPOINT_FILE, entryMismatches, hasCheckpoint, readCheckpoint, readCheckpointHeader, type CheckpointHeader, type InputNormalization } from '../checkpoint.js';
import type { NamedWeights } from '../graph.js';
import { loadDataFor } from '../data/dataset.js';
import { RuntimeFailure } from '../errors.js';
import { readRunInfo, readRunIr, type RunInfo } from '../run-folder.js';

/** `best`: best.bin, the run's best epoch by the plan's `best` metric; `last`: checkpoint.bin. */
export type CheckpointChoice = 'best' | 'last';

export interface RunModel {
  dir: string;
  ir: IR;
  info: RunInfo;
  /** The checkpoint's header (its values are read by loadNetwork or readRunWeights). */
  checkpoint: CheckpointHeader;
  /** Which checkpoint was read, and its file. */
  which: CheckpointChoice;
  file: string;
  /** The epoch its weights are from, in words: `finetune epoch 4, val_acc 97.60%`, `p2 epoch 3`, `after phase p1`. */
  epoch: string;
  /** Why the best checkpoint was not used when it was the default (the run has none yet). */
  note?: string;
}

export interface OpenRunOptions {
  /** Which checkpoint; default the best, falling back to the last (with a note) when the run has no best.bin. */
  checkpoint?: CheckpointChoice;
}

/** Opens a run folder as a model; a folder without a checkpoint, or one that does not fit its IR, is a RuntimeFailure. */
export async function openRun(dir: string, options: OpenRunOptions = {}): Promise<RunModel> {
  const [ir, info] = await Promise.all([readRunIr(dir), readRunInfo(dir)]);
  const hasLast = await hasCheckpoint(dir, CHECKPOINT_FILE);
  const hasBest = await hasCheckpoint(dir, BEST_CHECKPOINT_FILE);
  if (!hasLast && !hasBest) {
    throw new RuntimeFailure(`${dir} has no checkpoint: its run completed no epoch (continue it with mono run --resume ${dir})`);
  }
  let which: CheckpointChoice;
  let note: string | undefined;
  if (options.checkpoint === 'last') which = 'last';
  else if (hasBest) which = 'best';
  else if (options.checkpoint === 'best') {
    throw new RuntimeFailure(`${dir} has no ${BEST_CHECKPOINT_FILE} yet: ${whyNoBest(ir)}; use --checkpoint last`);
  } else {
    which = 'last';
    note = `no ${BEST_CHECKPOINT_FILE} yet (${whyNoBest(ir)}): using the last checkpoint`;
  }
  const file = which === 'best' ? BEST_CHECKPOINT_FILE : CHECKPOINT_FILE;
  const checkpoint = await readCheckpointHeader(dir, { file });
  const expected = ir.parameters.filter((p, i, all) => all.findIndex((q) => q.name === p.name) === i).map((p) => ({ name: p.name, kind: 'weight' as const, shape: p.shape }));
  const problems = entryMismatches(checkpoint.tensors.filter((t) => t.kind === 'weight'), expected);
  if (problems.length > 0) {
    const shown = problems.slice(0, 3).join('; ') + (problems.length > 3 ? `; and ${problems.length - 3} more` : '');
    throw new RuntimeFailure(`${path.join(dir, file)} does not fit the run's ${path.join(dir, 'ir.json')}: ${shown}`);
  }
  return { dir, ir, info, checkpoint, which, file: path.join(dir, file), epoch: describeEpoch(ir, checkpoint, which), ...(note ? { note } : {}) };
}

/** The run's weights as arrays, read and checked (the whole file's checksum): for a reader that makes no tensors (export). */
export async function readRunWeights(run: RunModel): Promise<NamedWeights[]> {
  return (await readCheckpoint(run.dir, { file: path.basename(run.file), weightsOnly: true })).weights;
}

function whyNoBest(ir: IR): string {
  const metric = ir.best?.metric ?? 'val_acc';
  return ir.data.holdout === 0
    ? 'the plan holds out no data to choose the best epoch with'
    : `best.bin is written once an epoch trained through the network's own output (not a proxy head) has a ${metric}`;
}

const percent = (value: number) => `${(value * 100).toFixed(2)}%`;

function describeEpoch(ir: IR, checkpoint: CheckpointHeader, which: CheckpointChoice): string {
  const best = checkpoint.state.best;
  const { phaseIndex, nextEpoch } = checkpoint.state;
  if (which === 'best' && best) return `${best.phase} epoch ${best.epoch}, ${best.metric} ${best.metric === 'val_acc' ? percent(best.value) : best.value.toFixed(4)}`;
  if (phaseIndex >= ir.phases.length) return `the end of the run (${ir.phases[ir.phases.length - 1]?.name ?? 'no phase'})`;
  const phase = ir.phases[phaseIndex]!;
  if (nextEpoch === 0) return phaseIndex === 0 ? 'the start of the run' : `after phase ${ir.phases[phaseIndex - 1]!.name}`;
  return `${phase.name} epoch ${nextEpoch}`;
}

/**
 * The run's input normalisation: recorded in its checkpoint, or (checkpoints from before
 * it was recorded) computed again from its data as the run did, deterministically.
 */
export async function runNormalization(run: RunModel, options: { cacheDir?: string } = {}): Promise<InputNormalization> {
  if (run.checkpoint.normalization) return run.checkpoint.normalization;
  const data = await loadDataFor(run.ir, { baseDir: path.dirname(run.info.planFile), ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}) });
  return { mean: data.mean, std: data.std };
}
