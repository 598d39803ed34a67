/**
 * Sweeps across machines on a BullMQ queue (Redis): `mono sweep --queue redis://HOST:PORT`
 * puts one job per trial on the queue and watches them; `mono worker --queue ...` on each
 * machine takes jobs, runs each as a child `mono run` (./trial-process.ts) and reports back.
 *
 * - Job id `<sweep id>-<trial id>`: adding a trial again (on --resume) adds nothing, so a
 *   sweep can stop and come back without duplicating work.
 * - Heartbeats: BullMQ renews each active job's lock while its worker lives (lockDuration);
 *   the worker also reports the trial's progress (`job.updateProgress`) every few seconds.
 *   A worker that dies stops renewing: once the lock expires, another worker's stalled-job
 *   check puts the job back in the queue, and the next worker continues the trial from its
 *   last checkpoint when the run folder is shared.
 * - History: each start and exit is a job log line (`job.log`), from which the sweep
 *   counts attempts and resumes.
 * - Run folders: a worker that sees the sweep folder (same path, sweep.json with the same
 *   id; e.g. NFS) runs the trial in place ("shared"). Otherwise ("artifacts") it runs in a
 *   local folder and sends the run folder's files back with the result (not checkpoint.bin),
 *   which the sweep writes into its folder; a trial retried on another machine then starts
 *   over, since the checkpoint stayed with the machine that died.
 */
import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { RuntimeFailure } from '../runtime/errors.js';
import { formatTrialLine } from './display.js';
import { readTrialResult } from './results.js';
import type { SweepSession } from './session.js';
import { readSweep, trialDir, trialLog, type TrialRecord } from './state.js';
import { CHECKPOINT_FILE, outcomeOf, readProgress, startTrial, type EpochLine, type RunningTrial } from './trial-process.js';

export const DEFAULT_QUEUE_NAME = 'mono-trials';
/** Starts of a job before BullMQ gives up on it (a failed mono run is final at once). */
export const JOB_ATTEMPTS = 3;

/** What a job carries: enough for a worker on another machine. */
export interface TrialJob {
  sweepId: string;
  /** The sweep folder as the sweep process sees it (absolute). */
  sweepDir: string;
  trialId: string;
  arm: string;
  planFile: string;
  planSource: string;
  planSha256: string;
  set: Record<string, string>;
  seed: number | null;
  backend: string | null;
  epochs: number;
}

export interface ArtifactFile {
  name: string;
  base64: string;
}

export interface TrialJobResult {
  worker: string;
  mode: 'shared' | 'artifacts';
  /** The run folder's files (artifacts mode). */
  files?: ArtifactFile[];
  /** The tail of the worker's log of this trial (artifacts mode). */
  log?: string;
}

/** Reported with job.updateProgress. */
export interface TrialHeartbeat {
  worker: string;
  epochsDone: number;
  epochs: number;
  last: EpochLine | null;
  at: string;
}

/** A job log line. */
type HistoryEvent = { event: 'start'; worker: string; mode: string; resumedFrom: number | null; at: string } | { event: 'exit'; worker: string; code: number | null; signal: string | null; seconds: number; at: string };

export const jobIdOf = (sweepId: string, trialId: string) => `${sweepId}-${trialId}`;

export class QueueFailure extends RuntimeFailure {
  override name = 'QueueFailure';
}

/** Checks the URL's form: redis://HOST:PORT (or rediss://, with an optional /DB). */
export function checkQueueUrl(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `--queue expects redis://HOST:PORT, got '${url}'`;
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') return `--queue expects a redis:// or rediss:// URL, got '${url}'`;
  if (parsed.hostname === '') return `--queue expects redis://HOST:PORT, got '${url}' (no host)`;
  return undefined;
}

