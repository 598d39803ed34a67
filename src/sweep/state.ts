/**
 * The sweep folder and its `sweep.json`: what the sweep runs (arms, configurations,
 * trials) and where each trial stands. Only the sweep process writes it, whole, through
 * a temporary file and a rename, so a kill leaves the old version or the new one.
 *
 *   SWEEP/sweep.json          this record
 *   SWEEP/trials/<id>/        each trial's run folder (an ordinary `mono run` folder)
 *   SWEEP/logs/<id>.log       the output of every process that ran the trial
 *   SWEEP/results.csv, results.md, results.svg
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { RuntimeFailure } from '../runtime/errors.js';
import type { ExpandedArm, ExpandedConfig } from './expand.js';

export const SWEEP_FILE = 'sweep.json';
export const SWEEP_FORMAT = 1;

export type TrialState = 'pending' | 'running' | 'done' | 'failed';

export interface TrialResult {
  /** Hold-out accuracy after the last epoch (null without hold-out data). */
  finalValAcc: number | null;
  bestValAcc: number | null;
  /** Test-split accuracy at the end of the last phase (plans with `test true`). */
  finalTestAcc: number | null;
  epochs: number;
  /** Seconds in training steps (sum of the metrics lines' `seconds`). */
  trainSeconds: number;
}

export interface TrialRecord {
  id: string;
  config: string;
  arm: string;
  seed: number | null;
  state: TrialState;
  /** Processes started for it (a resumed trial counts each). */
  attempts: number;
  /** Epochs already done each time it was continued from its checkpoint (`mono run --resume`). */
  resumedAt: number[];
  /** Who ran it last: `local-2`, or a queue worker's name. */
  worker: string | null;
  /** Epochs done so far (from its metrics.jsonl). */
  epochsDone: number;
  startedAt: string | null;
  finishedAt: string | null;
  /** Wall-clock seconds of the attempts, summed. */
  wallSeconds: number;
  error: string | null;
  result: TrialResult | null;
}

export interface SweepRecord {
  format: number;
  /** Random id: names the sweep's jobs on a queue, and tells a worker it found the right folder. */
  id: string;
  name: string;
  createdAt: string;
  /** The sweep file's text, or the command line, as given. */
  source: { kind: 'file'; file: string; text: string } | { kind: 'args'; argv: string[] };
  backend: string | null;
  queue: { url: string; name: string } | null;
  arms: ExpandedArm[];
  configs: ExpandedConfig[];
  trials: TrialRecord[];
}

export const trialsDir = (sweepDir: string) => path.join(sweepDir, 'trials');
export const trialDir = (sweepDir: string, trialId: string) => path.join(sweepDir, 'trials', trialId);
export const trialLog = (sweepDir: string, trialId: string) => path.join(sweepDir, 'logs', `${trialId}.log`);

export function newSweepId(): string {
  return `sw${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
}

export function freshTrial(trial: { id: string; config: string; arm: string; seed: number | null }): TrialRecord {
  return { ...trial, state: 'pending', attempts: 0, resumedAt: [], worker: null, epochsDone: 0, startedAt: null, finishedAt: null, wallSeconds: 0, error: null, result: null };
}

export async function writeSweep(dir: string, record: SweepRecord): Promise<void> {
  const file = path.join(dir, SWEEP_FILE);
  const temporary = `${file}.tmp`;
  await fs.writeFile(temporary, JSON.stringify(record, null, 2) + '\n');
  await fs.rename(temporary, file);
}

export async function readSweep(dir: string): Promise<SweepRecord> {
  const file = path.join(dir, SWEEP_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new RuntimeFailure(`${dir} is not a sweep folder: it has no ${SWEEP_FILE}`);
    throw error;
  }
  let record: SweepRecord;
  try {
    record = JSON.parse(text) as SweepRecord;
  } catch (error) {
    throw new RuntimeFailure(`${file} is not valid JSON (${(error as Error).message}); expected the record mono sweep writes`);
  }
  if (record.format !== SWEEP_FORMAT || !Array.isArray(record.trials) || !Array.isArray(record.configs) || !Array.isArray(record.arms)) {
    throw new RuntimeFailure(`${file} is not a sweep record of format ${SWEEP_FORMAT} (trials, configs and arms expected)`);
  }
  return record;
}

/** Counts of trials per state. */
export function tally(trials: readonly TrialRecord[]): Record<TrialState, number> {
  const counts: Record<TrialState, number> = { pending: 0, running: 0, done: 0, failed: 0 };
  for (const trial of trials) counts[trial.state]++;
  return counts;
}
