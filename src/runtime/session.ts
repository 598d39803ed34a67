import type { IR } from '../ir/types.js';
import { planHash, removeStaleTemporaries, writeCheckpoint, type Checkpoint } from './checkpoint.js';
import { loadData, type LoadedData } from './data/dataset.js';
import { Network, type NamedWeights } from './graph.js';
import { appendMetrics, truncateMetrics } from './run-folder.js';
import { runRngs, Trainer, type BatchProgress, type EpochMetrics } from './trainer.js';

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
}

export interface SessionResult {
  /** Epochs run by this invocation. */
  epochs: number;
  /** Whether every phase has now run. */
  finished: boolean;
  last?: EpochMetrics;
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
  const data = options.data ?? (await loadData(ir.data, options.dataBaseDir !== undefined ? { baseDir: options.dataBaseDir } : {}));
  const network = new Network(ir, runRngs(seed).init);
  const hash = planHash(ir);
  const result: SessionResult = { epochs: 0, finished: false };
  try {
    const trainer = new Trainer({
      network,
      data,
      seed,
      hooks: {
        ...(options.onBatch ? { onBatch: options.onBatch } : {}),
        onEpoch: async (metrics) => {
          const metricsBytes = await appendMetrics(dir, metrics);
          await writeCheckpoint(dir, { planHash: hash, metricsBytes, state: trainer.getState(), weights: network.getWeights() });
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
