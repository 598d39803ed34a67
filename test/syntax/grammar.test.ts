import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { NodeName, TokenName } from '../../src/syntax/build-ast.js';
import type { LayerBodyCstNode, ResidualCstNode } from '../../src/syntax/cst-types.js';
import { GRAMMAR_FILES, renderCstTypes, renderDiagramsHtml, renderEbnf } from '../../src/syntax/grammar-docs.js';
import { monoParser } from '../../src/syntax/parser.js';

const ROOT = join(import.meta.dirname, '..', '..');
const STALE = 'is stale: run `npm run grammar` to regenerate it from the parser';

function committed(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}

describe('grammar documents', () => {
  test('grammar/mono.ebnf matches the parser', () => {
    expect(committed(GRAMMAR_FILES.ebnf) === renderEbnf(), `${GRAMMAR_FILES.ebnf} ${STALE}`).toBe(true);
  });

  test('grammar/diagrams.html matches the parser', () => {
    expect(committed(GRAMMAR_FILES.diagrams) === renderDiagramsHtml(), `${GRAMMAR_FILES.diagrams} ${STALE}`).toBe(true);
  });

  test('the EBNF names every rule and keyword of the language', () => {
    const ebnf = renderEbnf();
    for (const rule of ['plan', 'declaration', 'section', 'repeat', 'residual', 'phase', 'expression', 'primary']) {
      expect(ebnf).toMatch(new RegExp(`^${rule}\\n  = `, 'm'));
    }
    expect(ebnf).toContain('"repeat" expression ( "shared" argumentList? )? ( layerBody | layerItem )');
    expect(ebnf).toContain('setting\n  = NAME expression ( "," expression )*');
  });

  test('the diagrams load their scripts from the installed chevrotain, not a CDN', () => {
    const html = renderDiagramsHtml();
    expect(html).not.toMatch(/https?:\/\//);
    const sources = [...html.matchAll(/(?:src|href)='([^']+)'/g)].map((match) => match[1]!);
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      // Resolved from grammar/, each one must exist in the installed package.
      expect(() => readFileSync(join(ROOT, 'grammar', source))).not.toThrow();
    }
  });
});

describe('typed CST', () => {
  test('src/syntax/cst-types.ts matches the parser', () => {
    expect(committed(GRAMMAR_FILES.cstTypes) === renderCstTypes(), `${GRAMMAR_FILES.cstTypes} ${STALE}`).toBe(true);
  });

  test('declares a node type per rule, naming its children', () => {
    const types = renderCstTypes();
    for (const rule of Object.keys(monoParser.getGAstProductions())) {
      const name = rule[0]!.toUpperCase() + rule.slice(1);
      expect(types).toContain(`export interface ${name}CstNode extends CstNode {\n  name: "${rule}";`);
    }
    expect(types).toMatch(/export type PhaseCstChildren = \{[^}]*\n  With: IToken\[\];/);
  });

  test('child names are checked by the type checker (tsc runs this file too)', () => {
    const token: TokenName<LayerBodyCstNode> = 'RCurly';
    const node: NodeName<ResidualCstNode> = 'layerBody';
    // @ts-expect-error: a layer body has no child 'RCurlyy'
    const typo: TokenName<LayerBodyCstNode> = 'RCurlyy';
    // @ts-expect-error: 'layerBody' is a node, not a token
    const wrongKind: TokenName<ResidualCstNode> = 'layerBody';
    expect([token, node, typo, wrongKind]).toHaveLength(4);
  });
});
