/** The confusion matrix of the latest hold-out evaluation (confusion.json), as a shaded table. */
import { absent, escapeHtml, section } from '../html.js';
import type { ConfusionRecord, RunRecord } from '../types.js';

/** The table: rows are true classes, columns predictions; a cell's shade is its share of its row. */
export function confusionTable(confusion: ConfusionRecord): string {
  const header = `<tr><th>true \\ predicted</th>${confusion.counts.map((_, c) => `<th>${c}</th>`).join('')}<th>recall</th></tr>`;
  const rows = confusion.counts.map((row, truth) => {
    const total = row.reduce((a, b) => a + b, 0);
    const cells = row.map((count, predicted) => {
      const share = total > 0 ? count / total : 0;
      const hue = predicted === truth ? '31, 119, 180' : '214, 39, 40';
      return `<td class="cell" style="background: rgba(${hue}, ${share.toFixed(3)})" title="true ${truth}, predicted ${predicted}: ${count}">${count}</td>`;
    });
    const recall = total > 0 ? `${((100 * row[truth]!) / total).toFixed(1)}%` : '-';
    return `<tr><th>${truth}</th>${cells.join('')}<td>${recall}</td></tr>`;
  });
  const correct = confusion.counts.reduce((sum, row, i) => sum + row[i]!, 0);
  const total = confusion.counts.flat().reduce((a, b) => a + b, 0);
  const accuracy = total > 0 ? `${((100 * correct) / total).toFixed(2)}%` : '-';
  return `<p>${escapeHtml(`${confusion.head}, phase ${confusion.phase} epoch ${confusion.epoch}: ${total} hold-out examples, accuracy ${accuracy}.`)}</p>\n<table class="confusion"><thead>${header}</thead><tbody>\n${rows.join('\n')}\n</tbody></table>`;
}

export function confusionSection(run: RunRecord): string {
  if (run.confusion) {
    const last = run.metrics[run.metrics.length - 1];
    const c = run.confusion;
    // A run killed after an epoch's evaluation but before its checkpoint resumes one epoch back.
    const stale =
      last && (last.phase !== c.phase || last.epoch !== c.epoch)
        ? `<p class="note">${escapeHtml(`This matrix is of phase ${c.phase} epoch ${c.epoch}; metrics.jsonl ends at phase ${last.phase} epoch ${last.epoch} (the run was interrupted after that evaluation and resumed before it; the next epoch replaces it).`)}</p>`
        : '';
    return section('confusion', 'Confusion matrix of the last evaluation', confusionTable(c) + stale);
  }
  const why =
    run.ir && run.ir.data.holdout === 0
      ? 'The plan holds out no data (holdout 0), so there is no evaluation to tabulate.'
      : run.metrics.length === 0
        ? 'No epoch has completed yet.'
        : 'This run folder has no confusion.json (runs made before mono wrote it): the predictions of the last evaluation were not kept.';
  return section('confusion', 'Confusion matrix of the last evaluation', absent(why));
}
