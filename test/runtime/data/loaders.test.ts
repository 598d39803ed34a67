import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCifar10, parseCifar10 } from '../../../src/runtime/data/cifar10.js';
import { DataFormatError, DataUnavailableError } from '../../../src/runtime/data/errors.js';
import { idxToSplit, parseIdx } from '../../../src/runtime/data/idx.js';
import { FASHION_MNIST_DEBIAN_DIR, loadFashionMnist, loadIdx } from '../../../src/runtime/data/idx-sources.js';
import { makeSynthetic } from '../../../src/runtime/data/synthetic.js';
import { cifarByte, cifarFile, cifarLabel, idxBytes, idxPixel, tempDir, writeCifarFolder, writeIdxFolder } from './fixtures.js';

const folders: string[] = [];
function freshDir(): string {
  const dir = tempDir();
  folders.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

const unit = (byte: number): number => Math.fround(byte / 255);

describe('CIFAR-10 binary loader', () => {
  it('reads labels and converts CHW records to HWC pixels in [0, 1]', async () => {
    const dir = freshDir();
    writeCifarFolder(dir, 3);
    const data = await loadCifar10(dir);
    expect(data.name).toBe('cifar10');
    expect(data.classes).toBe(10);
    expect(data.train.count).toBe(15);
    expect(data.train.shape).toEqual([32, 32, 3]);
    expect(data.train.images.length).toBe(15 * 3072);
    expect(Array.from(data.train.labels)).toEqual(Array.from({ length: 15 }, (_, e) => cifarLabel(e)));
    for (const example of [0, 4, 14]) {
      for (const [y, x] of [[0, 0], [0, 31], [5, 17], [31, 31]] as const) {
        for (let c = 0; c < 3; c++) {
          expect(data.train.images[(example * 1024 + y * 32 + x) * 3 + c]).toBe(unit(cifarByte(example, c, y, x)));
        }
      }
    }
    expect(data.test?.count).toBe(3);
    expect(data.test?.images[(2 * 1024 + 7 * 32 + 9) * 3 + 1]).toBe(unit(cifarByte(1002, 1, 7, 9)));
  });

  it('checks every pixel of one record exactly', () => {
    const split = parseCifar10([{ name: 'one.bin', bytes: cifarFile(5, 1) }]);
    const expected = new Float32Array(3072);
    for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) for (let c = 0; c < 3; c++) expected[(y * 32 + x) * 3 + c] = unit(cifarByte(5, c, y, x));
    expect(split.images).toEqual(expected);
    expect(split.labels[0]).toBe(cifarLabel(5));
  });

  it('rejects truncated and empty files, and bad labels, naming the file and the expected size', () => {
    expect(() => parseCifar10([{ name: 'short.bin', bytes: cifarFile(0, 2).subarray(0, 5000) }])).toThrow(DataFormatError);
    expect(() => parseCifar10([{ name: 'short.bin', bytes: cifarFile(0, 2).subarray(0, 5000) }])).toThrow(
      /^short\.bin: holds 5000 bytes, not a whole number of records; expected 3073-byte CIFAR-10 records .*30730000 bytes in each official batch file/,
    );
    expect(() => parseCifar10([{ name: 'empty.bin', bytes: new Uint8Array(0) }])).toThrow(/^empty\.bin: is empty; expected 3073-byte CIFAR-10 records/);
    const bad = cifarFile(0, 1);
    bad[0] = 10;
    expect(() => parseCifar10([{ name: 'bad.bin', bytes: bad }])).toThrow(/label 10/);
  });

  it('finds the archive folder one level down, resolves against baseDir then the cwd, and test_batch is optional', async () => {
    const root = freshDir();
    const inner = join(root, 'data', 'cifar-10-batches-bin');
    mkdirSync(inner, { recursive: true });
    writeCifarFolder(inner, 1, false);
    const viaBase = await loadCifar10('data', { baseDir: root });
    expect(viaBase.train.count).toBe(5);
    expect(viaBase.test).toBeUndefined();
    const viaCwd = await loadCifar10(relative(process.cwd(), join(root, 'data')), { baseDir: freshDir() });
    expect(viaCwd.train.count).toBe(5);
  });

  it('explains where to get CIFAR-10 when the folder is missing or incomplete', async () => {
    const missing = join(freshDir(), 'nowhere');
    const error = await loadCifar10(missing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataUnavailableError);
    const message = (error as Error).message;
    expect(message).toContain(missing);
    expect(message).toContain('https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz');
    expect(message).toContain('data_batch_1.bin');
    expect(message).toContain(`Fetch it with: mono data get cifar10 --dir ${missing}`);

    const partial = freshDir();
    writeFileSync(join(partial, 'data_batch_1.bin'), cifarFile(0, 1));
    await expect(loadCifar10(partial)).rejects.toThrow(/data_batch_2\.bin is missing/);
  });
});

