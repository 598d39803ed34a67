import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXIT_OK, EXIT_USAGE } from '../../src/cli/command.js';
import { commands } from '../../src/cli/commands/index.js';
import { mono } from './harness.js';

describe('mono', () => {
  it('lists every command in --help', async () => {
    const result = await mono(['--help']);
    expect(result.code).toBe(EXIT_OK);
    for (const command of commands) expect(result.stdout).toContain(command.name);
    expect(result.stdout).toContain('Usage: mono <command>');
  });

  it.each(commands.map((command) => command.name))('prints the help of %s with --help and -h', async (name) => {
    for (const flag of ['--help', '-h']) {
      const result = await mono([name, flag]);
      expect(result.code).toBe(EXIT_OK);
      expect(result.stdout).toMatch(new RegExp(`^Usage: mono ${name}`));
    }
    expect((await mono(['help', name])).stdout).toMatch(new RegExp(`^Usage: mono ${name}`));
  });

  it('prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const result = await mono(['--version']);
    expect(result).toEqual({ code: EXIT_OK, stdout: `${version}\n`, stderr: '' });
  });

  it('suggests the closest command for a typo, exit 2', async () => {
    const result = await mono(['compil', 'x.mono']);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stderr).toContain("unknown command 'compil'; did you mean 'compile'?");
  });

  it('exits 2 without a command, and on an unknown global option', async () => {
    expect((await mono([])).code).toBe(EXIT_USAGE);
    const result = await mono(['--frobnicate']);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stderr).toContain("unknown option '--frobnicate'");
  });

  it('turns parseArgs errors into usage errors naming the option', async () => {
    const unknown = await mono(['compile', 'plan.mono', '--fast']);
    expect(unknown.code).toBe(EXIT_USAGE);
    expect(unknown.stderr).toContain("mono compile: unknown option '--fast'");
    expect(unknown.stderr).toContain("Run 'mono compile --help'");
    const missing = await mono(['compile', 'plan.mono', '-o']);
    expect(missing.stderr).toContain("option '--output' needs a value");
    const extra = await mono(['fmt', 'a.mono', '--check=yes']);
    expect(extra.stderr).toContain("option '--check' takes no value");
  });
});
