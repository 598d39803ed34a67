/**
 * `mono data get` through the CLI: the real command as a child process against a local
 * server on 127.0.0.1; MONO_DATA always points at a temporary folder, never the user's cache.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cifarArchive, idxSetFiles, sha256Of } from '../runtime/data/fixtures.js';
import { runMono } from '../support/cli-process.js';
import { startFileServer, type FileServer } from '../support/file-server.js';
import { mono } from './harness.js';

let root: string;
let server: FileServer;
let archive: Uint8Array;
let url: string;
let idx: Record<string, Uint8Array>;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mono-data-cli-'));
  archive = await cifarArchive(2);
  idx = idxSetFiles(30, 5);
  server = await startFileServer({ '/cifar-10-binary.tar.gz': archive, ...Object.fromEntries(Object.entries(idx).map(([name, bytes]) => [`/mirror/${name}`, bytes])) });
  url = `${server.origin}/cifar-10-binary.tar.gz`;
});
afterAll(async () => {
  await server.close();
  await rm(root, { recursive: true, force: true });
});

async function freshCache(): Promise<string> {
  return mkdtemp(path.join(root, 'cache-'));
}

const PLAN = `plan cached
data cifar10 {
  batch 4
  holdout 2
}
network input [32, 32, 3] {
  out: flatten dense(10)
}
schedule { train main for 1 epoch with sgd(lr: 0.01) }
`;

describe('mono data get (child process)', () => {
  it('fetches cifar10 into MONO_DATA, where mono run finds it without a path', async () => {
    const cache = await freshCache();
    const result = await runMono(['data', 'get', 'cifar10', '--url', url, '--sha256', sha256Of(archive)], { cwd: root, env: { MONO_DATA: cache } });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`mono data: downloading ${url}\n`);
    expect(result.stdout).toContain(`mono data: cifar-10-binary.tar.gz: ${archive.length} bytes, sha256 ${sha256Of(archive)} verified`);
    expect(result.stdout).toContain(`mono data: cifar10 is in ${path.relative(root, path.join(cache, 'cifar10'))}; use it with: data cifar10 { ... }\n`);
    expect(await readdir(cache)).toEqual(['cifar10']);

    await writeFile(path.join(root, 'cached.mono'), PLAN);
    const run = await mono(['run', 'cached.mono', '--backend', 'cpu', '--out', 'cached-run'], { cwd: root, env: { MONO_DATA: cache } });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });

  it('exits 3 on a checksum mismatch and leaves nothing behind', async () => {
    const cache = await freshCache();
    const result = await runMono(['data', 'get', 'cifar10', '--url', url, '--sha256', '0'.repeat(64)], { cwd: root, env: { MONO_DATA: cache } });
    expect(result.code).toBe(3);
    expect(result.stderr).toBe(
      `mono data: ${url}: checksum mismatch: sha256 is ${sha256Of(archive)}, expected ${'0'.repeat(64)}; the download was deleted and nothing was kept\n`,
    );
    expect(await readdir(cache)).toEqual([]);
  });

  it('resumes a transfer that was cut off', async () => {
    const cache = await freshCache();
    server.cutNext('/cifar-10-binary.tar.gz', 2048);
    const seen = server.requests.length;
    const result = await runMono(['data', 'get', 'cifar10', '--url', url, '--sha256', sha256Of(archive)], { cwd: root, env: { MONO_DATA: cache } });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(server.requests.slice(seen).map((request) => request.range)).toEqual([undefined, 'bytes=2048-']);
    expect(await readdir(path.join(cache, 'cifar10', 'cifar-10-batches-bin'))).toContain('test_batch.bin');
  });
});

describe('mono data (in-process)', () => {
  it('is listed in mono --help and has its own --help', async () => {
    expect((await mono(['--help'])).stdout).toMatch(/\n {2}data +download a data set/);
    const help = await mono(['data', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: mono data get cifar10|fashion-mnist|mnist');
    expect(help.stdout).toContain('MONO_DATA');
  });

  it.each([
    [['data'], /missing what to do: mono data get cifar10\|fashion-mnist\|mnist/],
    [['data', 'fetch', 'cifar10'], /unknown action 'fetch'/],
    [['data', 'get'], /missing the data set/],
    [['data', 'get', 'cifar100'], /unknown data set 'cifar100' \(one of cifar10, fashion-mnist, mnist\); did you mean 'cifar10'\?/],
    [['data', 'get', 'cifar10', '--sha256', 'abc'], /--sha256 expects 64 hexadecimal digits, got 'abc'/],
    [['data', 'get', 'mnist', '--sha256', 'a'.repeat(64)], /--sha256 needs FILE=HEX for a set of several files/],
    [['data', 'get', 'mnist', '--sha256', `x.gz=${'a'.repeat(64)}`], /--sha256 names 'x\.gz', which is not one of train-images-idx3-ubyte\.gz/],
    [['data', 'get', 'cifar10', '--url', 'ftp://example.org/x'], /--url expects an http:\/\/ or https:\/\/ URL/],
  ])('mono %j is a usage error', async (args, message) => {
    const result = await mono(args, { cwd: root, env: { MONO_DATA: path.join(root, 'unused') } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('fetches mnist into --dir from a mirror folder, and says how a plan names it', async () => {
    const sha256 = Object.entries(idx).flatMap(([name, bytes]) => ['--sha256', `${name}=${sha256Of(bytes)}`]);
    const result = await mono(['data', 'get', 'mnist', '--dir', 'sets/mnist', '--url', `${server.origin}/mirror/`, ...sha256], { cwd: root, env: { MONO_DATA: path.join(root, 'unused') } });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('mono data: mnist is in sets/mnist; use it with: data idx("sets/mnist") { ... }\n');
    expect((await readdir(path.join(root, 'sets', 'mnist'))).sort()).toEqual(Object.keys(idx).sort());
    const again = await mono(['data', 'get', 'mnist', '--dir', 'sets/mnist'], { cwd: root, env: {} });
    expect(again.stdout).toBe('mono data: mnist is already in sets/mnist; use it with: data idx("sets/mnist") { ... }\n');
  });

  it('mono run names the command that fetches a missing data set', async () => {
    const cache = await freshCache();
    await writeFile(path.join(root, 'missing.mono'), PLAN);
    const result = await mono(['run', 'missing.mono', '--backend', 'cpu'], { cwd: root, env: { MONO_DATA: cache } });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`CIFAR-10 not found: no data_batch_1.bin in ${path.join(cache, 'cifar10')}\nFetch it with: mono data get cifar10\n`);
  });
});
