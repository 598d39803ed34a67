/** `mono run PLAN`: train a plan partition by partition into a run folder. */
import { BACKEND_CHOICES } from '../../runtime/index.js';
import type { Command, CommandIO } from '../command.js';

export const runCommand: Command = {
  name: 'run',
  summary: 'train a plan partition by partition; metrics, checkpoints and resume in a run folder',
  help: `Usage: mono run PLAN [--out DIR] [--set NAME=VALUE]... [--backend NAME] [--seed N] [--init-from DIR]
                [--lr-find DIR] [--max-epochs N]
       mono run [PLAN] --resume DIR [--force] [--lr-find DIR] [--max-epochs N]

Compiles PLAN and trains it phase by phase: while partition k trains, the partitions
before it run forward only (frozen, BatchNorm in inference mode) and the ones after it
do not run; k learns through its proxy head (the last partition and 'finetune all'
through the network's own output), or, in a phase 'with stdp(...)', by the local STDP
rule without labels or head (docs/stdp.md). Per epoch it prints loss and top-1 of the
trained head on the training and hold-out data, and the hold-out mutual information
(an stdp phase: its rates and, per conv, weight change, active units and convergence);
with 'test true' in the data block, also on the source's test split at the end of each phase.

The run folder (default runs/<plan>-<yyyymmdd-hhmmss>/, with -2, -3, ... added when that
exists) gets plan.mono, ir.json, run.json, metrics.jsonl (one JSON line per epoch per
phase) and checkpoint.bin, replaced atomically after every epoch: killing the run loses
at most the epoch in progress; best.bin (as atomic) keeps the best epoch trained through
the network's output, by the plan's 'best' metric (val_acc by default): the model that
mono evaluate, predict and export use. After every epoch it also redraws metrics.svg
(train and hold-out accuracy per epoch, phases marked), loss.svg and lr.svg (log axis;
each partition's lr when they differ), and with 'each task' tasks.svg (accuracy on every task
seen so far, average, forgetting). While it runs, run.lock keeps other runs out of the
folder. Ctrl-C (SIGINT) or SIGTERM stops after the current step; resume later.

Options:
  --out DIR          the run folder to create (or one where no epoch completed)
  --resume DIR       continue the run in DIR from its last checkpoint (from the start if
                     it has none); without PLAN the folder's own plan.mono is used (with
                     the run's --set values)
  --force            resume even though the plan (source or params) changed since the
                     checkpoint, or its tensors do not all fit the plan (those whose name
                     and shape match are loaded); with --init-from: train even if no
                     weight fits
  --init-from DIR    start from the weights of another run's checkpoint (matching names and
                     shapes only; optimizer and schedules start fresh)
  --set NAME=VALUE   override a plan param; VALUE is a mono expression (repeatable)
  --backend NAME     force a backend: ${BACKEND_CHOICES.join(', ')} (default: the first
                     available in that order; see mono doctor)
  --seed N           seed of initialisation, shuffling, augmentation and dropout (default:
                     the plan's data seed; the hold-out split always uses the plan's); not
                     with --resume, which keeps the run's seed
  --max-epochs N     stop after N epochs in this invocation (checkpoint written; resume later)
  --lr-find DIR      use the bounds that 'mono lr-find ... --out DIR' suggested (DIR/lr-find.json)
                     for its phase, which must have 'lr mi(bounds: lr_find)': that phase then
                     runs no LR range test of its own (a sweep marked unusable: exit 3)
  -h, --help         show this help

Exit codes: 0 trained (or already finished), 1 the plan has errors, 2 usage error,
3 runtime failure (missing or malformed data set (the message says how to fetch a
missing one: mono data get ...), data that does not fit the network, backend, NaN or
infinite loss or state, damaged checkpoint, run.json or metrics.jsonl, checkpoint that
does not fit the plan, changed plan on --resume, folder in use by another run,
malformed or unusable lr-find.json, I/O error such as a full disk), 130 interrupted by
SIGINT, 143 by SIGTERM.

Examples:
  mono run plans/quickstart.mono
  mono run plans/monolithnet.mono --set width=1 --out runs/monolithnet
  mono run --resume runs/monolithnet
  # p2's bounds measured on the trained p1 (its 3 epochs), then the run continues with them:
  mono run plans/mi-lr.mono --out runs/mi-lr --max-epochs 3
  mono lr-find plans/mi-lr.mono --phase p2 --init-from runs/mi-lr --out runs/p2-lr
  mono run --resume runs/mi-lr --lr-find runs/p2-lr
`,
  async run(args: string[], io: CommandIO): Promise<number> {
    // TensorFlow.js and the runtime load only when this command runs, so that
    // compile, check and fmt start without them.
    const { runAction } = await import('./run-action.js');
    return runAction(args, io);
  },
};
