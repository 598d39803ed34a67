import { describe, expect, it } from 'vitest';
import { renderDiagnostic } from '../../src/diagnostics/render.js';
import { validateIr } from '../../src/ir/validate.js';
import { compile, compileOk, expectDiagnostic, FILE } from './helpers.js';

/** A plan of STDP features (spikes, one conv of binary units, pooling) and a classifier; parts replaceable. */
function stdpPlan(parts: { features?: string; partitions?: string; phases?: string; head?: string } = {}): string {
  return [
    'plan s',
    'data synthetic(examples: 64, classes: 3) { batch 16 holdout 16 }',
    parts.head ?? '',
    'network input [8, 8, 1] {',
    '  spikes: binary',
    `  features: ${parts.features ?? 'conv(4, 3, padding: valid, init: stdp_normal) binary(threshold: 2) maxpool'}`,
    '  out: flatten dense(3)',
    '}',
    parts.partitions ?? 'partition f = spikes .. features\npartition c = out',
    'schedule {',
    parts.phases ?? '  train f for 1 epoch with stdp(a_plus: 0.01, winners: 2, batch: 4)\n  train c for 2 epochs with msgd(lr: 0.1)',
    '}',
    '',
  ].join('\n');
}

describe('stdp phases', () => {
  it('compile to an stdp optimizer without head, the paper defaults filled in, and a valid IR', () => {
    const ir = compileOk(stdpPlan({ phases: '  train f for 1 epoch with stdp\n  train c for 2 epochs with msgd(lr: 0.1)' }));
    expect(ir.phases[0]).toMatchObject({
      name: 'f',
      head: 'none',
      optimizer: { type: 'stdp', aPlus: 0.002, aMinus: 0.0015, growth: 2, growthEvery: 500, aMax: 0.15, winners: null, batch: 1 },
    });
    expect(ir.parameters.find((p) => p.name === 'features.conv1.kernel')?.init).toBe('stdp_normal');
    expect(ir.nodes.find((n) => n.id === 'features.binary1')?.attrs['threshold']).toBe(2);
    expect(ir.partitions[0]!.head).toBeUndefined();
    expect(validateIr(ir)).toEqual({ valid: true, errors: [] });
  });

  it('take their arguments: a_minus given, growth, every, winners, batch', () => {
    const ir = compileOk(stdpPlan({ phases: '  train f for 1 epoch with stdp(a_plus: 0.01, a_minus: 0.02, growth: 1, every: 10, a_max: 0.5, winners: 2, batch: 4)\n  train c for 1 epoch with msgd(lr: 0.1)' }));
    expect(ir.phases[0]!.optimizer).toEqual({ type: 'stdp', aPlus: 0.01, aMinus: 0.02, growth: 1, growthEvery: 10, aMax: 0.5, winners: 2, batch: 4 });
  });

  it('report a partition with a proxy head, with a caret under the head and a hint', () => {
    const text = stdpPlan({ head: 'head probe { flatten dense(3) }', partitions: 'partition f = spikes .. features proxy probe\npartition c = out' });
    const diagnostic = expectDiagnostic(text, { code: 'stdp-proxy-head', at: 'probe\npartition' });
    expect(renderDiagnostic(diagnostic, text)).toBe(
      [
        "plan.mono:9:40: error: partition 'f' has a proxy head, but stdp learns without labels or loss: the head would never be trained",
        '  |',
        '9 | partition f = spikes .. features proxy probe',
        '  |                                        ^^^^^',
        "  hint: remove 'proxy probe(...)' from partition 'f'; the next partition's phase trains the classifier",
      ].join('\n'),
    );
  });

  it('report a conv without binary units after it, at the conv', () => {
    const text = stdpPlan({ features: 'conv(4, 3, padding: valid, init: stdp_normal) relu maxpool' });
    const diagnostic = expectDiagnostic(text, { code: 'stdp-needs-binary', at: 'conv(4, 3' });
    expect(renderDiagnostic(diagnostic, text).split('\n')).toEqual([
      'plan.mono:6:13: error: stdp learns from the spikes of binary units, but features/conv#1 is not followed by binary',
      '  |',
      '6 |   features: conv(4, 3, padding: valid, init: stdp_normal) relu maxpool',
      '  |             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^',
      '  hint: put binary(threshold: T) right after the conv: the units fire when conv(x) >= T',
    ]);
    // The relu is a layer the rule cannot train, reported on its own.
    expectDiagnostic(text, { code: 'stdp-layer', at: 'relu', message: 'holds relu' });
  });

  it('report layers the rule cannot train (bn, dense), each at its layer', () => {
    const text = stdpPlan({ features: 'conv(4, 3, init: stdp_normal) bn binary(threshold: 2) maxpool' });
    expectDiagnostic(text, { code: 'stdp-layer', at: 'bn', message: 'holds bn' });
  });

  it('report kernels outside [0, 1], a bias, and input that is not spikes', () => {
    expectDiagnostic(stdpPlan({ features: 'conv(4, 3) binary(threshold: 2)' }), { code: 'stdp-init', at: 'conv(4, 3)', hint: "write init: stdp_normal (N(0.8, 0.01^2), the paper's start)" });
    expectDiagnostic(stdpPlan({ features: 'conv(4, 3, bias: true, init: stdp_normal) binary(threshold: 2)' }), { code: 'stdp-conv-bias', at: 'conv(4, 3' });
    // A conv straight on the network's input reads pixels, not spikes.
    const text = [
      'plan s',
      'data synthetic(examples: 64, classes: 3) { batch 16 holdout 16 }',
      'network input [8, 8, 1] {',
      '  features: conv(4, 3, init: stdp_normal) binary(threshold: 2)',
      '  out: flatten dense(3)',
      '}',
      'partition f = features',
      'partition c = out',
      'schedule {',
      '  train f for 1 epoch with stdp',
      '  train c for 1 epoch with msgd(lr: 0.1)',
      '}',
    ].join('\n');
    expectDiagnostic(text, { code: 'stdp-input-not-spikes', at: 'conv(4, 3', message: "reads the network's input" });
  });

  it('report finetune all, the last partition, and gradient settings', () => {
    expectDiagnostic(stdpPlan({ phases: '  train f for 1 epoch with stdp\n  finetune all for 1 epoch with stdp' }), { code: 'stdp-finetune', at: 'stdp', occurrence: 'last' });
    expectDiagnostic(stdpPlan({ phases: '  train f for 1 epoch with stdp\n  train c for 1 epoch with stdp' }), { code: 'stdp-last-partition', at: 'c for' });
    const text = stdpPlan({ phases: '  train f for 1 epoch with stdp { lr cosine(to: 0.001) }\n  train c for 1 epoch with msgd(lr: 0.1)' });
    expectDiagnostic(text, { code: 'stdp-setting', at: 'lr cosine', message: "'lr' does not apply to an stdp phase" });
  });

  it('check the ranges of the rule: rates in (0, 1], batch within the data batch', () => {
    expectDiagnostic(stdpPlan({ phases: '  train f for 1 epoch with stdp(a_plus: 1.5)\n  train c for 1 epoch with msgd(lr: 0.1)' }), { code: 'value-out-of-range', at: '1.5' });
    expectDiagnostic(stdpPlan({ phases: '  train f for 1 epoch with stdp(growth: 0.5)\n  train c for 1 epoch with msgd(lr: 0.1)' }), { code: 'value-out-of-range', at: '0.5)' });
    expectDiagnostic(stdpPlan({ phases: '  train f for 1 epoch with stdp(batch: 32)\n  train c for 1 epoch with msgd(lr: 0.1)' }), { code: 'stdp-batch', at: '32' });
    expectDiagnostic(stdpPlan({ phases: '  train f for 1 epoch with stdp(a_plus: 0.5, a_max: 0.2)\n  train c for 1 epoch with msgd(lr: 0.1)' }), { code: 'stdp-rates', at: '0.2', severity: 'warning' });
    expectDiagnostic(stdpPlan({ features: 'conv(4, 3, init: stdp_normal) binary maxpool' }), { code: 'stdp-threshold', at: 'binary maxpool', severity: 'warning' });
  });

  it('still want a proxy head on a partition that a gradient phase also trains', () => {
    const text = stdpPlan({ phases: '  train f for 1 epoch with stdp\n  train f for 1 epoch with msgd(lr: 0.1)\n  train c for 1 epoch with msgd(lr: 0.1)' });
    expectDiagnostic(text, { code: 'missing-proxy', at: 'f =' });
  });
});

describe('binary', () => {
  it('writes its threshold into the IR (0 by default)', () => {
    const ir = compileOk(stdpPlan());
    expect(ir.nodes.find((n) => n.id === 'spikes.binary1')?.attrs).toEqual({ tau: 0.5, threshold: 0 });
    expect(compile(stdpPlan()).diagnostics.filter((d) => d.file !== FILE)).toEqual([]);
  });
});

describe('the compile summary of an stdp phase', () => {
  it('names the rule and its schedule, and no loss head', async () => {
    const { summarizeIR, renderSummary } = await import('../../src/summary/index.js');
    const summary = summarizeIR(compileOk(stdpPlan()));
    expect(summary.phases[0]).toMatchObject({ loss: 'none', lr: '-', momentum: '-', optimizer: 'stdp(a+ 0.01, a- 7.5e-3, x2 every 500 images to 0.15, winners 2, batch 4)' });
    expect(renderSummary(summary)).toContain('loss         none (stdp learns without labels)');
  });
});
