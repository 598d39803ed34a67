/** The work of `mono worker`: run sweep trials from a BullMQ queue until stopped. */
import os from 'node:os';
import path from 'node:path';
import { checkQueueUrl, DEFAULT_QUEUE_NAME, runWorker } from '../../sweep/queue.js';
import { expectPositionals, optionalInteger, optionalNumber, parseCommandArgs } from '../args.js';
import { EXIT_OK, UsageError, type CommandIO } from '../command.js';

const options = {
  queue: { type: 'string' },
  concurrency: { type: 'string' },
  threads: { type: 'string' },
  'queue-name': { type: 'string' },
  name: { type: 'string' },
  'work-dir': { type: 'string' },
  artifacts: { type: 'boolean' },
  'lock-timeout': { type: 'string' },
} as const;

export async function workerAction(args: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, options);
  expectPositionals(positionals, '', { min: 0, max: 0 });
  if (values.queue === undefined) throw new UsageError('missing --queue redis://HOST:PORT (the Redis server the sweep put its trials on)');
  const problem = checkQueueUrl(values.queue);
  if (problem) throw new UsageError(problem);
  const concurrency = optionalInteger(values.concurrency, '--concurrency', 1) ?? 1;
  const threads = optionalInteger(values.threads, '--threads', 1) ?? Math.max(1, Math.floor(os.availableParallelism() / concurrency));
  const lockSeconds = optionalNumber(values['lock-timeout'], '--lock-timeout', { min: 1 }) ?? 30;
  const lockMs = Math.round(lockSeconds * 1000);

  const controller = new AbortController();
  const stop = () => controller.abort();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    await runWorker({
      url: values.queue,
      name: values['queue-name'] ?? DEFAULT_QUEUE_NAME,
      workerName: values.name ?? `${os.hostname()}-${process.pid}`,
      concurrency,
      threads,
      lockMs,
      heartbeatMs: Math.min(5000, Math.max(500, lockMs / 3)),
      workDir: path.resolve(io.cwd, values['work-dir'] ?? path.join(os.tmpdir(), 'mono-worker')),
      artifacts: values.artifacts ?? false,
      cwd: io.cwd,
      signal: controller.signal,
      say: (line) => io.stdout.write(line + '\n'),
    });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  io.stdout.write('mono worker: stopped\n');
  return EXIT_OK;
}
