/**
 * A small, dependency-free SVG line plot: linear or log axes with tick labels,
 * several series, a legend and vertical markers. Output is a self-contained
 * SVG document (no scripts, no external fonts or styles).
 */

export type AxisScale = 'linear' | 'log';

export interface PlotAxis {
  title: string;
  scale?: AxisScale;
  /** Shown range; taken from the data when absent. Data outside it is clipped. */
  domain?: readonly [number, number];
}

export interface PlotSeries {
  name: string;
  /** [x, y] pairs; a non-finite value (or <= 0 on a log axis) breaks the line. */
  points: readonly (readonly [number, number])[];
  color?: string;
  dashed?: boolean;
  /** Also mark every usable point with a dot (a lone point would otherwise not show). */
  dots?: boolean;
}

export interface PlotMarker {
  /** Vertical line at this x, labelled at the top. */
  x: number;
  label: string;
  color?: string;
}

export interface LinePlotOptions {
  title?: string;
  width?: number;
  height?: number;
  x: PlotAxis;
  y: PlotAxis;
  series: readonly PlotSeries[];
  markers?: readonly PlotMarker[];
  /**
   * Where the legend goes: a corner inside the plot area (default top-right), or
   * `below`: under the x axis title, outside the plot area, so it never covers
   * data or marker labels (the document grows by the legend's rows).
   */
  legend?: LegendPlace;
  /**
   * Where marker labels go: `inside` the plot area at its top (default), or `above`
   * it, in a band under the title that the plot area makes room for, so labels never
   * sit on the data.
   */
  markerLabels?: 'inside' | 'above';
}

export type LegendCorner = 'top-right' | 'top-left' | 'bottom-right' | 'bottom-left';
export type LegendPlace = LegendCorner | 'below';

export interface Tick {
  value: number;
  label: string;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#17becf'];
const MARGIN = { left: 72, right: 24, top: 44, bottom: 56 };

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** Short label for a tick value: plain decimals near 1, exponent form far from it. */
export function formatTick(value: number): string {
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-3 && magnitude < 1e5) return String(Number(value.toPrecision(6)));
  const [mantissa = '', exponent = ''] = value.toExponential().split('e');
  const shortMantissa = String(Number(Number(mantissa).toPrecision(4)));
  return `${shortMantissa}e${exponent.replace('+', '')}`;
}

function usable(value: number, scale: AxisScale): boolean {
  return Number.isFinite(value) && (scale === 'linear' || value > 0);
}

/** A non-empty domain covering the values (padded when they are all equal). */
export function dataDomain(values: readonly number[], scale: AxisScale): [number, number] {
  const kept = values.filter((v) => usable(v, scale));
  if (kept.length === 0) return scale === 'log' ? [1, 10] : [0, 1];
  let lo = Math.min(...kept);
  let hi = Math.max(...kept);
  if (lo === hi) {
    if (scale === 'log') [lo, hi] = [lo / 10 ** 0.5, hi * 10 ** 0.5];
    else [lo, hi] = lo === 0 ? [-1, 1] : [lo - Math.abs(lo) / 2, hi + Math.abs(hi) / 2];
  }
  return [lo, hi];
}

/** Tick positions inside the domain: decades (with 2 and 5 when the range is short) or 1-2-5 steps. */
export function ticks(domain: readonly [number, number], scale: AxisScale): Tick[] {
  const [lo, hi] = domain;
  const values: number[] = [];
  if (scale === 'log') {
    const first = Math.floor(Math.log10(lo));
    const last = Math.ceil(Math.log10(hi));
    const decades = last - first;
    const stride = Math.max(1, Math.ceil(decades / 10));
    const multiples = decades <= 2 ? [1, 2, 5] : [1];
    for (let e = first; e <= last; e += stride) {
      for (const m of multiples) values.push(Number((m * 10 ** e).toPrecision(12)));
    }
  } else {
    const rawStep = (hi - lo) / 6;
    const power = 10 ** Math.floor(Math.log10(rawStep));
    const step = ([1, 2, 5, 10].find((m) => m * power >= rawStep) ?? 10) * power;
    // Round to the step's own decimals so 0.1 * 3 prints as 0.3.
    const decimals = Math.min(100, Math.max(0, 1 - Math.floor(Math.log10(step))));
    for (let k = Math.ceil(lo / step); k * step <= hi + step * 1e-9; k++) {
      values.push(Number((k * step).toFixed(decimals)));
    }
  }
  const tolerance = scale === 'log' ? 1e-9 : (hi - lo) * 1e-9;
  return values
    .filter((v) => (scale === 'log' ? v >= lo * (1 - tolerance) && v <= hi * (1 + tolerance) : v >= lo - tolerance && v <= hi + tolerance))
    .map((value) => ({ value, label: formatTick(value) }));
}

