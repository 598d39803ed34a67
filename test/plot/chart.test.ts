import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { dataDomain, escapeXml, formatTick, labelRows, layoutChart, legendRows, paddedDomain, renderChart, ticks } from '../../src/plot/index.js';
import { xmlProblems } from './well-formed.js';

describe('ticks', () => {
  it('puts a tick on every decade of a long log range', () => {
    expect(ticks([1e-7, 10], 'log').map((t) => t.label)).toEqual(['1e-7', '1e-6', '1e-5', '1e-4', '0.001', '0.01', '0.1', '1', '10']);
  });

  it('adds 2 and 5 multiples on a short log range', () => {
    expect(ticks([0.15, 3], 'log').map((t) => t.value)).toEqual([0.2, 0.5, 1, 2]);
  });

  it('uses 1-2-5 steps on a linear range', () => {
    expect(ticks([0, 2.3], 'linear').map((t) => t.value)).toEqual([0, 0.5, 1, 1.5, 2]);
    expect(ticks([-0.03, 0.07], 'linear').map((t) => t.label)).toEqual(['-0.02', '0', '0.02', '0.04', '0.06']);
  });

  test.prop([fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.double({ min: 1e-6, max: 1e6, noNaN: true })])(
    'linear ticks lie in the domain, ascend, and number between 2 and 13',
    (lo, width) => {
      const values = ticks([lo, lo + width], 'linear').map((t) => t.value);
      expect(values.length).toBeGreaterThanOrEqual(2);
      expect(values.length).toBeLessThanOrEqual(13);
      values.forEach((v, i) => {
        expect(v).toBeGreaterThanOrEqual(lo - width * 1e-6);
        expect(v).toBeLessThanOrEqual(lo + width + width * 1e-6);
        if (i > 0) expect(v).toBeGreaterThan(values[i - 1] as number);
      });
    },
  );
});

describe('helpers', () => {
  it('formats ticks compactly', () => {
    expect(formatTick(0.001)).toBe('0.001');
    expect(formatTick(3e-5)).toBe('3e-5');
    expect(formatTick(2.5e7)).toBe('2.5e7');
    expect(formatTick(0.30000000000000004)).toBe('0.3');
  });

  it('pads a degenerate domain and skips unusable values', () => {
    expect(dataDomain([2, 2], 'linear')).toEqual([1, 3]);
    expect(dataDomain([0, -1, Number.NaN, 10, 100], 'log')).toEqual([10, 100]);
    // Subnormal spans get their ends as ticks (d3's step underflows there).
    expect(ticks([5e-324, 1.5e-323], 'linear').map((t) => t.value)).toEqual([5e-324, 1.5e-323]);
    expect(dataDomain([], 'log')).toEqual([1, 10]);
  });

  it('widens a domain by 5% a side (in decades on a log axis), so no dot sits on the frame', () => {
    expect(paddedDomain([{ points: [[1, 0], [2, Number.NaN]] }, { points: [[1, 100]] }], 'linear')).toEqual([-5, 105]);
    const [lo, hi] = paddedDomain([{ points: [[1, 0.001], [2, 0.1]] }], 'log');
    expect(Math.log10(lo)).toBeCloseTo(-3.1, 10);
    expect(Math.log10(hi)).toBeCloseTo(-0.9, 10);
  });

  it('names its clip path with idPrefix, so charts inlined into one page do not share it', () => {
    const spec = { x: { title: 'x' }, y: { title: 'y' }, series: [{ name: 's', points: [[0, 1], [1, 2]] as [number, number][] }] };
    expect(renderChart(spec)).toContain('<clipPath id="plot-area">');
    const svg = renderChart(spec, { idPrefix: 'chart-7' });
    expect(svg).toContain('<clipPath id="chart-7-area">');
    expect(svg).toContain('clip-path="url(#chart-7-area)"');
    expect(svg).not.toContain('plot-area');
  });

  it('escapes XML specials', () => {
    expect(escapeXml('a<b & "c">')).toBe('a&lt;b &amp; &quot;c&quot;&gt;');
  });
});

