import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_OK, EXIT_PLAN_ERRORS, EXIT_USAGE } from '../../src/cli/command.js';
import type { IR } from '../../src/ir/types.js';
import type { PlanSummary } from '../../src/summary/index.js';
import { mono } from './harness.js';

const QUICKSTART = 'plans/quickstart.mono';
const MONOLITHNET = 'plans/monolithnet.mono';

// Two mistakes: a misspelled layer (line 5) and an unknown section in a partition (line 7).
const BAD_PLAN = `plan bad
data mnist { batch 64 }
network input [28, 28, 1] {
  body: conv(8, 3) relu
  out: global_avg_pool dens(10)
}
partition p1 = body .. ou
schedule { train p1 for 1 epoch with msgd(lr: 0.1) }
`;

describe('mono compile', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mono-compile-'));
    writeFileSync(join(dir, 'bad.mono'), BAD_PLAN);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the dry-run summary by default, exit 0', async () => {
    const result = await mono(['compile', QUICKSTART]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(EXIT_OK);
    for (const word of ['plan quickstart', 'Sections', 'Partitions', 'Phases', 'FLOP', 'activations', 'p1.head'])
      expect(result.stdout).toContain(word);
    expect((await mono(['compile', QUICKSTART, '--dry-run'])).stdout).toBe(result.stdout);
  });

  it('reports every error as file:line:col: error: with a caret excerpt and hint, exit 1', async () => {
    const result = await mono(['compile', 'bad.mono'], { cwd: dir });
    expect(result.code).toBe(EXIT_PLAN_ERRORS);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^bad\.mono:5:24: error: .*dens/m);
    expect(result.stderr).toContain("did you mean 'dense'?");
    expect(result.stderr).toMatch(/^bad\.mono:7:24: error: .*ou/m);
    expect(result.stderr).toContain("did you mean 'out'?");
    expect(result.stderr).toMatch(/^5 \|   out: global_avg_pool dens\(10\)\n {2}\| {24}\^{4}$/m);
  });

  it('mono check prints diagnostics only: nothing for good plans, exit 1 when one is bad', async () => {
    expect(await mono(['check', QUICKSTART])).toEqual({ code: EXIT_OK, stdout: '', stderr: '' });
    // At its 437M-parameter defaults monolithnet does not fit the wasm backend (warnings: test/cli/memory.test.ts).
    expect(await mono(['check', MONOLITHNET, '--set', 'width=1', '--set', 'depth=1'])).toEqual({ code: EXIT_OK, stdout: '', stderr: '' });
    const result = await mono(['check', join(process.cwd(), QUICKSTART), 'bad.mono'], { cwd: dir });
    expect(result.code).toBe(EXIT_PLAN_ERRORS);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('bad.mono:5:24: error:');
    expect(result.stderr).not.toContain('quickstart.mono:');
  });

  it('--json carries the documented fields, consistent with each other', async () => {
    const result = await mono(['compile', QUICKSTART, '--json']);
    expect(result.code).toBe(EXIT_OK);
    const summary = JSON.parse(result.stdout) as PlanSummary;
    expect(typeof summary.params.total).toBe('number');
    expect(Object.keys(summary.params.byPartition)).toEqual(['p1', 'p2', 'p3']);
    const sum = Object.values(summary.params.byPartition).reduce((a, b) => a + b, 0);
    expect(sum).toBe(summary.params.total);
    expect(summary.params.heads).toBeGreaterThan(0);
    expect(summary.flopsPerExample).toBeGreaterThan(0);
    expect(summary.activationBytes).toBeGreaterThan(0);
    expect(summary.sections.map((s) => s.name)).toEqual(['stem', 'block1', 'block2', 'block3', 'out']);
    expect(summary.phases.map((p) => p.kind)).toEqual(['train', 'train', 'train', 'finetune']);
  });

  it('--set overrides a plan param (here: the width changes the parameter count)', async () => {
    const total = async (...set: string[]) =>
      (JSON.parse((await mono(['compile', MONOLITHNET, '--json', ...set])).stdout) as PlanSummary).params.total;
    const small = await total('--set', 'width=1', '--set', 'depth=1');
    const wider = await total('--set', 'width=2', '--set', 'depth=1');
    expect(small).toBeLessThan(200_000);
    expect(wider).toBeGreaterThan(3 * small); // parameters grow with width squared
    const unknown = await mono(['compile', MONOLITHNET, '--set', 'widht=1']);
    expect(unknown.code).toBe(EXIT_PLAN_ERRORS);
    expect(unknown.stderr).toContain("did you mean 'width'?");
  });

  it('--emit ir prints the IR, and -o writes it to a file', async () => {
    const printed = await mono(['compile', QUICKSTART, '--emit', 'ir']);
    expect(printed.code).toBe(EXIT_OK);
    const ir = JSON.parse(printed.stdout) as IR;
    expect(ir.irVersion).toBe(1);
    expect(ir.plan).toBe('quickstart');
    const out = join(dir, 'quickstart.ir.json');
    const written = await mono(['compile', QUICKSTART, '--emit', 'ir', '-o', out]);
    expect(written).toEqual({ code: EXIT_OK, stdout: '', stderr: '' });
    expect(readFileSync(out, 'utf8')).toBe(printed.stdout);
  });

  it('exits 2 on usage errors', async () => {
    const cases: string[][] = [
      ['compile'],
      ['compile', QUICKSTART, QUICKSTART],
      ['compile', QUICKSTART, '--emit', 'onnx'],
      ['compile', QUICKSTART, '--emit', 'ir', '--dry-run'],
      ['compile', QUICKSTART, '--set', 'width'],
      ['compile', 'missing.mono'],
      ['check'],
    ];
    for (const args of cases) {
      const result = await mono(args);
      expect(result.code, args.join(' ')).toBe(EXIT_USAGE);
      expect(result.stderr, args.join(' ')).toMatch(/^mono (compile|check): .+\nRun 'mono (compile|check) --help' for usage\.\n$/);
    }
  });
});
