/**
 * IDX files (the MNIST family: MNIST, Fashion-MNIST, EMNIST): a 4-byte magic (0, 0,
 * element type, number of dimensions), one big-endian uint32 per dimension, then the
 * elements. Only unsigned bytes (type 0x08) occur in these data sets. Files may be
 * gzipped; we look at the gzip magic bytes rather than trusting the file name.
 *
 * The example shape comes from the images file's header: [n, rows, cols] gives
 * [rows, cols, 1] images, [n, rows, cols, channels] gives [rows, cols, channels],
 * and [n, features] gives flat vectors [features]. The class count comes from the labels.
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { DataFormatError, DataUnavailableError } from './errors.js';
import { describeCandidates, findFile } from './paths.js';
import { bytesToUnit } from './pixels.js';
import type { RawData, Split } from './types.js';

const UNSIGNED_BYTE = 0x08;
const GZIP_MAGIC = [0x1f, 0x8b] as const;
/** The element types the IDX format defines, for messages about the ones we do not read. */
const ELEMENT_TYPES: Record<number, string> = { 0x08: 'unsigned byte', 0x09: 'signed byte', 0x0b: 'int16', 0x0c: 'int32', 0x0d: 'float32', 0x0e: 'float64' };
const EXPECTED_IDX = 'expected an IDX file: bytes 0x00 0x00, element type 0x08 (unsigned byte), the number of dimensions, then one big-endian uint32 size per dimension';

export interface IdxArray {
  dims: number[];
  /** The elements, row-major. */
  data: Uint8Array;
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}

function gunzip(raw: Uint8Array, name: string): Uint8Array {
  try {
    return new Uint8Array(gunzipSync(raw));
  } catch (error) {
    const reason = (error as Error).message;
    throw new DataFormatError(name, `starts like gzip but is not a complete gzip stream (${reason}); expected a whole gzipped IDX file (an interrupted download? fetch it again)`);
  }
}

const hex = (byte: number | undefined): string => `0x${(byte ?? 0).toString(16).padStart(2, '0')}`;

