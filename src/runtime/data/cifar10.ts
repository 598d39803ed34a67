/**
 * CIFAR-10, binary version: data_batch_1.bin .. data_batch_5.bin and test_batch.bin,
 * each a run of 3073-byte records: one label byte, then 32x32x3 pixels stored
 * channel-major (all red, all green, all blue). We convert to HWC.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataFormatError, DataUnavailableError } from './errors.js';
import { cachedDataFolder } from './cache.js';
import { candidateFolders, commandArgument, describeCandidates, findFolderWith, isFile, type DataPathOptions } from './paths.js';
import { unitOfByte } from './pixels.js';
import type { RawData, Split } from './types.js';

const SIDE = 32;
const CHANNELS = 3;
const PLANE = SIDE * SIDE;
const RECORD_BYTES = 1 + PLANE * CHANNELS;
const CLASSES = 10;
/** Records in each file of the official archive. */
const OFFICIAL_RECORDS = 10_000;
const TRAIN_FILES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
const TEST_FILE = 'test_batch.bin';
/** The folder name inside the official archive, accepted one level down. */
const ARCHIVE_FOLDER = 'cifar-10-batches-bin';
export const CIFAR10_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';

/** Parses whole CIFAR-10 binary files into one HWC split with pixels in [0, 1]. */
export function parseCifar10(files: { name: string; bytes: Uint8Array }[]): Split {
  let count = 0;
  for (const { name, bytes } of files) {
    if (bytes.length === 0 || bytes.length % RECORD_BYTES !== 0) {
      const size = bytes.length === 0 ? 'is empty' : `holds ${bytes.length} bytes, not a whole number of records`;
      throw new DataFormatError(
        name,
        `${size}; expected ${RECORD_BYTES}-byte CIFAR-10 records (1 label byte, then 32x32x3 pixels), ` +
          `${OFFICIAL_RECORDS * RECORD_BYTES} bytes in each official batch file (an interrupted download? get ${CIFAR10_URL} again)`,
      );
    }
    count += bytes.length / RECORD_BYTES;
  }
  const images = new Float32Array(count * PLANE * CHANNELS);
  const labels = new Int32Array(count);
  let example = 0;
  for (const { name, bytes } of files) {
    for (let record = 0; record < bytes.length; record += RECORD_BYTES, example++) {
      const label = bytes[record]!;
      if (label >= CLASSES) throw new DataFormatError(name, `record ${record / RECORD_BYTES} has label ${label}; expected 0..9 (is this CIFAR-100? only CIFAR-10 is read)`);
      labels[example] = label;
      const pixels = record + 1;
      const out = example * PLANE * CHANNELS;
      for (let channel = 0; channel < CHANNELS; channel++) {
        const plane = pixels + channel * PLANE;
        for (let position = 0; position < PLANE; position++) {
          images[out + position * CHANNELS + channel] = unitOfByte(bytes[plane + position]!);
        }
      }
    }
  }
  return { images, labels, count, shape: [SIDE, SIDE, CHANNELS] };
}

/**
 * The folders `path` may name: without a path, the data cache's cifar10 folder
 * (`mono data get cifar10` fills it); a relative path tries the plan's folder, the cwd,
 * then the cache.
 */
function folderCandidates(path: string, options: DataPathOptions): string[] {
  if (path !== '') return candidateFolders(path, options);
  return options.cacheDir === undefined ? [] : [cachedDataFolder('cifar10', options.cacheDir)];
}

async function locateFolder(path: string, options: DataPathOptions): Promise<string> {
  const folders = folderCandidates(path, options);
  const candidates = folders.flatMap((folder) => [folder, join(folder, ARCHIVE_FOLDER)]);
  const folder = await findFolderWith(candidates, [TRAIN_FILES[0]!]);
  if (folder !== undefined) return folder;
  const fetch = path === '' ? 'mono data get cifar10' : `mono data get cifar10 --dir ${commandArgument(folders[0]!)}`;
  throw new DataUnavailableError(
    `CIFAR-10 not found: no ${TRAIN_FILES[0]} in ${folders.length > 0 ? describeCandidates(folders) : "mono's data cache"}\n` +
      `Fetch it with: ${fetch}\n` +
      `(or get the binary version from ${CIFAR10_URL} and unpack it there: the folder must hold ${TRAIN_FILES.join(', ')} and ${TEST_FILE}).`,
  );
}

export async function loadCifar10(path: string, options: DataPathOptions = {}): Promise<RawData> {
  const folder = await locateFolder(path, options);
  const trainFiles = [];
  for (const name of TRAIN_FILES) {
    const file = join(folder, name);
    if (!(await isFile(file))) {
      throw new DataUnavailableError(`CIFAR-10 in ${folder} is incomplete: ${name} is missing (expected ${TRAIN_FILES.join(', ')}; get them from ${CIFAR10_URL})`);
    }
    trainFiles.push({ name: file, bytes: await readFile(file) });
  }
  const testPath = join(folder, TEST_FILE);
  const test = (await isFile(testPath)) ? parseCifar10([{ name: testPath, bytes: await readFile(testPath) }]) : undefined;
  return { name: 'cifar10', origin: folder, classes: CLASSES, train: parseCifar10(trainFiles), ...(test ? { test } : {}) };
}
