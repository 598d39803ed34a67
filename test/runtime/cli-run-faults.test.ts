/**
 * `mono run` against what goes wrong outside it: kill -9 at each point of an epoch's
 * writes, a full disk, SIGINT/SIGTERM, a second writer. The faults happen in child
 * processes (the real CLI; kill points chosen with the tests-only MONO_TEST_FAULT hook);
 * what is left on disk is then resumed or restarted in-process.
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePlan } from '../../src/compile.js';
import { readCheckpoint } from '../../src/runtime/checkpoint.js';
import { readMetrics } from '../../src/runtime/run-folder.js';
import type { EpochMetrics } from '../../src/runtime/trainer.js';
import { mono } from '../cli/harness.js';
import { runMono, startMono, waitForOutput } from '../support/cli-process.js';
import { tinyCliPlan } from '../support/tiny-plans.js';

const PLAN = tinyCliPlan('faults');
/** Epochs of a few seconds each on the cpu backend: time to interrupt one in the middle. */
const LONG_PLAN = PLAN.replace('examples: 120', 'examples: 3000').replace(/for \d epochs?/g, 'for 3 epochs');

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mono-faults-'));
  await writeFile(path.join(root, 'tiny.mono'), PLAN);
  await writeFile(path.join(root, 'long.mono'), LONG_PLAN);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const cpu = ['--backend', 'cpu'];
const run = (args: string[]) => mono(['run', ...args], { cwd: root });
const epochs = async (dir: string) => (await readMetrics(path.join(root, dir))).map((m) => `${m.phase}/${m.epoch}`);
const comparable = (metrics: EpochMetrics[]) => metrics.map(({ seconds: _s, examples_per_s: _e, ...rest }) => rest);
const leftovers = async (dir: string) => (await readdir(path.join(root, dir))).filter((n) => n.includes('.tmp') || n === 'run.lock');

/** Starts `mono run tiny.mono --out DIR` with a fault; resolves once the process is gone. */
async function runWithFault(dir: string, fault: string) {
  return runMono(['run', 'tiny.mono', '--out', dir, ...cpu], { cwd: root, env: { MONO_TEST_FAULT: fault } });
}

