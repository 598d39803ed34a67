/**
 * Files given to `mono predict`, turned into examples of the network's input shape with
 * values on the data loaders' scale (pixels in [0, 1]), not yet normalised. The kind of
 * a file is told by its first bytes, not its name:
 *   PNG, JPEG  one image, decoded by pngjs / jpeg-js (pure JavaScript): transparent
 *              pixels are laid over black; converted to the network's channels (1: the
 *              luminance 0.299 R + 0.587 G + 0.114 B; 3: RGB, grey repeated); another
 *              size is resized (bilinear, resize.ts) with a warning; bytes / 255.
 *   .npy       a batch [n, ...shape] or one example [...shape] ([n, h, w] and [h, w] for
 *              one-channel images); uint8 as bytes / 255, float32 and float64 as given
 *              (already on the [0, 1] scale).
 *   IDX        (gzipped or not) a batch of unsigned bytes, as the MNIST files: / 255.
 * A batch of another shape is refused (a RuntimeFailure naming the file), as is a file
 * that cannot be read or is none of these.
 */
import { readFile } from 'node:fs/promises';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import type { Shape } from '../../../ir/types.js';
import { DataFormatError } from '../../data/errors.js';
import { isGzip, parseIdx } from '../../data/idx.js';
import { RuntimeFailure } from '../../errors.js';
import { isNpy, parseNpy } from './npy.js';
import { resizeBilinear } from './resize.js';

export type InputKind = 'png' | 'jpeg' | 'npy' | 'idx';

export interface InputExamples {
  /** The file as named on the command line. */
  file: string;
  kind: InputKind;
  /** Examples in the file: 1 for an image. */
  count: number;
  /** count * product(shape) values, example after example, channels last. */
  values: Float32Array;
  /** What was changed to fit the network (a resize), for the user. */
  warnings: string[];
}

/** Per-channel weights of the luminance (ITU-R BT.601, what PIL's convert('L') uses). */
const LUMA = [0.299, 0.587, 0.114] as const;

export function inputKind(bytes: Uint8Array): InputKind | undefined {
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (isNpy(bytes)) return 'npy';
  if (isGzip(bytes) || (bytes[0] === 0 && bytes[1] === 0 && bytes[2] === 0x08)) return 'idx';
  return undefined;
}

/** Reads `path` (absolute), shown as `file` in messages, as examples of `shape`. */
export async function readInputFile(path: string, file: string, shape: Shape): Promise<InputExamples> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (code ?? (error as Error).message);
    throw new RuntimeFailure(`cannot read ${file}: ${reason}`);
  }
  const kind = inputKind(bytes);
  switch (kind) {
    case 'png':
    case 'jpeg':
      return { file, kind, count: 1, ...imageExample(decodeImage(bytes, kind, file), shape, file) };
    case 'npy':
      return { file, kind, ...npyExamples(bytes, shape, file), warnings: [] };
    case 'idx':
      return { file, kind, ...idxExamples(bytes, shape, file), warnings: [] };
    case undefined: {
      const start = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
      throw new DataFormatError(file, `is not a PNG, JPEG, .npy or IDX file (it starts ${bytes.length === 0 ? 'empty' : `with bytes ${start}`}); expected an image, or a batch of examples`);
    }
  }
}

interface Rgba {
  width: number;
  height: number;
  /** 4 bytes per pixel. */
  data: Uint8Array;
}

function decodeImage(bytes: Uint8Array, kind: 'png' | 'jpeg', file: string): Rgba {
  try {
    if (kind === 'png') {
      const image = pngjs.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: image.width, height: image.height, data: new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength) };
    }
    const image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
    return { width: image.width, height: image.height, data: image.data };
  } catch (error) {
    throw new DataFormatError(file, `is not a readable ${kind === 'png' ? 'PNG' : 'JPEG'} image (${(error as Error).message})`);
  }
}

/** An image converted to the network's channels and size, on the [0, 1] scale. */
function imageExample(image: Rgba, shape: Shape, file: string): { values: Float32Array; warnings: string[] } {
  if (shape.length !== 3) throw new RuntimeFailure(`${file} is an image, but the network takes vectors ${JSON.stringify(shape)}; give a .npy or IDX batch of them`);
  const [h, w, channels] = shape as [number, number, number];
  if (channels !== 1 && channels !== 3) {
    throw new RuntimeFailure(`${file} is an image, but the network takes ${channels}-channel examples (an image gives 1, grey, or 3, RGB); give a .npy or IDX batch of them`);
  }
  const { width, height, data } = image;
  const pixels = new Float32Array(width * height * channels);
  for (let p = 0; p < width * height; p++) {
    const alpha = data[4 * p + 3]! / 255;
    // Transparent pixels over black, then bytes to [0, 1].
    const rgb = [0, 1, 2].map((k) => (data[4 * p + k]! * alpha) / 255);
    if (channels === 1) pixels[p] = LUMA[0] * rgb[0]! + LUMA[1] * rgb[1]! + LUMA[2] * rgb[2]!;
    else for (let k = 0; k < 3; k++) pixels[3 * p + k] = rgb[k]!;
  }
  if (width === w && height === h) return { values: pixels, warnings: [] };
  return {
    values: resizeBilinear(pixels, [height, width, channels], [h, w]),
    warnings: [`${file} is ${width}x${height}; resized to the network's ${w}x${h} (bilinear)`],
  };
}

const formatShape = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/** How many examples of `shape` an array of `dims` holds: a batch [n, ...shape], one example, or the one-channel forms without c. */
function examplesIn(dims: readonly number[], shape: Shape): number | undefined {
  const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
  const grey = shape.length === 3 && shape[2] === 1 ? shape.slice(0, 2) : undefined;
  if (same(dims, shape) || (grey && same(dims, grey))) return 1;
  const [n, ...rest] = dims;
  if (n !== undefined && (same(rest, shape) || (grey && same(rest, grey)))) return n;
  return undefined;
}

function npyExamples(bytes: Uint8Array, shape: Shape, file: string): { count: number; values: Float32Array } {
  const array = parseNpy(bytes, file);
  const count = examplesIn(array.shape, shape);
  if (count === undefined) {
    throw new DataFormatError(file, `holds an array of shape ${formatShape(array.shape)}; the network takes examples ${formatShape(shape)}: expected [n, ${shape.join(', ')}] or one example ${formatShape(shape)}`);
  }
  const values = array.values;
  if (array.dtype === 'uint8') for (let i = 0; i < values.length; i++) values[i] = values[i]! / 255;
  return { count, values };
}

function idxExamples(bytes: Uint8Array, shape: Shape, file: string): { count: number; values: Float32Array } {
  const array = parseIdx(bytes, file);
  const count = examplesIn(array.dims, shape);
  if (count === undefined || array.dims.length < 2) {
    throw new DataFormatError(file, `holds ${formatShape(array.dims)} bytes; the network takes examples ${formatShape(shape)}: expected an images file [n, ${shape.join(', ')}]`);
  }
  return { count, values: Float32Array.from(array.data, (b) => b / 255) };
}
