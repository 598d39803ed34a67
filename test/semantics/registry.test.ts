import { describe, expect, it } from 'vitest';
import { createCheckRegistry } from '../../src/semantics/checks/index.js';
import { CheckRegistry } from '../../src/semantics/registry.js';
import type { AstNode } from '../../src/syntax/ast.js';
import { parsePlan } from '../../src/syntax/parse.js';
import { walk } from '../../src/syntax/walk.js';
import { compile, plan, positionOf } from './helpers.js';

describe('checks run per node', () => {
  it('visits every node of the plan, expressions included, parents first', () => {
    const text = plan();
    const parsed = parsePlan(text, 'plan.mono').plan!;
    const kinds = new Map<string, number>();
    const order: AstNode[] = [];
    walk(parsed, (node) => {
      kinds.set(node.kind, (kinds.get(node.kind) ?? 0) + 1);
      order.push(node);
    });
    for (const kind of ['Plan', 'Param', 'Data', 'Block', 'Head', 'Network', 'Section', 'Partition', 'Schedule', 'Phase', 'Setting', 'LayerCall', 'Residual', 'Argument', 'Number', 'Ref', 'Binary', 'List', 'Call', 'Identifier']) {
      expect(kinds.get(kind), kind).toBeGreaterThan(0);
    }
    // Nodes come in source order: each starts at or after the one before it.
    for (let i = 1; i < order.length; i++) expect(order[i]!.loc.start.offset).toBeGreaterThanOrEqual(order[i - 1]!.loc.start.offset);
  });

  it('a check registered for a node kind below the declarations runs on each such node', () => {
    const seen: string[] = [];
    const checks = createCheckRegistry().register('Binary', function recordBinary(node) {
      seen.push(`${node.loc.start.line}:${node.loc.start.column}`);
    });
    const text = plan();
    compile(text, { checks });
    const { line, column } = positionOf(text, '2 * width');
    expect(seen).toEqual([`${line}:${column}`]);
  });

  it('a check that throws becomes one internal-error naming the check and the node; the other checks still report', () => {
    const checks = createCheckRegistry().register('LayerCall', function brokenCheck(call) {
      if (call.callee.name === 'relu') throw new Error('boom');
    });
    // An unknown layer too, reported by a built-in check that runs on the same nodes.
    const text = plan({ network: 'network input [8, 8, 3] {\n  stem: conv(width, 3) bn relu\n  stage1: basic(width) basci(4)\n  out: global_avg_pool dense(10)\n}' });
    const result = compile(text, { checks });
    const internal = result.diagnostics.filter((d) => d.code === 'internal-error');
    expect(internal).toHaveLength(1);
    // `relu` appears first inside block basic, whose body is walked before the network.
    const { line, column } = positionOf(text, 'relu');
    expect(internal[0]!.message).toBe(`internal error in check 'brokenCheck' on the LayerCall at ${line}:${column}: boom`);
    expect(internal[0]!.range.start).toMatchObject({ line, column });
    expect(result.diagnostics.map((d) => d.code)).toContain('unknown-layer');
    expect(result.ir).toBeUndefined();
  });

  it('a throwing check leaves a valid plan without an IR, and the built-in checks unaffected', () => {
    const checks = new CheckRegistry().register('Plan', function planCheck() {
      throw new TypeError('cannot read x');
    });
    const result = compile(plan(), { checks });
    expect(result.diagnostics.map((d) => [d.code, d.message])).toEqual([['internal-error', "internal error in check 'planCheck' on the Plan at 1:1: cannot read x"]]);
    expect(result.ir).toBeUndefined();
    // The default registry was not changed by the tests above.
    expect(compile(plan()).ir).toBeDefined();
  });
});
