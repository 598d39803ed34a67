/**
 * Plans too big for the machine: `mono run` refuses them up front (exit 3, one line,
 * no stack trace), `mono check` and `mono compile` warn, `mono compile --memory`
 * says per phase what fits. The `run` and `check` cases start the real CLI as a child.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_OK, EXIT_RUNTIME, EXIT_USAGE } from '../../src/cli/command.js';
import { parseMemorySize } from '../../src/cli/memory.js';
import type { PlanSummary } from '../../src/summary/index.js';
import { runMono } from '../support/cli-process.js';
import { mono } from './harness.js';

const plan = (name: string, input: string, body: string) => `plan ${name}
data synthetic(examples: 256, classes: 4, shape: ${input}, noise: 0.1) {
  holdout 0
  batch 64
}
network input ${input} {
  body: ${body}
  out: global_avg_pool dense(4)
}
partition p1 = body .. out
schedule {
  train p1 for 1 epoch with msgd(lr: 0.01, momentum: 0.9)
}
`;

// The three plans outside testing found: too wide, too large an input, too deep.
const TOO_BIG = {
  'wide.mono': plan('wide', '[8, 8, 1]', 'conv(1000000, 3) relu'),
  'big-input.mono': plan('big_input', '[4096, 4096, 3]', 'conv(4, 3) relu'),
  'deep.mono': plan('deep', '[8, 8, 1]', 'conv(8, 3) repeat 100000 { conv(8, 3) relu }'),
};
const TRAIN_LINE = 12;
const WARNING = /^(\S+\.mono):12:3: warning: phase p1 needs about [\d.]+ GiB at batch 64; the wasm backend addresses at most 4 GiB \(3.6 GiB of tensors\); batch (\d+) would fit$/gm;

describe('plans too big for the machine', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mono-memory-'));
    for (const [file, text] of Object.entries(TOO_BIG)) writeFileSync(join(dir, file), text);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('mono run refuses each before anything is allocated: exit 3, one line, no run folder', async () => {
    // The three children run side by side: each loads TensorFlow.js and compiles its plan.
    const results = await Promise.all(
      Object.keys(TOO_BIG).map((file) => runMono(['run', file, '--backend', 'wasm', '--out', `run-${file}`], { cwd: dir, timeoutMs: 120_000 })),
    );
    for (const [i, file] of Object.keys(TOO_BIG).entries()) {
      const result = results[i]!;
      expect(result.code, file).toBe(EXIT_RUNTIME);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(
        /^mono run: phase p1 needs about [\d.]+ GiB at batch 64; the wasm backend addresses at most 4 GiB \(3.6 GiB of tensors\); batch \d+ would fit; estimated peak of one training step on the wasm backend, per phase in: mono compile \S+ \(docs\/runtime\.md, "Memory"\)\n$/,
      );
      expect(existsSync(join(dir, `run-${file}`))).toBe(false);
    }
  });

  it('mono check warns about each at its train line, with the largest batch that fits; exit 0', async () => {
    const started = performance.now();
    const result = await runMono(['check', ...Object.keys(TOO_BIG)], { cwd: dir, timeoutMs: 120_000 });
    const seconds = (performance.now() - started) / 1000;
    expect(result.code).toBe(EXIT_OK);
    const warnings = [...result.stderr.matchAll(WARNING)].map((m) => [m[1], Number(m[2])]);
    expect(warnings.map(([file]) => file)).toEqual(['big-input.mono', 'deep.mono', 'wide.mono']);
    for (const [, batch] of warnings) expect(batch).toBeGreaterThanOrEqual(1);
    expect(result.stderr).toContain(`${TRAIN_LINE} |   train p1 for 1 epoch`);
    expect(result.stderr).toMatch(/\n3 warnings\n$/);
    // 100,000 repeats (200,003 nodes) compile and are estimated in seconds, not minutes.
    expect(seconds).toBeLessThan(60);
  });

  it('mono compile warns the same way and prints the memory table; exit 0', async () => {
    const result = await mono(['compile', 'wide.mono'], { cwd: dir });
    expect(result.code).toBe(EXIT_OK);
    expect([...result.stderr.matchAll(WARNING)].map((m) => Number(m[2]))).toEqual([2]);
    expect(result.stdout).toContain("limit 3.6 GiB, what the wasm backend's 4 GiB heap holds in tensors (mono run's default backend)");
    // The last column is the phase's prefix cache: none for a plan of one partition.
    expect(result.stdout).toMatch(/^ {2}p1 +64 +[\d.]+ GiB +backward +.* no +2 +-$/m);
  });

  it('mono lr-find refuses the same way', async () => {
    const result = await mono(['lr-find', 'wide.mono', '--backend', 'wasm', '--out', 'lr'], { cwd: dir });
    expect(result.code).toBe(EXIT_RUNTIME);
    expect(result.stderr).toMatch(/^mono lr-find: phase p1 needs about [\d.]+ GiB at batch 64; the wasm backend addresses at most 4 GiB \(3.6 GiB of tensors\); batch 2 would fit;/);
    expect(existsSync(join(dir, 'lr'))).toBe(false);
  });
});

describe('mono compile --memory SIZE', () => {
  it('says per phase whether it fits and the largest batch that does, in text and JSON', async () => {
    const text = await mono(['compile', 'plans/monolithnet.mono', '--memory', '24GiB']);
    expect(text.code).toBe(EXIT_OK);
    expect(text.stdout).toContain('limit 24 GiB, from --memory');
    const rows = text.stdout.split('\n').filter((line) => /^ {2}(p\d|finetune) +128 /.test(line));
    expect(rows).toHaveLength(4);

    const json = JSON.parse((await mono(['compile', 'plans/monolithnet.mono', '--memory', '24GiB', '--json'])).stdout) as PlanSummary;
    expect(json.memory.limit).toEqual({ source: '--memory', bytes: 24 * 2 ** 30 });
    expect(json.memory.phases.map((p) => p.phase)).toEqual(['p1', 'p2', 'p3', 'finetune']);
    for (const [i, phase] of json.memory.phases.entries()) {
      expect(phase.fits).toBe(phase.peakBytes <= 24 * 2 ** 30);
      expect(phase.fits).toBe(phase.largestBatch >= 128);
      // Then the prefix cache column: '-' (nothing frozen), 'no' (it does not fit) or its size.
      expect(rows[i]).toMatch(new RegExp(` ${phase.fits ? 'yes' : 'no'} +${phase.largestBatch.toLocaleString('en-US')} +(-|no|[\\d.]+ (B|KiB|MiB|GiB|TiB))$`));
    }
    // At 437M parameters, p1-p3 fit in 24 GiB at batch 128 (p1 20.9 GiB, p2 12.7 GiB since the
    // fused BatchNorm keeps O, O, O per layer instead of tfjs's op-by-op chain) and the fine-tune does not.
    expect(json.memory.phases.map((p) => p.fits)).toEqual([true, true, true, false]);
  });

  it('reads binary and decimal units; anything else is a usage error', async () => {
    expect(parseMemorySize('24GiB')).toBe(24 * 2 ** 30);
    expect(parseMemorySize('512 MiB')).toBe(512 * 2 ** 20);
    expect(parseMemorySize('1.5GB')).toBe(1.5e9);
    expect(parseMemorySize('1000000')).toBe(1e6);
    expect(parseMemorySize('2tib')).toBe(2 * 2 ** 40);
    for (const bad of ['', 'lots', '-1GiB', '0', '12 parsecs']) expect(() => parseMemorySize(bad)).toThrow(/--memory expects a size/);
    const result = await mono(['compile', 'plans/quickstart.mono', '--memory', 'lots']);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stderr).toContain("--memory expects a size such as 24GiB, 512MiB or 8GB, got 'lots'");
  });
});
