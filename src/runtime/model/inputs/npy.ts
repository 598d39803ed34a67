/**
 * A reader of NumPy's .npy files (format versions 1.0, 2.0 and 3.0): the magic
 * "\x93NUMPY", the version, the header length (uint16 LE in 1.0, uint32 LE after), a
 * Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 28, 28), },
 * then the elements. mono reads float32, float64 and uint8 arrays in C order, either
 * byte order; values come back as float32 (float64 rounded).
 */
import { DataFormatError } from '../../data/errors.js';

export interface NpyArray {
  shape: number[];
  /** The array's element type: `float32`, `float64` or `uint8`. */
  dtype: 'float32' | 'float64' | 'uint8';
  /** The elements in C order, as float32 (uint8 as 0..255, not scaled). */
  values: Float32Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const EXPECTED = "expected a .npy file of float32, float64 or uint8 values in C order (numpy.save of such an array)";

export function isNpy(bytes: Uint8Array): boolean {
  return MAGIC.every((b, i) => bytes[i] === b);
}

/** Parses .npy bytes; `name` names the file in messages (DataFormatError). */
export function parseNpy(bytes: Uint8Array, name: string): NpyArray {
  if (!isNpy(bytes)) throw new DataFormatError(name, `not a .npy file (no \\x93NUMPY magic); ${EXPECTED}`);
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    if (bytes.length < 10) throw new DataFormatError(name, 'truncated .npy header');
    headerLength = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new DataFormatError(name, 'truncated .npy header');
    headerLength = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new DataFormatError(name, `.npy format version ${major}.${bytes[7]} is not one mono reads (1.0, 2.0, 3.0)`);
  }
  if (headerStart + headerLength > bytes.length) throw new DataFormatError(name, 'truncated .npy header');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, headerStart + headerLength));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw new DataFormatError(name, `.npy header is not a dict with 'descr', 'fortran_order' and 'shape': ${header.trim()}`);
  if (fortran === 'True') throw new DataFormatError(name, `holds a Fortran-order array; ${EXPECTED} (numpy.ascontiguousarray first)`);
  const shape = shapeText
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => Number(part.replace(/L$/, '')));
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new DataFormatError(name, `.npy shape (${shapeText}) is not a tuple of sizes`);
  const count = shape.reduce((a, b) => a * b, 1);
  const type = /^([<>|=])([fu])(\d+)$/.exec(descr);
  const kind = type ? `${type[2]}${type[3]}` : '';
  const bytesPer = kind === 'f4' ? 4 : kind === 'f8' ? 8 : kind === 'u1' ? 1 : 0;
  if (!type || bytesPer === 0) throw new DataFormatError(name, `holds elements of type '${descr}'; ${EXPECTED}`);
  const little = type[1] !== '>';
  const start = headerStart + headerLength;
  if (bytes.length - start !== count * bytesPer) {
    throw new DataFormatError(name, `holds ${bytes.length - start} bytes of values, but its shape (${shape.join(', ')}) of '${descr}' needs ${count * bytesPer}`);
  }
  const values = new Float32Array(count);
  if (bytesPer === 1) for (let i = 0; i < count; i++) values[i] = bytes[start + i]!;
  else if (bytesPer === 4) for (let i = 0; i < count; i++) values[i] = view.getFloat32(start + 4 * i, little);
  else for (let i = 0; i < count; i++) values[i] = view.getFloat64(start + 8 * i, little);
  return { shape, dtype: kind === 'f4' ? 'float32' : kind === 'f8' ? 'float64' : 'uint8', values };
}

/** The bytes of a version 1.0 .npy file of float32 values (little-endian, C order): what tests and tools write. */
export function encodeNpy(shape: readonly number[], values: Float32Array): Uint8Array {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  // Magic, version and length take 10 bytes; the header is padded with spaces to a multiple of 64 and ends with a newline.
  const length = Math.ceil((10 + dict.length + 1) / 64) * 64 - 10;
  const header = dict.padEnd(length - 1, ' ') + '\n';
  const bytes = new Uint8Array(10 + length + values.length * 4);
  bytes.set(MAGIC, 0);
  bytes[6] = 1;
  bytes[7] = 0;
  const view = new DataView(bytes.buffer);
  view.setUint16(8, length, true);
  for (let i = 0; i < header.length; i++) bytes[10 + i] = header.charCodeAt(i);
  for (let i = 0; i < values.length; i++) view.setFloat32(10 + length + 4 * i, values[i]!, true);
  return bytes;
}
