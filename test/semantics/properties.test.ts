import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePlan } from '../../src/compile.js';
import { validateIr } from '../../src/ir/validate.js';
import { validPlan } from '../support/plan-arbitraries.js';

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

describe('properties of random valid plans', () => {
  it('compile without errors, deterministically, to IRs that pass the schema', () => {
    fc.assert(
      fc.property(validPlan, (text) => {
        const first = compilePlan(text, 'random.mono');
        expect(first.diagnostics.filter((d) => d.severity === 'error'), text).toEqual([]);
        expect(compilePlan(text, 'random.mono')).toEqual(first);
        expect(validateIr(first.ir)).toEqual({ valid: true, errors: [] });
      }),
      { numRuns: 40 },
    );
  });

  it('add up: partition and head parameters make the total, and every node is in exactly one partition', () => {
    fc.assert(
      fc.property(validPlan, (text) => {
        const ir = compilePlan(text, 'random.mono').ir!;
        const total = ir.parameters.filter((p) => p.trainable).reduce((sum, p) => sum + size(p.shape), 0);
        const byPartitions = ir.partitions.reduce((sum, p) => sum + p.params + (p.head?.params ?? 0), 0);
        expect(byPartitions).toBe(total);

        const owners = new Map<string, string[]>();
        for (const partition of ir.partitions)
          for (const id of partition.nodes) owners.set(id, [...(owners.get(id) ?? []), partition.name]);
        for (const node of ir.nodes) expect(owners.get(node.id)).toEqual([node.partition]);
        expect(owners.size).toBe(ir.nodes.length);

        const ids = [...ir.nodes, ...ir.partitions.flatMap((p) => p.head?.nodes ?? [])].map((n) => n.id);
        expect(new Set(ids).size).toBe(ids.length);
      }),
      { numRuns: 40 },
    );
  });
});
