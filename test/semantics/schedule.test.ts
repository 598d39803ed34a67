import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createSchedule } from '../../src/optim/schedule.js';
import { compile, compileOk, expectDiagnostic, plan } from './helpers.js';

const phase = (text: string) => plan({ schedule: `schedule {\n  train p1 for 10 epochs with ${text}\n  train p2 for 1 epoch with msgd(lr: 0.1)\n}` });

describe('optimizer and schedule values', () => {
  it.each([
    ['msgd(lr: -0.1)', "msgd argument 'lr' expects a positive number, but got -0.1", '-0.1'],
    ['msgd(lr: 0)', 'expects a positive number', '0)'],
    ['msgd(lr: 0.1, momentum: 1.0)', "msgd argument 'momentum' expects a number in [0, 1), but got 1", '1.0'],
    ['msgd(lr: 0.1, decay: -1)', "'decay' expects a number >= 0", '-1'],
    ['adam(beta2: 1.5)', "'beta2' expects a number in [0, 1)", '1.5'],
    ['rmsprop(lr: 0.01, rho: 1.0)', "rmsprop argument 'rho' expects a number in [0, 1), but got 1", '1.0)'],
    ['rmsprop(lr: 0.01, eps: 0)', "rmsprop argument 'eps' expects a positive number", '0)'],
    ['rmsprop(lr: 0.01, momentum: -0.5)', "rmsprop argument 'momentum' expects a number in [0, 1)", '-0.5'],
    ['msgd(lr: 0.1) { lr step(every: 3, factor: 2) }', "step argument 'factor' expects a number in (0, 1]", '2)'],
    ['msgd(lr: 0.1) { momentum anneal(to: 0.5, from: 120%) }', "anneal argument 'from' expects a number in [0, 1]", '120%'],
    ['msgd(lr: 0.1) { momentum cosine(to: 1.5) }', "momentum cosine argument 'to' expects a number in [0, 1)", '1.5'],
    ['msgd(lr: 0.1) { lr exponential(gamma: 0) }', "'gamma' expects a number in (0, 1]", '0)'],
  ])('%s', (optimizer, message, at) => {
    expectDiagnostic(phase(optimizer), { code: 'value-out-of-range', message, at, occurrence: 'last' });
  });

  it('reports mi bounds in the wrong order, at min', () => {
    expectDiagnostic(phase('msgd(lr: mi(max: 0.001, min: 0.1))'), { code: 'invalid-bounds', message: 'mi min (0.1) is greater than max (0.001)', at: '0.1))', occurrence: 'last' });
  });

  it('reports an lr-only schedule used for momentum', () => {
    expectDiagnostic(phase('msgd(lr: 0.1) { momentum mi(max: 0.9, min: 0.5) }'), { code: 'lr-only-schedule', at: 'mi(', occurrence: 'last' });
  });

  it('reports a momentum schedule for an optimizer without momentum', () => {
    expectDiagnostic(phase('sgd(lr: 0.1) { momentum cosine }'), { code: 'no-momentum', message: 'sgd has no momentum', at: 'momentum cosine', occurrence: 'last' });
  });

  it('lets rmsprop take a momentum schedule, as msgd, but not adam', () => {
    const ir = compileOk(phase('rmsprop(lr: 0.01, momentum: 0.9) { momentum anneal(to: 0.5, from: 50%) }'));
    expect(ir.phases[0]!.optimizer).toEqual({ type: 'rmsprop', lr: 0.01, rho: 0.9, epsilon: 1e-7, momentum: 0.9, weightDecay: 0 });
    expect(ir.phases[0]!.momentum).toMatchObject({ type: 'anneal', to: 0.5 });
    expectDiagnostic(phase('adam(lr: 0.01) { momentum cosine }'), { code: 'no-momentum', message: 'adam has no momentum to schedule (it uses beta1)', at: 'momentum cosine', occurrence: 'last' });
  });

  it('resolves rmsprop with its defaults and an MI-driven lr', () => {
    const ir = compileOk(phase('rmsprop(lr: mi(max: 0.003, min: 1e-4), rho: 0.95, eps: 1e-8, decay: 1e-4)'));
    expect(ir.phases[0]!.optimizer).toEqual({ type: 'rmsprop', lr: 0.003, rho: 0.95, epsilon: 1e-8, momentum: 0, weightDecay: 1e-4 });
    expect(ir.phases[0]!.lr.type).toBe('mi');
    expect(compileOk(phase('rmsprop')).phases[0]!.optimizer).toEqual({ type: 'rmsprop', lr: 1e-3, rho: 0.9, epsilon: 1e-7, momentum: 0, weightDecay: 0 });
  });

  it('reports an unknown schedule with a suggestion', () => {
    expectDiagnostic(phase('msgd(lr: 0.1) { lr cosin(to: 0) }'), { code: 'unknown-name', message: "unknown schedule 'cosin'", at: 'cosin', hint: "did you mean 'cosine'?" });
  });

  it('reports a schedule setting given twice', () => {
    expectDiagnostic(phase('msgd(lr: 0.1) { lr cosine lr linear(to: 0) }'), { code: 'duplicate-setting', at: 'lr linear', occurrence: 'last' });
  });

  it('refuses a layerwise lr behind a warmup, where it would lose its per-partition groups', () => {
    expectDiagnostic(phase('msgd(lr: 0.1) { lr warmup(epochs: 1, then: layerwise(mi)) }'), { code: 'unknown-name', message: "unknown schedule 'layerwise'", at: 'layerwise(mi)', occurrence: 'last' });
  });

  it('reports non-increasing multistep milestones', () => {
    expectDiagnostic(phase('msgd(lr: 0.1) { lr multistep(milestones: [5, 3]) }'), { code: 'invalid-milestones', at: '[5, 3]', occurrence: 'last' });
  });

  it('resolves optimizers with their defaults and schedules', () => {
    const ir = compileOk(
      plan({
        schedule: [
          'schedule {',
          '  train p1 for 10 epochs with msgd(lr: 0.1, lars: 0.001) { lr warmup(epochs: 2, then: cosine(to: 1e-3)) momentum anneal(to: 0.5, from: 80%) lr_mult "stem.*", 0.1 }',
          '  train p2 for 4 epochs with sgd(lr: mi(max: 0.1, min: 1e-3, threshold: 0.02)) { lr_mult stage1, 2 }',
          '  finetune all for 1 epoch with adam { lr onecycle(peak: 0.01) }',
          '}',
        ].join('\n'),
      }),
    );
    const [p1, p2, finetune] = ir.phases;
    expect(p1).toMatchObject({
      name: 'p1',
      kind: 'train',
      partition: 'p1',
      frozen: [],
      trainable: ['p1'],
      head: 'proxy',
      optimizer: { type: 'msgd', lr: 0.1, momentum: 0.9, weightDecay: 0, lars: { eta: 0.001 } },
      lr: { type: 'warmup', epochs: 2, from: 0, then: { type: 'cosine', to: 1e-3 } },
      momentum: { type: 'anneal', to: 0.5, from: 0.8, shape: 'linear' },
      lrMultipliers: [{ pattern: 'stem.*', factor: 0.1 }],
    });
    expect(p2).toMatchObject({
      frozen: ['p1'],
      head: 'network',
      optimizer: { type: 'sgd', lr: 0.1, momentum: 0, weightDecay: 0, lars: null },
      lr: { type: 'mi', max: 0.1, min: 1e-3, threshold: 0.02, start: null, boundsFrom: 'plan' },
      momentum: { type: 'constant' },
      lrMultipliers: [{ pattern: 'stage1', factor: 2 }],
    });
    expect(finetune).toMatchObject({
      name: 'finetune',
      kind: 'finetune',
      partition: null,
      trainable: ['p1', 'p2'],
      head: 'network',
      optimizer: { type: 'adam', lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weightDecay: 0 },
      lr: { type: 'onecycle', peak: 0.01, pct: 0.3, end: 1e-7 },
    });
  });

  it("momentum onecycle(peak) returns to the base momentum by default, as plans/momentum-anneal.mono says (0.95 -> 0.85 -> 0.95)", () => {
    const result = compile(readFileSync(new URL('../../plans/momentum-anneal.mono', import.meta.url), 'utf8'));
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const p2 = result.ir!.phases.find((p) => p.name === 'p2')!;
    expect(p2.momentum).toEqual({ type: 'onecycle', peak: 0.85, pct: 0.3, end: 0.95 });
    // The lr's one-cycle still ends far below its start.
    expect(p2.lr).toEqual({ type: 'onecycle', peak: 0.1, pct: 0.3, end: 0.01 / 1e4 });
    const momentum = createSchedule(p2.momentum, 0.95, p2.epochs);
    expect(momentum.valueAt(0)).toBe(0.95);
    expect(momentum.valueAt(0.3 * p2.epochs)).toBeCloseTo(0.85, 12);
    expect(momentum.valueAt(p2.epochs)).toBeCloseTo(0.95, 12);
    // The last step of the phase is already close to the end value.
    expect(momentum.valueAt(p2.epochs - 0.01)).toBeGreaterThan(0.9499);
  });

  it('keeps an explicit momentum onecycle end, and the lr default end base/1e4', () => {
    const ir = compileOk(phase('msgd(lr: 0.1, momentum: 0.9) { lr onecycle(peak: 1) momentum onecycle(peak: 0.8, end: 0.5) }'));
    expect(ir.phases[0]!.momentum).toEqual({ type: 'onecycle', peak: 0.8, pct: 0.3, end: 0.5 });
    expect(ir.phases[0]!.lr).toEqual({ type: 'onecycle', peak: 1, pct: 0.3, end: 0.1 / 1e4 });
  });

  it('gives layerwise(mi) the optimizer lr as max and max/100 as min by default', () => {
    const ir = compileOk(phase('msgd(lr: 0.2) { lr layerwise(mi) }'));
    expect(ir.phases[0]!.lr).toEqual({ type: 'layerwise', by: 'mi', max: 0.2, min: 0.002, threshold: 0.01 });
  });

  it('warns about an lr_mult glob that matches nothing', () => {
    expectDiagnostic(phase('msgd(lr: 0.1) { lr_mult "stage1/*", 0.1 }'), { code: 'lr-mult-no-match', severity: 'warning', at: '"stage1/*"', occurrence: 'last' });
  });
});
