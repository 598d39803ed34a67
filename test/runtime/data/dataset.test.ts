import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DataSpec } from '../../../src/ir/types.js';
import { DataUnavailableError, loadData, type Split } from '../../../src/runtime/data/dataset.js';
import { splitHoldout } from '../../../src/runtime/data/holdout.js';
import { channelStats } from '../../../src/runtime/data/normalize.js';
import { tempDir, writeCifarFolder, writeIdxFolder } from './fixtures.js';

const folders: string[] = [];
afterAll(() => {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

function syntheticSpec(overrides: Partial<DataSpec> = {}): DataSpec {
  return {
    source: { type: 'synthetic', examples: 100, classes: 5, shape: [3, 3, 2], noise: 0.1 },
    batch: 10,
    holdout: 20,
    augment: [],
    normalize: { type: 'none' },
    seed: 7,
    limit: 0,
    ...overrides,
  };
}

/** A split whose example i has every value equal to i and label i: makes membership easy to read. */
function numberedSplit(count: number): Split {
  const images = new Float32Array(count * 2);
  for (let i = 0; i < count; i++) images.fill(i, i * 2, i * 2 + 2);
  return { images, labels: Int32Array.from({ length: count }, (_, i) => i), count, shape: [1, 1, 2] };
}

describe('hold-out split and limit', () => {
  it('holds out a seeded random subset and keeps the rest for training, disjoint and complete', () => {
    const { train, holdout } = splitHoldout(numberedSplit(50), 10, 0, 3);
    expect(holdout.count).toBe(10);
    expect(train.count).toBe(40);
    const all = [...holdout.labels, ...train.labels].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 50 }, (_, i) => i));
    // Images travel with their labels.
    for (const split of [train, holdout]) for (let k = 0; k < split.count; k++) expect(split.images[k * 2 + 1]).toBe(split.labels[k]);
    // Random, not the first ten.
    expect([...holdout.labels]).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Same seed, same split; another seed, another one.
    expect(splitHoldout(numberedSplit(50), 10, 0, 3).holdout.labels).toEqual(holdout.labels);
    expect(splitHoldout(numberedSplit(50), 10, 0, 4).holdout.labels).not.toEqual(holdout.labels);
  });

  it('takes the hold-out before the limit, so the limit never changes the hold-out set', () => {
    const full = splitHoldout(numberedSplit(50), 10, 0, 3);
    const limited = splitHoldout(numberedSplit(50), 10, 15, 3);
    expect(limited.holdout.labels).toEqual(full.holdout.labels);
    expect(limited.train.count).toBe(15);
    expect([...limited.train.labels]).toEqual([...full.train.labels].slice(0, 15));
    expect(splitHoldout(numberedSplit(50), 10, 1000, 3).train.count).toBe(40);
  });

  it('allows no hold-out and rejects one that leaves nothing to train on', () => {
    const { train, holdout } = splitHoldout(numberedSplit(5), 0, 0, 1);
    expect(holdout.count).toBe(0);
    expect(holdout.images.length).toBe(0);
    expect(train.count).toBe(5);
    expect(() => splitHoldout(numberedSplit(5), 5, 0, 1)).toThrow(/leaves no training examples/);
    expect(() => splitHoldout(numberedSplit(5), -1, 0, 1)).toThrow(RangeError);
  });
});

