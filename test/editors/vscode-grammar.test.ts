/**
 * The VS Code extension's TextMate grammar (editors/vscode/), run by the engine VS
 * Code uses (vscode-textmate with vscode-oniguruma's wasm regexes) on every shipped
 * plan. Each token of mono's own lexer must get the scope its kind calls for:
 * comments, keywords, numbers, strings, and names by their role.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import oniguruma from 'vscode-oniguruma';
import vsctm from 'vscode-textmate';
import { layerCatalog } from '../../src/semantics/catalog/layers.js';
import type { IToken } from '../../src/syntax/chevrotain.js';
import * as T from '../../src/syntax/tokens.js';

const ROOT = join(import.meta.dirname, '..', '..');
const EXTENSION = join(ROOT, 'editors', 'vscode');
const GRAMMAR = join(EXTENSION, 'syntaxes', 'mono.tmLanguage.json');
const PLANS = readdirSync(join(ROOT, 'plans')).filter((name) => name.endsWith('.mono'));

let grammar: vsctm.IGrammar;

beforeAll(async () => {
  const wasm = readFileSync(createRequire(import.meta.url).resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns: string[]) => new oniguruma.OnigScanner(patterns),
      createOnigString: (text: string) => new oniguruma.OnigString(text),
    }),
    loadGrammar: async (scope: string) => (scope === 'source.mono' ? vsctm.parseRawGrammar(readFileSync(GRAMMAR, 'utf8'), GRAMMAR) : null),
  });
  const loaded = await registry.loadGrammar('source.mono');
  if (loaded === null) throw new Error('the grammar did not load');
  grammar = loaded;
});

/** The innermost scope at every offset of `text`. */
function scopesOf(text: string): string[][] {
  const byOffset: string[][] = [];
  let stack = vsctm.INITIAL;
  let offset = 0;
  for (const line of text.split('\n')) {
    const result = grammar.tokenizeLine(line, stack);
    for (const token of result.tokens) {
      for (let i = token.startIndex; i < Math.max(token.endIndex, token.startIndex + 1); i++) byOffset[offset + i] = token.scopes;
    }
    stack = result.ruleStack;
    offset += line.length + 1;
  }
  return byOffset;
}

const innermost = (scopes: string[] | undefined) => scopes?.[scopes.length - 1] ?? '';

/** The scope a token of this kind must have, given its neighbours; undefined: no claim. */
function expectedScope(tokens: readonly IToken[], index: number): RegExp | undefined {
  const token = tokens[index]!;
  const previous = tokens[index - 1];
  const next = tokens[index + 1];
  const type = token.tokenType;
  if (type === T.Comment) return /^comment\.line\./;
  if (type === T.StringLiteral) return /^string\.quoted\.double\.mono$/;
  if (type === T.PercentLiteral) return /^constant\.numeric\.percentage\.mono$/;
  if (type === T.NumberLiteral) return /^constant\.numeric\.mono$/;
  if (type === T.True || type === T.False) return /^constant\.language\.boolean\.mono$/;
  if (T.KEYWORD_TOKENS.includes(type)) {
    // A keyword naming an argument (`warmup(epochs: 1)`) is a name there.
    if (next?.tokenType === T.Colon) return /^variable\.parameter\.mono$/;
    return /^keyword\.(other\.declaration|control)\.mono$/;
  }
  if (type !== T.Identifier) return undefined;
  const declared = previous?.tokenType;
  if (declared === T.Block || declared === T.Head) return /^entity\.name\.function\.mono$/;
  if (declared === T.Param) return /^variable\.other\.constant\.param\.mono$/;
  if (declared === T.Partition) return /^entity\.name\.type\.partition\.mono$/;
  if (declared === T.Plan) return /^entity\.name\.namespace\.plan\.mono$/;
  if (declared === T.Data) return /^support\.class\.data-source\.mono$/;
  if (next?.tokenType === T.Colon) {
    // `stem:` opening a line is a section; `stride: 2` inside parentheses an argument name.
    return token.startColumn === firstColumnOfLine(tokens, index) ? /^entity\.name\.section\.mono$/ : /^variable\.parameter\.mono$/;
  }
  if (layerCatalog.has(token.image)) return /^support\.function\.layer\.mono$/;
  if (next?.tokenType === T.LParen) return /^entity\.name\.function\.call\.mono$/;
  return /^variable\.other\.mono$/;
}

