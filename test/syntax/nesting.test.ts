// The nesting limit (docs/language.md, "Nesting limit"): a plan nested deeper than
// MAX_NESTING gets one `nesting-too-deep` diagnostic at the token that opens the level
// too many, never a stack overflow; every plan within the limit passes every stage.
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePlan, type CompileResult } from '../../src/compile.js';
import { MAX_EXPANSION_DEPTH } from '../../src/semantics/expand.js';
import { MAX_NESTING } from '../../src/syntax/parser.js';
import { formatSource } from '../../src/syntax/printer.js';
import { runMono } from '../support/cli-process.js';

/** One level of nesting as text around an inner part; `openers` are offsets of its level tokens in `before`/`after`. */
interface Wrapper {
  kind: string;
  before: string;
  after: string;
  /** Levels this wrapper opens, outside in, with the offset of each opener and whether it is an operator. */
  levels: { in: 'before' | 'after'; offset: number; operator: boolean }[];
}

const paren: Wrapper = { kind: 'paren', before: '(', after: ')', levels: [{ in: 'before', offset: 0, operator: false }] };
const list: Wrapper = { kind: 'list', before: '[', after: ']', levels: [{ in: 'before', offset: 0, operator: false }] };
const minus: Wrapper = { kind: 'minus', before: '-', after: '', levels: [{ in: 'before', offset: 0, operator: false }] };
const call: Wrapper = { kind: 'call', before: 'max(', after: ', 1)', levels: [{ in: 'before', offset: 3, operator: false }] };
/** `X + 1 + 1 ...` (k operators, X the first operand, so k levels deep). */
function chain(k: number, op: '+' | '*'): Wrapper {
  const after = ` ${op} 1`.repeat(k);
  return { kind: 'chain', before: '', after, levels: Array.from({ length: k }, (_, i) => ({ in: 'after' as const, offset: i * 4 + 1, operator: true })) };
}
const residual: Wrapper = { kind: 'residual', before: 'residual { ', after: ' }', levels: [{ in: 'before', offset: 9, operator: false }] };
const repeatBare: Wrapper = { kind: 'repeat', before: 'repeat 1 ', after: '', levels: [{ in: 'before', offset: 0, operator: false }] };
const repeatBraced: Wrapper = {
  kind: 'repeat{}',
  before: 'repeat 1 { ',
  after: ' }',
  levels: [
    { in: 'before', offset: 0, operator: false },
    { in: 'before', offset: 9, operator: false },
  ],
};

/** A chain directly inside a chain or a unary minus would merge or bind differently: parenthesize it. */
function normalize(wrappers: Wrapper[]): Wrapper[] {
  const out: Wrapper[] = [];
  for (const w of wrappers) {
    const outer = out[out.length - 1];
    if (w.kind === 'chain' && outer !== undefined && (outer.kind === 'chain' || outer.kind === 'minus')) out.push(paren);
    out.push(w);
  }
  return out;
}

interface Built {
  text: string;
  /** Offset of the token where the nesting passes the limit, or undefined within it. */
  expectedAt: number | undefined;
}

/**
 * The plan text with `layers` wrapped around `conv(EXPR, 3)` and `expression` around
 * `2` (the conv's filters), and where the diagnostic must be: the parser's levels
 * (operators aside) are checked first, then the full count top-down, where a chain
 * too long for its depth is reported at its first operator past the limit.
 */
