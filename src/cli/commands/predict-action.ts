/** The body of `mono predict` (src/cli/commands/predict.ts holds its name, summary and help). */
import path from 'node:path';
import { BACKEND_CHOICES, dataCacheRoot, predict, type BackendChoice, type CheckpointChoice } from '../../runtime/index.js';
import { expectPositionals, optionalChoice, optionalInteger, parseCommandArgs } from '../args.js';
import { EXIT_OK, type CommandIO } from '../command.js';
import { shownPath } from '../io.js';

const optionSpec = {
  top: { type: 'string' },
  json: { type: 'boolean' },
  checkpoint: { type: 'string' },
  backend: { type: 'string' },
} as const;

export async function predictAction(args: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, optionSpec);
  const [runArg, ...files] = expectPositionals(positionals, 'RUN (a run folder) and at least one FILE', { min: 2, max: Infinity });
  const top = optionalInteger(values.top, '--top', 1);
  const checkpoint = optionalChoice<CheckpointChoice>(values.checkpoint, '--checkpoint', ['best', 'last']);
  const backend = optionalChoice<BackendChoice>(values.backend, '--backend', BACKEND_CHOICES);
  const dir = path.resolve(io.cwd, runArg!);
  const predictions = await predict({
    dir,
    files,
    cwd: io.cwd,
    ...(top !== undefined ? { top } : {}),
    ...(checkpoint ? { checkpoint } : {}),
    ...(backend ? { backend } : {}),
    cacheDir: dataCacheRoot(io.env),
    onWarning: (text) => io.stderr.write(`mono predict: warning: ${text}\n`),
    onOpened: (used) => {
      if (used.note) io.stderr.write(`mono predict: note: ${used.note}\n`);
      if (!values.json) io.stdout.write(`mono predict: ${shownPath(io.cwd, dir)}, ${used.which} checkpoint (${used.epoch})\n`);
    },
  });
  if (values.json) {
    io.stdout.write(predictions.map((p) => JSON.stringify(p)).join('\n') + '\n');
    return EXIT_OK;
  }
  const width = Math.max(...predictions.map((p) => label(p).length));
  for (const p of predictions) {
    const classes = p.top.map((t) => `${t.class} (${(t.probability * 100).toFixed(1)}%)`).join('  ');
    io.stdout.write(`${label(p).padEnd(width)}  ${classes}\n`);
  }
  return EXIT_OK;
}

const label = (p: { file: string; index: number | null }) => (p.index === null ? p.file : `${p.file}[${p.index}]`);
