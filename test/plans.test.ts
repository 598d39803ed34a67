/**
 * The shipped plans: each compiles without a single diagnostic and is in canonical
 * form, and monolithnet has the paper's size (437M parameters within 1%).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compilePlan } from '../src/compile.js';
import { renderDiagnostics } from '../src/diagnostics/render.js';
import { summarizeIR } from '../src/summary/index.js';
import { formatSource } from '../src/syntax/printer.js';

const PLANS_DIR = new URL('../plans/', import.meta.url);
const planFiles = readdirSync(PLANS_DIR).filter((name) => name.endsWith('.mono')).sort();
const read = (name: string) => readFileSync(new URL(name, PLANS_DIR), 'utf8');

function compileOk(name: string, set: Record<string, string> = {}) {
  const text = read(name);
  const result = compilePlan(text, `plans/${name}`, { set });
  expect(renderDiagnostics(result.diagnostics, { [`plans/${name}`]: text })).toBe('');
  return summarizeIR(result.ir!);
}

/**
 * Trainable parameters of the WRN layout in monolithnet.mono, derived by hand:
 * 3x3 convs without bias, BatchNorm gamma + beta, a 1x1 conv + BN projection where
 * the first block of a stage changes width or resolution, a dense classifier with bias.
 */
function wideResNetParams(width: number, depth: number): number {
  const block = (inChannels: number, filters: number, projects: boolean) =>
    9 * inChannels * filters + 2 * filters + 9 * filters * filters + 2 * filters + (projects ? inChannels * filters + 2 * filters : 0);
  let channels = 16;
  let total = 27 * 16 + 2 * 16; // stem conv(16, 3) bn
  for (const [filters, stride] of [[16 * width, 1], [32 * width, 2], [64 * width, 2]] as const) {
    total += block(channels, filters, channels !== filters || stride !== 1) + (depth - 1) * block(filters, filters, false);
    channels = filters;
  }
  return total + channels * 10 + 10;
}

describe('plans/', () => {
  it('ships the plans the docs name', () => {
    for (const name of ['monolithnet', 'quickstart', 'mi-lr', 'layerwise-mi', 'shared-ode', 'momentum-anneal', 'incremental', 'stdp-features'])
      expect(planFiles).toContain(`${name}.mono`);
  });

  it.each(planFiles)('%s compiles with no diagnostics and opens with a comment', (name) => {
    const summary = compileOk(name);
    expect(summary.phases.length).toBeGreaterThan(0);
    expect(read(name)).toMatch(/^#/);
  });

  it.each(planFiles)('%s is formatted (mono fmt --check is clean)', (name) => {
    const text = read(name);
    expect(formatSource(text, name).output).toBe(text);
  });

  it('monolithnet has 437M parameters within 1%, in at least three partitions with proxy heads', () => {
    const summary = compileOk('monolithnet.mono');
    expect(Math.abs(summary.params.total - 437e6) / 437e6).toBeLessThan(0.01);
    expect(summary.params.total).toBe(wideResNetParams(28, 6));
    expect(summary.partitions.length).toBeGreaterThanOrEqual(3);
    expect(summary.partitions.slice(0, -1).every((partition) => partition.head !== null)).toBe(true);
    expect(summary.phases.at(-1)!.kind).toBe('finetune');
  });

  it('monolithnet scales down with --set to a CPU-trainable size', () => {
    const summary = compileOk('monolithnet.mono', { width: '1', depth: '1' });
    expect(summary.params.total).toBe(wideResNetParams(1, 1));
    expect(summary.flopsPerExample).toBeLessThan(50e6);
  });

  it('quickstart stays small enough for two CPU cores', () => {
    const summary = compileOk('quickstart.mono');
    expect(summary.flopsPerExample).toBeLessThan(20e6);
    expect(summary.input).toEqual([28, 28, 1]);
  });

  it('shared-ode keeps its parameter count when the number of steps grows', () => {
    const few = compileOk('shared-ode.mono', { steps: '4' });
    const many = compileOk('shared-ode.mono', { steps: '64' });
    expect(many.params.total).toBe(few.params.total);
    expect(many.layers).toBeGreaterThan(few.layers);
  });
});
