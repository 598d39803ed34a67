import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinyLines, writeRunFolder } from '../report/fixtures.js';
import { mono } from './harness.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mono-report-cli-'));
  await writeRunFolder(path.join(root, 'runs', 'a'));
  await writeRunFolder(path.join(root, 'runs', 'b'), { lines: tinyLines(2), confusion: null });
  // Killed before its first epoch completed: plan, IR and run info, no metrics line.
  await writeRunFolder(path.join(root, 'runs', 'crashed'), { lines: [], confusion: null });
  await mkdir(path.join(root, 'not-a-run'));
  await writeFile(path.join(root, 'not-a-run', 'notes.txt'), 'hello');
  await writeFile(path.join(root, 'file.txt'), 'hello');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('mono report', () => {
  it('writes RUN/report.html for one run folder and says what it wrote', async () => {
    const result = await mono(['report', 'runs/a'], { cwd: root });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe('mono report: wrote runs/a/report.html (1 run, 4 epochs)\n');
    const html = await readFile(path.join(root, 'runs', 'a', 'report.html'), 'utf8');
    expect(html).toContain('4 of 4 epochs done · finished');
    expect(html).toContain('<a href="metrics.jsonl">');
    // Written through a temporary file, none left.
    await expect(stat(path.join(root, 'runs', 'a', 'report.html.tmp'))).rejects.toThrow(/ENOENT/);
  });

  it('rebuilds the report of a run that crashed before its first epoch, and notes what is missing', async () => {
    const result = await mono(['report', 'runs/crashed'], { cwd: root });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('(1 run, 0 epochs)');
    const html = await readFile(path.join(root, 'runs', 'crashed', 'report.html'), 'utf8');
    expect(html).toContain('No epoch has completed yet');
    expect(html).toContain('id="auto-refresh" checked');
  });

  it('overlays several runs into --out, linking each run\'s files from there', async () => {
    const result = await mono(['report', 'runs/a', 'runs/b', '--out', 'cmp/both.html'], { cwd: root });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('mono report: wrote cmp/both.html (2 runs, 6 epochs)\n');
    const html = await readFile(path.join(root, 'cmp', 'both.html'), 'utf8');
    expect(html).toContain('Curves of 2 runs');
    expect(html).toContain('<a href="../runs/b/metrics.jsonl">');
    // Several runs without --out: report.html in the current folder.
    expect((await mono(['report', 'runs/a', 'runs/b'], { cwd: root })).stdout).toBe('mono report: wrote report.html (2 runs, 6 epochs)\n');
  });

  it('notes damage on stderr and still writes the report', async () => {
    const dir = path.join(root, 'runs', 'damaged');
    await writeRunFolder(dir, { tail: '{"phase": "p' });
    const result = await mono(['report', 'runs/damaged'], { cwd: root });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('mono report: note: damaged: metrics.jsonl ends with a partial line (left out)\n');
  });

  it('refuses what is not a run folder (exit 3) and bad arguments (exit 2)', async () => {
    expect(await mono(['report', 'nosuch'], { cwd: root })).toMatchObject({ code: 3, stderr: 'mono report: nosuch: no such folder\n' });
    expect(await mono(['report', 'file.txt'], { cwd: root })).toMatchObject({ code: 3, stderr: 'mono report: file.txt is not a folder (mono report takes run folders: the --out of mono run)\n' });
    expect(await mono(['report', 'not-a-run'], { cwd: root })).toMatchObject({
      code: 3,
      stderr: 'mono report: not-a-run is not a mono run folder (it has none of plan.mono, ir.json, run.json, metrics.jsonl)\n',
    });
    const missing = await mono(['report'], { cwd: root });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^mono report: missing RUN/);
    expect((await mono(['report', 'runs/a', 'runs/a/'], { cwd: root })).stderr).toMatch(/runs\/a is given twice/);
    expect((await mono(['report', 'runs/a', '--bogus'], { cwd: root })).code).toBe(2);
  });

  it('--open starts $BROWSER with the report\'s path; a browser that cannot start is a warning', async () => {
    const seen = path.join(root, 'opened.txt');
    const browser = path.join(root, 'browser.sh');
    await writeFile(browser, `#!/bin/sh\nprintf '%s' "$1" > '${seen}'\n`);
    await chmod(browser, 0o755);
    const result = await mono(['report', 'runs/a', '--open'], { cwd: root, env: { ...process.env, BROWSER: browser } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`mono report: opened runs/a/report.html with ${browser}`);
    await expect.poll(() => readFile(seen, 'utf8').catch(() => ''), { timeout: 5000 }).toBe(path.join(root, 'runs', 'a', 'report.html'));
    const broken = await mono(['report', 'runs/a', '--open'], { cwd: root, env: { ...process.env, BROWSER: path.join(root, 'no-such-browser') } });
    expect(broken.code).toBe(0);
    expect(broken.stderr).toMatch(/^mono report: warning: could not open a browser \(.*no-such-browser: ENOENT\); open runs\/a\/report\.html yourself\n$/);
  });
});
