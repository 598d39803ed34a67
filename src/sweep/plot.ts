/**
 * The sweep's chart: one row per configuration (best at the top), a dot at the mean
 * final hold-out accuracy, a bar of ± one standard deviation over seeds, and ticks at
 * the lowest and highest seed. Self-contained SVG; axis ticks and escaping come from
 * src/plot/.
 */
import { dataDomain, escapeXml, ticks } from '../plot/index.js';

export interface ErrorBarRow {
  label: string;
  /** null: no finished trial (the row says so instead of drawing). */
  mean: number | null;
  std: number;
  min: number | null;
  max: number | null;
  /** Finished trials the mean is over. */
  n: number;
  /** Shown at the right end, e.g. `1 failed`. */
  note: string;
}

export interface ErrorBarOptions {
  title: string;
  xTitle: string;
  rows: readonly ErrorBarRow[];
}

const ROW = 22;
const CHAR = 6.6;

export function errorBarPlot(options: ErrorBarOptions): string {
  const rows = options.rows;
  const labelWidth = Math.min(420, Math.max(80, ...rows.map((r) => r.label.length * CHAR + 16)));
  const left = labelWidth + 12;
  const plotWidth = 480;
  const right = 110;
  const top = 46;
  const width = left + plotWidth + right;
  const height = top + Math.max(1, rows.length) * ROW + 62;
  const bottom = height - 62;

  const values = rows.flatMap((r) => (r.mean === null ? [] : [r.mean - r.std, r.mean + r.std, r.min ?? r.mean, r.max ?? r.mean]));
  let [lo, hi] = dataDomain(values, 'linear');
  const pad = (hi - lo) * 0.05;
  lo = Math.max(0, lo - pad);
  hi = Math.min(100, hi + pad);
  if (hi <= lo) [lo, hi] = [Math.max(0, lo - 1), Math.min(100, hi + 1)];
  const x = (v: number) => left + ((v - lo) / (hi - lo)) * plotWidth;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="14">${escapeXml(options.title)}</text>`,
  ];
  for (const tick of ticks([lo, hi], 'linear')) {
    const px = x(tick.value).toFixed(1);
    parts.push(`<line x1="${px}" y1="${top - 6}" x2="${px}" y2="${bottom}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${px}" y="${bottom + 16}" text-anchor="middle" fill="#333">${escapeXml(tick.label)}</text>`);
  }
  parts.push(`<line x1="${left}" y1="${bottom}" x2="${left + plotWidth}" y2="${bottom}" stroke="#333"/>`);
  parts.push(`<text x="${left + plotWidth / 2}" y="${bottom + 40}" text-anchor="middle">${escapeXml(options.xTitle)}</text>`);
  rows.forEach((row, i) => {
    const y = top + i * ROW + ROW / 2;
    if (i % 2 === 0) parts.push(`<rect x="0" y="${y - ROW / 2}" width="${width}" height="${ROW}" fill="#f7f7f7"/>`);
    parts.push(`<text x="${labelWidth}" y="${y + 4}" text-anchor="end" fill="#111">${escapeXml(row.label)}</text>`);
    if (row.mean === null) {
      parts.push(`<text x="${left + 4}" y="${y + 4}" fill="#999">no finished trial${row.note ? ` (${escapeXml(row.note)})` : ''}</text>`);
      return;
    }
    const color = i === 0 ? '#d62728' : '#1f77b4';
    const from = x(Math.max(lo, row.mean - row.std)).toFixed(1);
    const to = x(Math.min(hi, row.mean + row.std)).toFixed(1);
    parts.push(`<line x1="${from}" y1="${y}" x2="${to}" y2="${y}" stroke="${color}" stroke-width="2"/>`);
    for (const end of [from, to]) parts.push(`<line x1="${end}" y1="${y - 5}" x2="${end}" y2="${y + 5}" stroke="${color}" stroke-width="2"/>`);
    for (const extreme of [row.min, row.max]) {
      if (extreme !== null) parts.push(`<line x1="${x(extreme).toFixed(1)}" y1="${y - 3}" x2="${x(extreme).toFixed(1)}" y2="${y + 3}" stroke="#555"/>`);
    }
    parts.push(`<circle cx="${x(row.mean).toFixed(1)}" cy="${y}" r="4" fill="${color}"/>`);
    const text = `${row.mean.toFixed(1)}%${row.n > 1 ? ` ± ${row.std.toFixed(1)}` : ''} (n=${row.n})${row.note ? `, ${row.note}` : ''}`;
    parts.push(`<text x="${left + plotWidth + 8}" y="${y + 4}" fill="#333">${escapeXml(text)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
