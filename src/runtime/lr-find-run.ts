/**
 * `mono lr-find` below the command line: the LR range test for one phase of a compiled
 * plan, on the network, data and RNG streams a `mono run` of the same seed builds
 * (run-setup.ts, runRngs), so its sweep is the one `mono run` would make at that phase
 * from the same weights.
 */
import path from 'node:path';
import type { IR, PhaseSpec } from '../ir/types.js';
import { selectBackend } from './backend.js';
import type { BackendChoice } from './backend-choices.js';
import { phaseTrainSplit } from './data/tasks.js';
import type { Network } from './graph.js';
import { loadWeightsFile } from './load-checkpoint.js';
import { lrFindSummary, lrRangeTest, writeLrFindFiles, type LrFindOptions, type LrFindResult, type LrFindSummary } from './lr-find.js';
import { assertPhasesFit, webgpuMemoryOf } from './memory-check.js';
import { setUpRun } from './run-setup.js';
import { runRngs } from './trainer.js';

export interface FindLrOptions {
  ir: IR;
  phase: PhaseSpec;
  /** Absolute path of the plan file (relative data paths start from its folder). */
  planFile: string;
  /** Output folder (absolute). */
  out: string;
  seed: number;
  backend?: BackendChoice;
  /** A run folder (absolute) whose checkpoint's weights the sweep starts from. */
  initFrom?: string;
  sweep: Omit<LrFindOptions, 'onStep'>;
  cacheDir: string;
  events?: {
    /** Backend chosen, data loaded, network built (and --init-from loaded: how many parameters). */
    ready?(info: { backend: BackendChoice; loaded: number | undefined }): void;
    step?: LrFindOptions['onStep'];
  };
}

export interface FindLrOutcome {
  result: LrFindResult;
  summary: LrFindSummary;
  /** The files written into `out`. */
  files: string[];
}

export async function findLr(options: FindLrOptions): Promise<FindLrOutcome> {
  const { ir, phase, events = {} } = options;
  // The memory check first: it allocates nothing, the data set may be large.
  const backend = await selectBackend(options.backend !== undefined ? { force: options.backend } : {});
  assertPhasesFit(ir, backend.name, [phase], undefined, webgpuMemoryOf(backend.adapter));
  let network: Network | undefined;
  try {
    const setup = await setUpRun(ir, { seed: options.seed, dataBaseDir: path.dirname(options.planFile), cacheDir: options.cacheDir });
    network = setup.network;
    const loaded = options.initFrom !== undefined ? (await loadWeightsFile(network, options.initFrom)).loaded.length : undefined;
    events.ready?.({ backend: backend.name, loaded });
    const rng = runRngs(options.seed).lrFind(ir.phases.indexOf(phase));
    const result = await lrRangeTest(network, phaseTrainSplit(setup.data, ir, phase), phase, rng, { ...options.sweep, ...(events.step ? { onStep: events.step } : {}) });
    const files = await writeLrFindFiles(options.out, result);
    return { result, summary: lrFindSummary(result), files };
  } finally {
    network?.dispose();
  }
}
