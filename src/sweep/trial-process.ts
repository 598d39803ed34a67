/**
 * Runs one trial as a child process `mono run`, the way a user would: a new run with
 * `--out DIR --seed N --set NAME=VALUE...`, or `--resume DIR` when DIR holds a
 * checkpoint. The sweep depends only on the CLI's behaviour: exit codes 0/1/2/3,
 * the run folder's checkpoint.bin and metrics.jsonl (one JSON line per epoch).
 *
 * The child is started with the same Node and the same entry as this code (src/ through
 * tsx, or dist/), single- or few-threaded (MONO_WASM_THREADS) so that parallel trials do
 * not oversubscribe the cores, and with ./parent-watch loaded so that it stops when its
 * parent dies. Progress comes from polling metrics.jsonl.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** File names of a run folder, as docs/runtime.md defines them. */
export const CHECKPOINT_FILE = 'checkpoint.bin';
export const METRICS_FILE = 'metrics.jsonl';

export interface TrialCommand {
  planFile: string;
  set: Record<string, string>;
  seed: number | null;
  backend: string | null;
  runDir: string;
  logFile: string;
  /** wasm threads for the child (MONO_WASM_THREADS). */
  threads: number;
  /** Who runs it, for the log's header line. */
  worker: string;
  cwd: string;
}

/** The last epoch line of a run, as far as progress needs it. */
export interface EpochLine {
  phase: string;
  epoch: number;
  epochs: number;
  val_acc: number | null;
  test_acc: number | null;
  seconds: number;
}

export interface RunProgress {
  epochsDone: number;
  last: EpochLine | null;
}

export interface TrialExit {
  /** Exit code, or null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The child's own last message (`mono run: ...` on stderr), for a failed trial. */
  message: string | null;
  seconds: number;
}

export interface RunningTrial {
  /** Epochs already in the folder when it was continued with --resume; null for a new run. */
  resumedFrom: number | null;
  args: string[];
  child: ChildProcess;
  done: Promise<TrialExit>;
  /** Ends the child (SIGTERM; SIGKILL after `graceMs`). */
  stop(graceMs?: number): void;
}

const here = fileURLToPath(import.meta.url);
const extension = path.extname(here);

/** `node [--import tsx] --import parent-watch main` for this build of mono. */
export function cliCommand(): { node: string; args: string[] } {
  const main = fileURLToPath(new URL(`../cli/main${extension}`, import.meta.url));
  const watch = pathToFileURL(fileURLToPath(new URL(`./parent-watch${extension}`, import.meta.url))).href;
  // From source the child needs tsx's loader, by absolute URL (its cwd may be anywhere).
  const loader = extension === '.ts' ? ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href] : [];
  return { node: process.execPath, args: [...loader, '--import', watch, main] };
}

/** metrics.jsonl as epoch lines; a partly written last line is left out. */
export function parseEpochLines(text: string): EpochLine[] {
  const lines: EpochLine[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const m = JSON.parse(line) as Record<string, unknown>;
      const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
      lines.push({ phase: String(m.phase), epoch: Number(m.epoch), epochs: Number(m.epochs), val_acc: num(m.val_acc), test_acc: num(m.test_acc), seconds: num(m.seconds) ?? 0 });
    } catch {
      // A line being written at this moment.
    }
  }
  return lines;
}

export async function readProgress(runDir: string): Promise<RunProgress> {
  const text = await fs.readFile(path.join(runDir, METRICS_FILE), 'utf8').catch(() => '');
  const lines = parseEpochLines(text);
  return { epochsDone: lines.length, last: lines[lines.length - 1] ?? null };
}

