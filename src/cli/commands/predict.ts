/** `mono predict RUN FILE...`: a trained run's top classes for images and batches of examples. */
import { BACKEND_CHOICES } from '../../runtime/index.js';
import type { Command, CommandIO } from '../command.js';

export const predictCommand: Command = {
  name: 'predict',
  summary: 'classify images (PNG, JPEG) and batches (.npy, IDX) with a trained run: top classes and probabilities',
  help: `Usage: mono predict RUN FILE... [--top K] [--json] [--checkpoint best|last] [--backend NAME]

Runs each FILE through the network of the run folder RUN (best.bin by default, see mono
evaluate) and prints its K most probable classes. A file is read by its first bytes:
  PNG, JPEG   one image: transparent pixels laid over black, converted to the network's
              channels (1: luminance 0.299 R + 0.587 G + 0.114 B; 3: RGB), resized with a
              warning when its size differs (bilinear, half-pixel centres), bytes / 255
  .npy        a batch [n, ...input] (or one example; [n, h, w] for one-channel images)
              of float32 or float64 values in [0, 1], or uint8 bytes (/ 255), C order
  IDX         a batch of unsigned bytes, gzipped or not, as the MNIST image files
Then the run's own normalisation (the mean and std it trained with), as in training.

Options:
  --top K                  classes per example (default 3; at most the class count)
  --json                   one JSON line per example: {"file", "kind", "index" (position
                           in a batch, null for an image), "top": [{"class", "probability"}]}
  --checkpoint best|last   best.bin (the default, else checkpoint.bin with a note) or checkpoint.bin
  --backend NAME           force a backend: ${BACKEND_CHOICES.join(', ')}
  -h, --help               show this help

Exit codes: 0 done, 2 usage error, 3 runtime failure (a FILE that cannot be read or is not
one of these, named; a batch of another shape; a folder that is not a run or has no
checkpoint; I/O error).

Examples:
  mono predict runs/quickstart docs/examples/digit-7.png
  mono predict runs/quickstart batch.npy --json --top 10
`,
  async run(args: string[], io: CommandIO): Promise<number> {
    // TensorFlow.js and the runtime load only when this command runs.
    const { predictAction } = await import('./predict-action.js');
    return predictAction(args, io);
  },
};
