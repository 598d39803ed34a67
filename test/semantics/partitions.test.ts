import { describe, expect, it } from 'vitest';
import { analyzePlan } from '../../src/semantics/analyze.js';
import { Reporter } from '../../src/semantics/reporter.js';
import { parsePlan } from '../../src/syntax/parse.js';
import { compile, compileOk, expectDiagnostic, plan } from './helpers.js';

const threeSections = (partitions: string) =>
  plan({
    network: 'network input [8, 8, 3] {\n  stem: conv(4, 3)\n  mid: relu\n  late: relu\n  out: global_avg_pool dense(10)\n}',
    partitions,
  });

describe('partitions', () => {
  it('reports overlapping partitions', () => {
    const text = threeSections('partition p1 = stem .. mid proxy gap(10)\npartition p2 = mid .. out');
    expectDiagnostic(text, { code: 'partition-overlap', message: "partition 'p2' overlaps partition 'p1': section 'mid' is in both", at: 'p2' });
  });

  it('reports a section in no partition', () => {
    const text = threeSections('partition p1 = stem proxy gap(10)\npartition p2 = late .. out');
    expectDiagnostic(text, { code: 'partition-gap', message: "section 'mid' is in no partition", at: 'mid:' });
  });

  it('reports partitions declared out of network order', () => {
    const text = threeSections('partition p2 = late .. out proxy gap(10)\npartition p1 = stem .. mid');
    expectDiagnostic(text, { code: 'partition-order', message: "partition 'p1' comes before partition 'p2'", at: 'p1 =' });
  });

  it('reports a range that runs backwards', () => {
    const text = threeSections('partition p1 = mid .. stem proxy gap(10)\npartition p2 = late .. out');
    expectDiagnostic(text, { code: 'partition-range-reversed', at: 'stem proxy' });
  });

  it('needs a proxy head on every partition but the last', () => {
    const text = threeSections('partition p1 = stem .. mid\npartition p2 = late .. out');
    expectDiagnostic(text, { code: 'missing-proxy', message: "partition 'p1' needs a proxy head", at: 'p1' });
  });

  it('warns about a proxy on the last partition and ignores it', () => {
    const text = threeSections('partition p1 = stem .. mid proxy gap(10)\npartition p2 = late .. out proxy gap(10)');
    expectDiagnostic(text, { code: 'proxy-on-last-partition', severity: 'warning', at: 'gap(10)', occurrence: 2 });
    const ir = compile(text).ir!;
    expect(ir.partitions[1]!.head).toBeUndefined();
  });

  it('gives a plan without partitions one implicit partition over everything', () => {
    const ir = compileOk(plan({ partitions: '', schedule: 'schedule { train main for 1 epoch with msgd(lr: 0.1) }' }));
    expect(ir.partitions.map((p) => [p.name, p.sections, p.head])).toEqual([['main', ['stem', 'stage1', 'out'], undefined]]);
    expect(ir.phases[0]).toMatchObject({ name: 'main', head: 'network', frozen: [], trainable: ['main'] });
  });
});

describe('phases', () => {
  it('reports an unknown partition with a suggestion', () => {
    const text = plan({ schedule: 'schedule { train p3 for 1 epoch with msgd(lr: 0.1) }' });
    expectDiagnostic(text, { code: 'unknown-partition', at: 'p3', hint: "did you mean 'p1'?" });
  });

  it('wants finetune all (checked on the AST: the parser accepts only `all` already)', () => {
    const { plan: ast } = parsePlan(plan({ schedule: 'schedule { finetune all for 1 epoch with msgd(lr: 0.1) }' }), 'plan.mono');
    const schedule = ast!.declarations.find((declaration) => declaration.kind === 'Schedule')!;
    if (schedule.kind !== 'Schedule') throw new Error('no schedule');
    schedule.phases[0]!.target.name = 'p1';
    const reporter = new Reporter('plan.mono');
    expect(analyzePlan(ast!, new Map(), reporter)).toBeUndefined();
    expect(reporter.diagnostics.map((d) => [d.code, d.hint])).toEqual([['finetune-target', "did you mean 'all'?"]]);
  });

  it('wants a positive integer of epochs', () => {
    expectDiagnostic(plan({ schedule: 'schedule { train p1 for 0 epochs with msgd(lr: 0.1) }' }), { code: 'value-out-of-range', message: 'epochs expects a positive integer', at: '0 epochs' });
    expectDiagnostic(plan({ schedule: 'schedule { train p1 for 1.5 epochs with msgd(lr: 0.1) }' }), { code: 'value-out-of-range', at: '1.5' });
  });

  it('reports an unknown optimizer and an unknown phase setting', () => {
    const text = plan({ schedule: 'schedule {\n  train p1 for 1 epoch with msdg(lr: 0.1)\n  train p2 for 1 epoch with msgd(lr: 0.1) { lrr cosine }\n}' });
    expectDiagnostic(text, { code: 'unknown-optimizer', at: 'msdg', hint: "did you mean 'msgd'?" });
    expectDiagnostic(text, { code: 'unknown-setting', at: 'lrr', hint: "did you mean 'lr'?" });
  });

  it('warns when a partition is trained before the ones it depends on', () => {
    const text = plan({ schedule: 'schedule { train p2 for 1 epoch with msgd(lr: 0.1) }' });
    expectDiagnostic(text, { code: 'phase-order', severity: 'warning', at: 'p2 for' });
  });

  it('names repeated phases with #n', () => {
    const ir = compileOk(plan({ schedule: 'schedule {\n  train p1 for 1 epoch with msgd(lr: 0.1)\n  train p1 for 1 epoch with msgd(lr: 0.01)\n  train p2 for 1 epoch with msgd(lr: 0.1)\n}' }));
    expect(ir.phases.map((phase) => phase.name)).toEqual(['p1', 'p1#2', 'p2']);
  });
});
