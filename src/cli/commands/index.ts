/** Every `mono` command, in the order `mono --help` lists them. Adding a command is one line. */
import type { Command } from '../command.js';
import { checkCommand } from './check.js';
import { compileCommand } from './compile.js';
import { dataCommand } from './data.js';
import { doctorCommand } from './doctor.js';
import { fmtCommand } from './fmt.js';
import { lrFindCommand } from './lr-find.js';
import { lspCommand } from './lsp.js';
import { reportCommand } from './report.js';
import { runCommand } from './run.js';

export const commands: readonly Command[] = [compileCommand, checkCommand, runCommand, reportCommand, lrFindCommand, fmtCommand, dataCommand, lspCommand, doctorCommand];
