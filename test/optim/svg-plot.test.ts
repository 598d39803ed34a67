import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { dataDomain, escapeXml, formatTick, linePlot, ticks } from '../../src/optim/svg-plot.js';
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
    expect(dataDomain([], 'log')).toEqual([1, 10]);
  });

  it('escapes XML specials', () => {
    expect(escapeXml('a<b & "c">')).toBe('a&lt;b &amp; &quot;c&quot;&gt;');
  });
});

describe('linePlot', () => {
  const svg = linePlot({
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
    const plot = linePlot({ width: 400, height: 300, x: { title: 'x' }, y: { title: 'y' }, series: [{ name: 's', points: [[0, 0], [1, 1]] }] });
    // Margins: left 72, right 24, top 44, bottom 56.
    expect(plot).toContain('<path d="M72,244 L376,44"');
  });

  it('places the legend in the corner asked for', () => {
    const base = { width: 400, height: 300, x: { title: 'x' }, y: { title: 'y' }, series: [{ name: 'ab', points: [[0, 0], [1, 1]] as [number, number][] }] };
    // Legend box: 16 + 7 * 2 + 34 = 64 wide, 26 high.
    expect(linePlot(base)).toContain('<rect x="304" y="52" width="64" height="26"');
    expect(linePlot({ ...base, legend: 'bottom-left' })).toContain('<rect x="80" y="210" width="64" height="26"');
  });
});