/** A connection to Redis, or a QueueFailure when it cannot be reached within a few seconds. */
export async function connectRedis(url: string): Promise<Redis> {
  // BullMQ needs maxRetriesPerRequest null; reconnects keep trying while the process runs.
  const client = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true, connectTimeout: 5000, retryStrategy: (times) => Math.min(200 * times, 3000) });
  let lastError: Error | undefined;
  client.on('error', (error: Error) => void (lastError = error));
  try {
    await Promise.race([
      client.connect(),
      new Promise((_, reject) => setTimeout(() => reject(lastError ?? new Error('no answer within 8 s')), 8000).unref()),
    ]);
  } catch (error) {
    client.disconnect();
    // ioredis rejects with "Connection is closed."; the socket's own error says why.
    throw new QueueFailure(`cannot reach Redis at ${url}: ${(lastError ?? (error as Error)).message}`);
  }
  return client;
}

async function jobHistory(queue: Queue, jobId: string): Promise<HistoryEvent[]> {
  const { logs } = await queue.getJobLogs(jobId, 0, -1, true);
  return logs.flatMap((line) => {
    try {
      return [JSON.parse(line) as HistoryEvent];
    } catch {
      return [];
    }
  });
}

function applyHistory(trial: TrialRecord, history: readonly HistoryEvent[]): void {
  const starts = history.filter((e) => e.event === 'start');
  trial.attempts = starts.length;
  trial.resumedAt = starts.flatMap((e) => (e.resumedFrom !== null ? [e.resumedFrom] : []));
  trial.wallSeconds = history.reduce((sum, e) => sum + (e.event === 'exit' ? e.seconds : 0), 0);
  const first = starts[0];
  if (first) trial.startedAt ??= first.at;
  const last = starts[starts.length - 1];
  if (last) trial.worker = last.worker;
}

/** Writes the files a worker sent back into the trial's folder (names checked: no paths). */
async function writeArtifacts(sweepDir: string, trialId: string, result: TrialJobResult): Promise<void> {
  const dir = trialDir(sweepDir, trialId);
  await fs.mkdir(dir, { recursive: true });
  for (const file of result.files ?? []) {
    if (file.name !== path.basename(file.name) || file.name.startsWith('.')) continue;
    await fs.writeFile(path.join(dir, file.name), Buffer.from(file.base64, 'base64'));
  }
  if (result.log) {
    await fs.mkdir(path.dirname(trialLog(sweepDir, trialId)), { recursive: true });
    await fs.appendFile(trialLog(sweepDir, trialId), result.log);
  }
}

export interface QueueOptions {
  url: string;
  name: string;
  signal: AbortSignal;
  retryFailed?: boolean;
  pollMs?: number;
}

/**
 * The sweep's side: enqueue the unfinished trials, then watch their jobs until every
 * trial is done or failed. On abort (Ctrl-C) it only stops watching: the jobs stay on the
 * queue, workers go on, and `mono sweep --resume` collects what finished meanwhile.
 */
