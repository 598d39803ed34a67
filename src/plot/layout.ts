/**
 * Chart layout: where everything goes, in pixels, with no SVG in sight. The plot
 * area, the axes' ticks (./scales.ts), series broken into drawable runs, bands,
 * markers and their labels (rows that do not collide), and the legend. draw.ts turns
 * the result into an SVG document; another renderer (a report page) can reuse it.
 * Text widths are estimated at ~7 px a character (12 px sans-serif).
 */
import { axis, dataDomain, usable } from './scales.js';
import type { AxisScale, ChartSpec, LegendCorner, Point } from './spec.js';

export interface PlacedText {
  x: number;
  y: number;
  text: string;
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacedTick {
  /** Pixel position along its axis (x for the x axis, y for the y axis). */
  position: number;
  label: string;
}

export interface PlacedSeries {
  name: string;
  color: string;
  dashed: boolean;
  /** Runs of consecutive usable points, in pixels; an unusable point ends a run. */
  runs: Point[][];
  /** The points to mark with a dot (empty unless the series asks for dots). */
  dots: Point[];
}

export interface LegendEntry {
  /** Left end of the sample line; its vertical middle. */
  x: number;
  y: number;
  name: string;
  color: string;
  dashed: boolean;
}

export interface ChartLayout {
  /** The whole document, a `below` legend included. */
  width: number;
  height: number;
  title?: PlacedText;
  /** The plot area: data is clipped to it. */
  plot: { left: number; top: number; right: number; bottom: number };
  xTicks: PlacedTick[];
  yTicks: PlacedTick[];
  xTitle: PlacedText;
  /** Drawn rotated a quarter turn anticlockwise about (x, y). */
  yTitle: PlacedText;
  bands: { x0: number; x1: number; color: string }[];
  markers: { x: number; color: string }[];
  /** Marker and band labels, left ends at x, baselines at y. */
  labels: (PlacedText & { color: string })[];
  series: PlacedSeries[];
  /** `box` is the framed background of a corner legend; a `below` legend has none. */
  legend: { box?: Rect; entries: LegendEntry[] };
}

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#17becf'];
const MARGIN = { left: 72, right: 24, top: 44, bottom: 56 };
const MARKER_COLOR = '#555555';
const BAND_COLOR = '#999999';
const CHAR_WIDTH = 7;
const LABEL_ROW = 14;
const LEGEND_ROW = 18;

/** Width of a legend entry's sample line and name. */
function legendEntryWidth(name: string): number {
  return 38 + CHAR_WIDTH * name.length;
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
 * A row for each label (left edge `x`): the first row where it does not run into the
 * previous label of that row (a 6 px gap is kept).
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
    rowEnds[row] = x + CHAR_WIDTH * text.length;
    rows[i] = row;
  }
  return rows;
}

function placeSeries(spec: ChartSpec, xScale: AxisScale, yScale: AxisScale, mapX: (v: number) => number, mapY: (v: number) => number): PlacedSeries[] {
  return spec.series.map((series, i) => {
    const runs: Point[][] = [];
    const dots: Point[] = [];
    let run: Point[] | undefined;
    for (const [x, y] of series.points) {
      if (!usable(x, xScale) || !usable(y, yScale)) {
        run = undefined;
        continue;
      }
      const point: Point = [mapX(x), mapY(y)];
      if (run === undefined) runs.push((run = []));
      run.push(point);
      if (series.dots === true) dots.push(point);
    }
    return { name: series.name, color: series.color ?? PALETTE[i % PALETTE.length]!, dashed: series.dashed === true, runs, dots };
  });
}

function cornerLegend(spec: ChartSpec, series: readonly PlacedSeries[], corner: LegendCorner, plot: ChartLayout['plot']): ChartLayout['legend'] {
  const width = 16 + CHAR_WIDTH * Math.max(0, ...spec.series.map((s) => s.name.length)) + 34;
  const height = 8 + LEGEND_ROW * series.length;
  const x = corner.endsWith('right') ? plot.right - width - 8 : plot.left + 8;
  const y = corner.startsWith('top') ? plot.top + 8 : plot.bottom - height - 8;
  const entries = series.map((s, i) => ({ x: x + 8, y: y + 14 + LEGEND_ROW * i, name: s.name, color: s.color, dashed: s.dashed }));
  return { box: { x, y, width, height }, entries };
}

