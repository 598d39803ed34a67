/**
 * A sweep's results: each trial's final hold-out accuracy (from its metrics.jsonl), the
 * mean and spread over seeds per configuration, ranked, as results.csv (one line per
 * trial), results.md (one line per configuration, the best first) and results.svg.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { METRICS_FILE, parseEpochLines } from './trial-process.js';
import { errorBarPlot } from './plot.js';
import type { SweepRecord, TrialRecord, TrialResult } from './state.js';
import { trialDir } from './state.js';

export async function readTrialResult(runDir: string): Promise<TrialResult> {
  const text = await fs.readFile(path.join(runDir, METRICS_FILE), 'utf8').catch(() => '');
  return trialResultOf(parseEpochLines(text));
}

export function trialResultOf(lines: ReturnType<typeof parseEpochLines>): TrialResult {
  const accs = lines.map((l) => l.val_acc).filter((v): v is number => v !== null);
  const tests = lines.map((l) => l.test_acc).filter((v): v is number => v !== null);
  return {
    finalValAcc: lines.length > 0 ? lines[lines.length - 1]!.val_acc : null,
    bestValAcc: accs.length > 0 ? Math.max(...accs) : null,
    finalTestAcc: tests.length > 0 ? tests[tests.length - 1]! : null,
    epochs: lines.length,
    trainSeconds: lines.reduce((sum, l) => sum + l.seconds, 0),
  };
}

export interface Spread {
  n: number;
  mean: number;
  /** Sample standard deviation (n - 1); 0 for one value. */
  std: number;
  min: number;
  max: number;
}

export function spread(values: readonly number[]): Spread | null {
  if (values.length === 0) return null;
  const n = values.length;
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const variance = n > 1 ? values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1) : 0;
  return { n, mean, std: Math.sqrt(variance), min: Math.min(...values), max: Math.max(...values) };
}

export interface ConfigSummary {
  config: string;
  arm: string;
  set: Record<string, string>;
  trials: number;
  done: number;
  failed: number;
  /** Final hold-out accuracy over the finished trials' seeds. */
  finalValAcc: Spread | null;
  finalTestAcc: Spread | null;
  /** Why trials failed, once each. */
  errors: string[];
}

/**
 * One summary per configuration, ranked: configurations whose every trial finished
 * first, by mean final hold-out accuracy (higher first); then the others, the same way.
 */
export function summarizeConfigs(record: Pick<SweepRecord, 'configs' | 'trials'>): ConfigSummary[] {
  const summaries = record.configs.map((config): ConfigSummary => {
    const trials = record.trials.filter((t) => t.config === config.id);
    const finished = trials.filter((t) => t.state === 'done' && t.result !== null);
    const finals = finished.map((t) => t.result!.finalValAcc).filter((v): v is number => v !== null);
    const tests = finished.map((t) => t.result!.finalTestAcc).filter((v): v is number => v !== null);
    return {
      config: config.id,
      arm: config.arm,
      set: config.set,
      trials: trials.length,
      done: finished.length,
      failed: trials.filter((t) => t.state === 'failed').length,
      finalValAcc: spread(finals),
      finalTestAcc: spread(tests),
      errors: [...new Set(trials.flatMap((t) => (t.state === 'failed' && t.error ? [t.error] : [])))],
    };
  });
  const complete = (s: ConfigSummary) => s.done === s.trials && s.finalValAcc !== null;
  return summaries.sort((a, b) => Number(complete(b)) - Number(complete(a)) || (b.finalValAcc?.mean ?? -1) - (a.finalValAcc?.mean ?? -1) || a.config.localeCompare(b.config));
}

function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The params any configuration sets, in first-seen order. */
function paramNames(record: Pick<SweepRecord, 'configs'>): string[] {
  return [...new Set(record.configs.flatMap((c) => Object.keys(c.set)))];
}

/** One line per trial. */
export function resultsCsv(record: Pick<SweepRecord, 'configs' | 'trials'>): string {
  const params = paramNames(record);
  const configs = new Map(record.configs.map((c) => [c.id, c]));
  const header = ['trial', 'arm', 'config', ...params, 'seed', 'state', 'final_val_acc', 'best_val_acc', 'final_test_acc', 'epochs', 'train_seconds', 'wall_seconds', 'attempts', 'resumes', 'worker', 'error'];
  const rows = record.trials.map((t: TrialRecord) => {
    const set = configs.get(t.config)?.set ?? {};
    return [
      t.id,
      t.arm,
      t.config,
      ...params.map((p) => set[p] ?? null),
      t.seed,
      t.state,
      t.result?.finalValAcc ?? null,
      t.result?.bestValAcc ?? null,
      t.result?.finalTestAcc ?? null,
      t.result?.epochs ?? t.epochsDone,
      t.result ? Number(t.result.trainSeconds.toFixed(2)) : null,
      Number(t.wallSeconds.toFixed(2)),
      t.attempts,
      t.resumedAt.length,
      t.worker,
      t.error,
    ];
  });
  return [header.join(','), ...rows.map((row) => row.map(csvField).join(','))].join('\n') + '\n';
}

const percent = (value: number) => (100 * value).toFixed(1);

