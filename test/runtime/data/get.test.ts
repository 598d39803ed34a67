/** `mono data get` in-process: downloads from a local server on 127.0.0.1, into temporary caches only. */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCifar10 } from '../../../src/runtime/data/cifar10.js';
import { downloadToPart } from '../../../src/runtime/data/download.js';
import { DataFormatError, DataUnavailableError } from '../../../src/runtime/data/errors.js';
import { getDataSet, type GetDataOptions } from '../../../src/runtime/data/get.js';
import { loadIdx } from '../../../src/runtime/data/idx-sources.js';
import { RuntimeFailure } from '../../../src/runtime/errors.js';
import { startFileServer, type FileServer } from '../../support/file-server.js';
import { cifarArchive, idxSetFiles, sha256Of, tempDir } from './fixtures.js';

let server: FileServer;
let archive: Uint8Array;
let idx: Record<string, Uint8Array>;
const folders: string[] = [];
function freshDir(): string {
  const dir = tempDir();
  folders.push(dir);
  return dir;
}

beforeAll(async () => {
  archive = await cifarArchive(2);
  idx = idxSetFiles(12, 4);
  server = await startFileServer({
    '/cifar-10-binary.tar.gz': archive,
    '/not-cifar.tar.gz': idxSetFiles(1, 1)['train-images-idx3-ubyte.gz']!,
    ...Object.fromEntries(Object.entries(idx).map(([name, bytes]) => [`/mnist/${name}`, bytes])),
  }, { '/moved.gz': '/mnist/t10k-labels-idx1-ubyte.gz', '/loop': '/loop' });
});
afterAll(async () => {
  await server.close();
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

const cifarOptions = (cacheRoot: string, extra: Partial<GetDataOptions> = {}): GetDataOptions => ({
  cacheRoot,
  url: `${server.origin}/cifar-10-binary.tar.gz`,
  sha256: { 'cifar-10-binary.tar.gz': sha256Of(archive) },
  retryDelayMs: 1,
  ...extra,
});

const requestsFor = (path: string) => server.requests.filter((request) => request.path === path);

describe('getDataSet', () => {
  it('downloads, verifies and unpacks cifar10 into the cache, where a plan without a path finds it', async () => {
    const cache = freshDir();
    const result = await getDataSet('cifar10', cifarOptions(cache));
    expect(result).toMatchObject({ folder: join(cache, 'cifar10'), alreadyThere: false });
    expect(result.files).toEqual([
      { name: 'cifar-10-binary.tar.gz', url: `${server.origin}/cifar-10-binary.tar.gz`, bytes: archive.length, sha256: sha256Of(archive), checked: `sha256 ${sha256Of(archive)}` },
    ]);
    // Nothing but the finished folder: no download folder, no temporary unpack folder.
    expect(readdirSync(cache)).toEqual(['cifar10']);
    const data = await loadCifar10('', { cacheDir: cache });
    expect(data.train.count).toBe(10);
    expect(data.test?.count).toBe(2);
    // A second run finds it and downloads nothing.
    const before = server.requests.length;
    expect((await getDataSet('cifar10', cifarOptions(cache))).alreadyThere).toBe(true);
    expect(server.requests.length).toBe(before);
  });

  it('downloads the four IDX files of mnist from a folder URL, each checked, into --dir', async () => {
    const root = freshDir();
    const dir = join(root, 'data', 'mnist');
    const sha256 = Object.fromEntries(Object.entries(idx).map(([name, bytes]) => [name, sha256Of(bytes)]));
    const result = await getDataSet('mnist', { cacheRoot: freshDir(), dir, url: `${server.origin}/mnist`, sha256 });
    expect(result.files.map((file) => file.name)).toEqual(Object.keys(idx));
    expect(readdirSync(join(root, 'data'))).toEqual(['mnist']);
    const data = await loadIdx(dir);
    expect(data.train.count).toBe(12);
    expect(data.test?.count).toBe(4);
  });

  it('deletes everything on a checksum mismatch and leaves no folder behind', async () => {
    const cache = freshDir();
    const error = await getDataSet('cifar10', cifarOptions(cache, { sha256: { 'cifar-10-binary.tar.gz': 'ab'.repeat(32) } })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataFormatError);
    expect((error as Error).message).toBe(
      `${server.origin}/cifar-10-binary.tar.gz: checksum mismatch: sha256 is ${sha256Of(archive)}, expected ${'ab'.repeat(32)}; the download was deleted and nothing was kept`,
    );
    expect(readdirSync(cache)).toEqual([]);
  });

  it('checks a --url without --sha256 against the official md5', async () => {
    const cache = freshDir();
    const error = await getDataSet('cifar10', { cacheRoot: cache, url: `${server.origin}/cifar-10-binary.tar.gz`, retryDelayMs: 1 }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/checksum mismatch: md5 is [0-9a-f]{32}, expected c32a1d4ab5d03f1284b67883e8d87530; .* \(without --sha256 a --url must serve the official file\)$/);
    expect(readdirSync(cache)).toEqual([]);
  });

  it('resumes an interrupted transfer with a Range request in the same run', async () => {
    const cache = freshDir();
    server.cutNext('/cifar-10-binary.tar.gz', 1000);
    const seen = requestsFor('/cifar-10-binary.tar.gz').length;
    await getDataSet('cifar10', cifarOptions(cache));
    const requests = requestsFor('/cifar-10-binary.tar.gz').slice(seen);
    expect(requests.map((request) => request.range)).toEqual([undefined, 'bytes=1000-']);
    expect(readdirSync(cache)).toEqual(['cifar10']);
  });

  it('leaves no folder when nothing could be downloaded', async () => {
    const cache = freshDir();
    const error = await getDataSet('cifar10', cifarOptions(cache, { url: `${server.origin}/gone.tar.gz` })).catch((e: unknown) => e);
    expect((error as Error).message).toBe(`could not download cifar-10-binary.tar.gz: ${server.origin}/gone.tar.gz: HTTP 404 Not Found`);
    expect(readdirSync(cache)).toEqual([]);
  });

  it('keeps the bytes of a run that gave up, and the next run resumes from them', async () => {
    const cache = freshDir();
    server.cutNext('/cifar-10-binary.tar.gz', 700);
    const failed = await getDataSet('cifar10', cifarOptions(cache, { attempts: 1 })).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(DataUnavailableError);
    const part = join(cache, '.cifar10.download', 'cifar-10-binary.tar.gz.part');
    expect((failed as Error).message).toContain(`The 700 bytes received are kept in ${part}: run the same command again to resume`);
    expect(existsSync(join(cache, 'cifar10'))).toBe(false);
    const seen = requestsFor('/cifar-10-binary.tar.gz').length;
    await getDataSet('cifar10', cifarOptions(cache));
    expect(requestsFor('/cifar-10-binary.tar.gz').slice(seen).map((request) => request.range)).toEqual(['bytes=700-']);
    expect(readdirSync(cache)).toEqual(['cifar10']);
  });

  it('starts over when the server ignores the Range header', async () => {
    const cache = freshDir();
    server.cutNext('/cifar-10-binary.tar.gz', 500);
    server.ignoreRange = true;
    try {
      await getDataSet('cifar10', cifarOptions(cache));
    } finally {
      server.ignoreRange = false;
    }
    expect((await loadCifar10('', { cacheDir: cache })).train.count).toBe(10);
  });

  it('refuses an archive that does not hold the set, and a folder that holds something else', async () => {
    const cache = freshDir();
    const bytes = idxSetFiles(1, 1)['train-images-idx3-ubyte.gz']!;
    const notTar = await getDataSet('cifar10', cifarOptions(cache, { url: `${server.origin}/not-cifar.tar.gz`, sha256: { 'cifar-10-binary.tar.gz': sha256Of(bytes) } })).catch((e: unknown) => e);
    expect(notTar).toBeInstanceOf(DataFormatError);
    expect((notTar as Error).message).toMatch(/\/not-cifar\.tar\.gz: cannot be unpacked \(.+\); expected a tar\.gz archive; the download was deleted$/);
    expect(readdirSync(cache)).toEqual([]);

    const occupied = freshDir();
    mkdirSync(join(occupied, 'cifar10'));
    writeFileSync(join(occupied, 'cifar10', 'notes.txt'), 'mine');
    const error = await getDataSet('cifar10', cifarOptions(occupied)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RuntimeFailure);
    expect((error as Error).message).toContain(`${join(occupied, 'cifar10')} exists but does not hold a complete cifar10`);
  });

  it('removes a temporary folder that a crashed run left beside the target', async () => {
    const cache = freshDir();
    mkdirSync(join(cache, '.cifar10.unpack-123-abcd', 'cifar-10-batches-bin'), { recursive: true });
    await getDataSet('cifar10', cifarOptions(cache));
    expect(readdirSync(cache)).toEqual(['cifar10']);
  });
});

describe('downloadToPart', () => {
  it('follows redirects, but not forever', async () => {
    const dir = freshDir();
    await downloadToPart([`${server.origin}/moved.gz`], join(dir, 'moved.part'), 'moved.gz');
    expect(new Uint8Array(readFileSync(join(dir, 'moved.part')))).toEqual(idx['t10k-labels-idx1-ubyte.gz']);
    const error = await downloadToPart([`${server.origin}/loop`], join(dir, 'loop.part'), 'loop').catch((e: unknown) => e);
    expect((error as Error).message).toBe(`could not download loop: ${server.origin}/loop: HTTP 302 (more than 5 redirects)`);
    expect(existsSync(join(dir, 'loop.part'))).toBe(false);
  });

  it('tries the next mirror after an HTTP error and names every failure when none has the file', async () => {
    const dir = freshDir();
    const part = join(dir, 'file.part');
    await downloadToPart([`${server.origin}/missing.gz`, `${server.origin}/mnist/train-labels-idx1-ubyte.gz`], part, 'train-labels-idx1-ubyte.gz');
    expect(existsSync(part)).toBe(true);
    const error = await downloadToPart([`${server.origin}/a.gz`, `${server.origin}/b.gz`], join(dir, 'other.part'), 'other', { retryDelayMs: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataUnavailableError);
    expect((error as Error).message).toBe(`could not download other: ${server.origin}/a.gz: HTTP 404 Not Found; ${server.origin}/b.gz: HTTP 404 Not Found`);
  });
});
