import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_OK, EXIT_PLAN_ERRORS, EXIT_RUNTIME, UsageError } from '../../src/cli/command.js';
import { lrFindCommand } from '../../src/cli/commands/lr-find.js';
import { runCommand } from '../../src/cli/commands/run.js';
import { readMetrics } from '../../src/runtime/run-folder.js';
import { captureIO, mono } from '../cli/harness.js';
import { runMono } from '../support/cli-process.js';

const PLAN = `plan tinyfind

data synthetic(examples: 200, classes: 3, shape: [6, 6, 1], noise: 0.4) {
  batch 16
  holdout 40
  seed 2
}

head probe(classes) { flatten dense(classes) }

network input [6, 6, 1] {
  stem: conv(4, 3) bn relu
  body: conv(4, 3) bn relu
  out: flatten dense(3)
}

partition p1 = stem proxy probe(3)
partition p2 = body .. out

schedule {
  train p1 for 1 epoch with msgd(lr: 0.05, momentum: 0.9, lars: 0.01)
  train p2 for 1 epoch with msgd(lr: 0.05, momentum: 0.9) {
    lr mi(max: 0.1, min: 0.001, bounds: lr_find)
  }
}
`;

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mono-lr-find-'));
  await writeFile(path.join(root, 'tiny.mono'), PLAN);
  await writeFile(path.join(root, 'broken.mono'), PLAN.replace('conv(4, 3) bn relu\n  body', 'conv(four, 3) bn relu\n  body'));
  await writeFile(path.join(root, 'cifar.mono'), PLAN.replace(/data synthetic\([^)]*\)/, 'data cifar10("no/such/folder")').replace('[6, 6, 1] {', '[32, 32, 3] {').replace(/\(3\)/g, '(10)'));
  // 80 training examples in batches of 16: the in-plan sweep's default is 2 passes, 10 steps.
  await writeFile(path.join(root, 'small.mono'), PLAN.replace('examples: 200', 'examples: 100').replace('holdout 40', 'holdout 20'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const capture = () => captureIO(root);

describe('mono lr-find', () => {
  it('writes lr-find.csv, .svg and .json and prints the suggested bounds as JSON', async () => {
    const run = capture();
    const code = await lrFindCommand.run(['tiny.mono', '--phase', 'p2', '--out', 'find', '--json', '--steps', '40', '--from', '1e-5', '--backend', 'cpu'], run.io);
    expect(code, run.err()).toBe(EXIT_OK);
    const summary = JSON.parse(run.out()) as { phase: string; suggested: { min: number; max: number }; steps: number; recorded: number; files: string[]; warnings: string[] };
    expect(summary.phase).toBe('p2');
    // p2 runs p1 frozen, and no --init-from trained it: warned on stderr and in the JSON.
    expect(summary.warnings).toEqual([expect.stringMatching(/p1 frozen.*untrained earlier partitions.*--init-from RUN_DIR/)]);
    expect(run.err()).toMatch(/mono lr-find: warning: phase p2 runs p1 frozen/);
    expect(summary.steps).toBe(40);
    expect(summary.suggested.min).toBeGreaterThan(0);
    expect(summary.suggested.min).toBeLessThan(summary.suggested.max);
    expect(summary.files.map((f) => path.basename(f))).toEqual(['lr-find.csv', 'lr-find.svg', 'lr-find.json']);
    const csv = (await readFile(path.join(root, 'find', 'lr-find.csv'), 'utf8')).trim().split('\n');
    expect(csv[0]).toBe('lr,loss,smoothed_loss');
    expect(csv).toHaveLength(summary.recorded + 1);
    expect(Number(csv[1]!.split(',')[0])).toBeCloseTo(1e-5, 12);
    expect(await readFile(path.join(root, 'find', 'lr-find.svg'), 'utf8')).toMatch(/^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    const saved = JSON.parse(await readFile(path.join(root, 'find', 'lr-find.json'), 'utf8')) as { suggested: unknown };
    expect(saved.suggested).toEqual(summary.suggested);
    expect(summary).toMatchObject({ usable: true, problem: null });
    // First phase by default; text output. 20 steps of p1 (LARS keeps its steps small) are
    // still descending at lr 10: unusable, said on stderr and in lr-find.json.
    const text = capture();
    expect(await lrFindCommand.run(['tiny.mono', '--out', 'find2', '--steps', '20', '--backend', 'cpu'], text.io)).toBe(EXIT_OK);
    expect(text.out()).toMatch(/phase p1 of tinyfind on cpu/);
    expect(text.out()).toMatch(/unusable lr bounds: min \S+, max \S+/);
    expect(text.err()).toMatch(/^mono lr-find: warning: the sweep is unusable: the lowest loss is at the last step \(lr 1\.00e\+1\): the loss was still falling when the sweep ended; its bounds are no suggestion/m);
    const find2 = JSON.parse(await readFile(path.join(root, 'find2', 'lr-find.json'), 'utf8')) as { usable: boolean; problem: string };
    expect(find2).toMatchObject({ usable: false, problem: expect.stringContaining('the lowest loss is at the last step') });
  });

  it('mono run --lr-find DIR (child process) refuses an unusable sweep with exit 3 and says why', async () => {
    const found = capture();
    expect(await lrFindCommand.run(['tiny.mono', '--phase', 'p2', '--out', 'find-short', '--steps', '12', '--backend', 'cpu'], found.io)).toBe(EXIT_OK);
    expect(found.err()).toMatch(/warning: the sweep is unusable: only 12 steps recorded \(at least 20 needed\)/);
    const run = await runMono(['run', 'tiny.mono', '--lr-find', 'find-short', '--out', 'refused', '--backend', 'cpu'], { cwd: root, timeoutMs: 120_000 });
    expect(run.code).toBe(EXIT_RUNTIME);
    expect(run.stderr).toMatch(/^mono run: \S*find-short\/lr-find\.json: the LR range test of phase p2 was unusable \(only 12 steps recorded.*\), so its bounds are no suggestion; run 'mono lr-find' again/);
    expect(run.stderr).not.toMatch(/unexpected failure|\n\s+at /);
  });

  it('mono run --lr-find DIR uses the bounds lr-find wrote for its phase instead of sweeping', async () => {
    const found = JSON.parse(await readFile(path.join(root, 'find', 'lr-find.json'), 'utf8')) as { suggested: { min: number; max: number } };
    const run = capture();
    expect(await runCommand.run(['tiny.mono', '--lr-find', 'find', '--out', 'given', '--backend', 'cpu'], run.io), run.err()).toBe(EXIT_OK);
    expect(run.out()).toMatch(/p2 takes lr bounds min \S+, max \S+ from find\/lr-find\.json/);
    const p2 = (await readMetrics(path.join(root, 'given'))).filter((m) => m.phase === 'p2');
    expect(p2.map((m) => m.lr_bounds)).toEqual([found.suggested]);
    const files = await readdir(path.join(root, 'given'));
    expect(files).not.toContain('lr-find-p2.csv');
    expect(JSON.parse(await readFile(path.join(root, 'given', 'lr-bounds.json'), 'utf8'))).toEqual({ p2: { ...found.suggested, source: 'given' } });
    // find2 tested p1, whose lr takes no lr_find bounds; nosuch has no lr-find.json.
    await expect(runCommand.run(['tiny.mono', '--lr-find', 'find2', '--backend', 'cpu'], capture().io)).rejects.toThrow(/phase 'p1'.*the phases that do: p2/);
    await expect(runCommand.run(['tiny.mono', '--lr-find', 'nosuch', '--backend', 'cpu'], capture().io)).rejects.toThrow(UsageError);
  });

  it('does not warn about untrained frozen partitions with --init-from', async () => {
    const trained = capture();
    expect(await runCommand.run(['tiny.mono', '--out', 'p1-done', '--backend', 'cpu', '--max-epochs', '1'], trained.io), trained.err()).toBe(EXIT_OK);
    const run = capture();
    expect(await lrFindCommand.run(['tiny.mono', '--phase', 'p2', '--init-from', 'p1-done', '--out', 'find3', '--json', '--steps', '10', '--backend', 'cpu'], run.io)).toBe(EXIT_OK);
    // 10 steps are too few to suggest anything: that is the only warning.
    const summary = JSON.parse(run.out()) as { warnings: string[]; usable: boolean };
    expect(summary.usable).toBe(false);
    expect(summary.warnings).toEqual([expect.stringMatching(/^the sweep is unusable: only 10 steps recorded/)]);
    expect(run.err()).not.toMatch(/frozen/);
  });

  it('mono run (child process): an unusable in-plan sweep keeps the plan bounds, warns on the terminal, records why in metrics.jsonl and lr-bounds.json', async () => {
    const result = await runMono(['run', 'small.mono', '--out', 'small-run', '--backend', 'cpu'], { cwd: root, timeoutMs: 120_000 });
    expect(result.stderr).toMatch(
      /^mono run: warning: p2: the LR range test \(10 of 10 steps\) is unusable: only 10 steps recorded \(at least 20 needed\)[^\n]*; keeping the plan's lr bounds \[0\.00100, 0\.100\]$/m,
    );
    expect(result.stdout).toMatch(/p2 epoch 1\/1 .*lr bounds \[0\.00100, 0\.100\] from the plan \(LR range test unusable\)/);
    expect(result.stderr).not.toMatch(/unexpected failure|\n\s+at /);
    expect(result.code).toBe(0);
    const p2 = (await readMetrics(path.join(root, 'small-run'))).find((m) => m.phase === 'p2')!;
    expect(p2).toMatchObject({ lr: 0.1, lr_bounds: { min: 0.001, max: 0.1 }, lr_bounds_source: 'plan', lr_find_rejected: expect.stringMatching(/^only 10 steps recorded/) });
    const recorded = JSON.parse(await readFile(path.join(root, 'small-run', 'lr-bounds.json'), 'utf8')) as Record<string, unknown>;
    expect(recorded['p2']).toEqual({ min: 0.001, max: 0.1, source: 'plan', lr_find_rejected: p2.lr_find_rejected });
    // The rejected sweep's curve stays next to the metrics, marked unusable.
    const sweep = JSON.parse(await readFile(path.join(root, 'small-run', 'lr-find-p2.json'), 'utf8')) as { usable: boolean };
    expect(sweep.usable).toBe(false);
  });

  it('exits 1 on plan errors, 3 on missing data, and throws UsageError on bad arguments', async () => {
    expect(await lrFindCommand.run(['broken.mono', '--backend', 'cpu'], capture().io)).toBe(EXIT_PLAN_ERRORS);
    const missing = await mono(['lr-find', 'cifar.mono', '--out', 'x', '--backend', 'cpu'], { cwd: root });
    expect(missing.code).toBe(EXIT_RUNTIME);
    expect(missing.stderr).toMatch(/mono lr-find: .*cifar/i);
    await expect(lrFindCommand.run([], capture().io)).rejects.toThrow(UsageError);
    await expect(lrFindCommand.run(['tiny.mono', '--phase', 'p9'], capture().io)).rejects.toThrow(/no phase 'p9' .*phases: p1, p2/);
    await expect(lrFindCommand.run(['tiny.mono', '--steps', '1'], capture().io)).rejects.toThrow(/--steps expects a whole number >= 2/);
    await expect(lrFindCommand.run(['tiny.mono', '--from', '1', '--to', '0.1'], capture().io)).rejects.toThrow(/--from must be below --to/);
    await expect(lrFindCommand.run(['tiny.mono', '--from=-1'], capture().io)).rejects.toThrow(/--from expects a number > 0/);
  });

  it('refuses an stdp phase (no learning rate) with a usage error naming the phases that have one', async () => {
    await writeFile(
      path.join(root, 'stdp.mono'),
      [
        'plan spikes',
        'data synthetic(examples: 64, classes: 3, shape: [6, 6, 1]) { batch 16 holdout 16 }',
        'network input [6, 6, 1] {',
        '  f: binary conv(4, 3, init: stdp_normal) binary(threshold: 2)',
        '  out: flatten dense(3)',
        '}',
        'partition features = f',
        'partition readout = out',
        'schedule {',
        '  train features for 1 epoch with stdp',
        '  train readout for 1 epoch with sgd(lr: 0.1)',
        '}',
      ].join('\n'),
    );
    await expect(lrFindCommand.run(['stdp.mono', '--phase', 'features'], capture().io)).rejects.toThrow(
      /phase features of stdp.mono is trained by stdp, which has no learning rate to sweep \(phases with one: readout\)/,
    );
  });
});
