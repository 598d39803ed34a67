/** A trial's `mono run` ends when the process that started it dies, instead of running on as an orphan. */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cliCommand } from '../../src/sweep/trial-process.js';

const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const WATCH = pathToFileURL(fileURLToPath(new URL('../../src/sweep/parent-watch.ts', import.meta.url))).href;

function watched(code: string, parent: number) {
  const child = spawn(process.execPath, ['--import', TSX, '--import', WATCH, '-e', code], { env: { ...process.env, MONO_SWEEP_PARENT: String(parent) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { child, done, out: () => out };
}

describe('parent watch', () => {
  it('ends the process (SIGTERM) once its parent is gone', async () => {
    const parent = spawn('sleep', ['60'], { stdio: 'ignore' });
    const run = watched("setInterval(() => {}, 1000); console.log('running')", parent.pid!);
    while (!run.out().includes('running')) await new Promise((resolve) => setTimeout(resolve, 25));
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(run.child.exitCode).toBeNull();
    parent.kill('SIGKILL');
    const started = Date.now();
    expect(await run.done).toEqual({ code: null, signal: 'SIGTERM' });
    expect(Date.now() - started).toBeLessThan(5000);
  }, 30_000);

  it('does not keep a finished process alive while the parent lives', async () => {
    const run = watched("console.log('ok')", process.pid);
    expect(await run.done).toEqual({ code: 0, signal: null });
    expect(run.out()).toBe('ok\n');
  }, 30_000);

  it('is loaded into the trials this build of mono starts', () => {
    const { node, args } = cliCommand();
    expect(node).toBe(process.execPath);
    expect(args).toEqual(['--import', TSX, '--import', WATCH, fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))]);
  });
});
