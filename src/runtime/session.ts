import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { IR } from '../ir/types.js';
import type { LrBounds } from '../optim/schedule.js';
import {
  BEST_CHECKPOINT_FILE,
  CHECKPOINT_FILE,
  planHash,
  removeStaleTemporaries,
  writeCheckpoint,
  type Checkpoint,
  type CheckpointHeader,
  type CheckpointIoOptions,
  type InputNormalization,
  type TensorMemory,
  type TensorToSave,
} from './checkpoint.js';
import type { LoadedData } from './data/dataset.js';
import { faultPoint } from './fault-points.js';
import type { Network, NamedWeights } from './graph.js';
import { writeLrFindFiles, type LrFindOptions } from './lr-find.js';
import { RuntimeFailure } from './errors.js';
import { loadWeightsFile, restoreCheckpoint, restoreCheckpointFile } from './load-checkpoint.js';
import { appendMetrics, LR_BOUNDS_FILE, readMetrics, resetMetrics, rewindMetrics, writeFileAtomically } from './run-folder.js';
import { writeRunPlots } from './run-plots.js';
import { CONFUSION_FILE, writeConfusion, writeRunViews } from './run-report.js';
import { setUpRun } from './run-setup.js';
import { tensorSource } from './tensor-memory.js';
import { Trainer, type BatchProgress, type EpochMetrics, type LrBoundsEvent } from './trainer.js';

export interface SessionOptions {
  ir: IR;
  /** The run folder (created by createRunFolder, or the one being resumed). */
  dir: string;
  seed: number;
  /**
   * Continue from this checkpoint (weights, optimizer, schedules, RNG, cursor): one held
   * in memory, or the header of the run folder's checkpoint.bin (readCheckpointHeader),
   * whose values are then read straight into the network's parameters (restoreCheckpointFile).
   */
  resume?: Checkpoint | CheckpointHeader;
  /**
   * Start from these weights (matching names and shapes), nothing else (--init-from): the
   * weights themselves, or a run folder whose checkpoint's weights are read straight into
   * the network (loadWeightsFile).
   */
  initFrom?: NamedWeights[] | string;
  /** Already loaded data (tests); otherwise loaded from ir.data. */
  data?: LoadedData;
  /** Folder relative data paths start from (the plan's folder). */
  dataBaseDir?: string;
  onBatch?(progress: BatchProgress): void;
  onEpoch?(metrics: EpochMetrics): void;
  /** Stop after this many epochs in this invocation (a checkpoint is written first). */
  maxEpochs?: number;
  /** Bounds for `mi(bounds: lr_find)` phases by phase name; other such phases run the LR range test. */
  lrBounds?: Record<string, LrBounds>;
  lrFind?: Omit<LrFindOptions, 'onStep'>;
  /** A phase's lr_find bounds are settled (its sweep's files, if any, are already written). */
  onLrBounds?(event: LrBoundsEvent & { files: string[] }): void;
  /**
   * Resume although the checkpoint does not fit the plan (tensors missing, renamed or
   * reshaped: the ones that fit are loaded, SessionResult.mismatches lists the rest),
   * or metrics.jsonl is shorter than it recorded (kept as it is).
   */
  force?: boolean;
  /**
   * Stops the run when aborted (SIGINT/SIGTERM): after the current step, or after the
   * checkpoint being written; the session then throws `signal.reason`.
   */
  signal?: AbortSignal;
  /** Chunk size of checkpoint writes (tests force small chunks). */
  checkpoint?: CheckpointIoOptions;
  /** A checkpoint being saved or read (resume, --init-from), for a progress bar: only large files (PROGRESS_MIN_BYTES). */
  onCheckpointProgress?(progress: CheckpointProgress): void;
}

/** How far a checkpoint's write or read has come. */
export interface CheckpointProgress {
  /** The file's path. */
  file: string;
  action: 'saving' | 'reading';
  done: number;
  total: number;
  bytesPerSecond: number;
}

export interface SessionResult {
  /** Epochs run by this invocation. */
  epochs: number;
  /** Whether every phase has now run. */
  finished: boolean;
  last?: EpochMetrics;
  /** The plots redrawn after the last epoch (metrics.svg, loss.svg, lr.svg); empty when no epoch ran. */
  plots: string[];
  /** Parameters taken from --init-from, and the ones that did not fit. */
  initialized?: { loaded: string[]; skipped: { name: string; reason: string }[] };
  /** A forced resume: how the checkpoint differed from the plan (empty when it fit). */
  mismatches?: string[];
}

