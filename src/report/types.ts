/**
 * What the report knows of a run folder: the parts of its files that could be read.
 * These types are the report's own (structurally those the runtime writes), so that
 * src/report/ depends on src/ir/, src/summary/ and src/plot/ only, and the runtime
 * can call it without a cycle.
 */
import type { IR } from '../ir/types.js';

/** One line of metrics.jsonl, as far as the report uses it (see EpochMetrics in src/runtime/trainer.ts). */
export interface MetricsLine {
  phase: string;
  epoch: number;
  epochs: number;
  head: string;
  loss: number | null;
  acc: number | null;
  val_loss: number | null;
  val_acc: number | null;
  test_loss: number | null;
  test_acc: number | null;
  mi: number | null;
  lr: number | null;
  momentum: number | null;
  lr_groups: Record<string, number>;
  mi_groups: Record<string, number> | null;
  seconds: number | null;
  examples_per_s: number | null;
}

/** confusion.json: the latest hold-out evaluation of the trained head, counts[true class][predicted class]. */
export interface ConfusionRecord {
  phase: string;
  epoch: number;
  head: string;
  classes: number;
  examples: number;
  counts: number[][];
}

export interface RunInfoRecord {
  plan: string;
  planFile?: string;
  seed: number;
  set: Record<string, string>;
  backend: string;
  startedAt: string;
  initFrom?: string;
}

export interface RunFileEntry {
  name: string;
  bytes: number;
}

export interface RunRecord {
  /** The folder, absolute. */
  dir: string;
  /** How the report names it (the folder's name). */
  name: string;
  info: RunInfoRecord | null;
  ir: IR | null;
  /** plan.mono as run. */
  source: string | null;
  metrics: MetricsLine[];
  confusion: ConfusionRecord | null;
  /** The folder's files (not folders), sorted by name. */
  files: RunFileEntry[];
  /** run.lock is present: a mono process writes into the folder (or one was killed). */
  locked: boolean;
  /** What could not be read, in words (a missing ir.json, a damaged metrics line). */
  problems: string[];
}
