import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKPOINT_FILE, decodeCheckpoint, encodeCheckpoint, planHash, readCheckpoint, removeStaleTemporaries, type Checkpoint } from '../../src/runtime/checkpoint.js';
import { RuntimeFailure } from '../../src/runtime/errors.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mono-ckpt-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sample: Checkpoint = {
  planHash: 'abc',
  metricsBytes: 120,
  state: {
    phaseIndex: 1,
    nextEpoch: 2,
    optimizer: { type: 'msgd', steps: 7, beta1Power: 1, beta2Power: 1, slots: [{ name: 'w/first', shape: [2], values: new Float32Array([0.5, -0.25]) }] },
    schedules: { lr: { best: 0.3 }, momentum: {}, groups: {} },
    rng: { data: [1, 2, 3, 4], dropout: [5, 6, 7, 8] },
  },
  weights: [
    { name: 'w', shape: [2], values: new Float32Array([1.5, Math.PI]) },
    { name: 'b', shape: [1, 3], values: new Float32Array([1, 2, 3]) },
  ],
};

describe('checkpoints', () => {
  it('round-trip weights, optimizer slots and trainer state exactly', () => {
    const back = decodeCheckpoint(encodeCheckpoint(sample));
    expect(back).toEqual(sample);
  });

  it('refuse a damaged file instead of loading part of it', () => {
    const bytes = encodeCheckpoint(sample);
    expect(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 4))).toThrow(RuntimeFailure);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 1]! ^= 0xff;
    expect(() => decodeCheckpoint(flipped)).toThrow(/checksum/);
    expect(() => decodeCheckpoint(Buffer.from('not a checkpoint at all'))).toThrow(/magic/);
  });

  it('hash the plan source and params, not their order', () => {
    const a = planHash({ source: { file: 'a', sha256: '1' }, params: { width: 2, depth: 3 } });
    expect(planHash({ source: { file: 'b', sha256: '1' }, params: { depth: 3, width: 2 } })).toBe(a);
    expect(planHash({ source: { file: 'a', sha256: '1' }, params: { width: 1, depth: 3 } })).not.toBe(a);
    expect(planHash({ source: { file: 'a', sha256: '2' }, params: { width: 2, depth: 3 } })).not.toBe(a);
  });

  it('survive a SIGKILL in the middle of a write: the last complete checkpoint stays readable', async () => {
    const writer = fileURLToPath(new URL('./fixtures/checkpoint-writer.ts', import.meta.url));
    for (const extraMs of [0, 37, 91]) {
      const child = spawn(process.execPath, ['--import', 'tsx', writer, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
      let written = 0;
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          written += chunk.toString().split('\n').filter(Boolean).length;
          if (written >= 2) setTimeout(() => child.kill('SIGKILL'), extraMs);
        });
        child.on('exit', () => resolve());
        child.on('error', reject);
      });
      const checkpoint = await readCheckpoint(dir);
      const round = checkpoint.state.nextEpoch;
      expect(round).toBeGreaterThanOrEqual(2);
      expect(checkpoint.weights[0]!.values.every((v) => v === round)).toBe(true);
    }
    await removeStaleTemporaries(dir);
    expect((await readdir(dir)).filter((n) => n !== CHECKPOINT_FILE)).toEqual([]);
  });

  it('report a missing checkpoint as a runtime failure', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'mono-none-'));
    await expect(readCheckpoint(empty)).rejects.toThrow(/no checkpoint in/);
    await writeFile(path.join(empty, CHECKPOINT_FILE), 'garbage');
    await expect(readCheckpoint(empty)).rejects.toThrow(RuntimeFailure);
    expect((await readFile(path.join(empty, CHECKPOINT_FILE), 'utf8'))).toBe('garbage');
    await rm(empty, { recursive: true, force: true });
  });
});
