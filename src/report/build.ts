/**
 * report.html from run records (./read-run.ts): one run, every section; several runs,
 * their curves overlaid, then each run's own sections in a collapsible block. The
 * page is one self-contained file: inline SVG, one inline script, no network.
 */
import { escapeHtml, htmlTable, section } from './html.js';
import { renderPage } from './page.js';
import { confusionSection } from './sections/confusion.js';
import { ChartIds, curvesSection } from './sections/curves.js';
import { filesSection } from './sections/files.js';
import { networkSection } from './sections/network.js';
import { plannedEpochs } from './sections/phases.js';
import { summarySection } from './sections/summary.js';
import { timelineSection } from './sections/timeline.js';
import type { MetricsLine, RunRecord } from './types.js';

export interface BuildOptions {
  /** When the report is made (shown on the page). */
  generatedAt: Date;
  /** For each run, the path from the report's folder to the run folder ('' when the report is in it): the file links use it. */
  runPaths: readonly string[];
}

const number = (value: number | null, digits = 4) => (value === null ? '-' : Number(value.toPrecision(digits)).toString());
const percent = (value: number | null) => (value === null ? '-' : `${(100 * value).toFixed(2)}%`);

/** How far a run is: epochs done of those planned, and whether every one is done. */
function progress(run: RunRecord): { done: number; planned: number; finished: boolean } {
  const planned = plannedEpochs(run);
  return { done: run.metrics.length, planned, finished: run.ir !== null && run.metrics.length >= planned && planned > 0 };
}

function lastLineTable(runs: readonly RunRecord[]): string {
  const rows = runs.map((run) => {
    const last: MetricsLine | undefined = run.metrics[run.metrics.length - 1];
    const { done, planned } = progress(run);
    if (!last) return [escapeHtml(run.name), `0 / ${planned}`, '-', '-', '-', '-', '-', '-', '-'];
    return [
      escapeHtml(run.name),
      `${done} / ${planned}`,
      escapeHtml(`${last.phase} ${last.epoch}/${last.epochs}`),
      escapeHtml(last.head),
      number(last.loss),
      number(last.val_loss),
      percent(last.val_acc),
      percent(last.test_acc),
      number(last.examples_per_s, 3),
    ];
  });
  return section('latest', 'Latest epoch', htmlTable(['run', 'epochs', 'phase, epoch', 'head', 'train loss', 'hold-out loss', 'hold-out acc', 'test acc', 'examples/s'], rows, 'latest'));
}

function problemsList(run: RunRecord): string {
  if (run.problems.length === 0) return '';
  return `<ul class="problems">${run.problems.map((p) => `<li>${escapeHtml(p)}</li>`).join('')}</ul>`;
}

/** One run's own sections (everything but the curves). */
function runSections(run: RunRecord, runPath: string, idPrefix: string): string {
  return [problemsList(run), summarySection(run), networkSection(run, `${idPrefix}net`), timelineSection(run), confusionSection(run), filesSection(run, runPath)].filter((s) => s !== '').join('\n');
}

export function buildReport(runs: readonly RunRecord[], options: BuildOptions): string {
  if (runs.length === 0) throw new RangeError('buildReport needs at least one run');
  const ids = new ChartIds();
  const generated = options.generatedAt.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const data = {
    generatedAt: options.generatedAt.toISOString(),
    runs: runs.map((run) => ({ name: run.name, plan: run.info?.plan ?? run.ir?.plan ?? null, epochsDone: run.metrics.length, epochsPlanned: plannedEpochs(run), metrics: run.metrics })),
  };
  const refresh = runs.some((run) => !progress(run).finished);
  if (runs.length === 1) {
    const run = runs[0]!;
    const { done, planned, finished } = progress(run);
    const plan = run.info?.plan ?? run.ir?.plan ?? '?';
    const body = [lastLineTable(runs), curvesSection(runs, ids), runSections(run, options.runPaths[0] ?? '', 'r1-')].join('\n');
    return renderPage({
      title: `mono run ${run.name}`,
      subtitle: [
        escapeHtml(`plan ${plan} · ${done} of ${planned} epochs done${finished ? ' · finished' : ''}`),
        escapeHtml(`report written ${generated}`),
      ],
      contents: [
        ['latest', 'Latest'],
        ['curves', 'Curves'],
        ['plan', 'Plan'],
        ['network', 'Network'],
        ['timeline', 'Phases'],
        ['confusion', 'Confusion'],
        ['files', 'Files'],
      ],
      body,
      refresh,
      data,
    });
  }
  const perRun = runs.map((run, i) => {
    const id = `run-${i + 1}`;
    // Each run's sections get ids of their own (the page holds several of each).
    const sections = runSections(run, options.runPaths[i] ?? '', `r${i + 1}-`).replace(/<section id="/g, `<section id="${id}-`);
    return `<details class="run" id="${id}"${i === 0 ? ' open' : ''}><summary>${escapeHtml(run.name)}</summary>\n${sections}\n</details>`;
  });
  return renderPage({
    title: `mono runs: ${runs.map((r) => r.name).join(', ')}`,
    subtitle: [escapeHtml(`${runs.length} runs, curves overlaid`), escapeHtml(`report written ${generated}`)],
    contents: [['latest', 'Latest'], ['curves', 'Curves'], ...runs.map((run, i): [string, string] => [`run-${i + 1}`, run.name])],
    body: [lastLineTable(runs), curvesSection(runs, ids), ...perRun].join('\n'),
    refresh,
    data,
  });
}
