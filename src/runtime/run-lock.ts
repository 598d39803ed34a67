import { randomBytes } from 'node:crypto';
import { linkSync, promises as fs, readFileSync, unlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RuntimeFailure, writeFailure } from './errors.js';

/**
 * `run.lock`: one writer per run folder. The lock file appears atomically, whole: it is
 * written under a private name and hard-linked to `run.lock`, which fails when a lock
 * is there. It holds who holds it. A lock whose process is gone (same host, pid no
 * longer alive, or started before the machine booted) is stale and taken over; a live
 * one, or one from another host (whose process cannot be checked), refuses the run.
 */
export const LOCK_FILE = 'run.lock';

export interface LockOwner {
  pid: number;
  host: string;
  startedAt: string;
  /** The command line that took the lock, for the message of a refused run. */
  command: string;
}

/** The run folder is locked by a live process (or one on another host). */
export class RunFolderBusy extends RuntimeFailure {
  override name = 'RunFolderBusy';
  constructor(
    readonly dir: string,
    readonly owner: LockOwner,
  ) {
    const where = owner.host === os.hostname() ? `pid ${owner.pid}` : `pid ${owner.pid} on host ${owner.host}`;
    const gone = owner.host === os.hostname() ? '' : `; if that process is gone, delete ${path.join(dir, LOCK_FILE)}`;
    super(`${dir} is in use by another mono process (${where}, started ${owner.startedAt}: ${owner.command})${gone}`);
  }
}

export interface AcquireOptions {
  /** Shown to a run that is refused (default: this process's argv). */
  command?: string;
  /** Told when a stale lock is taken over. */
  onStale?(owner: LockOwner | undefined): void;
}

export class RunLock {
  private released = false;
  private readonly onExit = () => this.releaseSync();

  private constructor(
    readonly dir: string,
    readonly file: string,
    /** The exact text written: the lock is removed only while it still holds it. */
    private readonly text: string,
  ) {
    // Also released when the process ends some other way (process.exit, an uncaught error).
    process.on('exit', this.onExit);
  }

  /** Takes the lock of `dir` (which must exist), or throws RunFolderBusy. */
  static async acquire(dir: string, options: AcquireOptions = {}): Promise<RunLock> {
    const file = path.join(dir, LOCK_FILE);
    const owner: LockOwner = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString(), command: options.command ?? process.argv.slice(1).join(' ') };
    const text = JSON.stringify(owner) + '\n';
    const draft = `${file}.${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await fs.writeFile(draft, text);
    } catch (error) {
      throw writeFailure(draft, error);
    }
    try {
      // A few rounds: each either takes the lock, refuses, or removes a stale one and tries again.
      for (let round = 0; round < 5; round++) {
        try {
          await createLockFile(draft, file, text);
          return new RunLock(dir, file, text);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw writeFailure(file, error);
        }
        const held = await readLock(file);
        if (held === 'gone') continue;
        if (held.owner && !isStale(held.owner)) throw new RunFolderBusy(dir, held.owner);
        if (!held.owner && Date.now() - held.modified < 10_000) {
          // Unreadable and fresh: a lock written by hand or by another tool right now. Not ours to break.
          throw new RuntimeFailure(`${dir} is locked (${file} is not a mono lock file); delete it if no process is using the folder`);
        }
        if (await removeStale(file, held.text)) options.onStale?.(held.owner);
      }
      throw new RuntimeFailure(`${dir}: could not take ${LOCK_FILE} (other processes keep taking it); try again`);
    } finally {
      await fs.rm(draft, { force: true });
    }
  }

  /** Removes the lock if it is still this process's (idempotent). */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    process.removeListener('exit', this.onExit);
    const current = await fs.readFile(this.file, 'utf8').catch(() => undefined);
    if (current === this.text) await fs.rm(this.file, { force: true });
  }

  /** The same, synchronously (process exit, a second signal). */
  releaseSync(): void {
    if (this.released) return;
    this.released = true;
    process.removeListener('exit', this.onExit);
    try {
      if (readFileSync(this.file, 'utf8') === this.text) unlinkSync(this.file);
    } catch {
      // Already gone.
    }
  }
}

/** A hard link of the written draft (the lock appears whole); where links are not supported, an exclusive create. */
async function createLockFile(draft: string, file: string, text: string): Promise<void> {
  try {
    await fs.link(draft, file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
    const handle = await fs.open(file, 'wx');
    try {
      await handle.writeFile(text);
    } finally {
      await handle.close();
    }
  }
}

async function readLock(file: string): Promise<'gone' | { text: string; owner: LockOwner | undefined; modified: number }> {
  let text: string;
  let modified: number;
  try {
    text = await fs.readFile(file, 'utf8');
    modified = (await fs.stat(file)).mtimeMs;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw error;
  }
  let owner: LockOwner | undefined;
  try {
    const parsed = JSON.parse(text) as Partial<LockOwner>;
    if (Number.isInteger(parsed.pid) && typeof parsed.host === 'string' && typeof parsed.startedAt === 'string') {
      owner = { pid: parsed.pid!, host: parsed.host, startedAt: parsed.startedAt, command: String(parsed.command ?? '?') };
    }
  } catch {
    owner = undefined;
  }
  return { text, owner, modified };
}

/** Same host, and the process is gone (or the lock predates the last boot). Another host's lock is never stale. */
export function isStale(owner: LockOwner): boolean {
  if (owner.host !== os.hostname()) return false;
  const bootedAt = Date.now() - os.uptime() * 1000;
  if (Date.parse(owner.startedAt) < bootedAt - 60_000) return true;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (error) {
    // EPERM: alive, another user's.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Removes the stale lock whose text is `text`, unless another process got there first:
 * it is moved to a private name (atomic; only one mover wins), checked to be the same
 * stale lock, and deleted. A fresh lock moved by mistake (a takeover between our read
 * and the move) is put back.
 */
async function removeStale(file: string, text: string): Promise<boolean> {
  const aside = `${file}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await fs.rename(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  const moved = await fs.readFile(aside, 'utf8').catch(() => undefined);
  if (moved !== text) {
    try {
      linkSync(aside, file);
    } catch {
      // Someone else holds the lock by now; the moved one's owner will find its lock gone.
    }
    await fs.rm(aside, { force: true });
    return false;
  }
  await fs.rm(aside, { force: true });
  return true;
}
