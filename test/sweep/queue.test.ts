/**
 * Sweeps across machines on a real BullMQ queue: a redis-server on a free port, a sweep
 * and two `mono worker` processes; one worker is SIGKILLed in the middle of a trial. Every
 * trial must finish exactly once, the results must be complete, and the killed trial must
 * continue from its checkpoint (not start over).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobIdOf } from '../../src/sweep/queue.js';
import { readSweep, trialDir, trialLog } from '../../src/sweep/state.js';
import { parseEpochLines } from '../../src/sweep/trial-process.js';
import { mono } from '../cli/harness.js';
import { startMono, waitForOutput, type StartedMono } from '../support/cli-process.js';
import { skipWithoutComponent } from '../support/components.js';
import { redisServerAvailable, startRedis, type RedisServer } from '../support/redis.js';
import { TINY_PLAN } from './fixtures.js';

const skip = skipWithoutComponent('redis-server', redisServerAvailable(), 'no redis-server on PATH (apt-get install redis-server)');

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe.skipIf(skip)('sweeps on a BullMQ queue', () => {
  let redis: RedisServer | undefined;
  let root: string;
  const started: StartedMono[] = [];
  const start = (args: string[]) => {
    const process = startMono(args, { cwd: root });
    started.push(process);
    return process;
  };

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'mono-sweep-queue-'));
    await writeFile(path.join(root, 'tiny.mono'), TINY_PLAN);
    redis = await startRedis();
  });
  afterAll(async () => {
    try {
      for (const p of started) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await Promise.all(started.map((p) => p.done.catch(() => undefined)));
    } finally {
      await redis?.stop();
      await rm(root, { recursive: true, force: true });
    }
  });

  it('runs every trial exactly once with two workers, one SIGKILLed mid-trial, and resumes that trial from its checkpoint', async () => {
    const url = redis!.url;
    const queueArgs = ['--queue', url, '--queue-name', 'test-kill'];
    // 1 + 5 epochs per trial: long enough that the kill after the first epoch lands mid-trial.
    const sweep = start(['sweep', 'tiny.mono', '--grid', 'width=2,3', '--seeds', '1', '--set', 'p2_epochs=5', '--backend', 'cpu', ...queueArgs, '--out', 'sw']);
    const victim = start(['worker', ...queueArgs, '--name', 'victim', '--lock-timeout', '2']);
    start(['worker', ...queueArgs, '--name', 'survivor', '--lock-timeout', '2']);

    await waitForOutput(victim, (out) => /victim: start (\S+)/.test(out), 90_000);
    const killed = /victim: start (\S+)/.exec(victim.stdout())![1]!;
    const folder = path.join(root, 'sw', 'trials', killed);
    await until(() => existsSync(path.join(folder, 'checkpoint.bin')), 60_000, `the first checkpoint of ${killed}`);
    victim.child.kill('SIGKILL');
    const epochsAtKill = parseEpochLines(await readFile(path.join(folder, 'metrics.jsonl'), 'utf8')).length;

    const result = await sweep.done;
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/mono sweep: done: 2 trials; best c[12] \(width=[23]\)/);

    const record = await readSweep(path.join(root, 'sw'));
    expect(record.queue).toEqual({ url, name: 'test-kill' });
    expect(record.trials.map((t) => t.state)).toEqual(['done', 'done']);
    for (const trial of record.trials) {
      // Every epoch once: the killed trial's first epochs were not repeated.
      const lines = parseEpochLines(await readFile(path.join(trialDir(path.join(root, 'sw'), trial.id), 'metrics.jsonl'), 'utf8'));
      expect(lines.map((l) => `${l.phase}/${l.epoch}`)).toEqual(['p1/1', 'p2/1', 'p2/2', 'p2/3', 'p2/4', 'p2/5']);
      expect(trial.result?.epochs).toBe(6);
    }
    const resumed = record.trials.find((t) => t.id === killed)!;
    expect(resumed.attempts).toBe(2);
    expect(resumed.resumedAt).toHaveLength(1);
    expect(resumed.resumedAt[0]).toBeGreaterThanOrEqual(epochsAtKill);
    expect(resumed.worker).toBe('survivor');
    for (const trial of record.trials.filter((t) => t.id !== killed)) expect([trial.attempts, trial.resumedAt]).toEqual([1, []]);
    // The second process continued the run folder (mono run --resume), it did not start a new run.
    const log = await readFile(trialLog(path.join(root, 'sw'), killed), 'utf8');
    expect(log.match(/^=== .* victim: mono run \S*tiny\.mono --out /m)).not.toBeNull();
    expect(log.match(/^=== .* survivor: mono run --resume /m)).not.toBeNull();

    // Exactly one successful end per trial, in the jobs' own history.
    const connection = { url, maxRetriesPerRequest: null };
    const queue = new Queue('test-kill', { connection });
    try {
      for (const trial of record.trials) {
        const { logs } = await queue.getJobLogs(jobIdOf(record.id, trial.id), 0, -1, true);
        const events = logs.map((l) => JSON.parse(l) as { event: string; code?: number; worker: string });
        expect(events.filter((e) => e.event === 'exit' && e.code === 0)).toHaveLength(1);
        expect(events.filter((e) => e.event === 'start')).toHaveLength(trial.id === killed ? 2 : 1);
      }
    } finally {
      await queue.close();
    }

    const table = await readFile(path.join(root, 'sw', 'results.md'), 'utf8');
    expect(table).toMatch(/\| 1 \| c[12]: width=[23] \| 1 \| [\d.]+ \|/);
    expect(table).toMatch(/\| 2 \| c[12]: width=[23] \| 1 \| [\d.]+ \|/);
    expect((await readFile(path.join(root, 'sw', 'results.csv'), 'utf8')).trim().split('\n')).toHaveLength(3);
  }, 180_000);

  it('leaves the queue to the workers on Ctrl-C, and --resume collects what they finished meanwhile', async () => {
    const url = redis!.url;
    const queueArgs = ['--queue', url, '--queue-name', 'test-interrupt'];
    const sweep = start(['sweep', 'tiny.mono', '--grid', 'width=2,3', '--set', 'p2_epochs=1', '--backend', 'cpu', ...queueArgs, '--out', 'int']);
    const worker = start(['worker', ...queueArgs, '--name', 'steady']);
    await waitForOutput(worker, (out) => out.includes('steady: start c1-s-'), 90_000);
    sweep.child.kill('SIGINT');
    const stopped = await sweep.done;
    expect(stopped.code).toBe(130);
    expect(stopped.stdout).toContain('Queued trials stay on the queue. Continue with: mono sweep --resume int.');
    // The worker goes on with both trials while no sweep watches.
    await waitForOutput(worker, (out) => out.includes('steady: done c1-s-') && out.includes('steady: done c2-s-'), 90_000);
    const resumed = await mono(['sweep', '--resume', 'int'], { cwd: root });
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain("2 trials (2 configurations), 2 to run, into int; on queue 'test-interrupt'");
    expect(resumed.stdout).toMatch(/mono sweep: done: 2 trials; best/);
    const record = await readSweep(path.join(root, 'int'));
    expect(record.trials.map((t) => [t.state, t.attempts, t.worker])).toEqual([
      ['done', 1, 'steady'],
      ['done', 1, 'steady'],
    ]);
  }, 180_000);

  it('sends a run folder back as artifacts from a worker that does not share the sweep folder', async () => {
    const url = redis!.url;
    const queueArgs = ['--queue', url, '--queue-name', 'test-artifacts'];
    const sweep = start(['sweep', 'tiny.mono', '--set', 'p2_epochs=1', '--backend', 'cpu', ...queueArgs, '--out', 'art']);
    const worker = start(['worker', ...queueArgs, '--name', 'remote', '--artifacts', '--work-dir', 'elsewhere']);
    const result = await sweep.done;
    expect(result.code).toBe(0);
    const record = await readSweep(path.join(root, 'art'));
    const trial = record.trials[0]!;
    expect(trial).toMatchObject({ state: 'done', worker: 'remote', attempts: 1 });
    // The worker ran it in its own folder, and the sweep got the files (not the checkpoint).
    const local = path.join(root, 'elsewhere', record.id, 'trials', trial.id);
    expect(existsSync(path.join(local, 'checkpoint.bin'))).toBe(true);
    const returned = trialDir(path.join(root, 'art'), trial.id);
    expect(existsSync(path.join(returned, 'checkpoint.bin'))).toBe(false);
    expect(await readFile(path.join(returned, 'metrics.jsonl'), 'utf8')).toBe(await readFile(path.join(local, 'metrics.jsonl'), 'utf8'));
    for (const file of ['plan.mono', 'ir.json', 'run.json', 'metrics.svg']) expect(existsSync(path.join(returned, file))).toBe(true);
    expect(trial.result!.epochs).toBe(2);
    expect(await readFile(trialLog(path.join(root, 'art'), trial.id), 'utf8')).toMatch(/^=== .* remote: mono run /m);
    expect(worker.stdout()).toMatch(/remote: start c1-s- \(sweep \S+, artifacts folder /);
  }, 120_000);
});
