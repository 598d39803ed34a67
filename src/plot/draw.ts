/**
 * Draws a chart layout (./layout.ts) as a self-contained SVG document: no scripts,
 * no external fonts or styles. Only drawing decisions live here (strokes, dashes,
 * opacities); every position comes from the layout.
 */
import type { ChartLayout, LegendEntry } from './layout.js';
import type { Point } from './spec.js';

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A pixel coordinate, to 0.01 px. */
function px(v: number): string {
  return String(Math.round(v * 100) / 100);
}

function pathData(runs: readonly (readonly Point[])[]): string {
  const parts: string[] = [];
  for (const run of runs) run.forEach(([x, y], i) => parts.push(`${i === 0 ? 'M' : 'L'}${px(x)},${px(y)}`));
  return parts.join(' ');
}

function legendSample(entry: LegendEntry): string[] {
  const dash = entry.dashed ? ' stroke-dasharray="5 3"' : '';
  return [
    `<line x1="${px(entry.x)}" y1="${px(entry.y)}" x2="${px(entry.x + 24)}" y2="${px(entry.y)}" stroke="${entry.color}" stroke-width="2"${dash}/>`,
    `<text x="${px(entry.x + 30)}" y="${px(entry.y)}" dominant-baseline="middle">${escapeXml(entry.name)}</text>`,
  ];
}

export interface DrawOptions {
  /**
   * Prefix of the ids inside the SVG (its clip path). Charts inlined into one HTML
   * document share an id space, so each needs its own (default `plot`).
   */
  idPrefix?: string;
}

export function drawChart(layout: ChartLayout, options: DrawOptions = {}): string {
  const { width, height, plot } = layout;
  const clipId = `${options.idPrefix ?? 'plot'}-area`;
  const { left, top, right, bottom } = plot;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<defs><clipPath id="${clipId}"><rect x="${left}" y="${top}" width="${right - left}" height="${bottom - top}"/></clipPath></defs>`,
  ];
  if (layout.title !== undefined) {
    out.push(`<text x="${px(layout.title.x)}" y="${px(layout.title.y)}" text-anchor="middle" font-size="15">${escapeXml(layout.title.text)}</text>`);
  }
  // Bands under the grid and the data.
  for (const band of layout.bands) {
    out.push(`<rect x="${px(band.x0)}" y="${top}" width="${px(band.x1 - band.x0)}" height="${bottom - top}" fill="${band.color}" fill-opacity="0.12"/>`);
  }
  for (const tick of layout.xTicks) {
    const x = px(tick.position);
    out.push(
      `<line x1="${x}" y1="${top}" x2="${x}" y2="${bottom}" stroke="#e5e5e5"/>`,
      `<text x="${x}" y="${bottom + 18}" text-anchor="middle">${escapeXml(tick.label)}</text>`,
    );
  }
  for (const tick of layout.yTicks) {
    const y = px(tick.position);
    out.push(
      `<line x1="${left}" y1="${y}" x2="${right}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(tick.label)}</text>`,
    );
  }
  out.push(`<rect x="${left}" y="${top}" width="${right - left}" height="${bottom - top}" fill="none" stroke="#333333"/>`);
  const { xTitle, yTitle } = layout;
  out.push(
    `<text x="${px(xTitle.x)}" y="${px(xTitle.y)}" text-anchor="middle" font-size="13">${escapeXml(xTitle.text)}</text>`,
    `<text x="${px(yTitle.x)}" y="${px(yTitle.y)}" text-anchor="middle" font-size="13" transform="rotate(-90 ${px(yTitle.x)} ${px(yTitle.y)})">${escapeXml(yTitle.text)}</text>`,
  );

  // Markers, then series, both clipped to the plot area.
  out.push(`<g clip-path="url(#${clipId})">`);
  for (const marker of layout.markers) {
    const x = px(marker.x);
    out.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${bottom}" stroke="${marker.color}" stroke-dasharray="6 4" stroke-width="1.5"/>`);
  }
  for (const series of layout.series) {
    if (series.runs.length === 0) continue;
    const dash = series.dashed ? ' stroke-dasharray="5 3"' : '';
    out.push(`<path d="${pathData(series.runs)}" fill="none" stroke="${series.color}" stroke-width="1.8"${dash}/>`);
    for (const [x, y] of series.dots) out.push(`<circle cx="${px(x)}" cy="${px(y)}" r="2.5" fill="${series.color}"/>`);
  }
  out.push('</g>');
  for (const label of layout.labels) {
    out.push(`<text x="${px(label.x)}" y="${px(label.y)}" fill="${label.color}">${escapeXml(label.text)}</text>`);
  }

  const { box, entries } = layout.legend;
  if (box !== undefined) {
    out.push(`<rect x="${px(box.x)}" y="${px(box.y)}" width="${px(box.width)}" height="${px(box.height)}" fill="#ffffff" fill-opacity="0.85" stroke="#bbbbbb"/>`);
  }
  for (const entry of entries) out.push(...legendSample(entry));
  out.push('</svg>');
  return out.join('\n') + '\n';
}
