import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compilePlan } from '../src/compile.js';

// The README's example plan is the first thing a newcomer copies: it must compile.
describe('README', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const plans = [...readme.matchAll(/```\n(plan [\s\S]*?)```/g)].map((match) => match[1]!);

  it('has an example plan', () => {
    expect(plans.length).toBeGreaterThan(0);
  });

  it.each(plans.map((text, index) => [index, text] as const))('example plan %i compiles without diagnostics', (_, text) => {
    const result = compilePlan(text, 'README.md');
    expect(result.diagnostics).toEqual([]);
    expect(result.ir).toBeDefined();
  });

  it('opens with the set-up-and-run command and the test command', () => {
    const firstBlock = readme.match(/```sh\n([\s\S]*?)```/)?.[1] ?? '';
    expect(firstBlock).toContain('npx mono run plans/quickstart.mono');
    expect(firstBlock).toContain('npm test');
  });
});