export async function runOnQueue(session: SweepSession, options: QueueOptions): Promise<'finished' | 'interrupted'> {
  const { record, display } = session;
  const connection = await connectRedis(options.url);
  const queue = new Queue<TrialJob, TrialJobResult>(options.name, { connection });
  queue.on('error', () => undefined);
  const jobData = (trial: TrialRecord): TrialJob => {
    const arm = record.arms.find((a) => a.name === trial.arm)!;
    const config = record.configs.find((c) => c.id === trial.config)!;
    return {
      sweepId: record.id,
      sweepDir: path.resolve(session.dir),
      trialId: trial.id,
      arm: arm.name,
      planFile: arm.planFile,
      planSource: arm.planSource,
      planSha256: arm.planSha256,
      set: config.set,
      seed: trial.seed,
      backend: record.backend,
      epochs: config.epochs,
    };
  };
  const add = (trials: TrialRecord[]) =>
    queue.addBulk(
      trials.map((trial) => ({
        name: 'trial',
        data: jobData(trial),
        opts: { jobId: jobIdOf(record.id, trial.id), attempts: JOB_ATTEMPTS, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: false, removeOnFail: false },
      })),
    );

  try {
    if (options.retryFailed) {
      for (const trial of record.trials.filter((t) => t.state === 'failed')) {
        const job = await queue.getJob(jobIdOf(record.id, trial.id));
        if (job && (await job.getState()) === 'failed') await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
        Object.assign(trial, { state: 'pending', error: null, finishedAt: null });
      }
    }
    const open = () => record.trials.filter((t) => t.state === 'pending' || t.state === 'running');
    await add(open());
    await session.save();
    display.event(`mono sweep: ${open().length} trials on queue '${options.name}' at ${options.url}; waiting for workers (mono worker --queue ${options.url}${options.name !== DEFAULT_QUEUE_NAME ? ` --queue-name ${options.name}` : ''})`);

    const heartbeats = new Map<string, TrialHeartbeat>();
    while (!options.signal.aborted) {
      let changed = false;
      for (const trial of open()) {
        const id = jobIdOf(record.id, trial.id);
        const job: Job<TrialJob, TrialJobResult> | undefined = await queue.getJob(id);
        if (!job) {
          // The queue lost it (flushed): put it back.
          await add([trial]);
          continue;
        }
        const state = await job.getState();
        if (state === 'completed' || state === 'failed') {
          applyHistory(trial, await jobHistory(queue, id));
          if (state === 'completed') {
            const result = job.returnvalue;
            if (result?.mode === 'artifacts') await writeArtifacts(session.dir, trial.id, result);
            if (result?.worker) trial.worker = result.worker;
            trial.result = await readTrialResult(trialDir(session.dir, trial.id));
            Object.assign(trial, { state: 'done', epochsDone: trial.result.epochs, finishedAt: new Date(job.finishedOn ?? Date.now()).toISOString(), error: null });
            const acc = trial.result.finalValAcc;
            display.event(`${trial.worker ?? 'worker'}: done ${trial.id} (${session.labelOf(trial)}): val_acc ${acc === null ? '-' : `${(100 * acc).toFixed(2)}%`}${trial.resumedAt.length > 0 ? `, continued from its checkpoint after ${trial.resumedAt.join(', ')} epochs` : ''}`);
          } else {
            Object.assign(trial, { state: 'failed', finishedAt: new Date(job.finishedOn ?? Date.now()).toISOString(), error: job.failedReason || 'failed' });
            display.event(`${trial.worker ?? 'worker'}: failed ${trial.id} (${session.labelOf(trial)}): ${trial.error}`);
          }
          heartbeats.delete(trial.id);
          changed = true;
          display.summary(session.summaryText(), true);
          continue;
        }
        const beat = state === 'active' && typeof job.progress === 'object' && job.progress !== null ? (job.progress as unknown as TrialHeartbeat) : undefined;
        const next = state === 'active' ? 'running' : 'pending';
        if (beat) {
          heartbeats.set(trial.id, beat);
          trial.epochsDone = beat.epochsDone;
          if (trial.worker !== beat.worker) changed = true;
          trial.worker = beat.worker;
        } else if (state !== 'active') heartbeats.delete(trial.id);
        if (trial.state !== next) {
          trial.state = next;
          changed = true;
        }
      }
      if (changed) await session.save();
      display.setLines(
        open()
          .filter((t) => t.state === 'running')
          .map((t) => {
            const beat = heartbeats.get(t.id);
            const since = beat ? `, heartbeat ${Math.max(0, Math.round((Date.now() - Date.parse(beat.at)) / 1000))} s ago` : '';
            return `${beat?.worker ?? 'worker'}  ${formatTrialLine({ id: t.id, label: session.labelOf(t) }, { epochsDone: beat?.epochsDone ?? t.epochsDone, epochs: session.epochsOf(t), last: beat?.last ?? null }, 0).replace(/  [\d:-]+$/, '')}${since}`;
          }),
      );
      display.summary(session.summaryText());
      if (open().length === 0) break;
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          options.signal.removeEventListener('abort', wake);
          resolve();
        };
        const timer = setTimeout(wake, options.pollMs ?? 1000);
        options.signal.addEventListener('abort', wake, { once: true });
      });
    }
  } finally {
    display.finish();
    await queue.close().catch(() => undefined);
    connection.disconnect();
  }
  return options.signal.aborted ? 'interrupted' : 'finished';
}

