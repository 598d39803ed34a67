/** The body of `mono export` (src/cli/commands/export.ts holds its name, summary and help). */
import path from 'node:path';
import { dataCacheRoot, EXPORT_FORMATS, exportModel, type CheckpointChoice, type ExportFormat } from '../../runtime/index.js';
import { expectPositionals, optionalChoice, parseCommandArgs } from '../args.js';
import { EXIT_OK, UsageError, type CommandIO } from '../command.js';
import { plural, shownPath } from '../io.js';

const optionSpec = {
  format: { type: 'string' },
  out: { type: 'string' },
  partition: { type: 'string' },
  checkpoint: { type: 'string' },
} as const;

export async function exportAction(args: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, optionSpec);
  const [runArg] = expectPositionals(positionals, 'RUN (a run folder, as mono run made it)');
  const format = optionalChoice<ExportFormat>(values.format, '--format', EXPORT_FORMATS);
  if (format === undefined) throw new UsageError(`missing --format (${EXPORT_FORMATS.join(' or ')})`);
  if (values.out === undefined) throw new UsageError('missing --out DIR (the folder to write the model into)');
  const checkpoint = optionalChoice<CheckpointChoice>(values.checkpoint, '--checkpoint', ['best', 'last']);
  const show = (file: string) => shownPath(io.cwd, file);
  const result = await exportModel({
    dir: path.resolve(io.cwd, runArg!),
    format,
    out: path.resolve(io.cwd, values.out),
    ...(values.partition !== undefined ? { partition: values.partition } : {}),
    ...(checkpoint ? { checkpoint } : {}),
    cacheDir: dataCacheRoot(io.env),
  });
  if (result.checkpoint.note) io.stderr.write(`mono export: note: ${result.checkpoint.note}\n`);
  const what = result.partition && result.head ? `partitions up to ${result.partition} with ${result.head}` : 'the network';
  io.stdout.write(
    `mono export: ${what} of ${show(path.resolve(io.cwd, runArg!))}, ${result.checkpoint.which} checkpoint (${result.checkpoint.epoch}), as ${format === 'tfjs' ? 'a TensorFlow.js LayersModel' : 'an ONNX model'}: ` +
      `${plural(result.nodes, 'layer')}, ${result.parameters.toLocaleString('en-US')} parameters, input [batch, ${result.input.join(', ')}] (pixels in [0, 1]), output ${result.classes} class probabilities\n` +
      `wrote ${result.files.map(show).join(', ')} (${(result.bytes / 1024).toFixed(1)} KiB)\n`,
  );
  return EXIT_OK;
}
