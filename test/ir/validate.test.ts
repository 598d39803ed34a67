import { describe, expect, it } from 'vitest';
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

  it('rejects things that are not IRs at all', () => {
    expect(validateIr(null).valid).toBe(false);
    expect(validateIr({}).valid).toBe(false);
  });
});
