/** The schedule's `best METRIC` and a phase's `stop early(...)`: checks and what they lower to. */
import { describe, expect, it } from 'vitest';
import { printPlan } from '../../src/syntax/printer.js';
import { parsePlan } from '../../src/syntax/parse.js';
import { validateIr } from '../../src/ir/validate.js';
import { compileOk, expectDiagnostic, plan } from './helpers.js';

const schedule = (settings: string, p1Settings = '', p2Settings = '') =>
  plan({
    schedule: `schedule {\n${settings}\n  train p1 for 4 epochs with msgd(lr: 0.1) {${p1Settings}}\n  train p2 for 3 epochs with msgd(lr: 0.05) {${p2Settings}}\n}`,
  });

describe('best and stop early', () => {
  it('lower to the IR: the best metric (val_acc by default) and each phase early stop, its monitor defaulting to best', () => {
    const plain = compileOk(plan());
    expect(plain.best).toEqual({ metric: 'val_acc' });
    expect(plain.phases.every((p) => p.earlyStop === undefined)).toBe(true);

    const ir = compileOk(schedule('  best val_loss', ' stop early(patience: 2, restore: true) ', ' stop early(monitor: val_acc, patience: 1, min_delta: 0.01) '));
    expect(ir.best).toEqual({ metric: 'val_loss' });
    expect(ir.phases.map((p) => p.earlyStop)).toEqual([
      { monitor: 'val_loss', patience: 2, minDelta: 0, restore: true },
      { monitor: 'val_acc', patience: 1, minDelta: 0.01, restore: false },
    ]);
    expect(validateIr(ir)).toEqual({ valid: true, errors: [] });
  });

  it('print and parse back unchanged', () => {
    const text = schedule('  best val_loss', ' stop early(patience: 2, restore: true) ');
    const printed = printPlan(parsePlan(text, 'a.mono').plan!);
    expect(printed).toContain('schedule {\n  best val_loss\n  train p1 for 4 epochs with msgd(lr: 0.1) {\n    stop early(patience: 2, restore: true)\n  }');
    expect(printPlan(parsePlan(printed, 'a.mono').plan!)).toBe(printed);
  });

  it('an unknown metric is reported with a suggestion, for best and for monitor', () => {
    expectDiagnostic(schedule('  best val_los'), { code: 'unknown-value', message: "'best' expects one of val_acc, val_loss, but got 'val_los'", at: 'val_los', hint: "did you mean 'val_loss'?" });
    expectDiagnostic(schedule('', ' stop early(monitor: acc, patience: 2) '), { code: 'unknown-value', message: "expects one of val_acc, val_loss, but got 'acc'", at: 'acc,' });
  });

  it('patience must be a whole number >= 1, restore a boolean; patience is required', () => {
    expectDiagnostic(schedule('', ' stop early(patience: 0) '), { code: 'value-out-of-range', message: "early argument 'patience' expects a positive integer, but got 0", at: '0)', occurrence: 'last' });
    expectDiagnostic(schedule('', ' stop early(patience: 1.5) '), { code: 'value-out-of-range', at: '1.5' });
    expectDiagnostic(schedule('', ' stop early(patience: 2, restore: 1) '), { code: 'type-mismatch', message: "'restore' expects true or false", at: '1)', occurrence: 'last' });
    expectDiagnostic(schedule('', ' stop early(restore: true) '), { code: 'missing-argument', at: 'early' });
  });

  it('an unknown stopping rule, a misspelt argument and unknown schedule settings are named, with suggestions', () => {
    expectDiagnostic(schedule('', ' stop erly(patience: 2) '), { code: 'unknown-name', at: 'erly', hint: "did you mean 'early'?" });
    expectDiagnostic(schedule('', ' stop early(patience: 2, restor: true) '), { code: 'unknown-argument', at: 'restor', hint: "did you mean 'restore'?" });
    expectDiagnostic(schedule('  bset val_acc'), { code: 'unknown-setting', message: "unknown schedule setting 'bset'; expected one of best", at: 'bset', hint: "did you mean 'best'?" });
    expectDiagnostic(schedule('  best val_acc\n  best val_loss'), { code: 'duplicate-setting', at: 'best val_loss' });
    expectDiagnostic(schedule('', ' stop early(patience: 2) stop early(patience: 3) '), { code: 'duplicate-setting', at: 'stop early(patience: 3)' });
  });

  it('both need hold-out data', () => {
    const noHoldout = (text: string) => text.replace('{ batch 16 }', '{ batch 16  holdout 0 }');
    expectDiagnostic(noHoldout(schedule('  best val_loss')), { code: 'no-holdout', message: 'holdout 0', at: 'val_loss' });
    expectDiagnostic(noHoldout(schedule('', ' stop early(patience: 2) ')), { code: 'no-holdout', message: 'stop early watches the hold-out accuracy (val_acc)', at: 'early' });
    // Without either, holdout 0 is fine: best.bin is then never written.
    compileOk(noHoldout(plan()));
  });
});
