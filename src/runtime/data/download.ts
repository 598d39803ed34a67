/**
 * Downloads over HTTP(S) with Node's own clients into a `.part` file that survives an
 * interruption: the next attempt (in this run, or a later one) asks for the rest with
 * `Range: bytes=N-`. Redirects are followed; a server that ignores the Range header
 * (200 instead of 206) gets the file written from the start again.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { DataUnavailableError } from './errors.js';

export interface TransferProgress {
  /** The file's name, for the progress bar. */
  file: string;
  done: number;
  /** Bytes of the whole file, when the server says. */
  total: number | undefined;
  bytesPerSecond: number;
}

export interface DownloadOptions {
  /** Tries per URL; each try resumes from what the `.part` file holds. Default 3. */
  attempts?: number;
  /** A connection silent for this long counts as interrupted. Default 30 s. */
  idleTimeoutMs?: number;
  /** Pause before a retry, times the attempt number. Default 250 ms. */
  retryDelayMs?: number;
  onProgress?(progress: TransferProgress): void;
}

/** The server answered with an HTTP error: the next mirror may have the file. */
export class HttpStatusError extends Error {
  constructor(
    readonly url: string,
    readonly status: number,
    statusMessage: string,
  ) {
    super(`HTTP ${status}${statusMessage ? ` ${statusMessage}` : ''}`);
  }
}

/** The transfer stopped before the end: worth another attempt, which resumes. */
class InterruptedError extends Error {}

const MAX_REDIRECTS = 5;
/** Received bytes waiting for the disk before the response is paused. */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

async function sizeOf(file: string): Promise<number> {
  try {
    return (await fs.stat(file)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}

/** `bytes START-END/TOTAL` -> { start, total }. */
function parseContentRange(header: string | undefined): { start: number; total: number | undefined } | undefined {
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header?.trim() ?? '');
  if (!match) return undefined;
  return { start: Number(match[1]), total: match[3] === '*' ? undefined : Number(match[3]) };
}

type Outcome = { kind: 'done' } | { kind: 'redirect'; status: number; location: string } | { kind: 'restart'; reason: string };

/**
 * One request: appends to (or rewrites) `part`; resolves when the server sent the whole
 * file, rejects with InterruptedError when the transfer stopped early.
 */
async function attempt(url: string, part: string, name: string, options: DownloadOptions, redirects = 0): Promise<void> {
  const offset = await sizeOf(part);
  const file = await fs.open(part, 'a');
  let outcome: Outcome;
  try {
    outcome = await transfer(url, file, offset, name, options);
  } finally {
    await file.close();
  }
  if (outcome.kind === 'redirect') {
    if (redirects >= MAX_REDIRECTS) throw new HttpStatusError(url, outcome.status, `(more than ${MAX_REDIRECTS} redirects)`);
    return attempt(new URL(outcome.location, url).href, part, name, options, redirects + 1);
  }
  if (outcome.kind === 'restart') {
    await fs.rm(part, { force: true });
    throw new InterruptedError(outcome.reason);
  }
}

/**
 * The request and its body. Everything about the response is decided inside its
 * callback, synchronously: a response that errors drops what it still buffers, and a
 * short body can arrive and be cut off before an awaited continuation would run. So
 * every chunk is queued for the file the moment it arrives (the queue is bounded by
 * pausing the response), and nothing received before an interruption is lost.
 */
function transfer(url: string, file: FileHandle, offset: number, name: string, options: DownloadOptions): Promise<Outcome> {
  const client = url.startsWith('https:') ? https : http;
  const idle = options.idleTimeoutMs ?? 30_000;
  return new Promise<Outcome>((resolve, reject) => {
    let responded = false;
    const request = client.get(url, { headers: offset > 0 ? { Range: `bytes=${offset}-` } : {} }, (response) => {
      responded = true;
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400 && response.headers.location) {
        response.resume();
        resolve({ kind: 'redirect', status, location: response.headers.location });
        return;
      }
      // Asked for the bytes after the end: the part already holds the whole file.
      if (status === 416 && offset > 0) {
        response.resume();
        resolve({ kind: 'done' });
        return;
      }
      let start: number;
      let total: number | undefined;
      let writes: Promise<unknown> = Promise.resolve();
      if (status === 206) {
        const range = parseContentRange(response.headers['content-range']);
        if (range === undefined || range.start !== offset) {
          response.resume();
          resolve({ kind: 'restart', reason: `the server resumed at ${range?.start ?? 'an unknown offset'} instead of ${offset}` });
          return;
        }
        start = offset;
        total = range.total;
      } else if (status === 200) {
        start = 0; // the whole file (also when the server ignored Range): written from the start
        writes = file.truncate(0);
        const length = response.headers['content-length'];
        total = length !== undefined && Number.isFinite(Number(length)) ? Number(length) : undefined;
      } else {
        response.resume();
        reject(new HttpStatusError(url, status, response.statusMessage ?? ''));
        return;
      }

      let done = start;
      let queued = 0;
      let failure: Error | undefined;
      let finished = false;
      const started = performance.now();
      response.on('data', (chunk: Buffer) => {
        queued += chunk.length;
        if (queued > MAX_QUEUED_BYTES) response.pause();
        writes = writes.then(async () => {
          await file.write(chunk);
          queued -= chunk.length;
          done += chunk.length;
          const seconds = (performance.now() - started) / 1000;
          options.onProgress?.({ file: name, done, total, bytesPerSecond: seconds > 0 ? (done - start) / seconds : 0 });
          if (queued <= MAX_QUEUED_BYTES / 2 && response.isPaused()) response.resume();
        });
      });
      const finish = () => {
        if (finished) return;
        finished = true;
        writes.then(() => {
          if (failure) reject(new InterruptedError(failure.message || 'connection closed'));
          else if (!response.complete) reject(new InterruptedError('connection closed before the end'));
          else if (total !== undefined && done !== total) reject(new InterruptedError(`connection closed after ${done} of ${total} bytes`));
          else resolve({ kind: 'done' });
        }, reject);
      };
      response.on('error', (error) => (failure = error));
      response.on('end', finish);
      response.on('close', finish);
    });
    request.setTimeout(idle, () => request.destroy(new InterruptedError(`no data for ${idle / 1000} s`)));
    // Once the response has begun, its own events decide (after the queued writes).
    request.on('error', (error) => {
      if (!responded) reject(error);
    });
  });
}