/** The `mono run` arguments for a trial: a new run, or --resume when its folder holds a checkpoint. */
export async function trialArgs(command: TrialCommand): Promise<{ args: string[]; resumedFrom: number | null }> {
  const backend = command.backend !== null ? ['--backend', command.backend] : [];
  if (existsSync(path.join(command.runDir, CHECKPOINT_FILE))) {
    const { epochsDone } = await readProgress(command.runDir);
    return { args: ['run', '--resume', command.runDir, ...backend], resumedFrom: epochsDone };
  }
  // Killed before its first checkpoint: nothing in the folder is worth keeping.
  await fs.rm(command.runDir, { recursive: true, force: true });
  await fs.mkdir(path.dirname(command.runDir), { recursive: true });
  const seed = command.seed !== null ? ['--seed', String(command.seed)] : [];
  const set = Object.entries(command.set).flatMap(([name, value]) => ['--set', `${name}=${value}`]);
  return { args: ['run', command.planFile, '--out', command.runDir, ...seed, ...set, ...backend], resumedFrom: null };
}

/** The child's own last message: its last `mono run: ...` line on stderr, else its last line. */
export function lastMessage(stderr: string): string | null {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('at '));
  const own = lines.filter((l) => l.startsWith('mono run:') && !l.startsWith('mono run: warning'));
  const line = own[own.length - 1] ?? lines[lines.length - 1];
  if (line === undefined) return null;
  const text = line.replace(/^mono run: /, '');
  return text.length > 400 ? `${text.slice(0, 400)}...` : text;
}

export async function startTrial(command: TrialCommand): Promise<RunningTrial> {
  const { args, resumedFrom } = await trialArgs(command);
  const cli = cliCommand();
  await fs.mkdir(path.dirname(command.logFile), { recursive: true });
  const log = createWriteStream(command.logFile, { flags: 'a' });
  log.write(`=== ${new Date().toISOString()} ${command.worker}: mono ${args.join(' ')}\n`);
  const started = performance.now();
  const child = spawn(cli.node, [...cli.args, ...args], {
    cwd: command.cwd,
    env: { ...process.env, MONO_WASM_THREADS: String(command.threads), MONO_SWEEP_PARENT: String(process.pid), FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => log.write(chunk));
  child.stderr!.on('data', (chunk: Buffer) => {
    log.write(chunk);
    stderr = (stderr + chunk.toString()).slice(-8000);
  });
  const done = new Promise<TrialExit>((resolve) => {
    let settled = false;
    const finish = (exit: TrialExit) => {
      if (settled) return;
      settled = true;
      log.end(`=== exit ${exit.code ?? exit.signal} after ${exit.seconds.toFixed(1)} s\n`, () => resolve(exit));
    };
    child.on('error', (error) => finish({ code: null, signal: null, message: `could not start mono run: ${error.message}`, seconds: 0 }));
    child.on('close', (code, signal) => finish({ code, signal, message: lastMessage(stderr), seconds: (performance.now() - started) / 1000 }));
  });
  let killTimer: NodeJS.Timeout | undefined;
  void done.then(() => clearTimeout(killTimer));
  return {
    resumedFrom,
    args,
    child,
    done,
    stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      killTimer.unref();
    },
  };
}

/** What an exit means for the trial. */
export type Outcome = { kind: 'done' } | { kind: 'failed'; message: string } | { kind: 'interrupted'; message: string };

/**
 * 0 with every epoch written: done. 1, 2, 3: failed, and running it again would fail the
 * same way (plan error, usage, NaN loss, data). A signal, or 0 short of its epochs: interrupted,
 * to be continued from its checkpoint.
 */
export function outcomeOf(exit: TrialExit, epochsDone: number, epochs: number): Outcome {
  if (exit.code === 0 && epochsDone >= epochs) return { kind: 'done' };
  if (exit.code === 1 || exit.code === 2 || exit.code === 3) return { kind: 'failed', message: `mono run exited ${exit.code}: ${exit.message ?? 'no message'}` };
  if (exit.code === 0) return { kind: 'interrupted', message: `mono run stopped after ${epochsDone} of ${epochs} epochs` };
  return { kind: 'interrupted', message: exit.signal ? `mono run was ended by ${exit.signal}` : `mono run exited ${exit.code}: ${exit.message ?? 'no message'}` };
}