/**
 * Trains an IR into a run folder: after every epoch, the metrics line is appended
 * (fsynced) and then the checkpoint is replaced atomically, recording how long
 * metrics.jsonl was. A kill between the two only loses that epoch: resuming cuts
 * the metrics back to the checkpoint's length and runs the epoch again.
 */
export async function runSession(options: SessionOptions): Promise<SessionResult> {
  const { ir, dir, seed, signal } = options;
  const { data, network } = await setUpRun(ir, {
    seed,
    ...(options.data ? { data: options.data } : {}),
    ...(options.dataBaseDir !== undefined ? { dataBaseDir: options.dataBaseDir } : {}),
    ...(signal ? { signal } : {}),
  });
  const hash = planHash(ir);
  const normalization: InputNormalization = { mean: data.mean, std: data.std };
  const result: SessionResult = { epochs: 0, finished: false, plots: [] };
  const io = (file: string, action: CheckpointProgress['action'], folder = dir) => withProgress(options, path.join(folder, file), action);
  let made: Trainer | undefined; // for the finally: the trainer holds slots and caches on the backend
  try {
    const trainer = new Trainer({
      network,
      data,
      seed,
      ...(options.lrBounds ? { lrBounds: options.lrBounds } : {}),
      ...(options.lrFind ? { lrFind: options.lrFind } : {}),
      hooks: {
        onBatch: (progress) => {
          signal?.throwIfAborted();
          options.onBatch?.(progress);
        },
        onLrBounds: async (event) => {
          // The sweep's curve goes next to the metrics; every phase's bounds into one file.
          const files = event.result ? await writeLrFindFiles(dir, event.result, `lr-find-${event.phase}`) : [];
          await recordLrBounds(dir, event);
          options.onLrBounds?.({ ...event, files });
        },
        // Before the epoch's metrics line and checkpoint: a kill between them repeats the
        // epoch on resume, which reaches the same weights and writes best.bin again.
        onBest: async (_best, trainer) => {
          await saveCheckpoint(dir, { planHash: hash, metricsBytes: 0, network, trainer, normalization, weightsOnly: true }, io(BEST_CHECKPOINT_FILE, 'saving'));
        },
        onEpoch: async (metrics) => {
          const metricsBytes = await appendMetrics(dir, metrics);
          await saveCheckpoint(dir, { planHash: hash, metricsBytes, network, trainer, normalization }, io(CHECKPOINT_FILE, 'saving'));
          faultPoint('checkpoint-written');
          // After the checkpoint, so the plots never delay what a crash would lose; from the whole file, so a resumed run's plots include the earlier epochs.
          const lines = await readMetrics(dir);
          result.plots = await writeRunPlots(dir, lines);
          await writeConfusion(dir, trainer.lastConfusion);
          await writeRunViews(dir, lines);
          result.epochs++;
          result.last = metrics;
          options.onEpoch?.(metrics);
          // The epoch is safe in its checkpoint: an interruption that came meanwhile stops here.
          signal?.throwIfAborted();
          return options.maxEpochs !== undefined && result.epochs >= options.maxEpochs ? 'stop' : undefined;
        },
      },
    });
    made = trainer;
    await removeStaleTemporaries(dir);
    if (options.resume) {
      const restore = { force: options.force ?? false, file: path.join(dir, CHECKPOINT_FILE) };
      result.mismatches =
        'weights' in options.resume
          ? restoreCheckpoint(network, trainer, options.resume, restore)
          : await restoreCheckpointFile(network, trainer, dir, restore, io(CHECKPOINT_FILE, 'reading'));
      await rewindMetrics(dir, options.resume.metricsBytes, { force: options.force ?? false });
    } else {
      // No checkpoint: nothing earlier counts (a run killed before its first epoch completed).
      await resetMetrics(dir);
      await fs.rm(path.join(dir, LR_BOUNDS_FILE), { force: true });
      await fs.rm(path.join(dir, CONFUSION_FILE), { force: true });
      if (typeof options.initFrom === 'string') result.initialized = await loadWeightsFile(network, options.initFrom, io(CHECKPOINT_FILE, 'reading', options.initFrom));
      else if (options.initFrom) result.initialized = network.setWeights(options.initFrom);
    }
    // metrics.csv and report.html follow metrics.jsonl as it now stands: cut back on a resume, empty on a start (not read then).
    await writeRunViews(dir, options.resume ? await readMetrics(dir) : []);
    await trainer.run();
    result.finished = trainer.finished;
    return result;
  } finally {
    made?.release();
    network.dispose();
    // The previous checkpoints writeCheckpoint keeps to overwrite: not needed once the run is over (a resumed run makes new ones).
    await removeStaleTemporaries(dir);
  }
}

