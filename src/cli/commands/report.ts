/** `mono report RUN...`: (re)builds report.html for run folders; several runs overlay their curves. */
import type { Command, CommandIO } from '../command.js';

export const reportCommand: Command = {
  name: 'report',
  summary: 'build report.html for a run folder (several: their curves overlaid); --open shows it',
  help: `Usage: mono report RUN... [--out FILE] [--open]

Builds report.html, one self-contained web page (inline SVG and script, nothing fetched
from the network), from a run folder's files: the plan and its summary (parameters,
FLOPs, memory per phase), a diagram of the network with its partitions and proxy heads,
the phase timeline, loss / accuracy / hold-out curves with the phases as bands, lr and
momentum per parameter group, MI per head, the confusion matrix of the last hold-out
evaluation, time per step and examples/s, and links to the run's files.

'mono run' already rewrites RUN/report.html after every epoch; this command rebuilds it
for any run folder: one made before mono wrote reports, one that crashed (what can be
read is shown, what is missing or damaged is named), or one still running.

With one RUN the report goes to RUN/report.html. With several, their curves are overlaid
in one report (the first run's phases as bands; each run's own sections below), written
to --out FILE (default report.html in the current folder).

Options:
  --out FILE   where to write the report (default: RUN/report.html for one run,
               ./report.html for several)
  --open       open the report in a browser afterwards ($BROWSER when set, else
               xdg-open, open on macOS, start on Windows)
  -h, --help   show this help

Exit codes: 0 written; 2 usage error; 3 a RUN that is not a readable run folder, or the
report cannot be written.

Examples:
  mono report runs/quickstart-20261130-101500 --open
  mono report runs/a runs/b --out compare.html
`,
  async run(args: string[], io: CommandIO): Promise<number> {
    const { reportAction } = await import('./report-action.js');
    return reportAction(args, io);
  },
};
