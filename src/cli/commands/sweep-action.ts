/** The work of `mono sweep`: check and expand a sweep, run its trials (locally or on a queue), write the results. */
import { existsSync, promises as fs } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { hasErrors } from '../../diagnostics/diagnostic.js';
import { BACKEND_CHOICES, isBackendChoice } from '../../runtime/index.js';
import { RuntimeFailure } from '../../runtime/index.js';
import { defaultRunDir } from '../../runtime/index.js';
import { SweepDisplay } from '../../sweep/display.js';
import { expandSweep, type ExpandedSweep } from '../../sweep/expand.js';
import { runLocal } from '../../sweep/local.js';
import { parseSweepArgs, parseSweepFile } from '../../sweep/parse.js';
import { describeSet, summarizeConfigs, variedParams, writeResults } from '../../sweep/results.js';
import { SweepSession } from '../../sweep/session.js';
import { freshTrial, newSweepId, readSweep, SWEEP_FILE, SWEEP_FORMAT, tally, writeSweep, type SweepRecord } from '../../sweep/state.js';
import type { ParsedSpec } from '../../sweep/spec.js';
import { expectPositionals, optionalInteger, parseCommandArgs } from '../args.js';
import { EXIT_OK, EXIT_PLAN_ERRORS, EXIT_RUNTIME, UsageError, type CommandIO } from '../command.js';
import { plural, readInputFile, reportDiagnostics, shownPath } from '../io.js';

/** Exit code of a sweep stopped by Ctrl-C (128 + SIGINT), as shells report it. */
export const EXIT_INTERRUPTED = 130;

