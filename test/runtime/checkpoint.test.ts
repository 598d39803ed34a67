import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { link, mkdir, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { fc, test as property } from '@fast-check/vitest';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  CHECKPOINT_FILE,
  arrayMemory,
  OVERLAP_MIN_BYTES,
  previousFileName,
  checkpointToSave,
  crc32InJs,
  decodeCheckpoint,
  encodeCheckpoint,
  planHash,
  readCheckpoint,
  readCheckpointHeader,
  removeStaleTemporaries,
  tensorMismatches,
  valueMemory,
  writeCheckpoint,
  type ByteSink,
  type ByteSource,
  type Checkpoint,
  type CheckpointToSave,
} from '../../src/runtime/checkpoint.js';
import { RuntimeFailure, WriteFailure } from '../../src/runtime/errors.js';
import { resetFaultPoints } from '../../src/runtime/fault-points.js';

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
    lrBounds: { p2: { min: 0.001, max: 0.1 } },
  },
  weights: [
    { name: 'w', shape: [2], values: new Float32Array([1.5, Math.PI]) },
    { name: 'b', shape: [1, 3], values: new Float32Array([1, 2, 3]) },
    { name: 'empty', shape: [0, 4], values: new Float32Array(0) },
  ],
};

/** Collects what an encoder writes, copying each chunk (the encoder's views point into the tensors). */
function memorySink(): ByteSink & { bytes(): Buffer; writes: number } {
  const chunks: Buffer[] = [];
  const sink = {
    writes: 0,
    async write(bytes: Uint8Array) {
      sink.writes++;
      chunks.push(Buffer.from(bytes));
    },
    bytes: () => Buffer.concat(chunks),
  };
  return sink;
}

function memorySource(bytes: Buffer): ByteSource {
  return {
    size: bytes.length,
    async readInto(target, position) {
      if (position + target.length > bytes.length) throw new Error('ended early');
      target.set(bytes.subarray(position, position + target.length));
    },
  };
}

async function encode(checkpoint: Checkpoint | CheckpointToSave, chunkBytes?: number): Promise<Buffer> {
  const sink = memorySink();
  await encodeCheckpoint('tensors' in checkpoint ? checkpoint : checkpointToSave(checkpoint), sink, chunkBytes ? { chunkBytes } : {});
  return sink.bytes();
}

const decode = (bytes: Buffer, chunkBytes?: number) => decodeCheckpoint(memorySource(bytes), 'ckpt', chunkBytes ? { chunkBytes } : {});

/** A version 2 file with any header JSON and values, its trailer computed (what a buggy writer could produce). */
function rawFile(header: unknown, values: Float32Array, version = 2): Buffer {
  let json = Buffer.from(JSON.stringify(header));
  if (json.length % 4) json = Buffer.concat([json, Buffer.alloc(4 - (json.length % 4), 0x20)]);
  const prefix = Buffer.alloc(16);
  prefix.write('MONOCKPT', 0, 'latin1');
  prefix.writeUInt32LE(version, 8);
  prefix.writeUInt32LE(json.length, 12);
  const body = Buffer.concat([prefix, json, Buffer.from(values.buffer, values.byteOffset, values.byteLength)]);
  if (version === 1) return body;
  const crc = Buffer.alloc(4);
  crc.writeUInt32LE(crc32(body));
  return Buffer.concat([body, Buffer.from('CRC-32: ', 'latin1'), crc]);
}

const header = (bytes: Buffer) => JSON.parse(bytes.toString('utf8', 16, 16 + bytes.readUInt32LE(12))) as Record<string, unknown>;

