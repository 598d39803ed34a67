/** Every `mono` command, in the order `mono --help` lists them. Adding a command is one line. */
import type { Command } from '../command.js';
import { checkCommand } from './check.js';
import { compileCommand } from './compile.js';
import { dataCommand } from './data.js';
import { doctorCommand } from './doctor.js';
import { evaluateCommand } from './evaluate.js';
import { exportCommand } from './export.js';
import { fmtCommand } from './fmt.js';
import { lrFindCommand } from './lr-find.js';
import { lspCommand } from './lsp.js';
import { predictCommand } from './predict.js';
import { reportCommand } from './report.js';
import { runCommand } from './run.js';
import { sweepCommand } from './sweep.js';
import { workerCommand } from './worker.js';

export const commands: readonly Command[] = [
  compileCommand,
  checkCommand,
  runCommand,
  reportCommand,
  evaluateCommand,
  predictCommand,
  exportCommand,
  lrFindCommand,
  sweepCommand,
  workerCommand,
  fmtCommand,
  dataCommand,
  lspCommand,
  doctorCommand,
];
