import { describe, expect, it } from 'vitest';
import { compilePlan } from '../../src/compile.js';
import { ExpansionTrace } from '../../src/semantics/trace.js';
import type { LayerCall, Plan } from '../../src/syntax/ast.js';
import { walk } from '../../src/syntax/walk.js';
import { plan } from './helpers.js';

function calls(parsed: Plan, name: string): LayerCall[] {
  const found: LayerCall[] = [];
  walk(parsed, (node) => {
    if (node.kind === 'LayerCall' && node.callee.name === name) found.push(node);
  });
  return found;
}

describe('expansion trace', () => {
  const text = plan();
  const trace = new ExpansionTrace();
  const result = compilePlan(text, 'plan.mono', { trace });
  const parsed = result.plan!;

  it('records the nodes of a block use, which are the IR nodes of that instance', () => {
    const [, second] = calls(parsed, 'basic');
    const expansion = trace.items.get(second!)!;
    expect(expansion.instances).toBe(1);
    const ids = expansion.nodes[0]!.map((node) => node.id);
    expect(ids).toEqual(result.ir!.nodes.filter((node) => node.id.startsWith('stage1.basic2.')).map((node) => node.id));
    expect(expansion.outputs).toEqual([[4, 4, 8]]);
  });

  it('records a layer inside a block once per use, and a proxy head on its partition', () => {
    const conv = calls(parsed, 'conv').find((call) => call.args.some((arg) => arg.name?.name === 'stride'))!;
    const expansion = trace.items.get(conv)!;
    expect(expansion.instances).toBe(2);
    expect(expansion.outputs).toEqual([[8, 8, 4], [4, 4, 8]]);
    const proxy = calls(parsed, 'gap')[0]!;
    expect(trace.items.get(proxy)?.nodes[0]!.map((node) => node.id)).toEqual(result.ir!.partitions[0]!.head!.nodes.map((node) => node.id));
  });

  it('is filled also when the plan has errors elsewhere, and leaves the result of the compilation as it is', () => {
    const broken = text.replace('finetune all for 1 epoch with adam(lr: 1e-3)', 'finetune all for 1 epoch with adma(lr: 1e-3)');
    const partial = new ExpansionTrace();
    const compiled = compilePlan(broken, 'plan.mono', { trace: partial });
    expect(compiled.diagnostics.map((d) => d.code)).toEqual(['unknown-optimizer']);
    expect(partial.items.size).toBe(trace.items.size);
    expect(compilePlan(text, 'plan.mono')).toEqual({ ...result, plan: expect.anything() });
  });
});
