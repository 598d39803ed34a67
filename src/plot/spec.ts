/**
 * What a chart shows, independent of how it is laid out or drawn: the input of
 * renderChart (./index.ts). Values are data values; the layout turns them into pixels.
 */

export type AxisScale = 'linear' | 'log';

export interface AxisSpec {
  title: string;
  scale?: AxisScale;
  /** Shown range; taken from the data when absent. Data outside it is clipped. */
  domain?: readonly [number, number];
}

export type Point = readonly [number, number];

export interface SeriesSpec {
  name: string;
  /** [x, y] pairs; a non-finite value (or <= 0 on a log axis) breaks the line. */
  points: readonly Point[];
  color?: string;
  dashed?: boolean;
  /** Also mark every usable point with a dot (a lone point would otherwise not show). */
  dots?: boolean;
}

/** A vertical line at `x`, labelled at the top: a phase start, a suggested bound. */
export interface MarkerSpec {
  x: number;
  label: string;
  color?: string;
}

/** A shaded x range over the whole plot height, labelled at its top left: a phase, a warm-up. */
export interface BandSpec {
  from: number;
  to: number;
  label?: string;
  /** Fill colour, drawn at low opacity under the grid and the series. */
  color?: string;
}

export type LegendCorner = 'top-right' | 'top-left' | 'bottom-right' | 'bottom-left';
/**
 * A corner inside the plot area (default top-right), `below`: under the x axis
 * title, outside the plot area, so it never covers data or marker labels (the
 * document grows by the legend's rows), or `none`.
 */
export type LegendPlace = LegendCorner | 'below' | 'none';

export interface ChartSpec {
  title?: string;
  /** Size in pixels before a `below` legend adds its rows (default 720 x 440). */
  width?: number;
  height?: number;
  x: AxisSpec;
  y: AxisSpec;
  series: readonly SeriesSpec[];
  markers?: readonly MarkerSpec[];
  bands?: readonly BandSpec[];
  legend?: LegendPlace;
  /**
   * Where marker and band labels go: `inside` the plot area at its top (default), or
   * `above` it, in a strip under the title that the plot area makes room for, so
   * labels never sit on the data.
   */
  markerLabels?: 'inside' | 'above';
}
