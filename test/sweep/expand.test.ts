import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fc, test as propertyTest } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderDiagnostics } from '../../src/diagnostics/render.js';
import { Rng } from '../../src/runtime/rng.js';
import { draw, expandSweep } from '../../src/sweep/expand.js';
import { parseSweepArgs, parseSweepFile } from '../../src/sweep/parse.js';
import type { Distribution, SweepValue } from '../../src/sweep/spec.js';
import { TINY_PLAN } from './fixtures.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mono-sweep-expand-'));
  await writeFile(path.join(root, 'tiny.mono'), TINY_PLAN);
  await writeFile(path.join(root, 'broken.mono'), TINY_PLAN.replace('conv(width, 3) bn relu\n  body', 'conv(widht, 3) bn relu\n  body'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const shown = (file: string) => path.relative(root, file);

async function expandFile(text: string) {
  const parsed = parseSweepFile(text, 'x.sweep', root);
  expect(parsed.diagnostics).toEqual([]);
  const result = await expandSweep(parsed.spec!, { cwd: root, shown });
  const sources = new Map([...parsed.sources, ...result.sources]);
  return { ...result, rendered: renderDiagnostics(result.diagnostics, sources) };
}

describe('expanding a sweep', () => {
  it('crosses the grids (the last fastest), fixes the set values, and orders trials seed by seed', async () => {
    const { sweep, diagnostics } = await expandFile('plan "tiny.mono"\nseeds 1, 2\nset p2_epochs = 3\ngrid width = 2, 4\ngrid lr = 0.01, 0.1\n');
    expect(diagnostics).toEqual([]);
    expect(sweep!.configs.map((c) => [c.id, c.set, c.epochs])).toEqual([
      ['c1', { p2_epochs: '3', width: '2', lr: '0.01' }, 4],
      ['c2', { p2_epochs: '3', width: '2', lr: '0.1' }, 4],
      ['c3', { p2_epochs: '3', width: '4', lr: '0.01' }, 4],
      ['c4', { p2_epochs: '3', width: '4', lr: '0.1' }, 4],
    ]);
    expect(sweep!.trials.map((t) => t.id)).toEqual(['c1-s1', 'c2-s1', 'c3-s1', 'c4-s1', 'c1-s2', 'c2-s2', 'c3-s2', 'c4-s2']);
    expect(sweep!.arms[0]).toMatchObject({ name: 'tiny', planFile: path.join(root, 'tiny.mono'), planSource: TINY_PLAN, params: ['p2_epochs', 'width', 'lr'] });
  });

  it('draws random values per grid point, the same for the same sample seed, and counts epochs per configuration', async () => {
    const text = 'plan "tiny.mono"\ngrid width = 2, 3\nrandom p2_epochs = int(1, 5)\nrandom lr = log(0.001, 0.1)\ntrials 4\n';
    const first = (await expandFile(text)).sweep!;
    const again = (await expandFile(text)).sweep!;
    const other = (await expandFile(text + 'sample_seed 9\n')).sweep!;
    expect(first.configs).toHaveLength(8);
    expect(again.configs).toEqual(first.configs);
    expect(other.configs.map((c) => c.set.lr)).not.toEqual(first.configs.map((c) => c.set.lr));
    for (const config of first.configs) {
      expect(Number(config.set.lr)).toBeGreaterThanOrEqual(0.001);
      expect(Number(config.set.lr)).toBeLessThanOrEqual(0.1);
      expect(config.epochs).toBe(1 + Number(config.set.p2_epochs));
    }
    expect(first.trials.map((t) => t.id)).toEqual(first.configs.map((c) => `${c.id}-s-`));
  });

  it('names arms in the ids of a sweep with several', async () => {
    const { sweep } = await expandFile('seeds 3\narm a { plan "tiny.mono"\n grid lr = 0.1, 0.2 }\narm b { plan "tiny.mono"\n set width = 2 }\n');
    expect(sweep!.trials.map((t) => t.id)).toEqual(['a-c1-s3', 'a-c2-s3', 'b-c1-s3']);
  });

  it('reports unknown params with the plan\'s own, and values the plan refuses, at the value', async () => {
    const { sweep, rendered } = await expandFile('plan "tiny.mono"\ngrid widht = 2\ngrid lr = 0.1, -1\nset p2_epochs = 0\nrandom width = int(0, 2)\ntrials 2\n');
    expect(sweep).toBeNull();
    expect(rendered).toContain("x.sweep:2:6: error: tiny.mono has no param 'widht' (its params: width, lr, p2_epochs, tag)\n  |\n2 | grid widht = 2\n  |      ^^^^^\n  hint: did you mean 'width'?");
    expect(rendered).toContain("x.sweep:3:16: error: lr = -1: tiny.mono:25:38: msgd argument 'lr' expects a positive number, but got -1");
    expect(rendered).toContain('x.sweep:4:17: error: p2_epochs = 0: tiny.mono:26:16: the number of epochs expects a positive integer, but got 0');
    expect(rendered).toMatch(/x\.sweep:5:20: error: width = 0 \(a bound of int\(\.\.\.\)\): tiny\.mono:\d+:\d+: /);
  });

  it('asks for trials with random params, and for random params with trials', async () => {
    expect((await expandFile('plan "tiny.mono"\nrandom lr = log(0.01, 0.1)\n')).rendered).toContain('x.sweep:2:13: error: random lr needs a number of trials');
    expect((await expandFile('plan "tiny.mono"\ntrials 3\n')).rendered).toContain('x.sweep:2:8: error: trials 3: there is no random param to draw');
  });

  it("reports a plan's own errors as the compiler does, and a missing plan at its name", async () => {
    const broken = await expandFile('plan "broken.mono"\n');
    expect(broken.diagnostics[0]).toMatchObject({ file: 'broken.mono', message: "unknown name 'widht'" });
    const missing = await expandFile('plan "nope.mono"\n');
    expect(missing.rendered).toContain('x.sweep:1:6: error: cannot read the plan nope.mono: no such file');
  });

  it('points into command-line arguments', async () => {
    const parsed = parseSweepArgs({ plan: 'tiny.mono', grid: ['width=2', 'lr=0.1,0'], baseDir: root });
    const result = await expandSweep(parsed.spec!, { cwd: root, shown });
    expect(renderDiagnostics(result.diagnostics, parsed.sources)).toContain("--grid:2:8: error: lr = 0: tiny.mono:25:38: msgd argument 'lr' expects a positive number, but got 0\n  |\n2 | lr=0.1,0\n  |        ^");
  });
});

const num = (n: number): SweepValue => ({ text: String(n), kind: 'number', number: n, file: 'f', range: { start: { offset: 0, line: 1, column: 1 }, end: { offset: 0, line: 1, column: 1 } } });

describe('random draws', () => {
  propertyTest.prop([fc.integer({ min: -50, max: 50 }), fc.integer({ min: 0, max: 20 }), fc.integer()])('int(a, b) stays in [a, b]', (low, width, seed) => {
    const distribution: Distribution = { kind: 'int', low: num(low), high: num(low + width) };
    const value = Number(draw(distribution, new Rng(seed)));
    expect(Number.isInteger(value) && value >= low && value <= low + width).toBe(true);
  });

  propertyTest.prop([fc.double({ min: 1e-6, max: 1e3, noNaN: true }), fc.double({ min: 1.01, max: 1e4, noNaN: true }), fc.integer()])('log(a, b) stays in [a, b] (to its 4 digits)', (low, ratio, seed) => {
    const value = Number(draw({ kind: 'log', low: num(low), high: num(low * ratio) }, new Rng(seed)));
    expect(value).toBeGreaterThanOrEqual(low * (1 - 1e-3));
    expect(value).toBeLessThanOrEqual(low * ratio * (1 + 1e-3));
  });

  it('log(a, b) spreads over the decades evenly', () => {
    const rng = new Rng(3);
    const values = Array.from({ length: 2000 }, () => Math.log10(Number(draw({ kind: 'log', low: num(1e-4), high: num(1) }, rng))));
    const perDecade = [-4, -3, -2, -1].map((d) => values.filter((v) => v >= d && v < d + 1).length);
    for (const count of perDecade) expect(count).toBeGreaterThan(400);
  });
});
