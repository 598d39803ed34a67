/**
 * `mono sweep` on this machine: trials as child processes, results, --resume, Ctrl-C, and
 * the checks before anything runs. Tiny plans on synthetic data, cpu backend.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSweep, trialDir, trialLog } from '../../src/sweep/state.js';
import { parseEpochLines } from '../../src/sweep/trial-process.js';
import { mono } from '../cli/harness.js';
import { startMono } from '../support/cli-process.js';
import { TINY_PLAN } from './fixtures.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mono-sweep-local-'));
  await writeFile(path.join(root, 'tiny.mono'), TINY_PLAN);
  await writeFile(path.join(root, 'grid.sweep'), 'plan "tiny.mono"\nseeds 1, 2\ngrid width = 2, 3\nset p2_epochs = 1\nbackend cpu\n');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const epochsOf = async (dir: string) => parseEpochLines(await readFile(path.join(dir, 'metrics.jsonl'), 'utf8')).map((l) => `${l.phase}/${l.epoch}`);

describe('mono sweep on local workers', () => {
  it('runs a grid x seeds as run folders, two at a time, writes sweep.json and the results, and --resume skips finished trials', async () => {
    const result = await mono(['sweep', 'grid.sweep', '--workers', '2', '--out', 'g'], { cwd: root });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('mono sweep: grid: 4 trials (2 configurations), 4 to run, into g; 2 at a time on this machine, 1 thread each');
    expect(result.stdout).toMatch(/^local-[12]: start c1-s1 \(width=2 seed 1\)$/m);
    expect(result.stdout).toMatch(/^local-[12]: done c2-s2 \(width=3 seed 2\): val_acc [\d.]+%, \d+ s$/m);
    expect(result.stdout).toMatch(/^sweep: 4\/4 done, 0 running, 0 failed, 0 pending; best c[12] /m);
    expect(result.stdout).toMatch(/mono sweep: done: 4 trials; best c[12] \(width=[23]\): val_acc [\d.]+% ± [\d.]+ over 2 seeds\. Results: g\/results\.csv, g\/results\.md, g\/results\.svg\n$/);

    const dir = path.join(root, 'g');
    expect((await readdir(dir)).sort()).toEqual(['logs', 'results.csv', 'results.md', 'results.svg', 'sweep.json', 'trials']);
    const record = await readSweep(dir);
    expect(record.source).toMatchObject({ kind: 'file', file: path.join(root, 'grid.sweep') });
    expect(record.backend).toBe('cpu');
    for (const trial of record.trials) {
      expect(trial).toMatchObject({ state: 'done', attempts: 1, resumedAt: [], error: null });
      expect(trial.worker).toMatch(/^local-[12]$/);
      expect(trial.result!.finalValAcc).toBeGreaterThan(0);
      // An ordinary run folder, with the trial's seed and values.
      const run = JSON.parse(await readFile(path.join(trialDir(dir, trial.id), 'run.json'), 'utf8'));
      expect(run).toMatchObject({ seed: trial.seed, set: { p2_epochs: '1', width: trial.config === 'c1' ? '2' : '3' }, backend: 'cpu' });
      expect(await epochsOf(trialDir(dir, trial.id))).toEqual(['p1/1', 'p2/1']);
    }
    const table = await readFile(path.join(dir, 'results.md'), 'utf8');
    expect(table.match(/^\| [12] \| c[12]: width=[23] \| 2 \| /gm)).toHaveLength(2);
    expect((await readFile(path.join(dir, 'results.svg'), 'utf8')).match(/<circle /g)).toHaveLength(2);

    const again = await mono(['sweep', '--resume', 'g'], { cwd: root });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('4 trials (2 configurations), 0 to run');
    expect(again.stdout).not.toMatch(/start c/);
    expect((await readSweep(dir)).trials.map((t) => t.attempts)).toEqual([1, 1, 1, 1]);
  }, 120_000);

  it('on Ctrl-C stops its trials, keeps their checkpoints, and --resume continues them from there', async () => {
    const sweep = startMono(['sweep', 'tiny.mono', '--set', 'p2_epochs=8', '--backend', 'cpu', '--workers', '1', '--out', 'int'], { cwd: root });
    const folder = trialDir(path.join(root, 'int'), 'c1-s-');
    const deadline = Date.now() + 60_000;
    while (!existsSync(path.join(folder, 'checkpoint.bin'))) {
      if (Date.now() > deadline || sweep.child.exitCode !== null) throw new Error(`no checkpoint: ${sweep.stdout()} ${sweep.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    sweep.child.kill('SIGINT');
    const stopped = await sweep.done;
    expect(stopped.code).toBe(130);
    expect(stopped.stdout).toContain('mono sweep: interrupted with 0/1 trials done. Continue with: mono sweep --resume int.');
    const before = await readSweep(path.join(root, 'int'));
    expect(before.trials[0]).toMatchObject({ state: 'pending', attempts: 1 });
    const done = (await epochsOf(folder)).length;
    expect(done).toBeGreaterThanOrEqual(1);
    expect(done).toBeLessThan(9);

    const resumed = await mono(['sweep', '--resume', 'int', '--workers', '1'], { cwd: root });
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(new RegExp(`local-1: resume c1-s- from its checkpoint after ${done} epochs`));
    const trial = (await readSweep(path.join(root, 'int'))).trials[0]!;
    expect(trial).toMatchObject({ state: 'done', attempts: 2, resumedAt: [done] });
    expect(await epochsOf(folder)).toEqual(['p1/1', ...Array.from({ length: 8 }, (_, i) => `p2/${i + 1}`)]);
    expect(await readFile(trialLog(path.join(root, 'int'), 'c1-s-'), 'utf8')).toMatch(/^=== .* local-1: mono run --resume /m);
  }, 120_000);

  it('reports a trial that fails (a NaN loss) and still writes the results; exit 3', async () => {
    const result = await mono(['sweep', 'tiny.mono', '--grid', 'lr=0.05,1e30', '--set', 'p2_epochs=1', '--backend', 'cpu', '--out', 'nan'], { cwd: root });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^mono sweep: 1 of 2 trials failed: c2-s- \(mono run exited 3: loss became (NaN|Infinity|-Infinity) in phase p1, epoch 1, step \d+/);
    expect(result.stdout).toContain('mono sweep: done with failures: 1 of 2 trials finished; best c1 (lr=0.05)');
    const table = await readFile(path.join(root, 'nan', 'results.md'), 'utf8');
    expect(table).toMatch(/\| 2 \| c2: lr=1e30 \| 0\/1 done, 1 failed \| - \|/);
  }, 120_000);
});

describe('mono sweep: checks before anything runs', () => {
  it('reports sweep-file and plan problems at file:line:col and runs nothing (exit 1)', async () => {
    await writeFile(path.join(root, 'bad.sweep'), 'plan "tiny.mono"\ngrid widht = 2, 3\ngrid lr = 0.1, -0.1\n');
    const result = await mono(['sweep', 'bad.sweep', '--out', 'bad'], { cwd: root });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("bad.sweep:2:6: error: tiny.mono has no param 'widht' (its params: width, lr, p2_epochs, tag)\n  |\n2 | grid widht = 2, 3\n  |      ^^^^^\n  hint: did you mean 'width'?");
    expect(result.stderr).toContain("bad.sweep:3:16: error: lr = -0.1: tiny.mono:25:38: msgd argument 'lr' expects a positive number, but got -0.1");
    expect(result.stderr).toContain('2 errors');
    expect(existsSync(path.join(root, 'bad'))).toBe(false);
  });

  it('points into command-line values', async () => {
    const result = await mono(['sweep', 'tiny.mono', '--random', 'lr=log(0.1, 0.01)', '--trials', '3'], { cwd: root });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--random:1:4: error: log(low, high) needs low < high, got 0.1 and 0.01\n  |\n1 | lr=log(0.1, 0.01)\n  |    ^^^^^^^^^^^^^^\n  hint: swap the bounds');
  });

  it('lists the trials with --dry-run', async () => {
    const result = await mono(['sweep', 'tiny.mono', '--grid', 'width=2,3', '--random', 'lr=log(0.01, 0.1)', '--trials', '2', '--seeds', '5', '--dry-run'], { cwd: root });
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toBe('4 trials, 4 configurations:');
    expect(lines.slice(1).map((l) => l.trim().split(/\s+/)[0])).toEqual(['c1-s5', 'c2-s5', 'c3-s5', 'c4-s5']);
    expect(lines[1]).toMatch(/^ {2}c1-s5 {2}tiny\.mono {2}width=2, lr=0\.0\d+ {2}seed 5 {2}3 epochs$/);
  });

  it.each([
    [['sweep', 'tiny.mono', '--queue', 'http://x'], "--queue expects a redis:// or rediss:// URL, got 'http://x'"],
    [['sweep', 'tiny.mono', '--queue', 'redis://h:1', '--workers', '2'], '--workers runs trials on this machine; with --queue, start mono worker on each machine instead'],
    [['sweep', 'grid.sweep', '--grid', 'width=1'], '--grid goes into the sweep file grid.sweep (write it there), or sweep a plan from the command line'],
    [['sweep', '--resume', 'g', '--seeds', '1'], '--seeds cannot change a sweep being resumed (its trials are in g/sweep.json)'],
    [['sweep', 'tiny.txt'], "expected a plan (.mono) or a sweep file (.sweep), got 'tiny.txt'"],
    [['sweep', 'tiny.mono', '--workers', '0'], "--workers expects a whole number >= 1, got '0'"],
    [['sweep', 'tiny.mono', '--backend', 'gpu'], "unknown backend 'gpu' (choose one of: node-gpu, node, webgpu, wasm, cpu)"],
    [['worker'], 'missing --queue redis://HOST:PORT (the Redis server the sweep put its trials on)'],
  ])('%j is a usage error', async (args, message) => {
    const result = await mono(args, { cwd: root });
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe(`mono ${args[0]}: ${message}`);
  });

  it('resumes a queue sweep only on a queue', async () => {
    const record = await readSweep(path.join(root, 'g'));
    await mkdir(path.join(root, 'q'));
    await writeFile(path.join(root, 'q', 'sweep.json'), JSON.stringify({ ...record, queue: { url: 'redis://10.0.0.5:6379', name: 'mono-trials' } }));
    const local = await mono(['sweep', '--resume', 'q', '--workers', '2'], { cwd: root });
    expect(local.code).toBe(2);
    expect(local.stderr.split('\n')[0]).toBe("mono sweep: this sweep runs on the queue at redis://10.0.0.5:6379: to run its trials here, start 'mono worker --queue redis://10.0.0.5:6379' on this machine");
    const threads = await mono(['sweep', '--resume', 'q', '--threads', '2'], { cwd: root });
    expect(threads.stderr.split('\n')[0]).toBe("mono sweep: --threads sets local trials' threads; on a queue each mono worker has its own --threads");
  });

  it('refuses to resume a folder that is not a sweep, and a sweep whose plan changed (exit 3)', async () => {
    const notSweep = await mono(['sweep', '--resume', '.'], { cwd: root });
    expect(notSweep.code).toBe(3);
    expect(notSweep.stderr).toMatch(/is not a sweep folder: it has no sweep\.json/);
    await writeFile(path.join(root, 'moving.mono'), TINY_PLAN);
    expect((await mono(['sweep', 'moving.mono', '--set', 'p2_epochs=1', '--backend', 'cpu', '--out', 'moving'], { cwd: root })).code).toBe(0);
    await writeFile(path.join(root, 'moving.mono'), TINY_PLAN.replace('param width = 4', 'param width = 5'));
    const changed = await mono(['sweep', '--resume', 'moving'], { cwd: root });
    expect(changed.code).toBe(3);
    expect(changed.stderr).toContain('mono sweep: the plan moving.mono changed since the sweep started');
  }, 60_000);
});
