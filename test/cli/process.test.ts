import { describe, expect, it } from 'vitest';
import { runMono } from '../support/cli-process.js';

describe('the mono CLI as a child process', () => {
  it('prints its version and exits 0', async () => {
    const result = await runMono(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('reports a missing data set on one line with exit 3, no stack trace', async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mono-cli-'));
    await writeFile(
      path.join(dir, 'p.mono'),
      `plan p
data idx("nowhere") { batch 4 }
network input [28, 28, 1] { out: flatten dense(10) }
partition all = out
schedule { train all for 1 epoch with msgd(lr: 0.1, momentum: 0.9) }
`,
    );
    const result = await runMono(['run', 'p.mono', '--backend', 'cpu'], { cwd: dir });
    expect(result.stderr).toContain('no IDX training files');
    expect(result.stderr).not.toContain('unexpected failure');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.code).toBe(3);
  });
});