describe('a run killed (kill -9) at any point leaves a folder that --resume or a new run accepts', () => {
  // Chunks of the first checkpoint: one per weight (it is written at the p1/p2 boundary: no slots).
  // p2/1 is the first epoch through the network's output: best.bin (the parameters, one
  // chunk each) is written before its line, checkpoint.bin after it.
  const weights = new Set(compilePlan(PLAN, 'tiny.mono').ir!.parameters.map((p) => p.name)).size;
  const kills = {
    created: 'run-folder-created',
    files: 'run-files-written',
    firstLine: 'metrics-appended',
    firstCheckpoint: 'checkpoint-chunk',
    firstBest: `checkpoint-chunk@${weights + 1}`,
    secondLine: 'metrics-appended@2',
    secondCheckpoint: `checkpoint-chunk@${2 * weights + 1}`,
  };
  let reference: ReturnType<typeof comparable>;

  beforeAll(async () => {
    // Two at a time: the machine has few cores.
    const entries = Object.entries(kills);
    for (let i = 0; i < entries.length; i += 2) {
      const results = await Promise.all(entries.slice(i, i + 2).map(([dir, fault]) => runWithFault(dir, fault)));
      for (const result of results) expect(result.signal, result.stderr).toBe('SIGKILL');
    }
    // The same state, for a new run into it rather than a resume.
    await cp(path.join(root, 'firstLine'), path.join(root, 'firstLineFresh'), { recursive: true });
    expect((await run(['tiny.mono', '--out', 'reference', ...cpu])).code).toBe(0);
    reference = comparable(await readMetrics(path.join(root, 'reference')));
  }, 180_000);

  it('killed before run.json: --resume says to start again, a new run into the folder does (taking over the dead lock)', async () => {
    expect(await readdir(path.join(root, 'created'))).toEqual(['run.lock']);
    const resumed = await run(['--resume', 'created', ...cpu]);
    expect(resumed.code).toBe(3);
    expect(resumed.stderr).toBe(`mono run: ${path.join(root, 'created')} has no run.json: the run that made it stopped before it started; start it again with mono run PLAN --out ${path.join(root, 'created')}\n`);
    const fresh = await run(['tiny.mono', '--out', 'created', ...cpu]);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(fresh.stderr).toMatch(/^mono run: warning: took over created\/run\.lock, left by pid \d+ \(started .*\), which is no longer running\n$/);
    expect(await epochs('created')).toEqual(['p1/1', 'p2/1', 'p2/2']);
    expect(await leftovers('created')).toEqual([]);
  });

  it('killed before metrics.jsonl or the first checkpoint: --resume starts over', async () => {
    for (const dir of ['files', 'firstLine', 'firstCheckpoint']) {
      const names = await readdir(path.join(root, dir));
      expect(names).not.toContain('checkpoint.bin');
      if (dir === 'firstLine') expect(await epochs(dir)).toEqual(['p1/1']);
      if (dir === 'firstCheckpoint') expect(names.some((n) => n.startsWith('checkpoint.bin.tmp-'))).toBe(true);
      const resumed = await run(['--resume', dir, ...cpu]);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stdout).toMatch(/starting over \(no epoch had completed\)/);
      expect(comparable(await readMetrics(path.join(root, dir)))).toEqual(reference);
      expect(await leftovers(dir)).toEqual([]);
    }
  });

  it('killed after the first metrics line, before its checkpoint: a new run into the folder starts over', async () => {
    const fresh = await run(['tiny.mono', '--out', 'firstLineFresh', ...cpu]);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(comparable(await readMetrics(path.join(root, 'firstLineFresh')))).toEqual(reference);
  });

  it('killed after a later epoch began to be recorded: --resume continues from the last checkpoint, repeating no line', async () => {
    for (const dir of ['secondLine', 'secondCheckpoint']) {
      expect((await readCheckpoint(path.join(root, dir))).state).toMatchObject({ phaseIndex: 1, nextEpoch: 0 });
      // p2/1's line is in: the kill came before (or while) its checkpoint was written.
      expect(await epochs(dir)).toEqual(['p1/1', 'p2/1']);
      const resumed = await run(['--resume', dir, ...cpu]);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stdout).toMatch(/resuming at phase 2\/2, epoch 1/);
      expect(comparable(await readMetrics(path.join(root, dir)))).toEqual(reference);
      expect(await leftovers(dir)).toEqual([]);
    }
  });

  it('killed while writing the first best.bin, before its epoch was recorded: --resume repeats that epoch', async () => {
    const names = await readdir(path.join(root, 'firstBest'));
    expect(names).not.toContain('best.bin');
    expect(names.some((n) => n.startsWith('best.bin.tmp-'))).toBe(true);
    expect((await readCheckpoint(path.join(root, 'firstBest'))).state).toMatchObject({ phaseIndex: 1, nextEpoch: 0 });
    expect(await epochs('firstBest')).toEqual(['p1/1']);
    const resumed = await run(['--resume', 'firstBest', ...cpu]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(comparable(await readMetrics(path.join(root, 'firstBest')))).toEqual(reference);
    expect(await leftovers('firstBest')).toEqual([]);
    expect(await readdir(path.join(root, 'firstBest'))).toContain('best.bin');
  });

  it('a partial last line of metrics.jsonl (killed mid-write) is cut on resume', async () => {
    await cp(path.join(root, 'reference'), path.join(root, 'partial'), { recursive: true });
    // Back to the state after epoch 1, with a line cut off in the middle after it.
    await rm(path.join(root, 'partial', 'checkpoint.bin'));
    expect((await run(['tiny.mono', '--out', 'partial', '--max-epochs', '1', ...cpu])).code).toBe(0);
    const checkpointed = await readFile(path.join(root, 'partial', 'metrics.jsonl'), 'utf8');
    expect(checkpointed.split('\n')).toHaveLength(2);
    await writeFile(path.join(root, 'partial', 'metrics.jsonl'), checkpointed + '{"phase":"p2","epoch":1,"epo');
    const resumed = await run(['--resume', 'partial', ...cpu]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(comparable(await readMetrics(path.join(root, 'partial')))).toEqual(reference);
  });
});

