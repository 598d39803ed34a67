import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_OK, EXIT_PLAN_ERRORS, EXIT_RUNTIME, UsageError } from '../../src/cli/command.js';
import { doctorCommand } from '../../src/cli/commands/doctor.js';
import { runCommand } from '../../src/cli/commands/run.js';
import { readCheckpoint } from '../../src/runtime/checkpoint.js';
import { readMetrics, readRunInfo } from '../../src/runtime/run-folder.js';
import { writeIdxFolder } from './data/fixtures.js';
import { captureIO, mono } from '../cli/harness.js';

const PLAN = `plan tinycli
param width = 4
param lr = 0.05

data synthetic(examples: 120, classes: 3, shape: [6, 6, 1], noise: 0.3) {
  batch 20
  holdout 30
  seed 2
}

head probe(classes) { global_avg_pool dense(classes) }

network input [6, 6, 1] {
  stem: conv(width, 3) bn relu
  body: conv(width, 3) bn relu
  out: flatten dense(3)
}

partition p1 = stem proxy probe(3)
partition p2 = body .. out

schedule {
  train p1 for 1 epoch with msgd(lr: lr, momentum: 0.9)
  train p2 for 2 epochs with msgd(lr: lr, momentum: 0.9)
}
`;

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mono-cli-'));
  await writeFile(path.join(root, 'tiny.mono'), PLAN);
  await writeFile(path.join(root, 'wider.mono'), PLAN.replace('param width = 4', 'param width = 5'));
  await writeFile(path.join(root, 'broken.mono'), PLAN.replace('conv(width, 3) bn relu\n  body', 'conv(widht, 3) bn relu\n  body'));
  // A plan whose data path is relative to its own folder (not the cwd, not a run folder).
  await mkdir(path.join(root, 'plans', 'data'), { recursive: true });
  writeIdxFolder(path.join(root, 'plans', 'data'), { trainCount: 120, testCount: 0, rows: 28, cols: 28, gzip: false });
  await writeFile(path.join(root, 'plans', 'idx.mono'), PLAN.replace(/data synthetic\([^)]*\)/, 'data idx("data")').replace('[6, 6, 1] {', '[28, 28, 1] {').replace(/\(3\)/g, '(10)'));
  await writeFile(path.join(root, 'cifar.mono'), PLAN.replace(/data synthetic\([^)]*\)/, 'data cifar10("no/such/folder")').replace('[6, 6, 1] {', '[32, 32, 3] {').replace(/\(3\)/g, '(10)'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const capture = () => captureIO(root);

describe('mono run', () => {
  it('trains into a run folder, stops on --max-epochs, resumes, and refuses a changed plan without --force', async () => {
    const first = capture();
    expect(await runCommand.run(['tiny.mono', '--out', 'r1', '--backend', 'cpu', '--max-epochs', '2'], first.io)).toBe(EXIT_OK);
    expect(first.out()).toMatch(/p1 epoch 1\/1 \[p1\.head\]/);
    expect(first.out()).toMatch(/stopped after 2 epochs.*--resume r1; plots: r1\/metrics\.svg, r1\/loss\.svg, r1\/lr\.svg/);
    expect((await readdir(path.join(root, 'r1'))).sort()).toEqual([
      'best.bin', 'checkpoint.bin', 'confusion.json', 'ir.json', 'loss.svg', 'lr.svg', 'metrics.csv', 'metrics.jsonl', 'metrics.svg', 'plan.mono', 'report.html', 'run.json',
    ]);
    // metrics.csv: a header and a row per epoch; report.html: 2 of 3 epochs, the confusion matrix of the 30 hold-out examples.
    expect((await readFile(path.join(root, 'r1', 'metrics.csv'), 'utf8')).trimEnd().split('\n')).toHaveLength(3);
    const report = await readFile(path.join(root, 'r1', 'report.html'), 'utf8');
    expect(report).toContain('2 of 3 epochs done');
    expect(report).toMatch(/network, phase p2 epoch 1: 30 hold-out examples/);
    // Train and hold-out accuracy: one dot each per epoch.
    expect((await readFile(path.join(root, 'r1', 'metrics.svg'), 'utf8')).match(/<circle /g)).toHaveLength(4);

    // Through main(), which turns the failure into its message, its hint and exit 3.
    const changed = await mono(['run', 'wider.mono', '--resume', 'r1', '--backend', 'cpu'], { cwd: root });
    expect(changed.code).toBe(EXIT_RUNTIME);
    expect(changed.stderr).toMatch(/^mono run: the plan changed since r1 was checkpointed.*\n  Resume it unchanged, start a new run \(--init-from r1 keeps its weights\), or pass --force\.\n$/s);

    const resumed = capture();
    expect(await runCommand.run(['--resume', 'r1', '--backend', 'cpu'], resumed.io)).toBe(EXIT_OK);
    expect(resumed.out()).toMatch(/resuming at phase 2\/2, epoch 2/);
    expect(resumed.out()).toMatch(/done; last: p2 epoch 2, val_acc [\d.]+%\. Run folder: r1; plots: r1\/metrics\.svg/);
    // The resumed invocation's plots include the epochs before the interruption.
    expect((await readFile(path.join(root, 'r1', 'metrics.svg'), 'utf8')).match(/<circle /g)).toHaveLength(6);
    const metrics = await readMetrics(path.join(root, 'r1'));
    expect(metrics.map((m) => `${m.phase}/${m.epoch}`)).toEqual(['p1/1', 'p2/1', 'p2/2']);
    expect((await readFile(path.join(root, 'r1', 'metrics.csv'), 'utf8')).trimEnd().split('\n').map((row) => row.split(',').slice(0, 2).join('/'))).toEqual(['phase/epoch', 'p1/1', 'p2/1', 'p2/2']);
    expect(await readFile(path.join(root, 'r1', 'report.html'), 'utf8')).toContain('3 of 3 epochs done · finished');
    expect((await readCheckpoint(path.join(root, 'r1'))).state.phaseIndex).toBe(2);

    const finished = capture();
    expect(await runCommand.run(['--resume', 'r1', '--backend', 'cpu'], finished.io)).toBe(EXIT_OK);
    expect(finished.out()).toMatch(/^mono run: r1 has finished \(all 2 phases\); nothing to resume\. To train on from its weights: mono run PLAN --init-from r1\n$/);

    const forced = capture();
    expect(await runCommand.run(['wider.mono', '--resume', 'r1', '--backend', 'cpu', '--force'], forced.io)).toBe(EXIT_OK);
    expect(forced.err()).toMatch(/--force/);
    expect(forced.out()).toMatch(/has finished/);
  });

  it('reports plan errors with exit 1, usage errors as UsageError, missing data with exit 3', async () => {
    const broken = capture();
    expect(await runCommand.run(['broken.mono', '--backend', 'cpu'], broken.io)).toBe(EXIT_PLAN_ERRORS);
    expect(broken.err()).toMatch(/broken\.mono:\d+:\d+: error/);
    await expect(runCommand.run([], capture().io)).rejects.toThrow(UsageError);
    await expect(runCommand.run(['tiny.mono', '--backend', 'tpu'], capture().io)).rejects.toThrow(/choose one of: node-gpu, node, webgpu, wasm, cpu/);
    await expect(runCommand.run(['tiny.mono', '--seed', 'x'], capture().io)).rejects.toThrow(UsageError);
    // Runtime failures reach the user through main(), which maps them to exit 3.
    const missing = await mono(['run', 'cifar.mono', '--out', 'r2', '--backend', 'cpu'], { cwd: root });
    expect(missing.code).toBe(EXIT_RUNTIME);
    expect(missing.stderr).toMatch(/^mono run: CIFAR-10 not found/);
  });

  it('--resume without PLAN finds data relative to the original plan and keeps its path in run.json', async () => {
    const first = capture();
    expect(await runCommand.run(['plans/idx.mono', '--out', 'r5', '--backend', 'cpu', '--max-epochs', '1'], first.io), first.err()).toBe(EXIT_OK);
    const planFile = path.join(root, 'plans', 'idx.mono');
    expect((await readRunInfo(path.join(root, 'r5'))).planFile).toBe(planFile);
    const resumed = capture();
    expect(await runCommand.run(['--resume', 'r5', '--backend', 'cpu'], resumed.io), resumed.err()).toBe(EXIT_OK);
    expect(resumed.out()).toMatch(/done; last: p2 epoch 2/);
    expect((await readRunInfo(path.join(root, 'r5'))).planFile).toBe(planFile);
  });

  it('refuses --seed on --resume, and shows the excerpt of a bad --set', async () => {
    await expect(runCommand.run(['--resume', 'r1', '--seed', '3'], capture().io)).rejects.toThrow(/--seed cannot change a resumed run/);
    const badSet = capture();
    expect(await runCommand.run(['tiny.mono', '--set', 'width=nosuch', '--backend', 'cpu'], badSet.io)).toBe(EXIT_PLAN_ERRORS);
    // The excerpt line of the --set text, as compile/check/lr-find render it.
    expect(badSet.err()).toMatch(/--set:1:\d+: error[\s\S]*width=nosuch/);
  });

  it('--init-from reports what it loaded, and refuses a checkpoint of which nothing fits unless --force', async () => {
    const run = capture();
    expect(await runCommand.run(['wider.mono', '--out', 'r3', '--backend', 'cpu', '--init-from', 'r1', '--max-epochs', '1'], run.io)).toBe(EXIT_OK);
    expect(run.err()).toMatch(/--init-from loaded \d+ parameters; skipped .*stem/);
    expect((await readRunInfo(path.join(root, 'r3'))).initFrom).toBe(path.join(root, 'r1'));
    await writeFile(path.join(root, 'other.mono'), PLAN.replace(/\(3\)/g, '(4)').replace('classes: 3', 'classes: 4').replace('param width = 4', 'param width = 6'));
    const nothing = await mono(['run', 'other.mono', '--out', 'r6', '--backend', 'cpu', '--init-from', 'r1'], { cwd: root });
    expect(nothing.code).toBe(EXIT_RUNTIME);
    expect(nothing.stderr).toMatch(/^mono run: --init-from r1: none of its \d+ weights fits a parameter of tinycli by name and shape, so the run would train from scratch; pass --force to do that anyway\n$/);
    const forced = await mono(['run', 'other.mono', '--out', 'r6', '--backend', 'cpu', '--init-from', 'r1', '--force', '--max-epochs', '1'], { cwd: root });
    expect(forced.code, forced.stderr).toBe(EXIT_OK);
    expect(forced.stderr).toMatch(/--init-from loaded 0 parameters/);
  });
});

describe('mono doctor', () => {
  it('lists every backend with a reason and the wasm kernel report', async () => {
    const json = capture();
    expect(await doctorCommand.run(['--json'], json.io)).toBe(EXIT_OK);
    const report = JSON.parse(json.out()) as { backends: { name: string; available: boolean; detail: string }[]; chosen: string; wasmKernels: { kernel: string; status: string }[] };
    expect(report.backends.map((b) => b.name)).toEqual(['node-gpu', 'node', 'webgpu', 'wasm', 'cpu']);
    expect(report.backends.every((b) => b.detail.length > 0)).toBe(true);
    expect(report.backends.find((b) => b.name === 'cpu')!.available).toBe(true);
    expect(report.wasmKernels.find((k) => k.kernel === 'Conv2DBackpropFilter')?.status).toBe('mono');
    const text = capture();
    expect(await doctorCommand.run([], text.io)).toBe(EXIT_OK);
    expect(text.out()).toMatch(/Chosen: /);
  });
});

describe('mono run folders', () => {
  it('stops with exit 3 when BatchNorm hides a diverged net (lr 1e6), keeping no bad epoch', async () => {
    const result = await mono(['run', 'tiny.mono', '--out', 'diverged', '--backend', 'cpu', '--set', 'width=4', '--set', 'lr=1e6'], { cwd: root });
    expect(result.code).toBe(EXIT_RUNTIME);
    expect(result.stderr).toMatch(/^mono run: .* is no longer finite after phase p1, epoch 1 \(is the learning rate too high\?\)\n$/);
    expect(await readFile(path.join(root, 'diverged', 'metrics.jsonl'), 'utf8')).toBe('');
    expect(await readdir(path.join(root, 'diverged'))).not.toContain('checkpoint.bin');
  });

  it('reports a damaged run.json, a short or damaged metrics.jsonl and an edited checkpoint by name, exit 3', async () => {
    expect(await runCommand.run(['tiny.mono', '--out', 'damaged', '--backend', 'cpu', '--max-epochs', '2'], capture().io)).toBe(EXIT_OK);
    const dir = path.join(root, 'damaged');
    const resume = () => mono(['run', '--resume', 'damaged', '--backend', 'cpu'], { cwd: root });
    const runJson = await readFile(path.join(dir, 'run.json'), 'utf8');
    await writeFile(path.join(dir, 'run.json'), runJson.replace(/"set": \{\}/, '"set": null'));
    expect(await resume()).toMatchObject({ code: EXIT_RUNTIME, stderr: `mono run: ${path.join(dir, 'run.json')} is damaged (/set must be object); it records the run's seed and --set values: restore it to resume\n` });
    await writeFile(path.join(dir, 'run.json'), runJson);

    const metrics = await readFile(path.join(dir, 'metrics.jsonl'), 'utf8');
    await writeFile(path.join(dir, 'metrics.jsonl'), metrics.split('\n')[0] + '\n');
    const short = await resume();
    expect(short.code).toBe(EXIT_RUNTIME);
    expect(short.stderr).toMatch(/metrics\.jsonl holds \d+ bytes, fewer than the \d+ the checkpoint recorded \(lines were lost\)/);
    expect(await readFile(path.join(dir, 'metrics.jsonl'), 'utf8')).toBe(metrics.split('\n')[0] + '\n');
    await writeFile(path.join(dir, 'metrics.jsonl'), metrics.replace('"phase":"p2"', '"phase"#"p2"'));
    expect((await resume()).stderr).toMatch(/metrics\.jsonl line 2 is damaged \(not JSON/);
    await writeFile(path.join(dir, 'metrics.jsonl'), metrics);

    // Skipping an epoch by editing the header: the whole-file checksum refuses it.
    const checkpoint = await readFile(path.join(dir, 'checkpoint.bin'));
    const at = checkpoint.indexOf('"nextEpoch":1');
    expect(at).toBeGreaterThan(0);
    const edited = Buffer.from(checkpoint);
    edited.write('"nextEpoch":0', at, 'latin1');
    await writeFile(path.join(dir, 'checkpoint.bin'), edited);
    expect(await resume()).toMatchObject({ code: EXIT_RUNTIME, stderr: `mono run: ${path.join(dir, 'checkpoint.bin')} is not a readable mono checkpoint: the file does not match its checksum (damaged)\n` });
    await writeFile(path.join(dir, 'checkpoint.bin'), checkpoint);
    expect((await resume()).code).toBe(EXIT_OK);
  });

  it('names a run folder outside the working directory by its absolute path', async () => {
    const outside = await mkdtemp(path.join(os.tmpdir(), 'mono-cli-outside-'));
    try {
      const run = capture();
      expect(await runCommand.run(['tiny.mono', '--out', outside, '--backend', 'cpu', '--max-epochs', '1'], run.io)).toBe(EXIT_OK);
      expect(run.out()).toContain(`into ${outside}\n`);
      expect(run.out()).toContain(`Continue with: mono run --resume ${outside};`);
      expect(run.out()).not.toContain('../');
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('reuses a folder left by a run that failed before its first epoch, but never overwrites a trained one', async () => {
    expect((await mono(['run', 'cifar.mono', '--out', 'r4', '--backend', 'cpu'], { cwd: root })).code).toBe(EXIT_RUNTIME);
    expect(await runCommand.run(['tiny.mono', '--out', 'r4', '--backend', 'cpu', '--max-epochs', '1'], capture().io)).toBe(EXIT_OK);
    const again = await mono(['run', 'tiny.mono', '--out', 'r4', '--backend', 'cpu'], { cwd: root });
    expect(again.code).toBe(EXIT_RUNTIME);
    expect(again.stderr).toMatch(/already holds a run: continue it with --resume/);
  });
});