describe("mono's data cache", () => {
  it('holds cifar10 for a plan without a path, and says the command that fetches it when it is not there', async () => {
    const cache = freshDir();
    const missing = (await loadCifar10('', { cacheDir: cache }).catch((e: unknown) => e)) as Error;
    expect(missing).toBeInstanceOf(DataUnavailableError);
    expect(missing.message).toContain(join(cache, 'cifar10'));
    expect(missing.message).toContain('Fetch it with: mono data get cifar10\n');
    // What `mono data get cifar10` leaves: the archive's folder inside the cache's cifar10 folder.
    const inner = join(cache, 'cifar10', 'cifar-10-batches-bin');
    mkdirSync(inner, { recursive: true });
    writeCifarFolder(inner, 1);
    expect((await loadCifar10('', { cacheDir: cache })).origin).toBe(inner);
  });

  it('is the last place a relative path is looked for, and the first for fashion_mnist without a path', async () => {
    const cache = freshDir();
    const mnist = join(cache, 'mnist');
    mkdirSync(mnist);
    writeIdxFolder(mnist, { trainCount: 3, testCount: 2, rows: 2, cols: 2, gzip: true });
    expect((await loadIdx('mnist', { baseDir: freshDir(), cacheDir: cache })).origin).toBe(mnist);
    const fashion = join(cache, 'fashion-mnist');
    mkdirSync(fashion);
    writeIdxFolder(fashion, { trainCount: 3, testCount: 2, rows: 2, cols: 2, gzip: true });
    expect((await loadFashionMnist('', { cacheDir: cache })).origin).toBe(fashion);
    const absent = (await loadIdx('nowhere', { cacheDir: cache }).catch((e: unknown) => e)) as Error;
    expect(absent.message).toContain(join(cache, 'nowhere'));
    expect(absent.message).toContain(`mono data get mnist --dir nowhere`);
  });
});

