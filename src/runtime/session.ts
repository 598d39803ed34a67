import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { IR } from '../ir/types.js';
import type { LrBounds } from '../optim/schedule.js';
import { planHash, removeStaleTemporaries, writeCheckpoint, type Checkpoint } from './checkpoint.js';
import { loadDataFor, type LoadedData } from './data/dataset.js';
import { Network, type NamedWeights } from './graph.js';
import { writeLrFindFiles, type LrFindOptions } from './lr-find.js';
import { RuntimeFailure } from './errors.js';
import { appendMetrics, LR_BOUNDS_FILE, readMetrics, truncateMetrics, writeFileAtomically } from './run-folder.js';
import { writeRunPlots } from './run-plots.js';
import { runRngs, Trainer, type BatchProgress, type EpochMetrics, type LrBoundsEvent } from './trainer.js';

export interface SessionOptions {
  ir: IR;
  /** The run folder (created by createRunFolder, or the one being resumed). */
  dir: string;
  seed: number;
  /** Continue from this checkpoint (weights, optimizer, schedules, RNG, cursor). */
  resume?: Checkpoint;
  /** Start from these weights (matching names and shapes), nothing else (--init-from). */
  initFrom?: NamedWeights[];
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
}

/**
 * Trains an IR into a run folder: after every epoch, the metrics line is appended
 * (fsynced) and then the checkpoint is replaced atomically, recording how long
 * metrics.jsonl was. A kill between the two only loses that epoch: resuming cuts
 * the metrics back to the checkpoint's length and runs the epoch again.
 */
export async function runSession(options: SessionOptions): Promise<SessionResult> {
  const { ir, dir, seed } = options;
  const data = options.data ?? (await loadDataFor(ir, options.dataBaseDir !== undefined ? { baseDir: options.dataBaseDir } : {}));
  const network = new Network(ir, runRngs(seed).init);
  const hash = planHash(ir);
  const result: SessionResult = { epochs: 0, finished: false, plots: [] };
  try {
    const trainer = new Trainer({
      network,
      data,
      seed,
      ...(options.lrBounds ? { lrBounds: options.lrBounds } : {}),
      ...(options.lrFind ? { lrFind: options.lrFind } : {}),
      hooks: {
        ...(options.onBatch ? { onBatch: options.onBatch } : {}),
        onLrBounds: async (event) => {
          // The sweep's curve goes next to the metrics; every phase's bounds into one file.
          const files = event.result ? await writeLrFindFiles(dir, event.result, `lr-find-${event.phase}`) : [];
          await recordLrBounds(dir, event);
          options.onLrBounds?.({ ...event, files });
        },
        onEpoch: async (metrics) => {
          const metricsBytes = await appendMetrics(dir, metrics);
          await writeCheckpoint(dir, { planHash: hash, metricsBytes, state: trainer.getState(), weights: network.getWeights() });
          // After the checkpoint, so the plots never delay what a crash would lose; from the whole file, so a resumed run's plots include the earlier epochs.
          result.plots = await writeRunPlots(dir, await readMetrics(dir));
          result.epochs++;
          result.last = metrics;
          options.onEpoch?.(metrics);
          return options.maxEpochs !== undefined && result.epochs >= options.maxEpochs ? 'stop' : undefined;
        },
      },
    });
    await removeStaleTemporaries(dir);
    if (options.resume) {
      network.setWeights(options.resume.weights);
      trainer.setState(options.resume.state);
      await truncateMetrics(dir, options.resume.metricsBytes);
    } else {
      await truncateMetrics(dir, 0);
      if (options.initFrom) result.initialized = network.setWeights(options.initFrom);
    }
    await trainer.run();
    result.finished = trainer.finished;
    return result;
  } finally {
    network.dispose();
  }
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
