/**
 * Runs the real `mono` CLI as a child process (from source, through tsx), for tests
 * that need a process boundary: signals, kill -9, exit codes as the shell sees them,
 * nothing caught in-process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
/** tsx's loader by absolute URL: `--import tsx` would be resolved from the child's cwd. */
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface ProcessResult {
  /** Exit code, or null when a signal ended the process. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface StartedMono {
  child: ChildProcess;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited. */
  done: Promise<ProcessResult>;
}

/** Starts `mono ARGS...` in `cwd`; CI and colour variables are cleared so output is plain. */
export function startMono(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): StartedMono {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], {
    cwd: options.cwd ?? process.cwd(),
    env: { ...process.env, FORCE_COLOR: '0', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<ProcessResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, stdout: () => stdout, stderr: () => stderr, done };
}

/** Runs `mono ARGS...` to the end (killed after `timeoutMs`). */
export async function runMono(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<ProcessResult> {
  const started = startMono(args, options);
  const timer = setTimeout(() => started.child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  try {
    return await started.done;
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once `predicate` holds for the output so far (polled), or rejects after `timeoutMs`. */
export async function waitForOutput(started: StartedMono, predicate: (stdout: string, stderr: string) => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate(started.stdout(), started.stderr())) {
    if (started.child.exitCode !== null || started.child.signalCode !== null) throw new Error(`mono exited before the expected output:\n${started.stdout()}\n${started.stderr()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for output:\n${started.stdout()}\n${started.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
