/** The body of `mono evaluate` (src/cli/commands/evaluate.ts holds its name, summary and help). */
import path from 'node:path';
import { BACKEND_CHOICES, dataCacheRoot, evaluateRun, type BackendChoice, type CheckpointChoice, type RunEvaluation, type SplitChoice } from '../../runtime/index.js';
import { expectPositionals, optionalChoice, parseCommandArgs } from '../args.js';
import { EXIT_OK, type CommandIO } from '../command.js';
import { shownPath } from '../io.js';

const optionSpec = {
  split: { type: 'string' },
  checkpoint: { type: 'string' },
  json: { type: 'boolean' },
  backend: { type: 'string' },
} as const;

export async function evaluateAction(args: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, optionSpec);
  const [runArg] = expectPositionals(positionals, 'RUN (a run folder, as mono run made it)');
  const split = optionalChoice<SplitChoice>(values.split, '--split', ['test', 'holdout']);
  const checkpoint = optionalChoice<CheckpointChoice>(values.checkpoint, '--checkpoint', ['best', 'last']);
  const backend = optionalChoice<BackendChoice>(values.backend, '--backend', BACKEND_CHOICES);
  // With --json, stdout holds the JSON alone.
  const messages = values.json ? io.stderr : io.stdout;
  const show = (file: string) => shownPath(io.cwd, file);
  const evaluation = await evaluateRun({
    dir: path.resolve(io.cwd, runArg!),
    ...(split ? { split } : {}),
    ...(checkpoint ? { checkpoint } : {}),
    ...(backend ? { backend } : {}),
    cacheDir: dataCacheRoot(io.env),
    onReady: ({ checkpoint: used, split: on }) => {
      if (used.note) io.stderr.write(`mono evaluate: note: ${used.note}\n`);
      if (on.note) io.stderr.write(`mono evaluate: note: ${on.note}\n`);
      messages.write(
        `mono evaluate: ${show(path.resolve(io.cwd, runArg!))}, ${used.which} checkpoint (${used.epoch}), ${on.examples} examples of the ${on.name === 'test' ? 'test' : 'hold-out'} split of ${on.origin}\n`,
      );
    },
  });
  if (values.json) {
    io.stdout.write(JSON.stringify({ ...evaluation, dir: show(evaluation.dir), checkpoint: { ...evaluation.checkpoint, file: show(evaluation.checkpoint.file) }, files: evaluation.files.map(show) }, null, 2) + '\n');
    return EXIT_OK;
  }
  io.stdout.write(formatEvaluation(evaluation) + `wrote ${evaluation.files.map(show).join(', ')}\n`);
  return EXIT_OK;
}

const percent = (value: number | null) => (value === null ? '-' : `${(value * 100).toFixed(1)}%`);

/** The text report: summary, per-class table, confusion matrix, mutual information. */
export function formatEvaluation(e: RunEvaluation): string {
  const lines = [`loss ${e.loss.toFixed(4)}  accuracy ${(e.accuracy * 100).toFixed(2)}%`, ''];
  const width = Math.max(5, String(e.classes - 1).length);
  lines.push(`${'class'.padStart(width)}  precision  recall  support`);
  for (const c of e.perClass) lines.push(`${String(c.class).padStart(width)}  ${percent(c.precision).padStart(9)}  ${percent(c.recall).padStart(6)}  ${String(c.support).padStart(7)}`);
  lines.push('', 'confusion matrix (rows: true class, columns: predicted class)');
  const cell = Math.max(3, ...e.confusion.flat().map((v) => String(v).length)) + 1;
  const label = String(e.classes - 1).length + 2;
  lines.push(' '.repeat(label) + e.confusion.map((_, c) => String(c).padStart(cell)).join(''));
  e.confusion.forEach((row, truth) => lines.push(String(truth).padStart(label - 2) + '  ' + row.map((v) => String(v).padStart(cell)).join('')));
  lines.push('', 'mutual information between prediction and label (bits; normalised by H(label)):');
  const head = Math.max(...e.information.map((i) => i.head.length));
  for (const i of e.information) {
    const where = i.head === 'network' ? '' : `  (partitions up to ${i.partition})`;
    lines.push(`  ${i.head.padEnd(head)}  ${i.bits.toFixed(3)} bits  ${i.normalized.toFixed(3)}  accuracy ${(i.accuracy * 100).toFixed(2)}%  loss ${i.loss.toFixed(4)}${where}`);
  }
  return lines.join('\n') + '\n';
}
