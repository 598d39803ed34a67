/** `mono sweep`: many runs of a plan (grid, random search, seeds), locally or on a queue. */
import { BACKEND_CHOICES } from '../../runtime/index.js';
import type { Command, CommandIO } from '../command.js';

export const sweepCommand: Command = {
  name: 'sweep',
  summary: 'many runs of a plan: grid and random search over its params and seeds, on local workers or a Redis queue',
  help: `Usage: mono sweep PLAN [--grid NAME=V1,V2,...]... [--random NAME=DIST]... [--trials N]
                  [--set NAME=VALUE]... [--seeds S1,S2,...] [--sample-seed N] [--backend NAME]
                  [--out DIR] [--workers N] [--threads N] [--queue redis://HOST:PORT] [--dry-run]
       mono sweep FILE.sweep [--out DIR] [--workers N] [--threads N] [--queue URL] [--dry-run]
       mono sweep --resume DIR [--workers N] [--threads N] [--queue URL] [--retry-failed]

Runs a plan once per configuration and seed ("trials"): each trial is an ordinary
'mono run' in its own run folder, DIR/trials/<id>/. A grid gives one configuration per
value (several grids: their product); a random param is drawn 'trials' times (per grid
point). The sweep folder holds sweep.json (the trials and where each stands),
results.csv (one line per trial), results.md (mean and spread over seeds of the final
hold-out accuracy per configuration, the best first) and results.svg (the same with error
bars). Every param name and value is checked against the plan before anything runs;
problems are reported at file:line:col (on the command line: --grid:1:5 is the fifth
character of the first --grid argument).

Values: a number, a "string", true or false. Distributions: uniform(a, b), log(a, b)
(log-uniform, a > 0), int(a, b) (whole numbers a..b), choice(v1, v2, ...).

A sweep file says the same in lines (see docs/sweeps.md), and can hold several plans
('arm NAME { plan "FILE" grid ... }'), each with its own grid, on the same seeds.

Options:
  --grid NAME=V1,V2,...   one configuration per value (repeatable)
  --random NAME=DIST      a value drawn for each of --trials configurations (repeatable)
  --trials N              random draws (per grid point)
  --set NAME=VALUE        the same value in every trial (repeatable)
  --seeds S1,S2,...       one trial per seed and configuration (mono run --seed); default:
                          one trial per configuration with the plan's seed
  --sample-seed N         seed of the random draws (default 1)
  --backend NAME          mono run --backend: ${BACKEND_CHOICES.join(', ')}
  --out DIR               the sweep folder (default runs/<name>-sweep-<yyyymmdd-hhmmss>/)
  --workers N             trials at a time on this machine (default: one per core)
  --threads N             wasm threads per trial (default: cores / workers, at least 1)
  --queue URL             put the trials on the BullMQ queue at redis://HOST:PORT instead;
                          'mono worker --queue URL' on each machine runs them
  --queue-name NAME       the queue's name (default mono-trials)
  --dry-run               check and list the trials; run nothing
  --resume DIR            continue the sweep in DIR: finished trials are kept, interrupted
                          ones continue from their checkpoints (on the queue it was on,
                          unless --queue says otherwise)
  --retry-failed          with --resume: run failed trials again
  -h, --help              show this help

Ctrl-C stops the sweep: local trials stop (their checkpoints stay); queued trials stay on
the queue and workers go on with them. 'mono sweep --resume DIR' continues either way.

Exit codes: 0 every trial finished, 1 the sweep or a plan has errors, 2 usage error,
3 a trial failed (the results list it) or a runtime failure (Redis unreachable, I/O),
130 interrupted (Ctrl-C).

Examples:
  mono sweep plans/quickstart.mono --grid phase_epochs=1,2 --seeds 1,2,3 --out runs/q-sweep
  mono sweep plans/monolithnet.mono --set width=1 --set depth=1 --random lr0='log(0.01, 0.3)' --trials 8
  mono sweep docs/experiments/mnist.sweep --workers 2 --out runs/exp-mnist
  mono sweep docs/experiments/mnist.sweep --queue redis://10.0.0.5:6379 --out /nfs/sweeps/mnist
  mono sweep --resume runs/q-sweep
`,
  async run(args: string[], io: CommandIO): Promise<number> {
    const { sweepAction } = await import('./sweep-action.js');
    return sweepAction(args, io);
  },
};
