import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { GRAMMAR_FILES, renderDiagramsHtml, renderEbnf } from '../../src/syntax/grammar-docs.js';

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