// ---------------------------------------------------------------- the worker

export interface WorkerOptions {
  url: string;
  name: string;
  workerName: string;
  concurrency: number;
  threads: number;
  /** Lock duration and stalled-check interval, ms: how soon a dead worker's trial goes back to the queue. */
  lockMs: number;
  heartbeatMs: number;
  /** Where trials run when the sweep folder is not shared (artifacts mode). */
  workDir: string;
  /** Always run in workDir and send the files back, even where the sweep folder is visible. */
  artifacts: boolean;
  cwd: string;
  signal: AbortSignal;
  say: (line: string) => void;
}

/** Is `dir` the sweep folder with id `sweepId` (a shared path such as NFS)? */
export async function sweepFolderIsShared(dir: string, sweepId: string): Promise<boolean> {
  try {
    return (await readSweep(dir)).id === sweepId;
  } catch {
    return false;
  }
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The run folder's files to send back: everything but the checkpoint, up to 16 MiB each. */
async function collectArtifacts(runDir: string): Promise<ArtifactFile[]> {
  const files: ArtifactFile[] = [];
  for (const entry of await fs.readdir(runDir, { withFileTypes: true })) {
    if (!entry.isFile() || entry.name === CHECKPOINT_FILE || entry.name.endsWith('.tmp')) continue;
    const bytes = await fs.readFile(path.join(runDir, entry.name));
    if (bytes.length <= 16 * 1024 * 1024) files.push({ name: entry.name, base64: bytes.toString('base64') });
  }
  return files;
}

/**
 * Takes trials from the queue until the signal aborts, `concurrency` at a time. On abort
 * the running trials are stopped and put back on the queue at once (job.moveToWait), to be
 * continued from their checkpoints by another worker.
 */
export async function runWorker(options: WorkerOptions): Promise<void> {
  const connection = await connectRedis(options.url);
  const running = new Set<RunningTrial>();
  /** Trials by job id, and whether this worker lost the job's lock (the queue gave it to another worker). */
  const byJob = new Map<string, { child: RunningTrial; lost: boolean }>();
  const { workerName, say } = options;

  const processor = async (job: Job<TrialJob, TrialJobResult>, token?: string): Promise<TrialJobResult> => {
    const data = job.data;
    const shared = !options.artifacts && (await sweepFolderIsShared(data.sweepDir, data.sweepId));
    const base = shared ? data.sweepDir : path.join(options.workDir, data.sweepId);
    const runDir = trialDir(base, data.trialId);
    const logFile = trialLog(base, data.trialId);
    let planFile = data.planFile;
    if (!shared && !(existsSync(planFile) && sha256(await fs.readFile(planFile, 'utf8')) === data.planSha256)) {
      // This machine does not have the plan: run the sweep's copy of its text.
      planFile = path.join(base, 'plans', `${data.arm}.mono`);
      await fs.mkdir(path.dirname(planFile), { recursive: true });
      await fs.writeFile(planFile, data.planSource);
    }
    const logStart = await fs.stat(logFile).then((s) => s.size, () => 0);
    const child = await startTrial({ planFile, set: data.set, seed: data.seed, backend: data.backend, runDir, logFile, threads: options.threads, worker: workerName, cwd: options.cwd });
    running.add(child);
    const entry = { child, lost: false };
    byJob.set(job.id!, entry);
    const mode = shared ? 'shared' : 'artifacts';
    await job.log(JSON.stringify({ event: 'start', worker: workerName, mode, resumedFrom: child.resumedFrom, at: new Date().toISOString() } satisfies HistoryEvent));
    say(`${workerName}: ${child.resumedFrom !== null ? `resume ${data.trialId} from its checkpoint after ${child.resumedFrom} epochs` : `start ${data.trialId}`} (sweep ${data.sweepId}, ${mode} folder ${runDir})`);
    const beat = async () => {
      const progress = await readProgress(runDir);
      await job.updateProgress({ worker: workerName, epochsDone: progress.epochsDone, epochs: data.epochs, last: progress.last, at: new Date().toISOString() } satisfies TrialHeartbeat);
    };
    await beat().catch(() => undefined);
    const heartbeat = setInterval(() => void beat().catch(() => undefined), options.heartbeatMs);
    let exit;
    try {
      exit = await child.done;
    } finally {
      clearInterval(heartbeat);
      running.delete(child);
      byJob.delete(job.id!);
    }
    if (entry.lost) {
      // Another worker has it now; this one may neither complete nor fail it.
      say(`${workerName}: ${data.trialId}: lock lost (no heartbeat within the lock timeout); left to the worker that took it over`);
      throw new Error(`${workerName} lost the lock of ${data.trialId}`);
    }
    await job.log(JSON.stringify({ event: 'exit', worker: workerName, code: exit.code, signal: exit.signal, seconds: exit.seconds, at: new Date().toISOString() } satisfies HistoryEvent));
    if (options.signal.aborted) {
      // This worker is stopping: the trial goes back to the queue now, not after its lock expires.
      say(`${workerName}: ${data.trialId} put back on the queue`);
      await job.moveToWait(token);
      throw new WaitingError();
    }
    const progress = await readProgress(runDir);
    const outcome = outcomeOf(exit, progress.epochsDone, data.epochs);
    if (outcome.kind === 'failed') {
      say(`${workerName}: failed ${data.trialId}: ${outcome.message}`);
      // Running it again would fail the same way.
      throw new UnrecoverableError(outcome.message);
    }
    if (outcome.kind === 'interrupted') {
      say(`${workerName}: ${data.trialId}: ${outcome.message}; back to the queue`);
      throw new Error(outcome.message);
    }
    await beat().catch(() => undefined);
    const acc = progress.last?.val_acc ?? null;
    say(`${workerName}: done ${data.trialId}: val_acc ${acc === null ? '-' : `${(100 * acc).toFixed(2)}%`}, ${Math.round(exit.seconds)} s`);
    if (shared) return { worker: workerName, mode };
    const log = (await fs.readFile(logFile)).subarray(logStart).subarray(-256 * 1024).toString();
    return { worker: workerName, mode, files: await collectArtifacts(runDir), log };
  };

  const worker = new Worker<TrialJob, TrialJobResult>(options.name, processor, {
    connection,
    concurrency: options.concurrency,
    lockDuration: options.lockMs,
    stalledInterval: options.lockMs,
    maxStalledCount: JOB_ATTEMPTS,
    name: workerName,
    autorun: false,
  });
  worker.on('error', (error) => say(`${workerName}: queue error: ${error.message}`));
  // A lock that could not be renewed in time (a stalled event loop, a lost connection): the
  // stalled-job check hands the trial to another worker, so this one must stop its copy at once.
  worker.on('lockRenewalFailed', (jobIds) => {
    for (const id of jobIds) {
      const entry = byJob.get(id);
      if (!entry) continue;
      entry.lost = true;
      entry.child.stop(2000);
    }
  });
  const stop = () => {
    for (const child of running) child.stop();
    void worker.close();
  };
  options.signal.addEventListener('abort', stop, { once: true });
  say(`mono worker: ${workerName} takes trials from queue '${options.name}' at ${options.url}, ${options.concurrency} at a time, ${options.threads} thread${options.threads === 1 ? '' : 's'} each; ${os.hostname()}`);
  try {
    await worker.run();
  } finally {
    options.signal.removeEventListener('abort', stop);
    await worker.close().catch(() => undefined);
    connection.disconnect();
  }
}