/**
 * Writes the checkpoint of a network and its trainer between two epochs. Each tensor is
 * saved from the backend's own memory where it can be reached (tensorSource: cpu, wasm),
 * else read from the backend as the writer reaches it (webgpu, tfjs-node), so saving
 * takes at most one tensor's copy beyond the model, and none on cpu and wasm.
 */
export async function saveCheckpoint(
  dir: string,
  what: {
    planHash: string;
    metricsBytes: number;
    network: Network;
    trainer: Trainer;
    normalization?: InputNormalization;
    /** The parameters alone (best.bin): no optimizer slots, no early-stop copies. */
    weightsOnly?: boolean;
  },
  options: CheckpointIoOptions = {},
): Promise<void> {
  const { network, trainer } = what;
  const { state, slots, synapse } = trainer.stateForCheckpoint();
  const tensors: TensorToSave[] = [
    ...network.paramSpecs().map((spec): TensorToSave => ({ name: spec.name, kind: 'weight', shape: [...spec.shape], values: () => savedValues(network.variable(spec.name)) })),
  ];
  if (!what.weightsOnly) {
    tensors.push(...slots.map((slot): TensorToSave => ({ name: slot.name, kind: 'slot', shape: slot.shape, values: () => savedValues(slot.tensor) })));
    tensors.push(...trainer.earlyStopWeights().map((w): TensorToSave => ({ name: w.name, kind: 'best', shape: w.shape, values: () => w.values })));
    tensors.push(...synapse.map((tensor): TensorToSave => ({ name: tensor.name, kind: 'synapse', shape: tensor.shape, values: () => savedValues(tensor.tensor) })));
  }
  const { synapse: _synapse, ...withoutSynapse } = state;
  const saved = what.weightsOnly ? { ...withoutSynapse, optimizer: null, schedules: null, earlyStop: null, stdp: null } : state;
  await writeCheckpoint(dir, { planHash: what.planHash, metricsBytes: what.metricsBytes, state: saved, tensors, ...(what.normalization ? { normalization: what.normalization } : {}) }, options);
}

/**
 * Adds a phase's bounds and their source to LR_BOUNDS_FILE in the run folder (replaced
 * atomically). A damaged file is a RuntimeFailure rather than silently emptied: it is the
 * only record of where earlier phases' bounds came from.
 */
export async function recordLrBounds(dir: string, event: LrBoundsEvent): Promise<void> {
  const file = path.join(dir, LR_BOUNDS_FILE);
  const text = await fs.readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  let known: Record<string, unknown> = {};
  if (text !== undefined) {
    const damaged = (why: string) =>
      new RuntimeFailure(`${file} is damaged (${why}); it only records the lr bounds phases used (the checkpoint holds the ones in effect): move it aside and resume`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw damaged(`not JSON: ${(error as Error).message}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw damaged('not a JSON object');
    known = parsed as Record<string, unknown>;
  }
  if (event.source === 'checkpoint' && event.phase in known) return;
  known[event.phase] = { ...event.bounds, source: event.source, ...(event.rejected ? { lr_find_rejected: event.rejected } : {}) };
  await writeFileAtomically(file, JSON.stringify(known, null, 2) + '\n');
}

/** What a checkpoint writer saves of a tensor: its memory on the backend, or a copy read from the backend where that is out of reach. */
function savedValues(tensor: tf.Tensor): TensorMemory | Promise<Float32Array> {
  return tensorSource(tensor) ?? (tensor.data() as Promise<Float32Array>);
}

/** The checkpoint I/O options of one save or read: `file` (its name in the folder), and progress reported as CheckpointProgress when asked for. */
function withProgress(options: SessionOptions, file: string, action: CheckpointProgress['action']): CheckpointIoOptions {
  const io: CheckpointIoOptions = { ...options.checkpoint, file: path.basename(file) };
  const onCheckpointProgress = options.onCheckpointProgress;
  if (onCheckpointProgress === undefined) return io;
  const started = performance.now();
  return {
    ...io,
    onProgress: (done, total) => {
      const seconds = (performance.now() - started) / 1000;
      onCheckpointProgress({ file, action, done, total, bytesPerSecond: seconds > 0 ? done / seconds : 0 });
    },
  };
}
