/**
 * Writes grammar/mono.ebnf, grammar/diagrams.html and the CST types
 * src/syntax/cst-types.ts from the parser (npm run grammar).
 * Run from the project root:
 *   node --input-type=module -e "await (await import('vite')).runnerImport('./scripts/generate-grammar.ts')"
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GRAMMAR_FILES, renderCstTypes, renderDiagramsHtml, renderEbnf } from '../src/syntax/grammar-docs.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

for (const [path, text] of [
  [GRAMMAR_FILES.ebnf, renderEbnf()],
  [GRAMMAR_FILES.diagrams, renderDiagramsHtml()],
  [GRAMMAR_FILES.cstTypes, renderCstTypes()],
] as const) {
  const target = join(root, path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, text);
  console.log(`wrote ${path}`);
}