/** Maps data values on one axis to pixels. */
function axisMapper(domain: readonly [number, number], scale: AxisScale, from: number, to: number): (v: number) => number {
  const transform = scale === 'log' ? Math.log10 : (v: number) => v;
  const a = transform(domain[0]);
  const b = transform(domain[1]);
  return (v) => from + ((transform(v) - a) / (b - a)) * (to - from);
}

/** Estimated width of the legend's sample line and name (~7 px per character). */
function legendEntryWidth(name: string): number {
  return 38 + 7 * name.length;
}

/** Legend entries flowed into rows that fit `width` pixels: the index of each row's entries. */
export function legendRows(names: readonly string[], width: number): number[][] {
  const rows: number[][] = [];
  let used = Infinity;
  names.forEach((name, i) => {
    const entry = legendEntryWidth(name) + 16;
    if (used + entry > width && used > 0) {
      rows.push([]);
      used = 0;
    }
    rows[rows.length - 1]!.push(i);
    used += entry;
  });
  return rows;
}

/**
 * A row for each label (left edge `x`, width estimated from ~7 px per character):
 * the first row where it does not run into the previous label of that row.
 */
export function labelRows(labels: readonly { x: number; text: string }[]): number[] {
  const rowEnds: number[] = [];
  const rows: number[] = new Array<number>(labels.length).fill(0);
  // Left to right, so a row's last label is the only one a new label can run into.
  const order = labels.map((_, i) => i).sort((a, b) => labels[a]!.x - labels[b]!.x);
  for (const i of order) {
    const { x, text } = labels[i]!;
    let row = rowEnds.findIndex((end) => end + 6 <= x);
    if (row === -1) row = rowEnds.length;
    rowEnds[row] = x + 7 * text.length;
    rows[i] = row;
  }
  return rows;
}

function px(v: number): string {
  return String(Math.round(v * 100) / 100);
}

/** Path data for a series, broken into runs of usable points. */
function pathData(series: PlotSeries, xScale: AxisScale, yScale: AxisScale, mapX: (v: number) => number, mapY: (v: number) => number): string {
  const parts: string[] = [];
  let penDown = false;
  for (const [x, y] of series.points) {
    if (!usable(x, xScale) || !usable(y, yScale)) {
      penDown = false;
      continue;
    }
    parts.push(`${penDown ? 'L' : 'M'}${px(mapX(x))},${px(mapY(y))}`);
    penDown = true;
  }
  return parts.join(' ');
}

