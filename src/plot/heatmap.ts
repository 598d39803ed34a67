/**
 * A heatmap as SVG (the confusion matrix of `mono evaluate`): a grid of cells shaded
 * from white to one colour by value, each labelled with its count, row and column
 * labels, axis titles. Self-contained like the charts (no scripts, fonts or styles).
 */
import { escapeXml } from './draw.js';

export interface HeatmapSpec {
  title?: string;
  /** values[row][column]; every row as long as `columns`. */
  values: readonly (readonly number[])[];
  rows: readonly string[];
  columns: readonly string[];
  rowTitle: string;
  columnTitle: string;
  /** The colour of the largest value (default a blue). */
  color?: string;
}

const CELL_MIN = 22;
const CELL_MAX = 56;

/** Mix of white and `hex` at `amount` in [0, 1]. */
function shade(hex: string, amount: number): string {
  const channel = (i: number) => {
    const full = parseInt(hex.slice(1 + 2 * i, 3 + 2 * i), 16);
    return Math.round(255 + (full - 255) * amount);
  };
  return `rgb(${channel(0)},${channel(1)},${channel(2)})`;
}

export function renderHeatmap(spec: HeatmapSpec): string {
  const { values, rows, columns } = spec;
  if (values.length !== rows.length || values.some((row) => row.length !== columns.length)) {
    throw new RangeError(`heatmap: ${values.length} rows of values for ${rows.length} row labels and ${columns.length} columns`);
  }
  const color = spec.color ?? '#1f77b4';
  const largest = Math.max(0, ...values.flat().filter(Number.isFinite));
  const labelWidth = 7 * Math.max(1, ...rows.map((r) => r.length)) + 12;
  const longestValue = Math.max(1, ...values.flat().map((v) => String(v).length));
  // Cells wide enough for their counts, between CELL_MIN and CELL_MAX pixels.
  const cell = Math.min(CELL_MAX, Math.max(CELL_MIN, 7 * longestValue + 8));
  const left = 30 + labelWidth;
  const top = (spec.title === undefined ? 20 : 46) + 34;
  const width = left + cell * columns.length + 20;
  const height = top + cell * rows.length + 20;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  if (spec.title !== undefined) out.push(`<text x="${width / 2}" y="24" text-anchor="middle" font-size="15">${escapeXml(spec.title)}</text>`);
  out.push(`<text x="${left + (cell * columns.length) / 2}" y="${top - 26}" text-anchor="middle">${escapeXml(spec.columnTitle)}</text>`);
  const middle = top + (cell * rows.length) / 2;
  out.push(`<text x="14" y="${middle}" text-anchor="middle" transform="rotate(-90 14 ${middle})">${escapeXml(spec.rowTitle)}</text>`);
  columns.forEach((label, c) => out.push(`<text x="${left + c * cell + cell / 2}" y="${top - 8}" text-anchor="middle">${escapeXml(label)}</text>`));
  values.forEach((row, r) => {
    const y = top + r * cell;
    out.push(`<text x="${left - 8}" y="${y + cell / 2}" text-anchor="end" dominant-baseline="middle">${escapeXml(rows[r]!)}</text>`);
    row.forEach((value, c) => {
      const amount = largest > 0 && Number.isFinite(value) ? value / largest : 0;
      const x = left + c * cell;
      out.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${shade(color, amount)}" stroke="#ffffff"/>`);
      out.push(`<text x="${x + cell / 2}" y="${y + cell / 2}" text-anchor="middle" dominant-baseline="middle" fill="${amount > 0.55 ? '#ffffff' : '#222222'}">${escapeXml(String(value))}</text>`);
    });
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
