/**
 * Malformed data and data that does not fit the plan, through the CLI: exit 3 and one
 * line that names the file (or folder), what is wrong and what was expected; never
 * "unexpected failure" with a stack trace, and no run folder left. A representative set
 * runs the real CLI as a child process (each costs a second or two of CPU); the rest go
 * through main() in-process, which maps errors to exit codes the same way.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mono } from '../cli/harness.js';
import { runMono, type ProcessResult } from '../support/cli-process.js';
import { cifarFile, idxBytes, writeClassPatternIdxFolder, writeIdxFolder } from './data/fixtures.js';

let root: string;

/** A plan reading `data` into a small network on `input` that ends in dense(units). */
function plan(data: string, options: { input?: string; units?: number; settings?: string; body?: string } = {}): string {
  return `plan faults
data ${data} {
  batch 8
  ${options.settings ?? 'holdout 4'}
}
network input ${options.input ?? '[6, 6, 1]'} {
  body: ${options.body ?? 'flatten dense(8) relu'}
  out: dense(${options.units ?? 10})
}
schedule { train main for 1 epoch with sgd(lr: 0.1) }
`;
}

/** A folder of good train-* IDX files (6x6, labels 0..9) with `images` replaced by the given bytes, if any. */
async function idxFolder(name: string, images?: Uint8Array): Promise<string> {
  const dir = path.join(root, name);
  await mkdir(dir);
  writeIdxFolder(dir, { trainCount: 20, testCount: 0, rows: 6, cols: 6, gzip: false });
  if (images) await writeFile(path.join(dir, 'train-images-idx3-ubyte'), images);
  await writeFile(path.join(root, `${name}.mono`), plan(`idx("${name}")`));
  return dir;
}

type Via = 'process' | 'in-process';

async function run(args: string[], via: Via = 'process'): Promise<Pick<ProcessResult, 'code' | 'stdout' | 'stderr'>> {
  return via === 'process' ? runMono(args, { cwd: root, timeoutMs: 90_000 }) : mono(args, { cwd: root });
}

/** Exit 3, and stderr is exactly one line: `mono CMD: ` + a message that matches. */
function expectOneLineFailure(result: Pick<ProcessResult, 'code' | 'stderr'>, command: string, message: RegExp | string): void {
  expect(result.stderr).not.toContain('unexpected failure');
  expect(result.stderr).not.toMatch(/\n\s+at /);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]!.startsWith(`mono ${command}: `)).toBe(true);
  if (typeof message === 'string') expect(lines[0]).toContain(message);
  else expect(lines[0]).toMatch(message);
  expect(result.code).toBe(3);
}

const good = () => idxBytes([20, 6, 6], new Uint8Array(720));

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mono-faults-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('malformed data files end in one line and exit 3', () => {
  it.concurrent.each<[string, string, Via, () => Uint8Array, string]>([
    ['an empty IDX file', 'empty', 'in-process', () => new Uint8Array(0), 'train-images-idx3-ubyte: is empty; expected an IDX file'],
    ['a truncated IDX file', 'truncated', 'process', () => good().subarray(0, 300), 'train-images-idx3-ubyte: truncated: holds 284 data bytes, but its header [20,6,6] says 720'],
    ['a bad magic number', 'magic', 'in-process', () => Uint8Array.from([1, 2, ...good().subarray(2)]), 'train-images-idx3-ubyte: not an IDX file: bad magic number (starts 0x01 0x02 0x08 0x03)'],
    ['a bad gzip stream', 'gzip', 'process', () => new Uint8Array(gzipSync(good())).subarray(0, 30), 'train-images-idx3-ubyte: starts like gzip but is not a complete gzip stream'],
    ['an unsupported element type', 'float', 'in-process', () => Uint8Array.from([0, 0, 0x0d, ...good().subarray(3)]), 'train-images-idx3-ubyte: element type 0x0d (float32) is not supported; expected unsigned bytes (0x08)'],
    ['fewer images than labels', 'counts', 'in-process', () => idxBytes([19, 6, 6], new Uint8Array(684)), 'train-labels-idx1-ubyte: has 20 labels for 19 images in'],
  ])('%s', async (_what, name, via, bytes, message) => {
    const dir = await idxFolder(name, bytes());
    const result = await run(['run', `${name}.mono`, '--backend', 'cpu', '--out', `${name}-run`], via);
    expectOneLineFailure(result, 'run', `${dir}/${message}`);
    expect(existsSync(path.join(root, `${name}-run`))).toBe(false);
  });

  it.concurrent('a CIFAR batch of the wrong size', async () => {
    const dir = path.join(root, 'cifar');
    await mkdir(dir);
    for (let i = 1; i <= 5; i++) await writeFile(path.join(dir, `data_batch_${i}.bin`), cifarFile(0, 2));
    await writeFile(path.join(dir, 'data_batch_3.bin'), cifarFile(0, 2).subarray(0, 4000));
    await writeFile(path.join(root, 'cifar.mono'), plan('cifar10("cifar")', { input: '[32, 32, 3]' }));
    const result = await run(['run', 'cifar.mono', '--backend', 'cpu', '--out', 'cifar-run']);
    expectOneLineFailure(result, 'run', `${dir}/data_batch_3.bin: holds 4000 bytes, not a whole number of records; expected 3073-byte CIFAR-10 records`);
  });
});

