/** `mono worker`: take sweep trials from a Redis queue and run them on this machine. */
import type { Command, CommandIO } from '../command.js';

export const workerCommand: Command = {
  name: 'worker',
  summary: "run sweep trials from a Redis queue (BullMQ) on this machine, for 'mono sweep --queue'",
  help: `Usage: mono worker --queue redis://HOST:PORT [--concurrency N] [--threads N] [--queue-name NAME]
                   [--name NAME] [--work-dir DIR] [--artifacts] [--lock-timeout SECONDS]

Takes trials that 'mono sweep --queue' put on the queue and runs each as a child
'mono run', 'concurrency' at a time, until stopped (Ctrl-C). It reports progress
(heartbeats, job progress) and results back through the queue.

Run folders: when this machine sees the sweep folder at the same path (a shared file
system such as NFS, recognised by the sweep's id in its sweep.json), trials run in place,
and a trial whose worker died continues from its last checkpoint on another worker. When
it does not, trials run under --work-dir and their files (all but checkpoint.bin) are
sent back with the result; such a trial, when its worker dies, starts over elsewhere.

Options:
  --queue URL           the Redis server: redis://HOST:PORT (required)
  --concurrency N       trials at a time (default 1)
  --threads N           wasm threads per trial (default: cores / concurrency, at least 1)
  --queue-name NAME     the queue's name (default mono-trials)
  --name NAME           this worker's name in progress and results (default HOST-PID)
  --work-dir DIR        where trials run when the sweep folder is not shared (default:
                        the system's temporary folder, mono-worker/)
  --artifacts           run every trial under --work-dir and send its files back, even
                        where the sweep folder is visible
  --lock-timeout S      seconds without a heartbeat after which a trial counts as
                        abandoned and goes back to the queue (default 30; the same on
                        every worker)
  -h, --help            show this help

Ctrl-C stops the worker: its running trials go back to the queue at once and continue
from their checkpoints on another worker.

Exit codes: 0 stopped, 2 usage error, 3 runtime failure (Redis unreachable).

Examples:
  mono worker --queue redis://10.0.0.5:6379
  mono worker --queue redis://10.0.0.5:6379 --concurrency 4 --threads 2
`,
  async run(args: string[], io: CommandIO): Promise<number> {
    const { workerAction } = await import('./worker-action.js');
    return workerAction(args, io);
  },
};
