/**
 * Writes grammar/mono.ebnf and grammar/diagrams.html from the parser.
 * Run from the project root:
 *   node --input-type=module -e "await (await import('vite')).runnerImport('./scripts/generate-grammar.ts')"
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GRAMMAR_FILES, renderDiagramsHtml, renderEbnf } from '../src/syntax/grammar-docs.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

for (const [path, text] of [
  [GRAMMAR_FILES.ebnf, renderEbnf()],
  [GRAMMAR_FILES.diagrams, renderDiagramsHtml()],
] as const) {
  const target = join(root, path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, text);
  console.log(`wrote ${path}`);
}