describe('renderChart', () => {
  const svg = renderChart({
    title: 'loss <vs> lr & more',
    x: { title: 'lr', scale: 'log' },
    y: { title: 'loss' },
    series: [
      { name: 'raw', points: [[1e-4, 2], [1e-3, 1.5], [1e-2, Number.NaN], [1e-1, 0.5], [1, 0.7]] },
      { name: 'smooth', points: [[1e-4, 2], [1, 0.6]], dashed: true },
    ],
    markers: [{ x: 1e-2, label: 'max' }],
  });

  it('is a well-formed, self-contained SVG document', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(xmlProblems(svg)).toEqual([]);
    expect(svg).not.toMatch(/<script|href=/);
  });

  it('draws titles, tick labels, legend, markers and breaks lines at unusable points', () => {
    expect(svg).toContain('loss &lt;vs&gt; lr &amp; more');
    for (const label of ['1e-4', '0.001', '0.01', '0.1', '>1<', '>lr<', '>loss<', '>raw<', '>smooth<', '>max<']) {
      expect(svg).toContain(label);
    }
    const paths = [...svg.matchAll(/<path d="([^"]*)"/g)].map((m) => m[1] as string);
    expect(paths).toHaveLength(2);
    expect(paths[0]?.match(/M/g)).toHaveLength(2); // NaN splits the raw series in two runs
    expect(svg).toContain('stroke-dasharray="5 3"');
  });

  it('maps the domain ends to the plot edges', () => {
    const plot = renderChart({ width: 400, height: 300, x: { title: 'x' }, y: { title: 'y' }, series: [{ name: 's', points: [[0, 0], [1, 1]] }] });
    // Margins: left 72, right 24, top 44, bottom 56.
    expect(plot).toContain('<path d="M72,244 L376,44"');
  });

  it('places the legend in the corner asked for', () => {
    const base = { width: 400, height: 300, x: { title: 'x' }, y: { title: 'y' }, series: [{ name: 'ab', points: [[0, 0], [1, 1]] as [number, number][] }] };
    // Legend box: 16 + 7 * 2 + 34 = 64 wide, 26 high.
    expect(renderChart(base)).toContain('<rect x="304" y="52" width="64" height="26"');
    expect(renderChart({ ...base, legend: 'bottom-left' })).toContain('<rect x="80" y="210" width="64" height="26"');
  });

  it('puts a below legend under the plot, outside the plot area, and grows the document', () => {
    const base = { width: 400, height: 300, x: { title: 'x' }, y: { title: 'y' }, series: [{ name: 'ab', points: [[0, 0], [1, 1]] as [number, number][] }] };
    const plot = renderChart({ ...base, legend: 'below' });
    expect(plot).toContain('height="330" viewBox="0 0 400 330"');
    // Sample line starts at the plot's left edge, below the plot area (bottom at 244).
    expect(plot).toContain('<line x1="72" y1="308" x2="96" y2="308"');
    expect(plot).not.toContain('fill-opacity="0.85"');
    expect(xmlProblems(plot)).toEqual([]);
  });

  it('flows legend entries into rows that fit', () => {
    // Entries are 38 + 7 * length + 16 wide: 61, 68, 75.
    expect(legendRows(['a', 'bb', 'ccc'], 1000)).toEqual([[0, 1, 2]]);
    expect(legendRows(['a', 'bb', 'ccc'], 130)).toEqual([[0, 1], [2]]);
    expect(legendRows(['a', 'bb', 'ccc'], 10)).toEqual([[0], [1], [2]]);
  });

  it('draws a dot per usable point when asked', () => {
    const plot = renderChart({ x: { title: 'x' }, y: { title: 'y', scale: 'log' }, series: [{ name: 's', dots: true, points: [[1, 1], [2, 0], [3, 10]] }] });
    expect(plot.match(/<circle /g)).toHaveLength(2);
  });
});

