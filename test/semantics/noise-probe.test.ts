import { describe, expect, it } from 'vitest';
import { renderSummary, summarizeIR } from '../../src/summary/index.js';
import { compileOk, expectDiagnostic, plan } from './helpers.js';

const phase = (settings: string, epochs = 10) =>
  plan({ schedule: `schedule {\n  train p1 for ${epochs} epochs with msgd(lr: 0.1) { ${settings} }\n  train p2 for 1 epoch with msgd(lr: 0.1)\n}` });

describe("a phase's 'probe noise(...)'", () => {
  it('lowers to the phase spec with its defaults, and only where it is set', () => {
    const ir = compileOk(phase('probe noise'));
    expect(ir.phases[0]!.noiseProbe).toEqual({ examples: 256, top: 8, every: 1 });
    expect(ir.phases[1]).not.toHaveProperty('noiseProbe');
    expect(compileOk(phase('lr cosine(to: 0.01) probe noise(examples: 512, top: 4, every: 5)')).phases[0]!.noiseProbe).toEqual({ examples: 512, top: 4, every: 5 });
  });

  it.each([
    ['probe noise(examples: 1, top: 1)', 'value-out-of-range', 'the noise probe needs at least 2 examples for a covariance, but got 1', '1, top'],
    ['probe noise(examples: 16, top: 20)', 'value-out-of-range', 'top: 20 asks for more eigenvalues than 16 examples give', '20)'],
    ['probe noise(examples: 2.5)', 'value-out-of-range', "noise argument 'examples' expects a positive integer, but got 2.5", '2.5'],
    ['probe noise(exampels: 300)', 'unknown-argument', "noise has no argument 'exampels'", 'exampels'],
    ['probe nosie', 'unknown-name', "unknown probe 'nosie'; expected one of noise", 'nosie'],
    ['probe 3', 'type-mismatch', "'probe' expects probe (noise), but got 3", '3 }'],
  ])('%s: %s at its value', (settings, code, message, at) => {
    expectDiagnostic(phase(settings), { code, message, at, occurrence: 'last' });
  });

  it('names a misspelt setting with a did-you-mean', () => {
    expectDiagnostic(phase('prob noise'), { code: 'unknown-setting', at: 'prob noise', hint: "did you mean 'probe'?" });
  });

  it('warns when every is longer than the phase', () => {
    expectDiagnostic(phase('probe noise(every: 20)'), { code: 'probe-every', severity: 'warning', at: '20)', message: 'the probe runs once, after the last epoch' });
  });

  it('is shown in the dry run with its epochs and the memory of the per-example gradients', () => {
    const ir = compileOk(phase('probe noise(examples: 300, every: 4)'));
    const text = renderSummary(summarizeIR(ir));
    const row = text.split('\n').find((line) => line.includes('noise probe'));
    const params = summarizeIR(ir).phases[0]!.trainableParams;
    expect(row).toContain('300 examples after epochs 4, 8 and 10, top 8 eigenvalues; per-example gradients');
    expect(summarizeIR(ir).phases[0]!.noiseProbe!.gradientBytes).toBe(300 * params * 4);
  });
});