describe('IDX loader', () => {
  it.each([false, true])('reads train and t10k files (gzip: %s) with exact pixels and labels', async (gzip) => {
    const dir = freshDir();
    writeIdxFolder(dir, { trainCount: 12, testCount: 4, rows: 5, cols: 7, gzip });
    const data = await loadIdx(dir);
    expect(data.classes).toBe(10);
    expect(data.train.shape).toEqual([5, 7, 1]);
    expect(data.train.count).toBe(12);
    expect(Array.from(data.train.labels)).toEqual(Array.from({ length: 12 }, (_, e) => e % 10));
    for (let e = 0; e < 12; e++) {
      for (let y = 0; y < 5; y++) for (let x = 0; x < 7; x++) expect(data.train.images[(e * 5 + y) * 7 + x]).toBe(unit(idxPixel(e, y, x)));
    }
    expect(data.test?.count).toBe(4);
    expect(data.test?.labels[1]).toBe(501 % 10);
    expect(data.test?.images[(3 * 5 + 4) * 7 + 6]).toBe(unit(idxPixel(503, 4, 6)));
  });

  it('detects gzip by its magic bytes, not by the file name', async () => {
    const dir = freshDir();
    const pixels = Uint8Array.from({ length: 2 * 2 * 3 }, (_, i) => i * 20);
    writeFileSync(join(dir, 'train-images-idx3-ubyte'), idxBytes([2, 2, 3], pixels, true)); // gzipped, no .gz
    writeFileSync(join(dir, 'train-labels-idx1-ubyte.gz'), idxBytes([2], Uint8Array.from([3, 1]), false)); // plain, named .gz
    const data = await loadIdx(dir);
    expect(Array.from(data.train.images)).toEqual(Array.from(pixels, unit));
    expect(Array.from(data.train.labels)).toEqual([3, 1]);
    expect(data.test).toBeUndefined();
    expect(data.classes).toBe(4);
  });

  it('parses headers and rejects malformed files', () => {
    const parsed = parseIdx(idxBytes([2, 3], Uint8Array.from([1, 2, 3, 4, 5, 6])));
    expect(parsed.dims).toEqual([2, 3]);
    expect(Array.from(parsed.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => parseIdx(idxBytes([2, 3], Uint8Array.from([1, 2, 3])))).toThrow(DataFormatError);
    expect(() => parseIdx(Uint8Array.from([1, 2, 3, 4, 5]))).toThrow(/magic/);
    const floats = idxBytes([1], Uint8Array.from([0, 0, 0, 0]));
    floats[2] = 0x0d;
    expect(() => parseIdx(floats)).toThrow(/0x0d \(float32\)/);
  });

  // Every malformed file: one message that names the file, says what is wrong and what was expected.
  const gzipped = (bytes: Uint8Array) => new Uint8Array(gzipSync(bytes));
  const withByte = (bytes: Uint8Array, at: number, value: number) => {
    const copy = bytes.slice();
    copy[at] = value;
    return copy;
  };
  const image = idxBytes([2, 2, 2], Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
  it.each([
    ['an empty file', new Uint8Array(0), /images\.idx: is empty; expected an IDX file/],
    ['a bad magic number', withByte(image, 0, 7), /images\.idx: not an IDX file: bad magic number \(starts 0x07 0x00 0x08 0x03\); expected an IDX file/],
    ['a header cut short', image.subarray(0, 9), /images\.idx: truncated header: 9 bytes, but 3 dimensions need a 16-byte header/],
    ['data cut short', image.subarray(0, 20), /images\.idx: truncated: holds 4 data bytes, but its header \[2,2,2\] says 8/],
    ['trailing bytes', Uint8Array.from([...image, 9]), /images\.idx: longer than its header says: holds 9 data bytes, but its header \[2,2,2\] says 8/],
    ['an unsupported element type', withByte(image, 2, 0x0c), /images\.idx: element type 0x0c \(int32\) is not supported; expected unsigned bytes \(0x08\)/],
    ['an unknown element type', withByte(image, 2, 0x42), /element type 0x42 \(not an IDX type\)/],
    ['no dimensions', withByte(image, 3, 0), /images\.idx: has 0 dimensions; expected at least 1/],
    ['a gzip stream cut short', gzipped(image).subarray(0, 12), /images\.idx: starts like gzip but is not a complete gzip stream \(unexpected end of file\); expected a whole gzipped IDX file/],
    ['a damaged gzip stream', withByte(gzipped(image), 12, 0xff), /images\.idx: starts like gzip but is not a complete gzip stream \(.+\); expected/],
  ])('rejects %s with a message that names the file', (_what, bytes, message) => {
    const error = (() => {
      try {
        parseIdx(bytes, 'images.idx');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(DataFormatError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('takes the example shape from the images header: grey, colour and vector examples', () => {
    const names = { images: 'i', labels: 'l' };
    const labels = parseIdx(idxBytes([2], Uint8Array.from([0, 1])));
    const grey = idxToSplit(parseIdx(idxBytes([2, 3, 4], new Uint8Array(24))), labels, names);
    expect(grey.shape).toEqual([3, 4, 1]);
    const colour = idxToSplit(parseIdx(idxBytes([2, 3, 4, 3], Uint8Array.from({ length: 72 }, (_, i) => i))), labels, names);
    expect(colour.shape).toEqual([3, 4, 3]);
    expect(colour.images[36 + 5]).toBe(unit(36 + 5));
    const vectors = idxToSplit(parseIdx(idxBytes([2, 5], new Uint8Array(10))), labels, names);
    expect(vectors.shape).toEqual([5]);
    expect(() => idxToSplit(parseIdx(idxBytes([2], new Uint8Array(2))), labels, names)).toThrow(/i: has 1 dimensions \[2\]; expected \[count, rows, cols\]/);
    expect(() => idxToSplit(parseIdx(idxBytes([2, 1, 1, 1, 1], new Uint8Array(2))), labels, names)).toThrow(/has 5 dimensions/);
  });

  it('loads colour (4-D) and vector (2-D) IDX folders and counts classes from the labels', async () => {
    const colour = freshDir();
    writeFileSync(join(colour, 'train-images-idx4-ubyte'), idxBytes([3, 2, 2, 3], new Uint8Array(36)));
    writeFileSync(join(colour, 'train-labels-idx1-ubyte'), idxBytes([3], Uint8Array.from([0, 46, 5])));
    const loaded = await loadIdx(colour);
    expect(loaded.train.shape).toEqual([2, 2, 3]);
    expect(loaded.classes).toBe(47);
    const vectors = freshDir();
    writeFileSync(join(vectors, 'train-images-idx2-ubyte.gz'), idxBytes([4, 6], new Uint8Array(24), true));
    writeFileSync(join(vectors, 'train-labels-idx1-ubyte.gz'), idxBytes([4], Uint8Array.from([0, 1, 2, 1]), true));
    expect((await loadIdx(vectors)).train.shape).toEqual([6]);
  });

  it('names the folder when train and test examples differ in shape, and refuses an empty training set', async () => {
    const dir = freshDir();
    writeIdxFolder(dir, { trainCount: 2, testCount: 0, rows: 3, cols: 3, gzip: false });
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), idxBytes([1, 2, 2], new Uint8Array(4)));
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), idxBytes([1], new Uint8Array(1)));
    await expect(loadIdx(dir)).rejects.toThrow(`${dir}: test examples are [2,2,1], training examples [3,3,1]; expected one shape for both`);
    const empty = freshDir();
    writeIdxFolder(empty, { trainCount: 0, testCount: 0, rows: 3, cols: 3, gzip: false });
    await expect(loadIdx(empty)).rejects.toThrow(`${empty}: the training files hold 0 examples`);
  });

  it('rejects label files that do not match the images', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'train-images-idx3-ubyte'), idxBytes([2, 1, 1], Uint8Array.from([0, 1])));
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), idxBytes([3], Uint8Array.from([0, 1, 2])));
    await expect(loadIdx(dir)).rejects.toThrow(
      `${join(dir, 'train-labels-idx1-ubyte')}: has 3 labels for 2 images in ${join(dir, 'train-images-idx3-ubyte')}; expected one label per image`,
    );
  });

  it('says where to get the files when they are missing', async () => {
    const dir = freshDir();
    const error = (await loadIdx(dir).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(DataUnavailableError);
    expect(error.message).toContain(dir);
    expect(error.message).toContain('train-images-idx3-ubyte');
    expect(error.message).toContain('data idx(');
    await expect(loadIdx('')).rejects.toThrow(DataUnavailableError);

    const fashion = (await loadFashionMnist(join(dir, 'absent')).catch((e: unknown) => e)) as Error;
    expect(fashion).toBeInstanceOf(DataUnavailableError);
    expect(fashion.message).toContain('apt-get install dataset-fashion-mnist');
    expect(fashion.message).toContain(`mono data get fashion-mnist --dir ${join(dir, 'absent')}`);
    expect(fashion.message).toContain('http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/');
    expect(fashion.message).toContain('data fashion_mnist(');
  });

  it('defaults fashion_mnist to the Debian folder', async () => {
    expect(FASHION_MNIST_DEBIAN_DIR).toBe('/usr/share/datasets/fashion-mnist');
    const result = await loadFashionMnist('').catch((e: unknown) => e);
    if (result instanceof Error) {
      expect(result).toBeInstanceOf(DataUnavailableError);
      expect(result.message).toContain(FASHION_MNIST_DEBIAN_DIR);
    } else {
      expect(result).toMatchObject({ name: 'fashion_mnist', classes: 10, train: { count: 60000, shape: [28, 28, 1] } });
    }
  });
});

