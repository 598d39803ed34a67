/** Sample sources for the syntax tests: the fixtures here, and the shipped plans when they exist. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

function monoFiles(directory: string): { name: string; text: string }[] {
  const path = join(ROOT, directory);
  if (!existsSync(path)) return [];
  return readdirSync(path)
    .filter((name) => name.endsWith('.mono'))
    .sort()
    .map((name) => ({ name: `${directory}/${name}`, text: readFileSync(join(path, name), 'utf8') }));
}

export const FIXTURES = monoFiles('test/fixtures/syntax');
export const SHIPPED_PLANS = monoFiles('plans');
export const SAMPLES = [...FIXTURES, ...SHIPPED_PLANS];

export function fixture(name: string): string {
  return readFileSync(join(ROOT, 'test/fixtures/syntax', name), 'utf8');
}
