/** `mono export RUN --format tfjs|onnx --out DIR`: a trained run as a model other tools load. */
import { EXPORT_FORMATS } from '../../runtime/index.js';
import type { Command, CommandIO } from '../command.js';

export const exportCommand: Command = {
  name: 'export',
  summary: 'write a trained run as a TensorFlow.js LayersModel or an ONNX model',
  help: `Usage: mono export RUN --format ${EXPORT_FORMATS.join('|')} --out DIR [--partition P] [--checkpoint best|last]

Writes the network of the run folder RUN (best.bin by default, see mono evaluate) as a
model that other tools load. Both take pixels scaled to [0, 1], NHWC ([batch, h, w, c],
as mono's data loaders give them), apply the run's own normalisation as their first layer,
and end in a softmax: they output class probabilities. mono's metadata (plan, checkpoint,
epoch, input, normalisation) goes with them.
  tfjs   DIR/model.json and weight shards (group1-shard1of1.bin, ...): a LayersModel that
         tf.loadLayersModel('.../model.json') loads in a browser or in Node; residual adds,
         BatchNorm in inference mode, 'same' padding, shared weights (one layer called
         again) and the 1/N residual scale (Rescaling) are kept as they are
  onnx   DIR/model.onnx, opset 17 (onnxruntime, ...); input "input", output "probabilities"

Options:
  --format tfjs|onnx       the model format
  --out DIR                the folder to write into (made when missing; files of the same
                           names are replaced)
  --partition P            export the partitions up to P with P's proxy head: a classifier
                           that needs only those partitions' features (the last partition:
                           the whole network)
  --checkpoint best|last   best.bin (the default, else checkpoint.bin with a note) or checkpoint.bin
  -h, --help               show this help

Exit codes: 0 written, 2 usage error, 3 runtime failure (a folder that is not a run or has
no checkpoint; a layer the format cannot express, named with its place in the plan, such
as the step activation 'binary' in tfjs; an unknown partition or one without a proxy head;
I/O error).

Examples:
  mono export runs/quickstart --format tfjs --out exports/quickstart-tfjs
  mono export runs/quickstart --format onnx --out exports/quickstart-onnx
  mono export runs/quickstart --format onnx --partition p1 --out exports/quickstart-p1
`,
  async run(args: string[], io: CommandIO): Promise<number> {
    // The runtime (and protobufjs for ONNX) load only when this command runs.
    const { exportAction } = await import('./export-action.js');
    return exportAction(args, io);
  },
};