const options = {
  grid: { type: 'string', multiple: true },
  random: { type: 'string', multiple: true },
  trials: { type: 'string' },
  set: { type: 'string', multiple: true },
  seeds: { type: 'string' },
  'sample-seed': { type: 'string' },
  backend: { type: 'string' },
  out: { type: 'string' },
  workers: { type: 'string' },
  threads: { type: 'string' },
  queue: { type: 'string' },
  'queue-name': { type: 'string' },
  'dry-run': { type: 'boolean' },
  resume: { type: 'string' },
  'retry-failed': { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parseCommandArgs<typeof options>>['values'];

const SPEC_OPTIONS = ['grid', 'random', 'trials', 'set', 'seeds', 'sample-seed', 'backend'] as const;

export async function sweepAction(args: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, options);
  const workers = optionalInteger(values.workers, '--workers', 1);
  const threads = optionalInteger(values.threads, '--threads', 1);
  if (values.queue !== undefined) {
    const { checkQueueUrl } = await import('../../sweep/queue.js');
    const problem = checkQueueUrl(values.queue);
    if (problem) throw new UsageError(problem);
    if (values.workers !== undefined) throw new UsageError('--workers runs trials on this machine; with --queue, start mono worker on each machine instead');
  }
  if (values.backend !== undefined && !isBackendChoice(values.backend)) {
    throw new UsageError(`unknown backend '${values.backend}' (choose one of: ${BACKEND_CHOICES.join(', ')})`);
  }

  let dir: string;
  let record: SweepRecord;
  if (values.resume !== undefined) {
    expectPositionals(positionals, '', { min: 0, max: 0 });
    const given = SPEC_OPTIONS.filter((name) => values[name] !== undefined);
    if (given.length > 0) throw new UsageError(`--${given[0]} cannot change a sweep being resumed (its trials are in ${values.resume}/${SWEEP_FILE})`);
    if (values.out !== undefined) throw new UsageError('--out and --resume exclude each other: a resumed sweep stays in its folder');
    if (values['dry-run']) throw new UsageError('--dry-run checks a new sweep; --resume runs one');
    dir = path.resolve(io.cwd, values.resume);
    record = await readSweep(dir);
    await checkPlansUnchanged(record, io);
    if (values['retry-failed']) {
      for (const trial of record.trials.filter((t) => t.state === 'failed')) Object.assign(trial, { state: 'pending', attempts: 0, error: null, finishedAt: null });
    }
  } else {
    if (values['retry-failed']) throw new UsageError('--retry-failed only applies to --resume');
    const input = expectPositionals(positionals, 'PLAN (a .mono file) or a .sweep file, or --resume DIR')[0]!;
    const created = await newSweep(input, values, io);
    if (typeof created === 'number') return created;
    ({ dir, record } = created);
  }
  if (values.queue !== undefined) record.queue = { url: values.queue, name: values['queue-name'] ?? (await import('../../sweep/queue.js')).DEFAULT_QUEUE_NAME };
  else if (values['queue-name'] !== undefined) throw new UsageError('--queue-name needs --queue');
  if (record.queue && values.workers !== undefined) {
    // Its trials may be running on workers right now: two runners on one run folder would clash.
    throw new UsageError(`this sweep runs on the queue at ${record.queue.url}: to run its trials here, start 'mono worker --queue ${record.queue.url}' on this machine`);
  }
  if (record.queue && values.threads !== undefined) throw new UsageError("--threads sets local trials' threads; on a queue each mono worker has its own --threads");

  await writeSweep(dir, record);
  const where = shownPath(io.cwd, dir);
  const display = new SweepDisplay(io.stdout);
  const session = new SweepSession(dir, record, display);
  const open = record.trials.filter((t) => t.state === 'pending' || t.state === 'running').length;
  const cores = os.availableParallelism();
  const localWorkers = Math.max(1, Math.min(workers ?? cores, open));
  const perTrial = threads ?? Math.max(1, Math.floor(cores / localWorkers));
  display.event(
    `mono sweep: ${record.name}: ${plural(record.trials.length, 'trial')} (${plural(record.configs.length, 'configuration')}), ${open} to run, into ${where}` +
      (record.queue ? `; on queue '${record.queue.name}' at ${record.queue.url}` : `; ${localWorkers} at a time on this machine, ${perTrial} thread${perTrial === 1 ? '' : 's'} each`),
  );

  const controller = new AbortController();
  const interrupt = () => {
    if (!controller.signal.aborted) display.event('mono sweep: interrupted; stopping (Ctrl-C again does not hurry it)');
    controller.abort();
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  let ended: 'finished' | 'interrupted';
  try {
    if (record.queue) {
      const { runOnQueue } = await import('../../sweep/queue.js');
      ended = await runOnQueue(session, { url: record.queue.url, name: record.queue.name, signal: controller.signal, retryFailed: values['retry-failed'] ?? false });
    } else {
      ended = await runLocal(session, { workers: localWorkers, threads: perTrial, cwd: io.cwd, signal: controller.signal });
    }
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    await session.save();
  }
  const files = await writeResults(dir, record);
  const counts = tally(record.trials);
  const best = summarizeConfigs(record).find((s) => s.finalValAcc !== null);
  const varied = variedParams(record);
  const bestText = best
    ? `; best ${best.config} (${describeSet(best.set, varied)}): val_acc ${(100 * best.finalValAcc!.mean).toFixed(2)}%${best.finalValAcc!.n > 1 ? ` ± ${(100 * best.finalValAcc!.std).toFixed(2)} over ${best.finalValAcc!.n} seeds` : ''}`
    : '';
  const results = `Results: ${files.map((f) => shownPath(io.cwd, f)).join(', ')}`;
  if (ended === 'interrupted') {
    io.stdout.write(`mono sweep: interrupted with ${counts.done}/${record.trials.length} trials done${bestText}. ${record.queue ? 'Queued trials stay on the queue. ' : ''}Continue with: mono sweep --resume ${where}. ${results}\n`);
    return EXIT_INTERRUPTED;
  }
  if (counts.failed > 0) {
    const failed = record.trials.filter((t) => t.state === 'failed');
    io.stderr.write(`mono sweep: ${counts.failed} of ${record.trials.length} trials failed: ${failed.slice(0, 3).map((t) => `${t.id} (${t.error})`).join('; ')}${failed.length > 3 ? '; ...' : ''}\n`);
    io.stdout.write(`mono sweep: done with failures: ${counts.done} of ${record.trials.length} trials finished${bestText}. ${results}\n`);
    return EXIT_RUNTIME;
  }
  io.stdout.write(`mono sweep: done: ${plural(counts.done, 'trial')}${bestText}. ${results}\n`);
  return EXIT_OK;
}

/** Checks and expands a new sweep, and makes its folder; an exit code when it has errors or is a dry run. */
async function newSweep(input: string, values: Values, io: CommandIO): Promise<{ dir: string; record: SweepRecord } | number> {
  const isSweepFile = input.endsWith('.sweep');
  if (!isSweepFile && !input.endsWith('.mono')) throw new UsageError(`expected a plan (.mono) or a sweep file (.sweep), got '${input}'`);
  let parsed: ParsedSpec;
  let source: SweepRecord['source'];
  if (isSweepFile) {
    const given = SPEC_OPTIONS.filter((name) => values[name] !== undefined);
    if (given.length > 0) throw new UsageError(`--${given[0]} goes into the sweep file ${input} (write it there), or sweep a plan from the command line`);
    const text = await readInputFile(input, io);
    parsed = parseSweepFile(text, input, path.dirname(path.resolve(io.cwd, input)));
    source = { kind: 'file', file: path.resolve(io.cwd, input), text };
  } else {
    if (!existsSync(path.resolve(io.cwd, input))) throw new UsageError(`cannot read '${input}': no such file`);
    parsed = parseSweepArgs({
      plan: input,
      grid: values.grid,
      random: values.random,
      set: values.set,
      seeds: values.seeds,
      trials: values.trials,
      sampleSeed: values['sample-seed'],
      baseDir: io.cwd,
    });
    if (parsed.spec && values.backend !== undefined) parsed.spec.backend = { value: values.backend, file: '--backend', range: parsed.spec.arms[0]!.plan!.range };
    source = { kind: 'args', argv: ['sweep', input, ...argvOf(values)] };
  }
  let expanded: ExpandedSweep | null = null;
  const diagnostics = [...parsed.diagnostics];
  const sources = new Map(parsed.sources);
  if (parsed.spec) {
    const result = await expandSweep(parsed.spec, { cwd: io.cwd, shown: (file) => shownPath(io.cwd, file) });
    diagnostics.push(...result.diagnostics);
    for (const [file, text] of result.sources) sources.set(file, text);
    expanded = result.sweep;
  }
  reportDiagnostics(diagnostics, Object.fromEntries(sources), io);
  if (hasErrors(diagnostics) || !expanded || !parsed.spec) return EXIT_PLAN_ERRORS;
  if (parsed.spec.backend && !isBackendChoice(parsed.spec.backend.value)) {
    const b = parsed.spec.backend;
    reportDiagnostics([{ severity: 'error', code: 'unknown-backend', message: `unknown backend '${b.value}' (choose one of: ${BACKEND_CHOICES.join(', ')})`, file: b.file, range: b.range }], Object.fromEntries(sources), io);
    return EXIT_PLAN_ERRORS;
  }

  const name = isSweepFile ? path.basename(input, '.sweep') : expanded.arms[0]!.name;
  if (values['dry-run']) {
    printTrials(expanded, io);
    return EXIT_OK;
  }
  const dir = values.out !== undefined ? path.resolve(io.cwd, values.out) : defaultRunDir(`${name}-sweep`, io.cwd);
  if (existsSync(path.join(dir, SWEEP_FILE))) throw new RuntimeFailure(`${shownPath(io.cwd, dir)} already holds a sweep: continue it with mono sweep --resume ${shownPath(io.cwd, dir)}, or choose another --out`);
  await fs.mkdir(dir, { recursive: true });
  const record: SweepRecord = {
    format: SWEEP_FORMAT,
    id: newSweepId(),
    name,
    createdAt: new Date().toISOString(),
    source,
    backend: parsed.spec.backend?.value ?? null,
    queue: null,
    arms: expanded.arms,
    configs: expanded.configs,
    trials: expanded.trials.map(freshTrial),
  };
  return { dir, record };
}

function argvOf(values: Values): string[] {
  const out: string[] = [];
  for (const name of SPEC_OPTIONS) {
    const value = values[name];
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) out.push(`--${name}`, String(item));
  }
  return out;
}

/** --dry-run: the configurations and trials, one a line. */
function printTrials(sweep: ExpandedSweep, io: CommandIO): void {
  const varied = variedParams(sweep);
  io.stdout.write(`${plural(sweep.trials.length, 'trial')}, ${plural(sweep.configs.length, 'configuration')}:\n`);
  for (const trial of sweep.trials) {
    const config = sweep.configs.find((c) => c.id === trial.config)!;
    const arm = sweep.arms.find((a) => a.name === trial.arm)!;
    io.stdout.write(`  ${trial.id}  ${shownPath(io.cwd, arm.planFile)}  ${describeSet(config.set, varied.length > 0 ? varied : undefined)}  seed ${trial.seed ?? "(the plan's)"}  ${config.epochs} epochs\n`);
  }
}

/** A plan that changed since the sweep started would mix two plans in one table. */
async function checkPlansUnchanged(record: SweepRecord, io: CommandIO): Promise<void> {
  for (const arm of record.arms) {
    const text = await fs.readFile(arm.planFile, 'utf8').catch(() => null);
    const shown = shownPath(io.cwd, arm.planFile);
    if (text === null) throw new RuntimeFailure(`the sweep's plan ${shown} is gone; put it back to continue the sweep`);
    if (createHash('sha256').update(text).digest('hex') !== arm.planSha256) {
      throw new RuntimeFailure(`the plan ${shown} changed since the sweep started, so its trials would mix two plans; restore it (sweep.json keeps its text under arms[].planSource) or start a new sweep`);
    }
  }
}