describe('checkpoint encoding', () => {
  it('round-trips weights, optimizer slots and trainer state exactly, in one chunk or many', async () => {
    for (const chunk of [undefined, 4, 12]) {
      const bytes = await encode(sample, chunk);
      expect(await decode(bytes, chunk === undefined ? 8 : chunk)).toEqual(sample);
    }
  });

  property.prop([
    fc.array(fc.tuple(fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }), fc.boolean()), { maxLength: 6 }),
    fc.integer({ min: 1, max: 9 }).map((n) => n * 4),
  ])('round-trips any tensors bit for bit with any chunk size', async (specs, chunkBytes) => {
    let seed = 1;
    const tensor = (i: number, shape: number[]) => {
      const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
      // Every bit pattern matters: NaN payloads, -0, denormals come from raw words.
      new Uint32Array(values.buffer).forEach((_, j, words) => (words[j] = seed = (Math.imul(seed, 1103515245) + 12345 + i) >>> 0));
      return { name: `t${i}`, shape, values };
    };
    const weights = specs.filter(([, slot]) => !slot).map(([shape], i) => tensor(i, shape));
    const slots = specs.filter(([, slot]) => slot).map(([shape], i) => tensor(100 + i, shape));
    const checkpoint: Checkpoint = { ...sample, state: { ...sample.state, optimizer: { ...sample.state.optimizer!, slots } }, weights };
    const back = await decode(await encode(checkpoint, chunkBytes), chunkBytes);
    const bits = (c: Checkpoint) => [...c.weights, ...c.state.optimizer!.slots].map((t) => [t.name, t.shape, Buffer.from(t.values.buffer).toString('hex')]);
    expect(bits(back)).toEqual(bits(checkpoint));
  });

  property.prop([fc.integer({ min: 1, max: 9 }).map((n) => n * 4), fc.subarray(['w', 'b', 'empty', 'w/first'])])(
    'reads into the destinations it is given, bit for bit, allocating only for the other tensors',
    async (chunkBytes, placed) => {
      const bytes = await encode(sample, chunkBytes);
      const targets = new Map(placed.map((name) => [name, new Float32Array([...sample.weights, ...sample.state.optimizer!.slots].find((t) => t.name === name)!.values.length).fill(7)]));
      const allocate = vi.spyOn(valueMemory, 'allocate');
      try {
        const back = await decodeCheckpoint(memorySource(bytes), 'ckpt', { chunkBytes, destination: (entry) => (targets.has(entry.name) ? arrayMemory(targets.get(entry.name)!) : undefined) });
        expect(allocate).toHaveBeenCalledTimes(4 - placed.length);
        for (const name of placed) {
          const original = [...sample.weights, ...sample.state.optimizer!.slots].find((t) => t.name === name)!;
          expect(Buffer.from(targets.get(name)!.buffer).equals(Buffer.from(original.values.buffer, original.values.byteOffset, original.values.byteLength))).toBe(true);
        }
        const kind = (name: string) => (name.includes('/') ? 'slot' : 'weight');
        expect(back.readInPlace ?? []).toEqual(['w', 'b', 'empty', 'w/first'].filter((n) => placed.includes(n)).map((n) => `${kind(n)} ${n}`));
        expect(back.weights.map((w) => w.name)).toEqual(sample.weights.map((w) => w.name).filter((n) => !placed.includes(n)));
        expect(back.state.optimizer!.slots.map((t) => t.name)).toEqual(placed.includes('w/first') ? [] : ['w/first']);
      } finally {
        allocate.mockRestore();
      }
    },
  );

  it('checks the header and every destination before it writes into any of them', async () => {
    const bytes = await encode(sample, 4);
    const w = new Float32Array(2).fill(7);
    const destination = (entry: { name: string }) => (entry.name === 'w' ? arrayMemory(w) : undefined);
    await expect(
      decodeCheckpoint(memorySource(bytes), 'ckpt', {
        destination,
        checkHeader: (header) => {
          expect(header).toMatchObject({ planHash: 'abc', metricsBytes: 120, state: { phaseIndex: 1, nextEpoch: 2 } });
          expect(header.tensors.map((t) => `${t.kind} ${t.name} [${t.shape}]`)).toEqual(['weight w [2]', 'weight b [1,3]', 'weight empty [0,4]', 'slot w/first [2]']);
          throw new RuntimeFailure('does not fit');
        },
      }),
    ).rejects.toThrow('does not fit');
    // A destination of another size than its entry: refused before any value is read.
    const b = new Float32Array(4).fill(7);
    await expect(decodeCheckpoint(memorySource(bytes), 'ckpt', { destination: (entry) => (entry.name === 'w' ? arrayMemory(w) : entry.name === 'b' ? arrayMemory(b) : undefined) })).rejects.toThrow(
      /destination of weight b: 4 values for 3/,
    );
    expect([...w, ...b]).toEqual(new Array(6).fill(7));
  });

  it('asks for each tensor only when it writes it, in chunks no larger than asked', async () => {
    const events: string[] = [];
    const sink: ByteSink = {
      async write(bytes) {
        events.push(`write ${bytes.length}`);
      },
    };
    const tensors = ['a', 'b'].map((name) => ({ name, kind: 'weight' as const, shape: [5], values: () => (events.push(`values ${name}`), new Float32Array(5)) }));
    await encodeCheckpoint({ planHash: 'x', metricsBytes: 0, state: { ...checkpointToSave(sample).state, optimizer: null }, tensors }, sink, { chunkBytes: 8 });
    // head; a: 8 + 8 + 4 bytes; b: the same; trailer.
    expect(events.slice(1)).toEqual(['values a', 'write 8', 'write 8', 'write 4', 'values b', 'write 8', 'write 8', 'write 4', 'write 12']);
  });

  it('refuses every single-bit flip and every truncation of a file', async () => {
    const bytes = await encode(sample);
    let refused = 0;
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const flipped = Buffer.from(bytes);
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      await expect(decode(flipped)).rejects.toThrow(RuntimeFailure);
      refused++;
    }
    expect(refused).toBeGreaterThan(4000);
    for (let length = 0; length < bytes.length; length++) await expect(decode(bytes.subarray(0, length))).rejects.toThrow(RuntimeFailure);
    await expect(decode(Buffer.from('not a checkpoint at all'))).rejects.toThrow(/magic/);
  });

  it('names what is wrong with a header that passes the checksum but not the schema or the sizes', async () => {
    const good = header(await encode(sample));
    const values = new Float32Array(8);
    const withState = (state: object) => ({ ...good, state: { ...(good['state'] as object), ...state } });
    await expect(decode(rawFile({ ...good, metricsBytes: -1 }, values))).rejects.toThrow(/damaged header: \/metricsBytes must be >= 0/);
    await expect(decode(rawFile(withState({ nextEpoch: '2' }), values))).rejects.toThrow(/\/state\/nextEpoch must be integer/);
    await expect(decode(rawFile(withState({ rng: { data: [1] } }), values))).rejects.toThrow(/\/state\/rng must have required property 'dropout'/);
    await expect(decode(rawFile({ ...good, extra: 1 }, values))).rejects.toThrow(/must NOT have additional properties 'extra'/);
    const tensors = good['tensors'] as { name: string; length: number; shape: number[] }[];
    await expect(decode(rawFile({ ...good, tensors: [{ ...tensors[0]!, length: 3 }, ...tensors.slice(1)] }, values))).rejects.toThrow(/weight w has 3 values for shape \[2\]/);
    await expect(decode(rawFile({ ...good, tensors: [tensors[0], tensors[0]] }, values))).rejects.toThrow(/weight w is listed twice/);
    await expect(decode(rawFile(good, new Float32Array(9)))).rejects.toThrow(/header describes \d+: truncated or damaged/);
    await expect(decode(rawFile(good, values, 3))).rejects.toThrow(/format version 3, this mono reads versions 1 and 2/);
  });

  it('reads version 1 files (values checksum in the header), and refuses damaged ones', async () => {
    const good = header(await encode(sample));
    const values = new Float32Array([1.5, Math.PI, 1, 2, 3, 0.5, -0.25]);
    const valuesSha256 = createHash('sha256').update(Buffer.from(values.buffer)).digest('hex');
    const v1 = rawFile({ ...good, valuesSha256 }, values, 1);
    expect(await decode(v1, 4)).toEqual(sample);
    const damaged = Buffer.from(v1);
    damaged[damaged.length - 1]! ^= 1;
    await expect(decode(damaged)).rejects.toThrow(/values do not match their checksum/);
    await expect(decode(rawFile(good, values, 1))).rejects.toThrow(/valuesSha256 missing in a version 1 file/);
  });

  property.prop([fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 })])('the CRC-32 of older Node versions agrees with zlib.crc32, also chained', (a, b) => {
    expect(crc32InJs(a, 0)).toBe(crc32(a));
    expect(crc32InJs(b, crc32InJs(a, 0))).toBe(crc32(b, crc32(a)));
  });

  it('hashes the plan source and params, not their order', () => {
    const a = planHash({ source: { file: 'a', sha256: '1' }, params: { width: 2, depth: 3 } });
    expect(planHash({ source: { file: 'b', sha256: '1' }, params: { depth: 3, width: 2 } })).toBe(a);
    expect(planHash({ source: { file: 'a', sha256: '1' }, params: { width: 1, depth: 3 } })).not.toBe(a);
    expect(planHash({ source: { file: 'a', sha256: '2' }, params: { width: 2, depth: 3 } })).not.toBe(a);
  });

  it('lists the tensors that do not fit a plan: missing, extra, reshaped', () => {
    const expected = [
      { name: 'w', kind: 'weight' as const, shape: [2] },
      { name: 'b', kind: 'weight' as const, shape: [3] },
      { name: 'empty', kind: 'weight' as const, shape: [0, 4] },
      { name: 'w/first', kind: 'slot' as const, shape: [2] },
    ];
    expect(tensorMismatches(sample, expected)).toEqual(['weight b has shape [1,3] in the checkpoint, [3] in the plan']);
    expect(tensorMismatches(sample, [...expected.slice(0, 1), ...expected.slice(2, 3), { name: 'c', kind: 'weight', shape: [1] }])).toEqual([
      'weight c is missing from the checkpoint',
      'weight b is not in the plan',
      'slot w/first is not in the plan',
    ]);
  });
});

