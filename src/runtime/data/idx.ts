/**
 * IDX files (the MNIST family): a 4-byte magic (0, 0, element type, number of
 * dimensions), one big-endian uint32 per dimension, then the elements. Only unsigned
 * bytes (type 0x08) occur in these data sets. Files may be gzipped; we look at the
 * gzip magic bytes rather than trusting the file name.
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { DataFormatError, DataUnavailableError } from './errors.js';
import { candidateFolders, describeCandidates, findFile } from './paths.js';
import { bytesToUnit } from './pixels.js';
import type { RawData, Split } from './types.js';

const UNSIGNED_BYTE = 0x08;
const GZIP_MAGIC = [0x1f, 0x8b] as const;

export interface IdxArray {
  dims: number[];
  /** The elements, row-major. */
  data: Uint8Array;
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}

/** Parses an IDX file's bytes, gunzipping first if they are gzip. */
export function parseIdx(raw: Uint8Array, name = 'IDX file'): IdxArray {
  const bytes = isGzip(raw) ? new Uint8Array(gunzipSync(raw)) : raw;
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) throw new DataFormatError(name, 'not an IDX file (bad magic number)');
  if (bytes[2] !== UNSIGNED_BYTE) throw new DataFormatError(name, `element type 0x${bytes[2]!.toString(16)} is not supported, only unsigned bytes (0x08)`);
  const rank = bytes[3]!;
  const headerBytes = 4 + 4 * rank;
  if (rank === 0 || bytes.length < headerBytes) throw new DataFormatError(name, 'truncated IDX header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let d = 0; d < rank; d++) dims.push(view.getUint32(4 + 4 * d, false));
  const elements = dims.reduce((product, size) => product * size, 1);
  if (bytes.length !== headerBytes + elements) {
    throw new DataFormatError(name, `holds ${bytes.length - headerBytes} data bytes, its header ${JSON.stringify(dims)} says ${elements}`);
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

/** Joins an images file ([n, rows, cols]) and a labels file ([n]) into a split with pixels in [0, 1]. */
export function idxToSplit(images: IdxArray, labels: IdxArray, names: { images: string; labels: string }): Split {
  if (images.dims.length !== 3) throw new DataFormatError(names.images, `expected 3 dimensions [count, rows, cols], got ${JSON.stringify(images.dims)}`);
  if (labels.dims.length !== 1) throw new DataFormatError(names.labels, `expected 1 dimension [count], got ${JSON.stringify(labels.dims)}`);
  const [count, rows, cols] = images.dims as [number, number, number];
  if (labels.dims[0] !== count) throw new DataFormatError(names.labels, `has ${labels.dims[0]} labels for ${count} images in ${names.images}`);
  const pixels = new Float32Array(images.data.length);
  bytesToUnit(images.data, 0, images.data.length, pixels, 0);
  return { images: pixels, labels: Int32Array.from(labels.data), count, shape: [rows, cols, 1] };
}

/** Accepted spellings of one IDX file: the official dash name, the dotted one some unpackers produce, each plain or gzipped. */
function spellings(prefix: string, kind: 'images-idx3' | 'labels-idx1'): string[] {
  const dashed = `${prefix}-${kind}-ubyte`;
  const dotted = `${prefix}-${kind.replace('-', '.')}-ubyte`;
  return [dashed, `${dashed}.gz`, dotted, `${dotted}.gz`];
}

async function readSplit(folder: string, prefix: 'train' | 't10k'): Promise<Split | undefined> {
  const imagesPath = await findFile(folder, spellings(prefix, 'images-idx3'));
  const labelsPath = await findFile(folder, spellings(prefix, 'labels-idx1'));
  if (imagesPath === undefined || labelsPath === undefined) return undefined;
  const images = parseIdx(await readFile(imagesPath), imagesPath);
  const labels = parseIdx(await readFile(labelsPath), labelsPath);
  return idxToSplit(images, labels, { images: imagesPath, labels: labelsPath });
}

export interface IdxSetDescription {
  /** Data set name reported in metrics, e.g. 'fashion_mnist'. */
  name: string;
  /** How the plan names this source, for the error message, e.g. 'fashion_mnist'. */
  planSource: string;
  /** How to get the files, one or more lines. */
  howToGet: string;
}

/** Loads train-* (required) and t10k-* (optional) IDX files from the first candidate folder that has them. */
export async function loadIdxFolder(path: string, description: IdxSetDescription, options: { baseDir?: string } = {}): Promise<RawData> {
  const candidates = candidateFolders(path, options.baseDir);
  for (const folder of candidates) {
    const train = await readSplit(folder, 'train');
    if (train === undefined) continue;
    const test = await readSplit(folder, 't10k');
    if (test !== undefined && test.shape.join() !== train.shape.join()) {
      throw new DataFormatError(folder, `test images are ${test.shape.join('x')}, training images ${train.shape.join('x')}`);
    }
    const classes = maxLabel(train, test) + 1;
    return { name: description.name, classes, train, ...(test ? { test } : {}) };
  }
  throw new DataUnavailableError(
    `${description.name}: no IDX training files (train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz]) in ${describeCandidates(candidates)}\n` +
      `${description.howToGet}\n` +
      `Or point the plan at the folder that holds them: data ${description.planSource}("path/to/folder") { ... } ` +
      `(relative paths are taken from the plan's folder, then the current directory).`,
  );
}

function maxLabel(...splits: (Split | undefined)[]): number {
  let max = 0;
  for (const split of splits) if (split) for (const label of split.labels) max = Math.max(max, label);
  return max;
}