describe('data that does not fit the plan is refused before the first step', () => {
  it.concurrent('labels beyond the network classes (label 10 with dense(10))', async () => {
    const dir = path.join(root, 'eleven');
    await mkdir(dir);
    writeClassPatternIdxFolder(dir, { classes: 11, perClass: 3, rows: 6, cols: 6 });
    await writeFile(path.join(root, 'eleven.mono'), plan('idx("eleven")'));
    const result = await run(['run', 'eleven.mono', '--backend', 'cpu', '--out', 'eleven-run']);
    expectOneLineFailure(
      result,
      'run',
      `${dir}: labels run 0..10 (11 classes), but the network ends in dense(10) at out/dense#1: 10 classes; expected labels 0..9, or a network that ends in dense(11)`,
    );
    expect(result.stdout).not.toMatch(/epoch/);
    expect(existsSync(path.join(root, 'eleven-run'))).toBe(false);
  });

  it.concurrent('images of another shape than the network input, even where conv + global pooling would run on them', async () => {
    const dir = path.join(root, 'shape');
    await mkdir(dir);
    writeIdxFolder(dir, { trainCount: 20, testCount: 0, rows: 8, cols: 8, gzip: false });
    await writeFile(path.join(root, 'shape.mono'), plan('idx("shape")', { body: 'conv(4, 3) relu global_avg_pool' }));
    const result = await run(['run', 'shape.mono', '--backend', 'cpu']);
    expectOneLineFailure(result, 'run', `${dir}: examples are [8, 8, 1], but the network input is [6, 6, 1]; expected examples of the input shape`);
  });

  it.concurrent('a hold-out that leaves no training examples', async () => {
    await idxFolder('holdout');
    await writeFile(path.join(root, 'holdout.mono'), plan('idx("holdout")', { settings: 'holdout 20' }));
    const result = await run(['run', 'holdout.mono', '--backend', 'cpu'], 'in-process');
    expectOneLineFailure(result, 'run', `${path.join(root, 'holdout')}: holdout 20 leaves no training examples: there are 20; expected a holdout below 20`);
  });

  it.concurrent('mono lr-find refuses the same way', async () => {
    const dir = path.join(root, 'lrfind');
    await mkdir(dir);
    writeClassPatternIdxFolder(dir, { classes: 12, perClass: 2, rows: 6, cols: 6 });
    await writeFile(path.join(root, 'lrfind.mono'), plan('idx("lrfind")'));
    const result = await run(['lr-find', 'lrfind.mono', '--backend', 'cpu', '--out', 'lrfind-out']);
    expectOneLineFailure(result, 'lr-find', `${dir}: labels run 0..11 (12 classes), but the network ends in dense(10) at out/dense#1`);
    expect(existsSync(path.join(root, 'lrfind-out'))).toBe(false);
  });
});