function build(layers: Wrapper[], expression: Wrapper[]): Built {
  const head = 'plan p\nnetwork input [4, 4, 1] {\n  a: ';
  const all = [...layers, { kind: 'conv', before: 'conv(', after: ', 3)', levels: [{ in: 'before' as const, offset: 4, operator: false }] }, ...normalize(expression)];
  let text = head;
  const prefixStart: number[] = [];
  for (const w of all) {
    prefixStart.push(text.length);
    text += w.before;
  }
  text += '2';
  const suffixStart: number[] = new Array<number>(all.length);
  for (let i = all.length - 1; i >= 0; i--) {
    suffixStart[i] = text.length;
    text += all[i]!.after;
  }
  text += ' global_avg_pool dense(2)\n}\n';
  const at = (i: number, level: Wrapper['levels'][number]) => (level.in === 'before' ? prefixStart[i]! : suffixStart[i]!) + level.offset;

  let parserDepth = 0;
  for (let i = 0; i < all.length; i++) {
    for (const level of all[i]!.levels) {
      if (level.operator) continue;
      if (++parserDepth > MAX_NESTING) return { text, expectedAt: at(i, level) };
    }
  }
  let depth = 0;
  for (let i = 0; i < all.length; i++) {
    const levels = all[i]!.levels;
    if (all[i]!.kind === 'chain') {
      if (depth + levels.length > MAX_NESTING) return { text, expectedAt: at(i, levels[MAX_NESTING - depth]!) };
      depth += levels.length;
      continue;
    }
    for (const level of levels) if (++depth > MAX_NESTING) return { text, expectedAt: at(i, level) };
  }
  return { text, expectedAt: undefined };
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  return { line: before.split('\n').length, column: offset - before.lastIndexOf('\n') };
}

function expectNesting(result: CompileResult, text: string, expectedAt: number | undefined): void {
  const codes = result.diagnostics.map((d) => d.code);
  expect(codes.filter((c) => c.startsWith('internal'))).toEqual([]);
  const nesting = result.diagnostics.filter((d) => d.code === 'nesting-too-deep');
  if (expectedAt === undefined) {
    expect(nesting).toEqual([]);
    return;
  }
  expect(nesting).toHaveLength(1);
  expect(nesting[0]!.message).toContain(`nests deeper than ${MAX_NESTING} levels`);
  expect(nesting[0]!.range.start).toMatchObject({ offset: expectedAt, ...lineColumn(text, expectedAt) });
}

const repeatN = <T>(n: number, w: T): T[] => Array.from({ length: n }, () => w);

describe('nesting limit', () => {
  it.each([
    ['parentheses', [], [paren]],
    ['lists', [], [list]],
    ['unary minus', [], [minus]],
    ['call arguments', [], [call]],
    ['residual bodies', [residual], []],
    ['bare repeats', [repeatBare], []],
  ] as const)('%s: the deepest accepted plan compiles; one level more is reported at its opener', (_name, layer, expression) => {
    // conv( is one level: the rest of the limit goes to the construct under test.
    const fill = (n: number) => build(repeatN(layer.length > 0 ? n : 0, layer[0]!), repeatN(expression.length > 0 ? n : 0, expression[0]!));
    const deepest = fill(MAX_NESTING - 1);
    expect(deepest.expectedAt).toBeUndefined();
    expectNesting(compilePlan(deepest.text, 'deep.mono'), deepest.text, undefined);
    expect(formatSource(deepest.text, 'deep.mono').diagnostics.filter((d) => d.code !== 'nesting-too-deep')).toEqual([]);
    const over = fill(MAX_NESTING);
    expect(over.expectedAt).toBeDefined();
    expectNesting(compilePlan(over.text, 'deep.mono'), over.text, over.expectedAt);
  });

  it('a chain of operators nests one level per operator: 63 + operators pass inside conv(, 64 do not', () => {
    const ok = build([], [chain(MAX_NESTING - 1, '+')]);
    const result = compilePlan(ok.text, 'chain.mono');
    expect(result.ir?.nodes[0]!.attrs['filters']).toBe(2 + (MAX_NESTING - 1));
    const over = build([], [chain(MAX_NESTING, '*')]);
    expectNesting(compilePlan(over.text, 'chain.mono'), over.text, over.expectedAt);
  });

  it('the deepest accepted residual nesting compiles to an IR and formats', () => {
    const deepest = build(repeatN(MAX_NESTING - 1, residual), []);
    const result = compilePlan(deepest.text, 'deep.mono');
    expect(result.ir!.nodes.filter((n) => n.op === 'add')).toHaveLength(MAX_NESTING - 1);
    expect(formatSource(deepest.text, 'deep.mono').output).toContain('residual {');
  });

  it.each([
    ['5,000 nested parentheses', build([], repeatN(5000, paren))],
    ['5,000 unary minus signs', build([], repeatN(5000, minus))],
    ['5,000 nested residual blocks', build(repeatN(5000, residual), [])],
    ['5,000 bare repeats', build(repeatN(5000, repeatBare), [])],
    ['a chain of 20,000 operators', build([], [chain(20000, '+')])],
  ])('%s: a diagnostic at the limit, not a stack overflow', (_name, plan) => {
    expectNesting(compilePlan(plan.text, 'deep.mono'), plan.text, plan.expectedAt);
    expect(formatSource(plan.text, 'deep.mono').diagnostics.map((d) => d.code)).toEqual(['nesting-too-deep']);
  });

  it('mixed nesting of every kind: reported exactly where the count passes the limit, else accepted', () => {
    const expressionWrapper = fc.oneof(
      fc.constantFrom(paren, list, minus, call),
      fc.tuple(fc.integer({ min: 1, max: 40 }), fc.constantFrom<'+' | '*'>('+', '*')).map(([k, op]) => chain(k, op)),
    );
    const layerWrapper = fc.constantFrom(residual, repeatBare, repeatBraced);
    fc.assert(
      fc.property(fc.array(layerWrapper, { maxLength: 80 }), fc.array(expressionWrapper, { maxLength: 80 }), (layers, expression) => {
        const plan = build(layers, expression);
        expectNesting(compilePlan(plan.text, 'mixed.mono'), plan.text, plan.expectedAt);
      }),
      { numRuns: 150 },
    );
  });

  it('--set values obey the same limit', () => {
    const text = 'plan p\nparam f = 2\nnetwork input [4, 4, 1] {\n  a: conv(f, 3) global_avg_pool dense(2)\n}\n';
    const result = compilePlan(text, 'p.mono', { set: { f: '('.repeat(3000) + '2' + ')'.repeat(3000) } });
    expect(result.diagnostics.map((d) => d.code)).toEqual(['invalid-set']);
  });
});

