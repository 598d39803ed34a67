/** Writers of real-format data files (CIFAR-10 binary, IDX) for the loader tests. */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'mono-data-'));
}

/** Byte value of CIFAR example `example`, channel `c`, row `y`, column `x` in the fixtures. */
export function cifarByte(example: number, c: number, y: number, x: number): number {
  return (example * 7 + c * 85 + y * 3 + x * 5) % 256;
}

export function cifarLabel(example: number): number {
  return (example * 3) % 10;
}

/** One CIFAR-10 binary file of `count` records numbered from `first`: label byte, then R, G, B planes. */
export function cifarFile(first: number, count: number): Uint8Array {
  const bytes = new Uint8Array(count * 3073);
  for (let r = 0; r < count; r++) {
    const example = first + r;
    const base = r * 3073;
    bytes[base] = cifarLabel(example);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) bytes[base + 1 + c * 1024 + y * 32 + x] = cifarByte(example, c, y, x);
      }
    }
  }
  return bytes;
}

/** A CIFAR-10 folder with `perFile` records in each of data_batch_1..5.bin, and test_batch.bin unless told not to. */
export function writeCifarFolder(folder: string, perFile: number, withTest = true): void {
  for (let i = 1; i <= 5; i++) writeFileSync(join(folder, `data_batch_${i}.bin`), cifarFile((i - 1) * perFile, perFile));
  if (withTest) writeFileSync(join(folder, 'test_batch.bin'), cifarFile(1000, perFile));
}

/** An IDX file of unsigned bytes, gzipped if asked. */
export function idxBytes(dims: number[], data: Uint8Array, gzip = false): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(header.buffer);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((size, d) => view.setUint32(4 + 4 * d, size, false));
  const bytes = new Uint8Array(header.length + data.length);
  bytes.set(header);
  bytes.set(data, header.length);
  return gzip ? new Uint8Array(gzipSync(bytes)) : bytes;
}

export function idxPixel(example: number, y: number, x: number): number {
  return (example * 11 + y * 13 + x) % 256;
}

/** train-* (and t10k-* if `testCount` > 0) IDX files of `rows`x`cols` images, labels example % 10. */
export function writeIdxFolder(folder: string, options: { trainCount: number; testCount: number; rows: number; cols: number; gzip: boolean }): void {
  const { rows, cols, gzip } = options;
  const write = (prefix: string, count: number, first: number): void => {
    const pixels = new Uint8Array(count * rows * cols);
    const labels = new Uint8Array(count);
    for (let e = 0; e < count; e++) {
      labels[e] = (first + e) % 10;
      for (let y = 0; y < rows; y++) for (let x = 0; x < cols; x++) pixels[(e * rows + y) * cols + x] = idxPixel(first + e, y, x);
    }
    const suffix = gzip ? '.gz' : '';
    writeFileSync(join(folder, `${prefix}-images-idx3-ubyte${suffix}`), idxBytes([count, rows, cols], pixels, gzip));
    writeFileSync(join(folder, `${prefix}-labels-idx1-ubyte${suffix}`), idxBytes([count], labels, gzip));
  };
  write('train', options.trainCount, 0);
  if (options.testCount > 0) write('t10k', options.testCount, 500);
}

/**
 * An EMNIST-style IDX folder: `classes` classes of `rows`x`cols` grey images, each class a
 * fixed random pattern (bytes from a seeded LCG) with a little per-example jitter, so a
 * dense layer learns it; `perClass` training examples per class (labels interleaved) and
 * `testPerClass` test examples per class in t10k-* files.
 */
export function writeClassPatternIdxFolder(
  folder: string,
  options: { classes: number; perClass: number; testPerClass?: number; rows: number; cols: number; seed?: number },
): void {
  const { classes, rows, cols } = options;
  let state = options.seed ?? 12345;
  const next = (): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state >>> 16;
  };
  const pixels = rows * cols;
  const patterns = Array.from({ length: classes }, () => Uint8Array.from({ length: pixels }, () => (next() % 2 === 0 ? 30 : 220)));
  const write = (prefix: string, perClass: number): void => {
    const count = classes * perClass;
    const images = new Uint8Array(count * pixels);
    const labels = new Uint8Array(count);
    for (let e = 0; e < count; e++) {
      const label = e % classes;
      labels[e] = label;
      for (let i = 0; i < pixels; i++) images[e * pixels + i] = Math.max(0, Math.min(255, patterns[label]![i]! + (next() % 61) - 30));
    }
    writeFileSync(join(folder, `${prefix}-images-idx3-ubyte`), idxBytes([count, rows, cols], images));
    writeFileSync(join(folder, `${prefix}-labels-idx1-ubyte`), idxBytes([count], labels));
  };
  write('train', options.perClass);
  if ((options.testPerClass ?? 0) > 0) write('t10k', options.testPerClass!);
}

/** The official CIFAR-10 archive's layout (cifar-10-batches-bin/...), gzipped tar, with `perFile` records per batch. */
export async function cifarArchive(perFile: number): Promise<Uint8Array> {
  const { create } = await import('tar');
  const dir = tempDir();
  try {
    mkdirSync(join(dir, 'cifar-10-batches-bin'));
    writeCifarFolder(join(dir, 'cifar-10-batches-bin'), perFile);
    writeFileSync(join(dir, 'cifar-10-batches-bin', 'batches.meta.txt'), 'airplane\nautomobile\n');
    await create({ gzip: true, cwd: dir, file: join(dir, 'archive.tar.gz') }, ['cifar-10-batches-bin']);
    return new Uint8Array(readFileSync(join(dir, 'archive.tar.gz')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The four gzipped IDX files of an MNIST-style set, by name. */
export function idxSetFiles(trainCount: number, testCount: number, rows = 4, cols = 4): Record<string, Uint8Array> {
  const dir = tempDir();
  try {
    writeIdxFolder(dir, { trainCount, testCount, rows, cols, gzip: true });
    const names = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'];
    return Object.fromEntries(names.map((name) => [name, new Uint8Array(readFileSync(join(dir, name)))]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