/** Parses an IDX file's bytes, gunzipping first if they are gzip. */
export function parseIdx(raw: Uint8Array, name = 'IDX file'): IdxArray {
  const bytes = isGzip(raw) ? gunzip(raw, name) : raw;
  if (bytes.length === 0) throw new DataFormatError(name, `is empty; ${EXPECTED_IDX}`);
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    const start = Array.from(bytes.subarray(0, 4), hex).join(' ');
    throw new DataFormatError(name, `not an IDX file: bad magic number (starts ${start}); ${EXPECTED_IDX}`);
  }
  const type = bytes[2]!;
  if (type !== UNSIGNED_BYTE) {
    const known = ELEMENT_TYPES[type];
    throw new DataFormatError(
      name,
      `element type ${hex(type)}${known ? ` (${known})` : ' (not an IDX type)'} is not supported; expected unsigned bytes (0x08), as in MNIST, Fashion-MNIST and EMNIST`,
    );
  }
  const rank = bytes[3]!;
  if (rank === 0) throw new DataFormatError(name, 'has 0 dimensions; expected at least 1 (labels [n], images [n, rows, cols])');
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw new DataFormatError(name, `truncated header: ${bytes.length} bytes, but ${rank} dimensions need a ${headerBytes}-byte header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let d = 0; d < rank; d++) dims.push(view.getUint32(4 + 4 * d, false));
  const elements = dims.reduce((product, size) => product * size, 1);
  const dataBytes = bytes.length - headerBytes;
  if (dataBytes !== elements) {
    const what = dataBytes < elements ? 'truncated' : 'longer than its header says';
    throw new DataFormatError(name, `${what}: holds ${dataBytes} data bytes, but its header ${JSON.stringify(dims)} says ${elements}`);
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

/** The example shape of an images file with dims [count, ...rest]. */
function exampleShape(dims: readonly number[], name: string): number[] {
  const [, ...rest] = dims;
  if (rest.length === 1) return [rest[0]!]; // [n, features]: vectors
  if (rest.length === 2) return [rest[0]!, rest[1]!, 1]; // [n, rows, cols]: grey images
  if (rest.length === 3) return [...rest]; // [n, rows, cols, channels]
  throw new DataFormatError(
    name,
    `has ${dims.length} dimensions ${JSON.stringify(dims)}; expected [count, rows, cols] or [count, rows, cols, channels] images, or [count, features] vectors`,
  );
}

/** Joins an images file and a labels file ([n]) into a split with pixels in [0, 1]. */
export function idxToSplit(images: IdxArray, labels: IdxArray, names: { images: string; labels: string }): Split {
  const shape = exampleShape(images.dims, names.images);
  if (labels.dims.length !== 1) throw new DataFormatError(names.labels, `expected 1 dimension [count] (one label per example), got ${JSON.stringify(labels.dims)}`);
  const count = images.dims[0]!;
  if (shape.some((size) => size === 0)) throw new DataFormatError(names.images, `has an empty example shape ${JSON.stringify(images.dims)}; expected sizes of at least 1`);
  if (labels.dims[0] !== count) {
    throw new DataFormatError(names.labels, `has ${labels.dims[0]} labels for ${count} images in ${names.images}; expected one label per image`);
  }
  const pixels = new Float32Array(images.data.length);
  bytesToUnit(images.data, 0, images.data.length, pixels, 0);
  return { images: pixels, labels: Int32Array.from(labels.data), count, shape };
}

/**
 * Accepted spellings of one IDX file: the official dash name (idx3 for images; idx4
 * for colour images and idx2 for vectors also accepted), the dotted one some unpackers
 * produce, each plain or gzipped.
 */
function spellings(prefix: string, kind: 'images' | 'labels'): string[] {
  const ranks = kind === 'images' ? ['idx3', 'idx4', 'idx2'] : ['idx1'];
  return ranks.flatMap((rank) => {
    const dashed = `${prefix}-${kind}-${rank}-ubyte`;
    const dotted = `${prefix}-${kind}.${rank}-ubyte`;
    return [dashed, `${dashed}.gz`, dotted, `${dotted}.gz`];
  });
}

/** The IDX files of one split of a folder; `undefined` when the images or the labels are missing. */
export async function findSplitFiles(folder: string, prefix: 'train' | 't10k'): Promise<{ images: string; labels: string } | undefined> {
  const images = await findFile(folder, spellings(prefix, 'images'));
  const labels = await findFile(folder, spellings(prefix, 'labels'));
  return images === undefined || labels === undefined ? undefined : { images, labels };
}

async function readSplit(folder: string, prefix: 'train' | 't10k'): Promise<Split | undefined> {
  const files = await findSplitFiles(folder, prefix);
  if (files === undefined) return undefined;
  const images = parseIdx(await readFile(files.images), files.images);
  const labels = parseIdx(await readFile(files.labels), files.labels);
  return idxToSplit(images, labels, files);
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
export async function loadIdxFolder(candidates: readonly string[], description: IdxSetDescription): Promise<RawData> {
  for (const folder of candidates) {
    const train = await readSplit(folder, 'train');
    if (train === undefined) continue;
    if (train.count === 0) throw new DataFormatError(folder, 'the training files hold 0 examples; expected at least 1');
    const test = await readSplit(folder, 't10k');
    if (test !== undefined && test.shape.join() !== train.shape.join()) {
      throw new DataFormatError(folder, `test examples are ${JSON.stringify(test.shape)}, training examples ${JSON.stringify(train.shape)}; expected one shape for both`);
    }
    const classes = maxLabel(train, test) + 1;
    return { name: description.name, origin: folder, classes, train, ...(test ? { test } : {}) };
  }
  throw new DataUnavailableError(
    `${description.name}: no IDX training files (train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz]) in ${describeCandidates(candidates)}\n` +
      `${description.howToGet}\n` +
      `Or point the plan at the folder that holds them: data ${description.planSource}("path/to/folder") { ... } ` +
      `(relative paths are taken from the plan's folder, the current directory, then mono's data cache).`,
  );
}

function maxLabel(...splits: (Split | undefined)[]): number {
  let max = 0;
  for (const split of splits) if (split) for (const label of split.labels) max = Math.max(max, label);
  return max;
}
