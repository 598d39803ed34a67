/**
 * Charts as SVG: a ChartSpec in (./spec.ts: axes, linear or log, several series,
 * vertical markers, shaded bands, a legend), an SVG document out. layoutChart
 * places everything (scales and ticks from d3-scale), drawChart draws the layout;
 * renderChart does both. Used for the run folder's plots, the LR range test and the
 * experiment's figures. renderHeatmap (./heatmap.ts) draws a grid of counts: the
 * confusion matrix of `mono evaluate`.
 */
import { drawChart, type DrawOptions } from './draw.js';
import { layoutChart } from './layout.js';
import type { ChartSpec } from './spec.js';

export type * from './spec.js';
export type { ChartLayout, LegendEntry, PlacedSeries, PlacedText, PlacedTick, Rect } from './layout.js';
export type { Tick } from './scales.js';
export { drawChart, escapeXml } from './draw.js';
export type { DrawOptions } from './draw.js';
export { labelRows, layoutChart, legendRows, PALETTE } from './layout.js';
export { dataDomain, formatTick, paddedDomain, ticks } from './scales.js';
export { renderHeatmap, type HeatmapSpec } from './heatmap.js';

export function renderChart(spec: ChartSpec, options: DrawOptions = {}): string {
  return drawChart(layoutChart(spec), options);
}