describe('expansion depth limit', () => {
  /** Blocks b0 .. b(n-1), each `residual { repeat 1 { next } }`: 3 expansion levels per block. */
  const chainOfBlocks = (n: number) => {
    let text = 'plan p\n';
    for (let i = 0; i < n; i++) text += `block b${i}(f) { residual { repeat 1 { ${i + 1 < n ? `b${i + 1}(f)` : 'conv(f, 3)'} } } }\n`;
    return text + 'network input [4, 4, 1] {\n  a: b0(2) global_avg_pool dense(2)\n}\n';
  };

  it(`block calls, repeats and residuals nest at most ${MAX_EXPANSION_DEPTH} deep once blocks are expanded`, () => {
    const levelsPerBlock = 3;
    const fits = Math.floor(MAX_EXPANSION_DEPTH / levelsPerBlock);
    const ok = compilePlan(chainOfBlocks(fits), 'blocks.mono');
    expect(ok.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(ok.ir!.nodes.filter((n) => n.op === 'add')).toHaveLength(fits);
    for (const n of [fits + 1, 1000]) {
      const text = chainOfBlocks(n);
      const result = compilePlan(text, 'blocks.mono');
      expect(result.diagnostics.map((d) => d.code)).toEqual(['nesting-too-deep']);
      expect(result.diagnostics[0]!.message).toContain(`nest more than ${MAX_EXPANSION_DEPTH} deep`);
    }
  });
});

describe('nesting through the CLI', () => {
  it('mono check on 5,000 nested parentheses: exit 1, file:line:col, no stack trace', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mono-nesting-'));
    const plan = build([], repeatN(5000, paren));
    await writeFile(path.join(dir, 'deep.mono'), plan.text);
    const result = await runMono(['check', 'deep.mono'], { cwd: dir });
    const { line, column } = lineColumn(plan.text, plan.expectedAt!);
    expect(result.stderr).toContain(`deep.mono:${line}:${column}`);
    expect(result.stderr).toContain(`nests deeper than ${MAX_NESTING} levels`);
    expect(result.stderr).not.toContain('internal');
    expect(result.stderr).not.toContain('Maximum call stack');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.code).toBe(1);
  });
});
