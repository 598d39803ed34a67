import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuntimeFailure } from '../../src/runtime/errors.js';
import { createDefaultRunDir, defaultRunDir, readMetrics, readRunInfo, rewindMetrics, writeFileAtomically } from '../../src/runtime/run-folder.js';
import { isStale, LOCK_FILE, RunFolderBusy, RunLock, type LockOwner } from '../../src/runtime/run-lock.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mono-folder-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const folder = async (name: string) => {
  const dir = path.join(root, name);
  await mkdir(dir, { recursive: true });
  return dir;
};

const line = (phase: string, epoch: number) => JSON.stringify({ phase, epoch }) + '\n';

/** The pid of a process that has just exited (not alive, unlikely to be reused within the test). */
const deadPid = () => spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;

describe('default run folders', () => {
  it('never give two runs started in the same second the same folder', async () => {
    const now = new Date(2024, 0, 2, 3, 4, 5);
    const dirs = await Promise.all(Array.from({ length: 5 }, () => createDefaultRunDir('tiny', root, now)));
    const base = defaultRunDir('tiny', root, now);
    expect(base).toBe(path.join(root, 'runs', 'tiny-20240102-030405'));
    expect([...dirs].sort()).toEqual([base, `${base}-2`, `${base}-3`, `${base}-4`, `${base}-5`]);
    expect(await createDefaultRunDir('tiny', root, now)).toBe(`${base}-6`);
  });
});

describe('writeFileAtomically', () => {
  it('with unique temporary files, writers beside the run\'s own all succeed and leave one whole file (report.html by the run and by mono report)', async () => {
    const dir = await folder('atomic');
    const file = path.join(dir, 'report.html');
    const texts = Array.from({ length: 12 }, (_, i) => `${String(i).repeat(200_000)}\n`);
    await Promise.all(texts.map((text, i) => writeFileAtomically(file, text, { unique: i > 0 })));
    expect(texts).toContain(await readFile(file, 'utf8'));
    expect(await readdir(dir)).toEqual(['report.html']);
  });
});

