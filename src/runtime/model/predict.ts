/**
 * `mono predict`: a trained run's top classes for images and batches of examples
 * (inputs/read.ts turns files into examples), normalised with the run's own statistics
 * and run through the network's own output in inference mode.
 */
import path from 'node:path';
import type { BackendChoice } from '../backend-choices.js';
import { normalizeInPlace } from '../data/normalize.js';
import { readInputFile, type InputKind } from './inputs/read.js';
import { loadNetwork, predictProbabilities } from './network.js';
import { openRun, runNormalization, type CheckpointChoice } from './run-model.js';

export interface PredictOptions {
  /** The run folder (absolute). */
  dir: string;
  /** Files as named on the command line, resolved against `cwd`. */
  files: string[];
  cwd: string;
  /** Classes to report per example (clamped to the class count); default 3. */
  top?: number;
  checkpoint?: CheckpointChoice;
  backend?: BackendChoice;
  cacheDir?: string;
  /** Something was changed to fit the network (a resized image), or the best checkpoint was not there. */
  onWarning?(text: string): void;
  /** The run is open: which checkpoint (and why not the best), for a first line. */
  onOpened?(info: { which: CheckpointChoice; file: string; epoch: string; note?: string }): void;
}

export interface PredictionInput {
  file: string;
  kind: InputKind;
  /** 0-based position in a batch file; null for an image. */
  index: number | null;
}

export interface Prediction extends PredictionInput {
  /** The top classes, most probable first. */
  top: { class: number; probability: number }[];
}

export async function predictFiles(options: PredictOptions): Promise<Prediction[]> {
  const run = await openRun(options.dir, options.checkpoint !== undefined ? { checkpoint: options.checkpoint } : {});
  options.onOpened?.({ which: run.which, file: run.file, epoch: run.epoch, ...(run.note ? { note: run.note } : {}) });
  const shape = run.ir.input.shape;
  // Every file is read (and refused, naming it) before any tensor is made.
  const inputs = [];
  for (const file of options.files) {
    const examples = await readInputFile(path.resolve(options.cwd, file), file, shape);
    for (const warning of examples.warnings) options.onWarning?.(warning);
    inputs.push(examples);
  }
  const { mean, std } = await runNormalization(run, options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {});
  const total = inputs.reduce((sum, input) => sum + input.count, 0);
  const length = shape.reduce((a, b) => a * b, 1);
  const all = new Float32Array(total * length);
  let offset = 0;
  for (const input of inputs) {
    all.set(input.values, offset);
    offset += input.values.length;
  }
  normalizeInPlace({ images: all, labels: new Int32Array(0), count: total, shape }, mean, std);
  const { network } = await loadNetwork(run, options.backend !== undefined ? { backend: options.backend } : {});
  let probabilities: Float32Array;
  try {
    probabilities = await predictProbabilities(network, all, total);
  } finally {
    network.dispose();
  }
  const classes = run.ir.classes;
  const k = Math.min(options.top ?? 3, classes);
  const predictions: Prediction[] = [];
  let example = 0;
  for (const input of inputs) {
    for (let i = 0; i < input.count; i++, example++) {
      const row = Array.from(probabilities.subarray(example * classes, (example + 1) * classes), (probability, c) => ({ class: c, probability }));
      row.sort((a, b) => b.probability - a.probability || a.class - b.class);
      predictions.push({ file: input.file, kind: input.kind, index: input.kind === 'png' || input.kind === 'jpeg' ? null : i, top: row.slice(0, k) });
    }
  }
  return predictions;
}
