import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { shownPath } from '../../src/cli/io.js';

describe('shownPath', () => {
  const cwd = path.resolve('/work/project');

  it('is relative inside the working directory', () => {
    expect(shownPath(cwd, path.join(cwd, 'runs', 'a'))).toBe(path.join('runs', 'a'));
    expect(shownPath(cwd, 'runs/a')).toBe(path.join('runs', 'a'));
    expect(shownPath(cwd, cwd)).toBe('.');
    expect(shownPath(cwd, path.join(cwd, '..x'))).toBe('..x');
  });

  it('is absolute outside it', () => {
    expect(shownPath(cwd, path.resolve('/tmp/x'))).toBe(path.resolve('/tmp/x'));
    expect(shownPath(cwd, '../other')).toBe(path.resolve('/work/other'));
    expect(shownPath(cwd, '..')).toBe(path.resolve('/work'));
  });
});