describe('synthetic data', () => {
  it('is deterministic for a seed, balanced, and nearest-prototype separable at small noise', () => {
    const options = { examples: 200, classes: 4, shape: [4, 4, 2], noise: 0.05 };
    const a = makeSynthetic(options, 3);
    const b = makeSynthetic(options, 3);
    const c = makeSynthetic(options, 4);
    expect(a.train.images).toEqual(b.train.images);
    expect(a.train.images).not.toEqual(c.train.images);
    expect(a.train.shape).toEqual([4, 4, 2]);
    expect(a.classes).toBe(4);
    const counts = [0, 0, 0, 0];
    for (const label of a.train.labels) counts[label]!++;
    expect(counts).toEqual([50, 50, 50, 50]);

    // Class means stand in for the prototypes; every example is nearest its own.
    const length = 32;
    const means = Array.from({ length: 4 }, () => new Float64Array(length));
    for (let e = 0; e < 200; e++) for (let i = 0; i < length; i++) means[a.train.labels[e]!]![i]! += a.train.images[e * length + i]! / 50;
    for (let e = 0; e < 200; e++) {
      const distances = means.map((mean) => mean.reduce((sum, m, i) => sum + (a.train.images[e * length + i]! - m) ** 2, 0));
      expect(distances.indexOf(Math.min(...distances))).toBe(a.train.labels[e]);
    }
  });

  it('makes vectors as well as images, and rejects shapes that are neither', () => {
    const vectors = makeSynthetic({ examples: 10, classes: 2, shape: [16], noise: 0 }, 1);
    expect(vectors.train.shape).toEqual([16]);
    expect(vectors.train.images.length).toBe(160);
    // Without noise every example is its class's prototype.
    expect(vectors.train.images.subarray(0, 16)).toEqual(vectors.train.images.subarray(32, 48));
    expect(vectors.origin).toBe('synthetic data (10 examples of [16], 2 classes)');
    expect(() => makeSynthetic({ examples: 10, classes: 2, shape: [], noise: 0 }, 1)).toThrow(RangeError);
    expect(() => makeSynthetic({ examples: 10, classes: 2, shape: [4, 0], noise: 0 }, 1)).toThrow(RangeError);
  });
});