describe('checkpoint files', () => {
  afterEach(() => {
    delete process.env['MONO_TEST_FAULT'];
    resetFaultPoints();
  });

  it('write and read in many small chunks, and --init-from can skip the slots', async () => {
    const folder = await mkdtemp(path.join(dir, 'chunks-'));
    await writeCheckpoint(folder, checkpointToSave(sample), { chunkBytes: 4 });
    expect(await readCheckpoint(folder, { chunkBytes: 8 })).toEqual(sample);
    const weightsOnly = await readCheckpoint(folder, { chunkBytes: 4, weightsOnly: true });
    expect(weightsOnly.weights).toEqual(sample.weights);
    expect(weightsOnly.state.optimizer?.slots).toEqual([]);
    expect(await readdir(folder)).toEqual([CHECKPOINT_FILE]);
  });

  it('report their progress after every chunk, up to the file\'s size, for files of at least progressMinBytes', async () => {
    const folder = await mkdtemp(path.join(dir, 'progress-'));
    for (const [minBytes, shown] of [[0, true], [Number.MAX_SAFE_INTEGER, false]] as const) {
      const writes: [number, number][] = [];
      await writeCheckpoint(folder, checkpointToSave(sample), { chunkBytes: 8, progressMinBytes: minBytes, onProgress: (done, total) => void writes.push([done, total]) });
      const size = (await stat(path.join(folder, CHECKPOINT_FILE))).size;
      const reads: [number, number][] = [];
      await readCheckpoint(folder, { chunkBytes: 12, progressMinBytes: minBytes, onProgress: (done, total) => void reads.push([done, total]) });
      if (!shown) {
        expect([writes, reads]).toEqual([[], []]);
        continue;
      }
      for (const calls of [writes, reads]) {
        expect(calls.length).toBeGreaterThan(2); // the values go in several chunks
        expect(calls.every(([, total]) => total === size)).toBe(true);
        const done = calls.map(([d]) => d);
        expect(done.every((d, i) => i === 0 || d >= done[i - 1]!)).toBe(true);
        expect(done.at(-1)).toBe(size);
      }
    }
  });

  it('move chunks of 1 MiB and more through the thread pool, checksummed meanwhile: bit for bit, skipped slots, damage found', async () => {
    const folder = await mkdtemp(path.join(dir, 'overlap-'));
    const chunkBytes = OVERLAP_MIN_BYTES;
    const words = (n: number, seed: number) => {
      const values = new Float32Array(n);
      new Uint32Array(values.buffer).forEach((_, i, w) => (w[i] = Math.imul(i + seed, 2654435761) >>> 0));
      return values;
    };
    // 2.5 chunks, a small tensor between two large ones, and a large slot after them.
    const big: Checkpoint = {
      ...sample,
      weights: [
        { name: 'a', shape: [640, 1024], values: words(640 * 1024, 1) },
        { name: 'b', shape: [3], values: words(3, 2) },
        { name: 'c', shape: [300, 1024], values: words(300 * 1024, 3) },
      ],
      state: { ...sample.state, optimizer: { ...sample.state.optimizer!, slots: [{ name: 'a/first', shape: [640, 1024], values: words(640 * 1024, 4) }] } },
    };
    await writeCheckpoint(folder, checkpointToSave(big), { chunkBytes });
    const bits = (c: Checkpoint) => [...c.weights, ...(c.state.optimizer?.slots ?? [])].map((t) => `${t.name} ${t.shape} ${createHash('sha256').update(t.values).digest('hex')}`);
    expect(bits(await readCheckpoint(folder, { chunkBytes }))).toEqual(bits(big));
    const weightsOnly = await readCheckpoint(folder, { chunkBytes, weightsOnly: true });
    expect(bits(weightsOnly)).toEqual(bits({ ...big, state: { ...big.state, optimizer: { ...big.state.optimizer!, slots: [] } } }));
    // One byte changed in the second chunk of the last tensor (the slot, skipped with weightsOnly): refused either way.
    const file = path.join(folder, CHECKPOINT_FILE);
    const size = (await stat(file)).size;
    const handle = await open(file, 'r+');
    await handle.write(Buffer.from([0x5a]), 0, 1, size - 12 - 1024 * 1024 - 1000);
    await handle.close();
    await expect(readCheckpoint(folder, { chunkBytes })).rejects.toThrow(/does not match its checksum/);
    await expect(readCheckpoint(folder, { chunkBytes, weightsOnly: true })).rejects.toThrow(/does not match its checksum/);
  });

  it('read into destinations through the thread pool too, and give the header alone without reading any value', async () => {
    const folder = await mkdtemp(path.join(dir, 'in-place-'));
    const words = (n: number, seed: number) => {
      const values = new Float32Array(n);
      new Uint32Array(values.buffer).forEach((_, i, w) => (w[i] = Math.imul(i + seed, 2654435761) >>> 0));
      return values;
    };
    // 2.5 chunks of OVERLAP_MIN_BYTES: reads in the thread pool, checksummed meanwhile.
    const big: Checkpoint = { ...sample, weights: [{ name: 'a', shape: [640, 1024], values: words(640 * 1024, 1) }, ...sample.weights] };
    await writeCheckpoint(folder, checkpointToSave(big), { chunkBytes: OVERLAP_MIN_BYTES });
    expect(await readCheckpointHeader(folder)).toEqual({
      planHash: 'abc',
      metricsBytes: 120,
      state: { ...sample.state, optimizer: { type: 'msgd', steps: 7, beta1Power: 1, beta2Power: 1 } },
      tensors: [...big.weights.map((w) => ({ name: w.name, kind: 'weight', shape: w.shape })), { name: 'w/first', kind: 'slot', shape: [2] }],
    });
    const a = new Float32Array(640 * 1024);
    const back = await readCheckpoint(folder, { chunkBytes: OVERLAP_MIN_BYTES, destination: (entry) => (entry.name === 'a' ? arrayMemory(a) : undefined) });
    expect(Buffer.from(a.buffer).equals(Buffer.from(big.weights[0]!.values.buffer))).toBe(true);
    expect(back).toEqual({ ...sample, readInPlace: ['weight a'] });
    // Damage in the tensor read in place: refused (the destination holds what was read; its owner must not use it).
    const file = path.join(folder, CHECKPOINT_FILE);
    const handle = await open(file, 'r+');
    await handle.write(Buffer.from([0x5a]), 0, 1, (await stat(file)).size - 1024 * 1024);
    await handle.close();
    await expect(readCheckpoint(folder, { chunkBytes: OVERLAP_MIN_BYTES, destination: (entry) => (entry.name === 'a' ? arrayMemory(a) : undefined) })).rejects.toThrow(
      /does not match its checksum/,
    );
    // The header alone does not read the values: it cannot see that damage.
    expect((await readCheckpointHeader(folder)).planHash).toBe('abc');
  });

  it('overwrite the file the last write replaced, never one linked elsewhere (a kept copy, a crash before the rename)', async () => {
    const folder = await mkdtemp(path.join(dir, 'previous-'));
    const previous = path.join(folder, previousFileName(CHECKPOINT_FILE));
    const file = path.join(folder, CHECKPOINT_FILE);
    const version = (n: number, extra = 0): Checkpoint => ({ ...sample, metricsBytes: n, weights: [...sample.weights, ...Array.from({ length: extra }, (_, i) => ({ name: `x${i}`, shape: [50], values: new Float32Array(50).fill(n) }))] });
    const inode = async (f: string) => (await stat(f)).ino;
    await writeCheckpoint(folder, checkpointToSave(version(1, 20)));
    const first = await inode(file);
    await writeCheckpoint(folder, checkpointToSave(version(2)));
    expect(await inode(previous)).toBe(first);
    expect((await readCheckpoint(folder, { file: previousFileName(CHECKPOINT_FILE) })).metricsBytes).toBe(1);
    // The third write reuses the first file, which was longer: cut to the new length.
    await writeCheckpoint(folder, checkpointToSave(version(3)));
    expect(await inode(file)).toBe(first);
    expect(await readCheckpoint(folder)).toEqual(version(3));
    expect((await readCheckpoint(folder, { file: previousFileName(CHECKPOINT_FILE) })).metricsBytes).toBe(2);

    // Someone keeps the previous checkpoint under another name: it stays as it was.
    await link(previous, path.join(folder, 'kept.bin'));
    await writeCheckpoint(folder, checkpointToSave(version(4)));
    expect((await readCheckpoint(folder, { file: 'kept.bin' })).metricsBytes).toBe(2);
    expect((await readCheckpoint(folder)).metricsBytes).toBe(4);

    // A crash between linking the checkpoint as the previous file and the rename leaves both names on one file: a failed write then must not touch it.
    await rm(previous);
    await link(file, previous);
    process.env['MONO_TEST_FAULT'] = 'checkpoint-chunk:enospc@2';
    await expect(writeCheckpoint(folder, checkpointToSave(version(5)), { chunkBytes: 4 })).rejects.toThrow(WriteFailure);
    expect(await readCheckpoint(folder)).toEqual(version(4));
    delete process.env['MONO_TEST_FAULT'];
    await writeCheckpoint(folder, checkpointToSave(version(6)));
    expect(await readCheckpoint(folder)).toEqual(version(6));

    // Something other than a file under that name is left alone.
    await rm(previous);
    await mkdir(previous);
    await writeCheckpoint(folder, checkpointToSave(version(61)));
    expect((await readCheckpoint(folder)).metricsBytes).toBe(61);
    expect((await stat(previous)).isDirectory()).toBe(true);
    // ... and by the clean-up at a run's end, which used to throw on it.
    await removeStaleTemporaries(folder);
    expect((await stat(previous)).isDirectory()).toBe(true);
    await rm(previous, { recursive: true });

    // Without reuse, no previous file is kept; removeStaleTemporaries removes one.
    await writeCheckpoint(folder, checkpointToSave(version(7)), { reusePrevious: false });
    await removeStaleTemporaries(folder);
    await writeCheckpoint(folder, checkpointToSave(version(8)), { reusePrevious: false });
    expect((await readdir(folder)).sort()).toEqual([CHECKPOINT_FILE, 'kept.bin']);
    await writeCheckpoint(folder, checkpointToSave(version(9)));
    await removeStaleTemporaries(folder);
    expect((await readdir(folder)).sort()).toEqual([CHECKPOINT_FILE, 'kept.bin']);
  });

  it('survive a SIGKILL in the middle of a write: the last complete checkpoint stays readable', async () => {
    const folder = await mkdtemp(path.join(dir, 'kill-'));
    const writer = fileURLToPath(new URL('./fixtures/checkpoint-writer.ts', import.meta.url));
    for (const extraMs of [0, 37, 91]) {
      const child = spawn(process.execPath, ['--import', 'tsx', writer, folder], { stdio: ['ignore', 'pipe', 'inherit'] });
      let written = 0;
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          written += chunk.toString().split('\n').filter(Boolean).length;
          if (written >= 2) setTimeout(() => child.kill('SIGKILL'), extraMs);
        });
        child.on('exit', () => resolve());
        child.on('error', reject);
      });
      const checkpoint = await readCheckpoint(folder);
      const round = checkpoint.state.nextEpoch;
      expect(round).toBeGreaterThanOrEqual(2);
      expect(checkpoint.weights[0]!.values.every((v) => v === round)).toBe(true);
    }
    await removeStaleTemporaries(folder);
    expect((await readdir(folder)).filter((n) => n !== CHECKPOINT_FILE)).toEqual([]);
  });

  it('a full disk: a WriteFailure naming checkpoint.bin, the old checkpoint intact, no temporary file left', async () => {
    const folder = await mkdtemp(path.join(dir, 'full-'));
    await writeCheckpoint(folder, checkpointToSave(sample));
    process.env['MONO_TEST_FAULT'] = 'checkpoint-chunk:enospc';
    const newer = checkpointToSave({ ...sample, metricsBytes: 999 });
    const failure = await writeCheckpoint(folder, newer, { chunkBytes: 4 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(WriteFailure);
    expect((failure as WriteFailure).message).toBe(`cannot write ${path.join(folder, CHECKPOINT_FILE)}: no space left on device (ENOSPC)`);
    expect((failure as WriteFailure).code).toBe('ENOSPC');
    expect(await readdir(folder)).toEqual([CHECKPOINT_FILE]);
    expect((await readCheckpoint(folder)).metricsBytes).toBe(120);
  });

  it('report a missing or unreadable checkpoint as a runtime failure, leaving the file alone', async () => {
    const empty = await mkdtemp(path.join(dir, 'none-'));
    await expect(readCheckpoint(empty)).rejects.toThrow(/no checkpoint in/);
    await writeFile(path.join(empty, CHECKPOINT_FILE), 'garbage');
    await expect(readCheckpoint(empty)).rejects.toThrow(RuntimeFailure);
    expect(await readFile(path.join(empty, CHECKPOINT_FILE), 'utf8')).toBe('garbage');
  });
});