describe('a full disk', () => {
  it('while writing a checkpoint: exit 3 naming checkpoint.bin, suggesting --resume; the last checkpoint stays', async () => {
    const weights = new Set(compilePlan(PLAN, 'tiny.mono').ir!.parameters.map((p) => p.name)).size;
    // After the first checkpoint's chunks and best.bin's (p2/1, the first epoch through the network's output).
    const result = await runWithFault('full', `checkpoint-chunk:enospc@${2 * weights + 1}`);
    expect(result.code).toBe(3);
    expect(result.stderr).toBe(
      `mono run: cannot write ${path.join(root, 'full', 'checkpoint.bin')}: no space left on device (ENOSPC)\n  free some space, then continue with: mono run --resume full\n`,
    );
    expect(await leftovers('full')).toEqual([]);
    expect((await readCheckpoint(path.join(root, 'full'))).state).toMatchObject({ phaseIndex: 1, nextEpoch: 0 });
    expect((await run(['--resume', 'full', ...cpu])).code).toBe(0);
    expect(await epochs('full')).toEqual(['p1/1', 'p2/1', 'p2/2']);
  });

  it.skipIf(!existsSync('/dev/full'))('while appending metrics (a real ENOSPC from /dev/full): exit 3 naming metrics.jsonl', async () => {
    await mkdir(path.join(root, 'devfull'));
    await symlink('/dev/full', path.join(root, 'devfull', 'metrics.jsonl'));
    const result = await run(['tiny.mono', '--out', 'devfull', ...cpu]);
    expect(result.code).toBe(3);
    expect(result.stderr).toBe(
      `mono run: cannot write ${path.join(root, 'devfull', 'metrics.jsonl')}: no space left on device (ENOSPC)\n  free some space, then start again with: mono run --resume devfull\n`,
    );
    expect(await leftovers('devfull')).toEqual([]);
  });
});

describe('signals and a second writer', () => {
  it('a second run or resume into a folder in use exits 3 naming the holder; SIGINT stops the first with a message', async () => {
    const first = startMono(['run', 'long.mono', '--out', 'busy', ...cpu], { cwd: root });
    await waitForOutput(first, (out) => /p1 epoch 1\/3/.test(out), 120_000);
    const pid = first.child.pid!;
    for (const args of [['tiny.mono', '--out', 'busy'], ['--resume', 'busy']]) {
      const second = await run([...args, ...cpu]);
      expect(second.code).toBe(3);
      expect(second.stderr).toMatch(new RegExp(`^mono run: ${path.join(root, 'busy')} is in use by another mono process \\(pid ${pid}, started \\S+: mono run long\\.mono --out busy --backend cpu\\)\\n$`));
    }
    first.child.kill('SIGINT');
    const done = await first.done;
    expect(done.code).toBe(130);
    expect(done.stderr).toBe('mono run: interrupted; continue with mono run --resume busy\n');
    expect(await leftovers('busy')).toEqual([]);
    expect((await epochs('busy'))[0]).toBe('p1/1');
    const checkpoint = await readCheckpoint(path.join(root, 'busy'));
    expect((await readMetrics(path.join(root, 'busy'))).length).toBe(checkpoint.state.phaseIndex * 3 + checkpoint.state.nextEpoch);
  });

  it('SIGTERM before the first epoch completed: exit 143, nothing trained yet, no lock left', async () => {
    const started = startMono(['run', 'long.mono', '--out', 'early', ...cpu], { cwd: root });
    await waitForOutput(started, (out) => out.includes('into early'), 120_000);
    started.child.kill('SIGTERM');
    const done = await started.done;
    expect(done.code).toBe(143);
    expect(done.stderr).toBe('mono run: interrupted before the first epoch completed; nothing was trained yet (start again with mono run --resume early)\n');
    expect(await leftovers('early')).toEqual([]);
    expect(await readdir(path.join(root, 'early'))).not.toContain('checkpoint.bin');
  });
});
