/** `mono evaluate RUN`: a trained run measured on the source's test split or its hold-out split. */
import { BACKEND_CHOICES } from '../../runtime/index.js';
import type { Command, CommandIO } from '../command.js';

export const evaluateCommand: Command = {
  name: 'evaluate',
  summary: "measure a trained run on the test or hold-out split: loss, accuracy, per-class scores, confusion matrix, MI",
  help: `Usage: mono evaluate RUN [--split test|holdout] [--checkpoint best|last] [--json] [--backend NAME]

Loads the network of the run folder RUN with the weights of its best epoch (best.bin: the
best hold-out metric among the epochs trained through the network's own output; the plan
chooses the metric with 'best', val_acc by default) or of its last checkpoint, and measures
it on the source's test split (the default, when the source has one: CIFAR-10's
test_batch.bin, the IDX t10k files; the plan need not say 'test true') or on the examples
the plan held out of training. Prints the loss, the accuracy, each class's precision and
recall, the confusion matrix, and the mutual information between prediction and label of
the network's output and of each proxy head (on the partitions up to it). Draws the
confusion matrix into RUN/confusion.svg.

Options:
  --split test|holdout     the data to measure on (default: test when the source has a test
                           split, else holdout, with a note)
  --checkpoint best|last   best.bin (the default; a run without one yet uses checkpoint.bin,
                           with a note) or checkpoint.bin, the last epoch's
  --json                   print the evaluation as JSON (messages go to stderr)
  --backend NAME           force a backend: ${BACKEND_CHOICES.join(', ')}
  -h, --help               show this help

Exit codes: 0 done, 2 usage error, 3 runtime failure (a folder that is not a run or has no
checkpoint, --checkpoint best without a best.bin, --split test on a source without one,
missing or malformed data, a damaged checkpoint, I/O error).

Examples:
  mono evaluate runs/quickstart
  mono evaluate runs/monolithnet --split test --json
`,
  async run(args: string[], io: CommandIO): Promise<number> {
    // TensorFlow.js and the runtime load only when this command runs.
    const { evaluateAction } = await import('./evaluate-action.js');
    return evaluateAction(args, io);
  },
};
