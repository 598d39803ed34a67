/**
 * What a run is built from, in one place for `mono run` (the session) and `mono lr-find`:
 * the plan's data (loaded and checked against the network unless given), and the
 * network initialised from stream 1 of the seed. The other streams of the seed (data
 * order and augmentation, dropout, the LR range test) are runRngs' (trainer.ts).
 */
import type { IR } from '../ir/types.js';
import { loadDataFor, type LoadedData } from './data/dataset.js';
import { Network } from './graph.js';
import { runRngs } from './trainer.js';

export interface RunSetupOptions {
  seed: number;
  /** Already loaded data (the CLI loads it before the run folder is made; tests); otherwise loaded from ir.data. */
  data?: LoadedData;
  /** Folder relative data paths start from (the plan's folder). */
  dataBaseDir?: string;
  /** mono's data cache (default: the process environment's). */
  cacheDir?: string;
  /** Checked between the data and the network (SIGINT while a large data set loads). */
  signal?: AbortSignal;
}

export interface RunSetup {
  data: LoadedData;
  /** Freshly initialised; the caller disposes it. */
  network: Network;
}

export async function setUpRun(ir: IR, options: RunSetupOptions): Promise<RunSetup> {
  options.signal?.throwIfAborted();
  const data =
    options.data ??
    (await loadDataFor(ir, {
      ...(options.dataBaseDir !== undefined ? { baseDir: options.dataBaseDir } : {}),
      ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
    }));
  options.signal?.throwIfAborted();
  return { data, network: new Network(ir, runRngs(options.seed).init) };
}