describe('marker labels', () => {
  it('go one row down only when they would run into the label before them', () => {
    // 'abc' is ~21 px wide; a 6 px gap is kept.
    expect(labelRows([{ x: 100, text: 'abc' }, { x: 200, text: 'abc' }])).toEqual([0, 0]);
    expect(labelRows([{ x: 100, text: 'abc' }, { x: 110, text: 'abc' }, { x: 127, text: 'abc' }])).toEqual([0, 1, 0]);
    expect(labelRows([{ x: 110, text: 'abc' }, { x: 100, text: 'abc' }])).toEqual([1, 0]);
  });

  it('above the plot area, the plot area makes room for them', () => {
    const base = { width: 400, height: 300, x: { title: 'x' }, y: { title: 'y' }, series: [{ name: 's', points: [[0, 0], [1, 1]] as [number, number][] }] };
    const markers = [{ x: 0.5, label: 'phase two' }];
    const inside = renderChart({ ...base, markers });
    expect(inside).toContain('<path d="M72,244 L376,44"');
    expect(inside).toContain('y="58" fill="#555555">phase two<');
    const above = renderChart({ ...base, markers, markerLabels: 'above' });
    // One row of labels at y 40: the plot area starts at 48.
    expect(above).toContain('<path d="M72,244 L376,48"');
    expect(above).toContain('y="40" fill="#555555">phase two<');
  });
});

describe('layoutChart (positions without SVG)', () => {
  const base = { width: 400, height: 300, x: { title: 'x' }, y: { title: 'y' }, series: [{ name: 's', points: [[0, 0], [1, 1]] as [number, number][] }] };

  it('maps a log axis by decades and breaks runs at unusable points', () => {
    const layout = layoutChart({
      ...base,
      x: { title: 'lr', scale: 'log', domain: [1e-3, 1e1] },
      series: [{ name: 's', points: [[1e-3, 0], [1e-1, 0.5], [-1, 0.5], [1e1, 1]] }],
    });
    // Four decades over 72..376: 76 px a decade.
    const runs = layout.series[0]!.runs.map((run) => run.map(([x]) => Math.round(x * 1e6) / 1e6));
    expect(runs).toEqual([[72, 224], [376]]);
    expect(layout.xTicks.map((t) => t.label)).toEqual(['0.001', '0.01', '0.1', '1', '10']);
    layout.xTicks.forEach((tick, i) => expect(tick.position).toBeCloseTo(72 + 76 * i, 9));
  });

  test.prop([fc.array(fc.tuple(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.double({ min: -1e6, max: 1e6, noNaN: true })), { minLength: 1, maxLength: 30 })], { numRuns: 100 })(
    'with domains from the data, every point lies in the plot area and every tick on its axis',
    (points) => {
      const layout = layoutChart({ ...base, series: [{ name: 's', points }] });
      const { left, right, top, bottom } = layout.plot;
      for (const [x, y] of layout.series[0]!.runs.flat()) {
        expect(x).toBeGreaterThanOrEqual(left - 1e-6);
        expect(x).toBeLessThanOrEqual(right + 1e-6);
        expect(y).toBeGreaterThanOrEqual(top - 1e-6);
        expect(y).toBeLessThanOrEqual(bottom + 1e-6);
      }
      for (const tick of layout.xTicks) expect(tick.position).toBeGreaterThanOrEqual(left - 1e-6);
      for (const tick of layout.yTicks) expect(tick.position).toBeLessThanOrEqual(bottom + 1e-6);
    },
  );

  it('clips bands to the x range, drops those outside it, and labels them like markers', () => {
    const layout = layoutChart({
      ...base,
      x: { title: 'epoch', domain: [0, 4] },
      bands: [
        { from: -1, to: 1, label: 'warm-up' },
        { from: 3, to: 5, label: 'p2', color: '#d62728' },
        { from: 6, to: 8, label: 'never' },
      ],
    });
    // 76 px an epoch from x = 72.
    expect(layout.bands).toEqual([
      { x0: 72, x1: 148, color: '#999999' },
      { x0: 300, x1: 376, color: '#d62728' },
    ]);
    expect(layout.labels.map((l) => [l.text, l.x])).toEqual([['warm-up', 76], ['p2', 304]]);
    const svg = renderChart({ ...base, x: { title: 'epoch', domain: [0, 4] }, bands: [{ from: 1, to: 2, label: 'p1' }], legend: 'none' });
    expect(svg).toContain('<rect x="148" y="44" width="76" height="200" fill="#999999" fill-opacity="0.12"/>');
    expect(svg).toContain('>p1<');
    // No legend: neither a box nor a sample line.
    expect(svg).not.toContain('fill-opacity="0.85"');
    expect(svg).not.toContain('>s<');
    expect(xmlProblems(svg)).toEqual([]);
  });
});
