/**
 * `mono data get`: fetch a data set into a folder (mono's data cache by default) so
 * that the folder is either absent or complete, never half there:
 *
 * 1. each file is downloaded into `.NAME.download/FILE.part` beside the target,
 *    resuming what an interrupted run left there;
 * 2. its checksum is verified over the whole file (md5 as published, or the sha256
 *    the user gave); on a mismatch the download folder is deleted, nothing is kept;
 * 3. the files are unpacked (tar.gz, with node-tar: no shell) or moved into a
 *    temporary folder `.NAME.unpack-*` beside the target, checked, and only then
 *    renamed to the target in one step.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as tar from 'tar';
import { cachedDataFolder, type DownloadableName } from './cache.js';
import { downloadToPart, fileDigests, type TransferProgress } from './download.js';
import { DOWNLOADABLE, type DownloadableSet, type RemoteFile } from './downloadable.js';
import { DataFormatError } from './errors.js';
import { RuntimeFailure } from '../errors.js';

export interface GetDataOptions {
  /** mono's data cache (dataCacheRoot()); the target is its folder for the set unless `dir` is given. */
  cacheRoot: string;
  /** The folder to fill instead of the cache's. */
  dir?: string;
  /**
   * Where to download from instead of the publisher: the archive's URL for a one-file set
   * (cifar10), the URL of the folder holding the files for the others (joined with each name).
   */
  url?: string;
  /** Expected sha256 by file name; a file without one is checked against the publisher's md5. */
  sha256?: Record<string, string>;
  /** Tries per URL (each resumes). Default 3. */
  attempts?: number;
  retryDelayMs?: number;
  onProgress?(progress: TransferProgress): void;
  onMessage?(text: string): void;
}

export interface GetDataResult {
  folder: string;
  /** True when the folder already held the whole set: nothing was downloaded. */
  alreadyThere: boolean;
  files: { name: string; url: string; bytes: number; sha256: string; checked: string }[];
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.stat(file);
    return true;
  } catch {
    return false;
  }
}

async function holdsSet(folder: string, set: DownloadableSet): Promise<boolean> {
  for (const marker of set.markers) if (!(await exists(path.join(folder, marker)))) return false;
  return true;
}

/** Where a file comes from: the user's URL (a one-file set) or their folder URL + the name, else the mirrors. */
function urlsOf(file: RemoteFile, set: DownloadableSet, url: string | undefined): string[] {
  if (url === undefined) return file.urls;
  if (set.files.length === 1) return [url];
  return [new URL(file.name, url.endsWith('/') ? url : `${url}/`).href];
}

/** Removes temporary folders that a crashed run left beside the target. */
async function removeStaleUnpacks(parent: string, base: string): Promise<void> {
  let entries: string[];
  try {
    entries = await fs.readdir(parent);
  } catch {
    return;
  }
  for (const entry of entries) if (entry.startsWith(`.${base}.unpack-`)) await fs.rm(path.join(parent, entry), { recursive: true, force: true });
}

export async function getDataSet(name: DownloadableName, options: GetDataOptions): Promise<GetDataResult> {
  const set = DOWNLOADABLE[name];
  const target = path.resolve(options.dir ?? cachedDataFolder(name, options.cacheRoot));
  const parent = path.dirname(target);
  const base = path.basename(target);
  const say = (text: string) => options.onMessage?.(text);

  for (const fileName of Object.keys(options.sha256 ?? {})) {
    if (!set.files.some((file) => file.name === fileName)) {
      throw new RuntimeFailure(`--sha256 names ${fileName}, which is not a file of ${name} (its files: ${set.files.map((f) => f.name).join(', ')})`);
    }
  }
  if (await holdsSet(target, set)) return { folder: target, alreadyThere: true, files: [] };
  if ((await exists(target)) && (await fs.readdir(target).catch(() => ['(not a folder)'])).length > 0) {
    throw new RuntimeFailure(
      `${target} exists but does not hold a complete ${name} (expected ${set.markers.join(', ')}); move it aside or choose another folder with --dir`,
    );
  }

  await fs.mkdir(parent, { recursive: true });
  await removeStaleUnpacks(parent, base);
  const downloads = path.join(parent, `.${base}.download`);
  await fs.mkdir(downloads, { recursive: true });

  const files: GetDataResult['files'] = [];
  for (const file of set.files) {
    const urls = urlsOf(file, set, options.url);
    const done = path.join(downloads, file.name);
    const part = `${done}.part`;
    if (!(await exists(done))) {
      const resumed = await exists(part);
      say(`${resumed ? 'resuming' : 'downloading'} ${urls[0]}`);
      try {
        await downloadToPart(urls, part, file.name, {
          ...(options.attempts !== undefined ? { attempts: options.attempts } : {}),
          ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}),
          ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        });
      } catch (error) {
        // Keep received bytes for a resume; an empty download folder is only clutter.
        if ((await fs.readdir(downloads)).length === 0) await fs.rmdir(downloads);
        throw error;
      }
      await fs.rename(part, done);
    }
    const digests = await fileDigests(done);
    const wantedSha256 = options.sha256?.[file.name]?.toLowerCase();
    const [kind, expected, actual] = wantedSha256 !== undefined ? ['sha256', wantedSha256, digests.sha256] : ['md5', file.md5, digests.md5];
    if (expected !== actual) {
      // A wrong file must not be resumed or unpacked later: drop everything downloaded.
      await fs.rm(downloads, { recursive: true, force: true });
      throw new DataFormatError(
        urls[0]!,
        `checksum mismatch: ${kind} is ${actual}, expected ${expected}; the download was deleted and nothing was kept` +
          (wantedSha256 === undefined && options.url !== undefined ? ' (without --sha256 a --url must serve the official file)' : ''),
      );
    }
    files.push({ name: file.name, url: urls[0]!, bytes: digests.bytes, sha256: digests.sha256, checked: `${kind} ${expected}` });
  }

  const staging = path.join(parent, `.${base}.unpack-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await fs.mkdir(staging);
    if (set.layout === 'tar.gz') {
      const archive = path.join(downloads, set.files[0]!.name);
      say(`unpacking ${set.files[0]!.name}`);
      try {
        // Regular files and folders only: no links, devices or absolute paths out of the archive.
        await tar.x({ file: archive, cwd: staging, strict: true, filter: (_path, entry) => 'type' in entry && (entry.type === 'File' || entry.type === 'Directory') });
      } catch (error) {
        await fs.rm(downloads, { recursive: true, force: true });
        throw new DataFormatError(files[0]!.url, `cannot be unpacked (${(error as Error).message}); expected a tar.gz archive; the download was deleted`);
      }
    } else {
      for (const file of set.files) await fs.rename(path.join(downloads, file.name), path.join(staging, file.name));
    }
    const missing = [];
    for (const marker of set.markers) if (!(await exists(path.join(staging, marker)))) missing.push(marker);
    if (missing.length > 0) {
      await fs.rm(downloads, { recursive: true, force: true });
      throw new DataFormatError(set.files.map((file) => urlsOf(file, set, options.url)[0]).join(', '), `does not hold ${missing.join(', ')}; expected ${set.markers.join(', ')}`);
    }
    // An empty target folder (made by the user) gives way; a non-empty one was refused above.
    if (await exists(target)) await fs.rmdir(target);
    await fs.rename(staging, target);
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
  await fs.rm(downloads, { recursive: true, force: true });
  return { folder: target, alreadyThere: false, files };
}
