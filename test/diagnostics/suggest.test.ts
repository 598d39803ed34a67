import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { closestName, didYouMean, editDistance } from '../../src/diagnostics/suggest.js';

describe('editDistance', () => {
  it('counts insertions, deletions and substitutions', () => {
    expect(editDistance('conv', 'conv')).toBe(0);
    expect(editDistance('cnov', 'conv')).toBe(1);
    expect(editDistance('ab', 'ba')).toBe(1);
    expect(editDistance('relu', 'rellu')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  test.prop([fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 })])('is symmetric and bounded by the longer length', (a, b) => {
    const d = editDistance(a, b);
    expect(d).toBe(editDistance(b, a));
    expect(d).toBeLessThanOrEqual(Math.max(a.length, b.length));
    expect(d === 0).toBe(a === b);
  });
});

describe('closestName', () => {
  const layers = ['conv', 'dense', 'bn', 'relu', 'global_avg_pool', 'maxpool'];

  it('finds a plausible typo', () => {
    expect(closestName('dnese', layers)).toBe('dense');
    expect(closestName('global_avg_pol', layers)).toBe('global_avg_pool');
    expect(closestName('Relu', layers)).toBe('relu');
  });

  it('suggests nothing for names that are far from every candidate', () => {
    expect(closestName('transformer', layers)).toBeUndefined();
    expect(didYouMean('zzz', layers)).toBeUndefined();
  });

  it('formats the hint', () => {
    expect(didYouMean('stgae1', ['stem', 'stage1', 'stage2'])).toBe("did you mean 'stage1'?");
  });
});
