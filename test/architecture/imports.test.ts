/**
 * The pipeline's arrows point one way (syntax -> semantics -> ir -> runtime -> cli):
 * src/ir/ is the contract between the compiler and the runtime and depends on
 * nothing else in mono, and the runtime never reaches the compiler's stages, not
 * even through another module. The CLI reaches the runtime through one entry point,
 * src/runtime/index.ts. src/report/ sits beside src/summary/ and src/plot/:
 * the runtime and the CLI call it, it calls neither.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const SRC = join(ROOT, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** The files that `file` imports by relative path (static, re-exports and dynamic), resolved to .ts. */
function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [
    ...text.matchAll(/^\s*(?:import|export)\s(?:[^'";]*?\sfrom\s)?['"]([^'"]+)['"]/gm),
    ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((match) => match[1]!);
  return specifiers.filter((s) => s.startsWith('.')).map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts')));
}

/** Every file reachable from `start` through relative imports. */
function closure(start: string): Set<string> {
  const seen = new Set<string>([start]);
  const queue = [start];
  while (queue.length > 0) {
    for (const next of relativeImports(queue.pop()!)) {
      if (seen.has(next) || !next.endsWith('.ts')) continue;
      seen.add(next);
      queue.push(next);
    }
  }
  return seen;
}

const inside = (folder: string) => (file: string) => !relative(join(SRC, folder), file).startsWith('..');
const shown = (file: string) => relative(ROOT, file);

describe('module boundaries', () => {
  it('reads the imports of a file (a check of this test itself)', () => {
    const imports = relativeImports(join(SRC, 'compile.ts')).map(shown);
    expect(imports).toContain('src/semantics/analyze.ts');
    expect(imports).toContain('src/syntax/parse.ts');
  });

  it('src/ir/ imports nothing outside src/ir/', () => {
    const files = sourceFiles(join(SRC, 'ir'));
    expect(files.length).toBeGreaterThan(2);
    const outside = files.flatMap((file) => relativeImports(file).filter((target) => !inside('ir')(target)).map((target) => `${shown(file)} -> ${shown(target)}`));
    expect(outside).toEqual([]);
  });

  it('src/runtime/ reaches nothing of src/semantics/, src/syntax/ or src/compile.ts, directly or through other modules', () => {
    const forbidden = (file: string) => inside('semantics')(file) || inside('syntax')(file) || file === join(SRC, 'compile.ts');
    const problems: string[] = [];
    for (const file of sourceFiles(join(SRC, 'runtime'))) {
      for (const reached of closure(file)) if (forbidden(reached)) problems.push(`${shown(file)} reaches ${shown(reached)}`);
    }
    expect(problems).toEqual([]);
  });

  it('src/report/ reaches nothing of the runtime, the CLI or the compiler (the runtime calls it after every epoch)', () => {
    const forbidden = (file: string) => ['runtime', 'cli', 'semantics', 'syntax'].some((folder) => inside(folder)(file)) || file === join(SRC, 'compile.ts');
    const files = sourceFiles(join(SRC, 'report'));
    expect(files.length).toBeGreaterThan(5);
    const problems = files.flatMap((file) => [...closure(file)].filter(forbidden).map((reached) => `${shown(file)} reaches ${shown(reached)}`));
    expect(problems).toEqual([]);
  });

  it('src/cli/ imports the runtime only through its entry point, src/runtime/index.ts', () => {
    const entry = join(SRC, 'runtime', 'index.ts');
    const files = sourceFiles(join(SRC, 'cli'));
    const direct = files.flatMap((file) => relativeImports(file).filter((target) => inside('runtime')(target) && target !== entry).map((target) => `${shown(file)} -> ${shown(target)}`));
    expect(files.some((file) => relativeImports(file).includes(entry))).toBe(true);
    expect(direct).toEqual([]);
  });
});
