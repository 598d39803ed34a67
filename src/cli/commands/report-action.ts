/** The work of `mono report RUN...`: read run folders, build report.html, write it, maybe open it. */
import { spawn } from 'node:child_process';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { buildReport, looksLikeRunFolder, readRunRecord, REPORT_FILE, type RunRecord } from '../../report/index.js';
import { RuntimeFailure, writeFailure, writeFileAtomically } from '../../runtime/index.js';
import { parseCommandArgs } from '../args.js';
import { EXIT_OK, UsageError, type CommandIO } from '../command.js';
import { plural, shownPath } from '../io.js';

const options = {
  out: { type: 'string' },
  open: { type: 'boolean' },
} as const;

/** A run folder given on the command line, read; one that is not a folder or holds no run files is a RuntimeFailure. */
async function readRun(dir: string, shown: string): Promise<RunRecord> {
  const info = await stat(dir).catch((error: NodeJS.ErrnoException) => {
    throw new RuntimeFailure(`${shown}: ${error.code === 'ENOENT' ? 'no such folder' : `cannot read it (${error.code ?? error.message})`}`);
  });
  if (!info.isDirectory()) throw new RuntimeFailure(`${shown} is not a folder (mono report takes run folders: the --out of mono run)`);
  const record = await readRunRecord(dir);
  if (!looksLikeRunFolder(record)) throw new RuntimeFailure(`${shown} is not a mono run folder (it has none of plan.mono, ir.json, run.json, metrics.jsonl)`);
  return record;
}

/** The body of `mono report` (src/cli/commands/report.ts holds its name, summary and help). */
export async function reportAction(args: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, options);
  if (positionals.length === 0) throw new UsageError('missing RUN (a run folder, the --out of mono run)');
  if (values.out !== undefined && values.out.trim() === '') throw new UsageError('--out expects a file name');
  const dirs = positionals.map((dir) => path.resolve(io.cwd, dir));
  const duplicate = dirs.find((dir, i) => dirs.indexOf(dir) !== i);
  if (duplicate !== undefined) throw new UsageError(`${shownPath(io.cwd, duplicate)} is given twice`);
  const records: RunRecord[] = [];
  for (const [i, dir] of dirs.entries()) records.push(await readRun(dir, positionals[i]!));
  const out = values.out !== undefined ? path.resolve(io.cwd, values.out) : dirs.length === 1 ? path.join(dirs[0]!, REPORT_FILE) : path.resolve(io.cwd, REPORT_FILE);
  const outDir = path.dirname(out);
  const runPaths = dirs.map((dir) => path.relative(outDir, dir).split(path.sep).join('/'));
  await mkdir(outDir, { recursive: true }).catch((error: unknown) => {
    throw writeFailure(outDir, error);
  });
  // A run may be writing the same report.html meanwhile: its own temporary file, ours unique.
  await writeFileAtomically(out, buildReport(records, { generatedAt: new Date(), runPaths }), { unique: true });
  const epochs = records.reduce((sum, r) => sum + r.metrics.length, 0);
  const problems = records.flatMap((r) => r.problems.map((p) => `${r.name}: ${p}`));
  io.stdout.write(`mono report: wrote ${shownPath(io.cwd, out)} (${plural(records.length, 'run')}, ${plural(epochs, 'epoch')})\n`);
  for (const problem of problems) io.stderr.write(`mono report: note: ${problem}\n`);
  if (values.open) await openInBrowser(out, io);
  return EXIT_OK;
}

/** The command that opens a file in the user's browser: $BROWSER, else the platform's opener. */
function opener(env: NodeJS.ProcessEnv): { command: string; args: string[] } {
  if (env.BROWSER) return { command: env.BROWSER, args: [] };
  if (process.platform === 'darwin') return { command: 'open', args: [] };
  if (process.platform === 'win32') return { command: 'cmd', args: ['/c', 'start', '""'] };
  return { command: 'xdg-open', args: [] };
}

/** Starts the browser and does not wait for it; a browser that cannot start is a warning (the report is written). */
async function openInBrowser(file: string, io: CommandIO): Promise<void> {
  const { command, args } = opener(io.env);
  await new Promise<void>((resolve) => {
    const child = spawn(command, [...args, file], { detached: true, stdio: 'ignore', env: io.env });
    child.on('error', (error: NodeJS.ErrnoException) => {
      io.stderr.write(`mono report: warning: could not open a browser (${command}: ${error.code ?? error.message}); open ${shownPath(io.cwd, file)} yourself\n`);
      resolve();
    });
    child.on('spawn', () => {
      child.unref();
      io.stdout.write(`mono report: opened ${shownPath(io.cwd, file)} with ${command}\n`);
      resolve();
    });
  });
}