export function linePlot(options: LinePlotOptions): string {
  const width = options.width ?? 720;
  const height = options.height ?? 440;
  const xScale = options.x.scale ?? 'linear';
  const yScale = options.y.scale ?? 'linear';
  const allPoints = options.series.flatMap((s) => s.points);
  const xDomain = options.x.domain ?? dataDomain(allPoints.map(([x]) => x), xScale);
  const yDomain = options.y.domain ?? dataDomain(allPoints.map(([, y]) => y), yScale);
  const left = MARGIN.left;
  const right = width - MARGIN.right;
  const bottom = height - MARGIN.bottom;
  const mapX = axisMapper(xDomain, xScale, left, right);
  // Marker labels that can be drawn (inside the x range), each in its row.
  const labelled = (options.markers ?? [])
    .filter((m) => usable(m.x, xScale) && mapX(m.x) >= left && mapX(m.x) <= right)
    // A label that would run past the right edge ends at it instead (7 px a character, as labelRows counts).
    .map((m) => ({ marker: m, x: Math.min(mapX(m.x) + 4, width - 4 - 7 * m.label.length), text: m.label }));
  const rows = labelRows(labelled);
  const above = options.markerLabels === 'above' && labelled.length > 0;
  const labelBaseline = (row: number) => (above ? 40 : MARGIN.top + 14) + 14 * row;
  const top = above ? Math.max(MARGIN.top, labelBaseline(Math.max(...rows)) + 8) : MARGIN.top;
  const mapY = axisMapper(yDomain, yScale, bottom, top);
  const place = options.legend ?? 'top-right';
  const belowRows = place === 'below' ? legendRows(options.series.map((s) => s.name), right - left) : [];
  const fullHeight = height + (belowRows.length > 0 ? 18 * belowRows.length + 12 : 0);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${fullHeight}" viewBox="0 0 ${width} ${fullHeight}" font-family="sans-serif" font-size="12">`,
    `<rect x="0" y="0" width="${width}" height="${fullHeight}" fill="#ffffff"/>`,
    `<defs><clipPath id="plot-area"><rect x="${left}" y="${top}" width="${right - left}" height="${bottom - top}"/></clipPath></defs>`,
  );
  if (options.title !== undefined) {
    out.push(`<text x="${px(width / 2)}" y="24" text-anchor="middle" font-size="15">${escapeXml(options.title)}</text>`);
  }

  // Grid and tick labels.
  for (const tick of ticks(xDomain, xScale)) {
    const x = px(mapX(tick.value));
    out.push(
      `<line x1="${x}" y1="${top}" x2="${x}" y2="${bottom}" stroke="#e5e5e5"/>`,
      `<text x="${x}" y="${bottom + 18}" text-anchor="middle">${escapeXml(tick.label)}</text>`,
    );
  }
  for (const tick of ticks(yDomain, yScale)) {
    const y = px(mapY(tick.value));
    out.push(
      `<line x1="${left}" y1="${y}" x2="${right}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(tick.label)}</text>`,
    );
  }
  out.push(`<rect x="${left}" y="${top}" width="${right - left}" height="${bottom - top}" fill="none" stroke="#333333"/>`);

  // Axis titles.
  out.push(
    `<text x="${px((left + right) / 2)}" y="${height - 14}" text-anchor="middle" font-size="13">${escapeXml(options.x.title)}</text>`,
    `<text x="18" y="${px((top + bottom) / 2)}" text-anchor="middle" font-size="13" transform="rotate(-90 18 ${px((top + bottom) / 2)})">${escapeXml(options.y.title)}</text>`,
  );

  // Markers, then series, both clipped to the plot area.
  out.push('<g clip-path="url(#plot-area)">');
  for (const marker of options.markers ?? []) {
    if (!usable(marker.x, xScale)) continue;
    const x = px(mapX(marker.x));
    out.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${bottom}" stroke="${marker.color ?? '#555555'}" stroke-dasharray="6 4" stroke-width="1.5"/>`);
  }
  options.series.forEach((series, i) => {
    const d = pathData(series, xScale, yScale, mapX, mapY);
    if (d === '') return;
    const color = series.color ?? PALETTE[i % PALETTE.length];
    const dash = series.dashed === true ? ' stroke-dasharray="5 3"' : '';
    out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.8"${dash}/>`);
    if (series.dots === true) {
      for (const [x, y] of series.points) {
        if (usable(x, xScale) && usable(y, yScale)) out.push(`<circle cx="${px(mapX(x))}" cy="${px(mapY(y))}" r="2.5" fill="${color}"/>`);
      }
    }
  });
  out.push('</g>');
  // A label goes one row down only when it would run into the one before it.
  labelled.forEach(({ marker, x, text }, i) => {
    out.push(`<text x="${px(x)}" y="${labelBaseline(rows[i]!)}" fill="${marker.color ?? '#555555'}">${escapeXml(text)}</text>`);
  });

  const sample = (series: PlotSeries, i: number, x: number, y: number) => {
    const color = series.color ?? PALETTE[i % PALETTE.length];
    const dash = series.dashed === true ? ' stroke-dasharray="5 3"' : '';
    out.push(
      `<line x1="${x}" y1="${y}" x2="${x + 24}" y2="${y}" stroke="${color}" stroke-width="2"${dash}/>`,
      `<text x="${x + 30}" y="${y}" dominant-baseline="middle">${escapeXml(series.name)}</text>`,
    );
  };
  if (place === 'below') {
    // Rows under the x axis title, outside the plot area.
    belowRows.forEach((row, r) => {
      let x = left;
      for (const i of row) {
        const series = options.series[i]!;
        sample(series, i, x, height + 8 + 18 * r);
        x += legendEntryWidth(series.name) + 16;
      }
    });
  } else {
    // Legend in a corner inside the plot (width estimated from ~7 px per character).
    const legendWidth = 16 + 7 * Math.max(0, ...options.series.map((s) => s.name.length)) + 34;
    const legendHeight = 8 + 18 * options.series.length;
    const legendX = place.endsWith('right') ? right - legendWidth - 8 : left + 8;
    const legendY = place.startsWith('top') ? top + 8 : bottom - legendHeight - 8;
    out.push(`<rect x="${legendX}" y="${legendY}" width="${legendWidth}" height="${legendHeight}" fill="#ffffff" fill-opacity="0.85" stroke="#bbbbbb"/>`);
    options.series.forEach((series, i) => sample(series, i, legendX + 8, legendY + 14 + 18 * i));
  }

  out.push('</svg>');
  return out.join('\n') + '\n';
}