/** `mean ± std (min-max)` in percent. */
export function formatSpread(s: Spread | null): string {
  if (!s) return '-';
  return s.n === 1 ? `${percent(s.mean)}` : `${percent(s.mean)} ± ${percent(s.std)} (${percent(s.min)}-${percent(s.max)})`;
}

export function describeSet(set: Record<string, string>, params?: readonly string[]): string {
  const entries = Object.entries(set).filter(([k]) => params === undefined || params.includes(k));
  return entries.length > 0 ? entries.map(([k, v]) => `${k}=${v}`).join(', ') : '(the plan as written)';
}

/** The params that differ between configurations (the fixed ones say nothing in a table). */
export function variedParams(record: Pick<SweepRecord, 'configs'>): string[] {
  return paramNames(record).filter((p) => new Set(record.configs.map((c) => c.set[p])).size > 1);
}

/** results.md: per configuration, mean and spread over seeds, the best first; with arms, also the best per arm. */
export function resultsMarkdown(record: Pick<SweepRecord, 'name' | 'configs' | 'trials' | 'arms'>): string {
  const summaries = summarizeConfigs(record);
  const varied = variedParams(record);
  const multiArm = record.arms.length > 1;
  const seeds = [...new Set(record.trials.map((t) => t.seed))];
  const hasTest = summaries.some((s) => s.finalTestAcc !== null);
  const seedText = seeds.length === 1 && seeds[0] === null ? "the plan's seed" : `seeds ${seeds.join(', ')}`;
  const lines = [
    `# Sweep ${record.name}`,
    '',
    `Final hold-out accuracy (val_acc after the last epoch), mean ± sample standard deviation (min-max) over ${seedText}; the best configuration first. ${record.trials.length} trials, ${record.configs.length} configurations.`,
    '',
  ];
  const table = (rows: ConfigSummary[]) => {
    const head = ['rank', ...(multiArm ? ['arm'] : []), 'configuration', 'trials', 'final hold-out acc, %', ...(hasTest ? ['final test acc, %'] : [])];
    const out = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
    rows.forEach((s, i) => {
      const state = s.done === s.trials ? `${s.done}` : `${s.done}/${s.trials} done${s.failed > 0 ? `, ${s.failed} failed` : ''}`;
      const cells = [String(i + 1), ...(multiArm ? [s.arm] : []), `${s.config}: ${describeSet(s.set, varied)}`, state, formatSpread(s.finalValAcc), ...(hasTest ? [formatSpread(s.finalTestAcc)] : [])];
      out.push(`| ${cells.join(' | ')} |`);
    });
    return out;
  };
  if (multiArm) {
    const best = record.arms.map((arm) => summaries.find((s) => s.arm === arm.name)).filter((s): s is ConfigSummary => s !== undefined);
    lines.push('## Best configuration per arm', '', ...table(summarizeConfigs({ configs: record.configs.filter((c) => best.some((b) => b.config === c.id)), trials: record.trials })), '', '## All configurations', '');
  }
  lines.push(...table(summaries));
  const failures = summaries.filter((s) => s.errors.length > 0);
  if (failures.length > 0) {
    lines.push('', 'Failed trials:', '');
    for (const s of failures) for (const error of s.errors) lines.push(`- ${s.config} (${describeSet(s.set, varied)}): ${error}`);
  }
  return lines.join('\n') + '\n';
}

/** results.svg: final hold-out accuracy per configuration, mean with ± std bars and min/max ticks, best at the top. */
export function resultsPlot(record: Pick<SweepRecord, 'name' | 'configs' | 'trials' | 'arms'>): string {
  const varied = variedParams(record);
  const multiArm = record.arms.length > 1;
  const rows = summarizeConfigs(record).map((s) => ({
    label: `${multiArm ? `${s.arm}: ` : ''}${describeSet(s.set, varied)}`,
    mean: s.finalValAcc ? 100 * s.finalValAcc.mean : null,
    std: s.finalValAcc ? 100 * s.finalValAcc.std : 0,
    min: s.finalValAcc ? 100 * s.finalValAcc.min : null,
    max: s.finalValAcc ? 100 * s.finalValAcc.max : null,
    n: s.done,
    note: s.failed > 0 ? `${s.failed} failed` : s.done < s.trials ? `${s.done}/${s.trials}` : '',
  }));
  return errorBarPlot({ title: `Sweep ${record.name}: final hold-out accuracy per configuration`, xTitle: 'final hold-out accuracy, % (mean ± std over seeds; ticks: min and max)', rows });
}

/** Writes results.csv, results.md and results.svg into the sweep folder; returns their paths. */
export async function writeResults(sweepDir: string, record: SweepRecord): Promise<string[]> {
  const files: [string, string][] = [
    ['results.csv', resultsCsv(record)],
    ['results.md', resultsMarkdown(record)],
    ['results.svg', resultsPlot(record)],
  ];
  const written: string[] = [];
  for (const [name, text] of files) {
    const file = path.join(sweepDir, name);
    await fs.writeFile(`${file}.tmp`, text);
    await fs.rename(`${file}.tmp`, file);
    written.push(file);
  }
  return written;
}

/** Re-reads a finished trial's result from its run folder. */
export async function collectResult(sweepDir: string, trial: TrialRecord): Promise<TrialResult> {
  return readTrialResult(trialDir(sweepDir, trial.id));
}