export function layoutChart(spec: ChartSpec): ChartLayout {
  const width = spec.width ?? 720;
  const height = spec.height ?? 440;
  const xScale = spec.x.scale ?? 'linear';
  const yScale = spec.y.scale ?? 'linear';
  const allPoints = spec.series.flatMap((s) => s.points);
  const xDomain = spec.x.domain ?? dataDomain(allPoints.map(([x]) => x), xScale);
  const yDomain = spec.y.domain ?? dataDomain(allPoints.map(([, y]) => y), yScale);
  const left = MARGIN.left;
  const right = width - MARGIN.right;
  const bottom = height - MARGIN.bottom;
  const x = axis(xDomain, xScale, left, right);
  const inside = (px: number) => px >= left && px <= right;

  // Bands, clipped to the x range; and every label that can be drawn, each in its row.
  const bands: ChartLayout['bands'] = [];
  const labelled: { x: number; text: string; color: string }[] = [];
  // A label that would run past the right edge ends at it instead.
  const labelX = (px: number, text: string) => Math.min(px + 4, width - 4 - CHAR_WIDTH * text.length);
  for (const band of spec.bands ?? []) {
    if (!usable(band.from, xScale) || !usable(band.to, xScale)) continue;
    const x0 = Math.max(left, Math.min(x.map(band.from), x.map(band.to)));
    const x1 = Math.min(right, Math.max(x.map(band.from), x.map(band.to)));
    if (x1 <= x0) continue;
    const color = band.color ?? BAND_COLOR;
    bands.push({ x0, x1, color });
    if (band.label !== undefined) labelled.push({ x: labelX(x0, band.label), text: band.label, color });
  }
  const markers: ChartLayout['markers'] = [];
  for (const marker of spec.markers ?? []) {
    if (!usable(marker.x, xScale)) continue;
    const px = x.map(marker.x);
    const color = marker.color ?? MARKER_COLOR;
    markers.push({ x: px, color });
    if (inside(px)) labelled.push({ x: labelX(px, marker.label), text: marker.label, color });
  }
  const rows = labelRows(labelled);
  const above = spec.markerLabels === 'above' && labelled.length > 0;
  const labelBaseline = (row: number) => (above ? 40 : MARGIN.top + 14) + LABEL_ROW * row;
  const top = above ? Math.max(MARGIN.top, labelBaseline(Math.max(...rows)) + 8) : MARGIN.top;
  const y = axis(yDomain, yScale, bottom, top);
  const plot = { left, top, right, bottom };

  const series = placeSeries(spec, xScale, yScale, x.map, y.map);
  const place = spec.legend ?? 'top-right';
  let legend: ChartLayout['legend'] = { entries: [] };
  let fullHeight = height;
  if (place === 'below') {
    const belowRows = legendRows(spec.series.map((s) => s.name), right - left);
    if (belowRows.length > 0) fullHeight += LEGEND_ROW * belowRows.length + 12;
    const entries: LegendEntry[] = [];
    belowRows.forEach((row, r) => {
      let entryX = left;
      for (const i of row) {
        const s = series[i]!;
        entries.push({ x: entryX, y: height + 8 + LEGEND_ROW * r, name: s.name, color: s.color, dashed: s.dashed });
        entryX += legendEntryWidth(s.name) + 16;
      }
    });
    legend = { entries };
  } else if (place !== 'none') {
    legend = cornerLegend(spec, series, place, plot);
  }

  const middleY = (top + bottom) / 2;
  const layout: ChartLayout = {
    width,
    height: fullHeight,
    plot,
    xTicks: x.ticks.map((tick) => ({ position: x.map(tick.value), label: tick.label })),
    yTicks: y.ticks.map((tick) => ({ position: y.map(tick.value), label: tick.label })),
    xTitle: { x: (left + right) / 2, y: height - 14, text: spec.x.title },
    yTitle: { x: 18, y: middleY, text: spec.y.title },
    bands,
    markers,
    labels: labelled.map((label, i) => ({ x: label.x, y: labelBaseline(rows[i]!), text: label.text, color: label.color })),
    series,
    legend,
  };
  if (spec.title !== undefined) layout.title = { x: width / 2, y: 24, text: spec.title };
  return layout;
}