describe('loadData', () => {
  it('is deterministic for a seed', async () => {
    const a = await loadData(syntheticSpec());
    const b = await loadData(syntheticSpec());
    const c = await loadData(syntheticSpec({ seed: 8 }));
    expect(a.train.images).toEqual(b.train.images);
    expect(a.holdout.labels).toEqual(b.holdout.labels);
    expect(a.train.images).not.toEqual(c.train.images);
    expect(a).toMatchObject({ name: 'synthetic', classes: 5, train: { count: 80 }, holdout: { count: 20 } });
    expect(a.test).toBeUndefined();
  });

  it('applies the limit after the hold-out', async () => {
    const data = await loadData(syntheticSpec({ limit: 30 }));
    expect(data.train.count).toBe(30);
    expect(data.holdout.count).toBe(20);
    const unlimited = await loadData(syntheticSpec());
    expect(data.holdout.images).toEqual(unlimited.holdout.images);
  });

  it('normalises per channel with statistics of the training split only', async () => {
    const raw = await loadData(syntheticSpec());
    const expected = channelStats(raw.train);
    const data = await loadData(syntheticSpec({ normalize: { type: 'per_channel' } }));
    expect(data.mean).toEqual(expected.mean);
    expect(data.std).toEqual(expected.std);
    const after = channelStats(data.train);
    for (let c = 0; c < 2; c++) {
      expect(after.mean[c]).toBeCloseTo(0, 5);
      expect(after.std[c]).toBeCloseTo(1, 4);
    }
    // The hold-out uses the training statistics, not its own.
    for (let i = 0; i < data.holdout.images.length; i++) {
      const c = i % 2;
      expect(data.holdout.images[i]).toBeCloseTo((raw.holdout.images[i]! - expected.mean[c]!) / expected.std[c]!, 5);
    }
    expect(channelStats(raw.holdout).mean).not.toEqual(expected.mean);
  });

  it('applies fixed statistics, broadcasting a single value to every channel', async () => {
    const raw = await loadData(syntheticSpec());
    const fixed = await loadData(syntheticSpec({ normalize: { type: 'fixed', mean: [0.5, 0.25], std: [2, 0.5] } }));
    expect(fixed.mean).toEqual([0.5, 0.25]);
    expect(fixed.std).toEqual([2, 0.5]);
    expect(fixed.train.images[0]).toBeCloseTo((raw.train.images[0]! - 0.5) / 2, 6);
    expect(fixed.train.images[1]).toBeCloseTo((raw.train.images[1]! - 0.25) / 0.5, 6);
    const broadcast = await loadData(syntheticSpec({ normalize: { type: 'fixed', mean: [0.5], std: [2] } }));
    expect(broadcast.mean).toEqual([0.5, 0.5]);
    await expect(loadData(syntheticSpec({ normalize: { type: 'fixed', mean: [0, 0, 0], std: [1, 1, 1] } }))).rejects.toThrow(/3 values/);
    expect(raw.mean).toEqual([0, 0]);
    expect(raw.std).toEqual([1, 1]);
  });

  it('normalises vectors per feature (the last axis), as images per channel', async () => {
    const spec = syntheticSpec({ source: { type: 'synthetic', examples: 200, classes: 3, shape: [5], noise: 0.3 }, normalize: { type: 'per_channel' } });
    const data = await loadData(spec);
    expect(data.train.shape).toEqual([5]);
    expect(data.mean).toHaveLength(5);
    const after = channelStats(data.train);
    for (let feature = 0; feature < 5; feature++) {
      expect(after.mean[feature]).toBeCloseTo(0, 5);
      expect(after.std[feature]).toBeCloseTo(1, 4);
    }
    expect(data.origin).toBe('synthetic data (200 examples of [5], 3 classes)');
  });

  it('normalises the test split of a source that has one, and resolves paths against baseDir', async () => {
    const root = tempDir();
    folders.push(root);
    writeCifarFolder(root, 2);
    const spec: DataSpec = { ...syntheticSpec({ normalize: { type: 'per_channel' }, holdout: 2, test: true }), source: { type: 'cifar10', path: '.' } };
    const data = await loadData(spec, { baseDir: root });
    expect(data.train.count).toBe(8);
    expect(data.test?.count).toBe(2);
    expect(data.mean).toHaveLength(3);
    const rawTest = await loadData({ ...spec, normalize: { type: 'none' } }, { baseDir: root });
    expect(data.test?.images[5]).toBeCloseTo((rawTest.test!.images[5]! - data.mean[2]!) / data.std[2]!, 5);
  });

  it('keeps the test split only when the plan asks for it, and says what is missing when there is none', async () => {
    const root = tempDir();
    folders.push(root);
    writeIdxFolder(root, { trainCount: 20, testCount: 5, rows: 3, cols: 3, gzip: false });
    const spec = (test: boolean): DataSpec => ({ ...syntheticSpec({ holdout: 5, test }), source: { type: 'idx', path: root } });
    expect((await loadData(spec(true))).test?.count).toBe(5);
    expect((await loadData(spec(false))).test).toBeUndefined();
    const trainOnly = tempDir();
    folders.push(trainOnly);
    writeIdxFolder(trainOnly, { trainCount: 20, testCount: 0, rows: 3, cols: 3, gzip: false });
    const error = await loadData({ ...spec(true), source: { type: 'idx', path: trainOnly } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataUnavailableError);
    expect((error as Error).message).toBe(
      `${trainOnly}: the plan asks for the test split ('test true'), but there is none; expected t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz] beside the training files`,
    );
  });

  it('loads IDX and the mnist package through their sources', async () => {
    const root = tempDir();
    folders.push(root);
    writeIdxFolder(root, { trainCount: 30, testCount: 5, rows: 4, cols: 4, gzip: true });
    const idx = await loadData({ ...syntheticSpec({ holdout: 5, test: true }), source: { type: 'idx', path: root } });
    expect(idx).toMatchObject({ name: 'idx', train: { count: 25, shape: [4, 4, 1] }, holdout: { count: 5 }, test: { count: 5 } });
    const mnist = await loadData({ ...syntheticSpec({ holdout: 1000, normalize: { type: 'per_channel' } }), source: { type: 'mnist' } });
    expect(mnist).toMatchObject({ name: 'mnist', classes: 10, train: { count: 9000 }, holdout: { count: 1000 } });
    expect(mnist.mean[0]).toBeCloseTo(0.13, 1);
  });

  it('reports a missing data set as DataUnavailableError', async () => {
    const root = tempDir();
    folders.push(root);
    const spec: DataSpec = { ...syntheticSpec(), source: { type: 'cifar10', path: 'data/cifar-10-batches-bin' } };
    const error = (await loadData(spec, { baseDir: root }).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(DataUnavailableError);
    expect(error.message).toContain(join(root, 'data/cifar-10-batches-bin'));
    expect(error.message).toContain(join(process.cwd(), 'data/cifar-10-batches-bin'));
  });
});