function firstColumnOfLine(tokens: readonly IToken[], index: number): number | undefined {
  let i = index;
  while (i > 0 && tokens[i - 1]!.startLine === tokens[index]!.startLine) i--;
  return tokens[i]!.startColumn;
}

describe('the TextMate grammar of editors/vscode', () => {
  it('is the grammar the extension contributes, for the language that owns .mono', () => {
    const manifest = JSON.parse(readFileSync(join(EXTENSION, 'package.json'), 'utf8')) as {
      main: string;
      contributes: { languages: { id: string; extensions: string[]; configuration: string }[]; grammars: { language: string; scopeName: string; path: string }[] };
    };
    expect(manifest.contributes.languages).toEqual([expect.objectContaining({ id: 'mono', extensions: ['.mono'] })]);
    expect(manifest.contributes.grammars).toEqual([{ language: 'mono', scopeName: 'source.mono', path: './syntaxes/mono.tmLanguage.json' }]);
    for (const file of [manifest.main, manifest.contributes.languages[0]!.configuration]) expect(() => readFileSync(join(EXTENSION, file))).not.toThrow();
    expect(() => JSON.parse(readFileSync(join(EXTENSION, 'language-configuration.json'), 'utf8'))).not.toThrow();
    // The client is plain CommonJS (its vscode imports are not installed here): it must at least parse.
    expect(spawnSync(process.execPath, ['--check', join(EXTENSION, manifest.main)]).status).toBe(0);
  });

  it('names every built-in layer of the catalogue as a layer', () => {
    const layers = /support\.function\.layer\.mono",\s*"match": "\\\\b\(\?:([a-z_|]+)\)/.exec(readFileSync(GRAMMAR, 'utf8'))?.[1]?.split('|');
    expect(layers?.sort()).toEqual([...layerCatalog.keys()].sort());
  });

  it.each(PLANS)('scopes every token of plans/%s as the lexer reads it', (name) => {
    const text = readFileSync(join(ROOT, 'plans', name), 'utf8');
    const lexed = T.monoLexer.tokenize(text);
    const tokens = [...lexed.tokens, ...(lexed.groups['comments'] ?? [])].sort((a, b) => a.startOffset - b.startOffset);
    const scopes = scopesOf(text);
    const problems: string[] = [];
    const counts = new Map<string, number>();
    tokens.forEach((token, index) => {
      const expected = expectedScope(tokens, index);
      if (expected === undefined) return;
      const actual = innermost(scopes[token.startOffset]);
      counts.set(expected.source, (counts.get(expected.source) ?? 0) + 1);
      // The whole token has one scope: a grammar that splits `global_avg_pool` or `1e-3` fails.
      const whole = scopes.slice(token.startOffset, token.startOffset + token.image.length).every((s) => innermost(s) === actual);
      if (!expected.test(actual) || !whole) problems.push(`${token.startLine}:${token.startColumn} '${token.image}' is ${actual}, expected ${expected.source}`);
    });
    expect(problems).toEqual([]);
    // Each plan exercises comments, keywords, numbers and names.
    for (const kind of ['^comment\\.line\\.', '^constant\\.numeric\\.mono$', '^keyword\\.(other\\.declaration|control)\\.mono$', '^entity\\.name\\.function\\.mono$']) {
      expect(counts.get(kind), `${name}: ${kind}`).toBeGreaterThan(0);
    }
  });

  it('scopes strings with escapes, percentages and both comment styles', () => {
    const text = 'data cifar10("a \\"b\\"") // note\nparam p = 80% # x\n';
    const scopes = scopesOf(text);
    expect(innermost(scopes[text.indexOf('"a')])).toBe('string.quoted.double.mono');
    expect(innermost(scopes[text.indexOf('\\"')])).toBe('constant.character.escape.mono');
    expect(innermost(scopes[text.indexOf('// note')])).toBe('comment.line.double-slash.mono');
    expect(innermost(scopes[text.indexOf('80%')])).toBe('constant.numeric.percentage.mono');
    expect(innermost(scopes[text.indexOf('# x')])).toBe('comment.line.number-sign.mono');
  });
});
