import { describe, expect, it } from 'vitest';
import schema from '../../src/ir/schema.json' with { type: 'json' };
import { validateIr } from '../../src/ir/validate.js';
import { compileOk, plan } from '../semantics/helpers.js';

describe('validateIr', () => {
  const ir = compileOk(plan());

  it('accepts an IR the compiler emits', () => {
    expect(validateIr(ir)).toEqual({ valid: true, errors: [] });
  });

  it('rejects an unknown op, an extra property and a missing field', () => {
    const broken = structuredClone(ir) as unknown as { nodes: Array<Record<string, unknown>>; phases?: unknown };
    broken.nodes[0]!.op = 'conv3d';
    broken.nodes[1]!.colour = 'red';
    delete broken.phases;
    const result = validateIr(broken);
    expect(result.valid).toBe(false);
    expect(result.errors.join('\n')).toContain('/nodes/0/op');
    expect(result.errors.join('\n')).toContain("'colour'");
    expect(result.errors.join('\n')).toContain("must have required property 'phases'");
  });

  it('rejects a schedule with an unknown type and a bad momentum', () => {
    const broken = structuredClone(ir) as unknown as { phases: Array<{ lr: unknown; optimizer: { momentum?: number } }> };
    broken.phases[0]!.lr = { type: 'sawtooth' };
    broken.phases[0]!.optimizer.momentum = 1.5;
    const result = validateIr(broken);
    expect(result.valid).toBe(false);
    expect(result.errors.some((e) => e.startsWith('/phases/0/lr'))).toBe(true);
    expect(result.errors.some((e) => e.startsWith('/phases/0/optimizer'))).toBe(true);
  });

  it('rejects an empty id, input name or parameter name', () => {
    for (const field of ['id', 'inputs', 'params'] as const) {
      const broken = structuredClone(ir) as unknown as { nodes: Array<Record<string, unknown>> };
      const node = broken.nodes.find((n) => (n.params as string[]).length > 0)!;
      node[field] = field === 'id' ? '' : [''];
      const result = validateIr(broken);
      expect(result.valid, field).toBe(false);
      expect(result.errors.join('\n')).toContain(`/${field}`);
    }
  });

  it('limits string lengths only with minLength 1, where .length and code points agree (unicode: false)', () => {
    const lengths: unknown[] = [];
    const visit = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(visit);
      else if (value !== null && typeof value === 'object')
        for (const [key, inner] of Object.entries(value)) {
          if (key === 'minLength' || key === 'maxLength') lengths.push(`${key}=${String(inner)}`);
          visit(inner);
        }
    };
    visit(schema);
    expect(lengths.length).toBeGreaterThan(0);
    expect(new Set(lengths)).toEqual(new Set(['minLength=1']));
  });

  it('rejects things that are not IRs at all', () => {
    expect(validateIr(null).valid).toBe(false);
    expect(validateIr({}).valid).toBe(false);
  });
});
