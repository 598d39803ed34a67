import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT_OK, EXIT_PLAN_ERRORS, EXIT_USAGE } from '../../src/cli/command.js';
import { mono } from './harness.js';

// Valid syntax, but squeezed onto few lines and with 1e-3 spelled differently: not canonical.
const MESSY = `plan messy   param width=2
network input [8, 8, 1] { body: conv(4 * width, 3)  relu   out: global_avg_pool dense(2) }
`;

describe('mono fmt', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mono-fmt-'));
    writeFileSync(join(dir, 'messy.mono'), MESSY);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('prints canonical source on stdout and leaves the file alone', async () => {
    const result = await mono(['fmt', 'messy.mono'], { cwd: dir });
    expect(result.code).toBe(EXIT_OK);
    expect(result.stdout).not.toBe(MESSY);
    expect(result.stdout).toContain('param width = 2');
    expect(readFileSync(join(dir, 'messy.mono'), 'utf8')).toBe(MESSY);
  });

  it('--check lists unformatted files and exits 1; --write fixes them; then --check is clean', async () => {
    const canonical = (await mono(['fmt', 'messy.mono'], { cwd: dir })).stdout;
    writeFileSync(join(dir, 'clean.mono'), canonical);

    const check = await mono(['fmt', '--check', 'messy.mono', 'clean.mono'], { cwd: dir });
    expect(check.code).toBe(EXIT_PLAN_ERRORS);
    expect(check.stdout).toBe('messy.mono\n');
    expect(check.stderr).toContain('1 file not formatted');

    const write = await mono(['fmt', '--write', 'messy.mono', 'clean.mono'], { cwd: dir });
    expect(write.code).toBe(EXIT_OK);
    expect(write.stderr).toBe('formatted messy.mono\n');
    expect(readFileSync(join(dir, 'messy.mono'), 'utf8')).toBe(canonical);

    expect(await mono(['fmt', '--check', 'messy.mono', 'clean.mono'], { cwd: dir })).toEqual({
      code: EXIT_OK,
      stdout: '',
      stderr: '',
    });
  });

  it('reports syntax errors with a caret and exits 1, rewriting nothing', async () => {
    const broken = 'plan broken\nnetwork input [8] { body: dense(2 }\n';
    writeFileSync(join(dir, 'broken.mono'), broken);
    const result = await mono(['fmt', '--write', 'broken.mono'], { cwd: dir });
    expect(result.code).toBe(EXIT_PLAN_ERRORS);
    expect(result.stderr).toMatch(/^broken\.mono:2:\d+: error: /m);
    expect(result.stderr).toContain('^');
    expect(readFileSync(join(dir, 'broken.mono'), 'utf8')).toBe(broken);
  });

  it('rejects --write with --check, no files, and missing files (exit 2)', async () => {
    expect((await mono(['fmt', '--write', '--check', 'messy.mono'], { cwd: dir })).code).toBe(EXIT_USAGE);
    expect((await mono(['fmt'], { cwd: dir })).code).toBe(EXIT_USAGE);
    const missing = await mono(['fmt', 'nope.mono'], { cwd: dir });
    expect(missing.code).toBe(EXIT_USAGE);
    expect(missing.stderr).toContain("cannot read 'nope.mono': no such file");
  });
});
