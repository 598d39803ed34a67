/** `mono lr-find PLAN`: the LR range test for one phase of a plan; suggests lr bounds. */
import { LR_FIND_FROM, LR_FIND_MAX_PASSES, LR_FIND_STEPS, LR_FIND_TO } from '../../optim/lr-range.js';
import { BACKEND_CHOICES } from '../../runtime/index.js';
import type { Command, CommandIO } from '../command.js';

export const lrFindCommand: Command = {
  name: 'lr-find',
  summary: 'LR range test for one phase: loss against an exponentially growing lr, suggested bounds',
  help: `Usage: mono lr-find PLAN [--phase NAME] [--out DIR] [--json] [--steps N] [--from LR] [--to LR]
                    [--set NAME=VALUE]... [--backend NAME] [--seed N] [--init-from DIR]

Trains the graph of one phase (by default the first one with a learning rate: an stdp
phase has none) from fresh weights (the plan's seed) while the lr grows exponentially,
step by step, from --from to --to, and stops when the
smoothed loss diverges (4x its minimum) or the steps are done. The phase's optimizer, lr
multipliers, base momentum and weight decay are used; partitions frozen in that phase run
forward only. Suggests lr bounds: max = a tenth of the lr at the lowest smoothed loss,
min = where the loss starts to fall (see docs/optimizers.md). A sweep with fewer than 20
recorded steps, no 5% descent, or its lowest loss at its first or last step is unusable:
a warning says why, and lr-find.json says "usable": false ('mono run --lr-find' refuses it).

Writes DIR/lr-find.csv (lr, loss, smoothed_loss per step), DIR/lr-find.svg (the curve and
the bounds) and DIR/lr-find.json (the summary printed by --json). Copy the bounds into
'lr mi(max: .., min: ..)', or let the plan say 'lr mi(bounds: lr_find)': 'mono run' then
runs this same test at the start of that phase, on the weights trained so far, and uses
its suggestion (logged in the run folder: lr-bounds.json, lr-find-<phase>.csv/.svg/.json).

Options:
  --phase NAME       the phase to test (names as in 'mono compile': p1, p2, finetune, ...)
  --out DIR          output folder (default runs/<plan>-lr-find-<yyyymmdd-hhmmss>/)
  --json             print the summary as JSON: {"suggested": {"min", "max"}, "steepest", ...}
  --steps N          planned steps (default ${LR_FIND_STEPS}, at most ${LR_FIND_MAX_PASSES} passes over the training data)
  --from LR          first lr (default ${LR_FIND_FROM})
  --to LR            lr of the last planned step (default ${LR_FIND_TO})
  --set NAME=VALUE   override a plan param; VALUE is a mono expression (repeatable)
  --backend NAME     force a backend: ${BACKEND_CHOICES.join(', ')}
  --seed N           seed of initialisation, shuffling and dropout (default: the plan's data seed)
  --init-from DIR    start from the weights of a run's checkpoint: for a later phase, a run
                     that trained the partitions before it (without it they are random,
                     and a warning says so)
  -h, --help         show this help

Exit codes: 0 done, 1 the plan has errors, 2 usage error, 3 runtime failure (missing or
malformed data set, data that does not fit the network, backend, no finite loss, I/O error).

Examples:
  mono lr-find plans/mi-lr.mono --out runs/mi-lr-find
  mono lr-find plans/mi-lr.mono --phase p2 --init-from runs/mi-lr --json --steps 300
`,
  async run(args: string[], io: CommandIO): Promise<number> {
    // TensorFlow.js and the runtime load only when this command runs, so that
    // compile, check and fmt start without them.
    const { lrFindAction } = await import('./lr-find-action.js');
    return lrFindAction(args, io);
  },
};