/**
 * Downloads `urls[0]` (then the next URL when a server refuses) into `part`, resuming
 * from its current size, retrying interrupted transfers. Throws DataUnavailableError
 * when no URL gave the whole file; the bytes received stay in `part` for a later run.
 */
export async function downloadToPart(urls: readonly string[], part: string, name: string, options: DownloadOptions = {}): Promise<void> {
  const attempts = options.attempts ?? 3;
  const failures: string[] = [];
  for (const url of urls) {
    for (let tried = 1; tried <= attempts; tried++) {
      try {
        await attempt(url, part, name, options);
        return;
      } catch (error) {
        if (error instanceof HttpStatusError) {
          failures.push(`${url}: ${error.message}`);
          break; // the next mirror
        }
        const reason = (error as Error).message || String(error);
        if (tried === attempts) failures.push(`${url}: ${reason}`);
        else await new Promise((resolve) => setTimeout(resolve, (options.retryDelayMs ?? 250) * tried));
      }
    }
  }
  const kept = await sizeOf(part);
  if (kept === 0) await fs.rm(part, { force: true });
  throw new DataUnavailableError(
    `could not download ${name}: ${failures.join('; ')}` +
      (kept > 0 ? `. The ${kept} bytes received are kept in ${part}: run the same command again to resume` : ''),
  );
}

/** md5 and sha256 of a file, in one pass. */
export async function fileDigests(file: string): Promise<{ md5: string; sha256: string; bytes: number }> {
  const md5 = createHash('md5');
  const sha256 = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file)) {
    md5.update(chunk as Buffer);
    sha256.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { md5: md5.digest('hex'), sha256: sha256.digest('hex'), bytes };
}