describe('metrics.jsonl', () => {
  it('is cut back to what the checkpoint recorded: a later line and a partial line go', async () => {
    const dir = await folder('rewind');
    const kept = line('p1', 1) + line('p1', 2);
    await writeFile(path.join(dir, 'metrics.jsonl'), kept + line('p2', 1) + '{"phase":"p2","ep');
    await rewindMetrics(dir, Buffer.byteLength(kept));
    expect(await readFile(path.join(dir, 'metrics.jsonl'), 'utf8')).toBe(kept);
  });

  it('shorter than the checkpoint says: refused by name, never padded; --force keeps what is left', async () => {
    const dir = await folder('short');
    const file = path.join(dir, 'metrics.jsonl');
    await writeFile(file, line('p1', 1));
    await expect(rewindMetrics(dir, 100)).rejects.toThrow(`${file} holds 25 bytes, fewer than the 100 the checkpoint recorded (lines were lost)`);
    expect(await readFile(file, 'utf8')).toBe(line('p1', 1));
    await rewindMetrics(dir, 100, { force: true });
    expect(await readFile(file, 'utf8')).toBe(line('p1', 1));
    await rm(file);
    await expect(rewindMetrics(dir, 100)).rejects.toThrow(/metrics\.jsonl is missing, but the checkpoint recorded 100 bytes/);
  });

  it('a damaged line is reported with the file and its line number', async () => {
    const dir = await folder('damaged');
    const file = path.join(dir, 'metrics.jsonl');
    const text = line('p1', 1) + '{"phase":"p1",\u0000\u0000\n' + line('p2', 1);
    await writeFile(file, text);
    await expect(rewindMetrics(dir, Buffer.byteLength(text))).rejects.toThrow(new RegExp(`${file.replace(/[.]/g, '\\.')} line 2 is damaged \\(not JSON`));
    await expect(readMetrics(dir)).rejects.toThrow(/metrics\.jsonl line 2 is damaged/);
    await writeFile(file, line('p1', 1) + '[1, 2]\n');
    await expect(readMetrics(dir)).rejects.toThrow(/line 2 is damaged \(not an epoch's metrics\)/);
    // The recorded length must end at a line's end.
    await writeFile(file, line('p1', 1) + line('p1', 2));
    await expect(rewindMetrics(dir, 30)).rejects.toThrow(/do not end with a whole line/);
  });
});

describe('run.json', () => {
  it('a damaged or missing one is reported by name, with what to do', async () => {
    const dir = await folder('info');
    const file = path.join(dir, 'run.json');
    await expect(readRunInfo(dir)).rejects.toThrow(`${dir} has no run.json: the run that made it stopped before it started; start it again with mono run PLAN --out ${dir}`);
    await writeFile(file, '{"plan": "tiny", "seed": 3,');
    await expect(readRunInfo(dir)).rejects.toThrow(new RegExp(`^${file.replace(/[.]/g, '\\.')} is damaged \\(not JSON: `));
    await writeFile(file, JSON.stringify({ plan: 'tiny', planFile: 'x.mono', seed: 3, set: null, backend: 'cpu', startedAt: '' }));
    await expect(readRunInfo(dir)).rejects.toThrow(/run\.json is damaged \(\/set must be object\)/);
    await writeFile(file, JSON.stringify({ plan: 'tiny', planFile: 'x.mono', seed: 3.5, set: {}, backend: 'cpu', startedAt: '' }));
    await expect(readRunInfo(dir)).rejects.toThrow(/\/seed must be integer/);
    await expect(readRunInfo(path.join(root, 'nowhere'))).rejects.toThrow(/is not a mono run folder/);
  });
});

describe('run.lock', () => {
  it('one holder at a time; released, the folder can be locked again', async () => {
    const dir = await folder('lock');
    const lock = await RunLock.acquire(dir, { command: 'mono run first' });
    const owner = JSON.parse(await readFile(path.join(dir, LOCK_FILE), 'utf8')) as LockOwner;
    expect(owner).toMatchObject({ pid: process.pid, host: os.hostname(), command: 'mono run first' });
    const refused = await RunLock.acquire(dir, { command: 'mono run second' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RunFolderBusy);
    expect((refused as Error).message).toBe(`${dir} is in use by another mono process (pid ${process.pid}, started ${owner.startedAt}: mono run first)`);
    await lock.release();
    expect(await readdir(dir)).toEqual([]);
    const again = await RunLock.acquire(dir);
    again.releaseSync();
    expect(await readdir(dir)).toEqual([]);
  });

  it('takes over the lock of a dead process (or one from before the last boot), with a warning', async () => {
    const dir = await folder('stale');
    const file = path.join(dir, LOCK_FILE);
    const stale: LockOwner = { pid: Number(deadPid()), host: os.hostname(), startedAt: new Date().toISOString(), command: 'mono run killed' };
    expect(isStale(stale)).toBe(true);
    expect(isStale({ ...stale, pid: process.pid })).toBe(false);
    expect(isStale({ ...stale, pid: process.pid, startedAt: new Date(Date.now() - os.uptime() * 1000 - 3_600_000).toISOString() })).toBe(true);
    await writeFile(file, JSON.stringify(stale));
    const told: (LockOwner | undefined)[] = [];
    const lock = await RunLock.acquire(dir, { onStale: (owner) => told.push(owner) });
    expect(told).toEqual([stale]);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ pid: process.pid });
    await lock.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it('never breaks a lock from another host, or one it cannot read that was just written', async () => {
    const dir = await folder('foreign');
    const file = path.join(dir, LOCK_FILE);
    await writeFile(file, JSON.stringify({ pid: 1, host: 'elsewhere', startedAt: '2024-01-01T00:00:00.000Z', command: 'mono run x' }));
    await expect(RunLock.acquire(dir)).rejects.toThrow(`(pid 1 on host elsewhere, started 2024-01-01T00:00:00.000Z: mono run x); if that process is gone, delete ${file}`);
    await writeFile(file, 'not json');
    await expect(RunLock.acquire(dir)).rejects.toThrow(RuntimeFailure);
    await expect(RunLock.acquire(dir)).rejects.toThrow(/is not a mono lock file/);
  });

  it('release leaves a lock that is no longer its own', async () => {
    const dir = await folder('replaced');
    const lock = await RunLock.acquire(dir);
    await writeFile(path.join(dir, LOCK_FILE), 'someone else');
    await lock.release();
    expect(await readFile(path.join(dir, LOCK_FILE), 'utf8')).toBe('someone else');
  });
});
