// Time estimates from the bench cache: what mono compile prints, what mono run warns
// about before a run of more than a day, and the cache itself.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_OK, EXIT_USAGE } from '../../src/cli/command.js';
import { longRunWarning } from '../../src/cli/time-estimate.js';
import { compilePlan } from '../../src/compile.js';
import { selectBackend } from '../../src/runtime/backend.js';
import { benchFile, readBenchCache, recordBench, throughputFor, type BenchEntry } from '../../src/runtime/throughput-cache.js';
import { measureThroughput } from '../../src/runtime/throughput.js';
import { DEFAULT_THROUGHPUT, stepFlopsPerExample } from '../../src/summary/time.js';
import { tinyIR } from '../runtime/tiny-ir.js';
import { mono } from './harness.js';

const PLAN = `plan tiny
param n = 2
data synthetic(examples: 120, classes: 3, shape: [6, 6, 1], noise: 0.3) { batch 20 holdout 20 }
network input [6, 6, 1] {
  body: conv(4, 3) bn relu
  out: flatten dense(3)
}
partition p1 = body .. out
schedule { train p1 for n epochs with msgd(lr: 0.05, momentum: 0.9) }
`;

const entry = (flopsPerSecond: number): BenchEntry => ({
  flopsPerSecond, stepMs: 10, steps: 3, batch: 32, net: 'test', measuredAt: '2026-11-30T00:00:00.000Z', machine: 'test machine',
});

let root: string;
let emptyCache: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mono-time-'));
  emptyCache = path.join(root, 'empty-cache');
  await writeFile(path.join(root, 'tiny.mono'), PLAN);
});
afterAll(async () => rm(root, { recursive: true, force: true }));

describe('the bench cache', () => {
  it('records measurements per backend in <cache>/bench.json and reads them back', async () => {
    const env = { MONO_DATA: path.join(root, 'cache-a') };
    expect(readBenchCache(env)).toEqual({ version: 1, chosen: null, backends: {} });
    expect(throughputFor(readBenchCache(env))).toEqual(DEFAULT_THROUGHPUT);
    const file = await recordBench('wasm', entry(2e9), 'wasm', env);
    expect(file).toBe(path.join(root, 'cache-a', 'bench.json'));
    await recordBench('webgpu', entry(5e10), null, env);
    const cache = readBenchCache(env);
    expect(cache.chosen).toBe('wasm');
    expect(throughputFor(cache)).toMatchObject({ backend: 'wasm', flopsPerSecond: 2e9, source: 'measured' });
    expect(throughputFor(cache, 'webgpu')).toMatchObject({ backend: 'webgpu', flopsPerSecond: 5e10 });
    expect(throughputFor(cache, 'node')).toBeUndefined();
    await writeFile(benchFile(env), '{ damaged');
    expect(readBenchCache(env).backends).toEqual({});
  });

  it("measures the active backend's training FLOP/s on a given net", async () => {
    await selectBackend({ force: 'cpu' });
    const ir = tinyIR({ epochs: [1, 1] });
    ir.partitions.forEach((p) => { p.flops = 1000; });
    const phase = ir.phases[0]!;
    const measured = await measureThroughput(ir, phase, { batch: 4, budgetMs: 50, minSteps: 2, maxSteps: 5, net: 'tiny' });
    expect(measured.steps).toBeGreaterThanOrEqual(2);
    expect(measured.steps).toBeLessThanOrEqual(5);
    expect(measured.flopsPerSecond).toBeCloseTo((stepFlopsPerExample(ir, phase) * 4) / (measured.stepMs / 1000), 6);
    expect(measured.net).toBe('tiny');
  });
});

describe('mono compile: the time estimate', () => {
  it("says when it uses mono's default, not a measurement of this machine", async () => {
    const result = await mono(['compile', 'tiny.mono'], { cwd: root, env: { MONO_DATA: emptyCache } });
    expect(result.code).toBe(EXIT_OK);
    expect(result.stdout).toMatch(/\nTime \(estimated on wasm at 3.3 GFLOP\/s: mono's default \(the project's 2-core build machine\), not this machine; mono doctor --bench measures it; .*\):\n  p1: \S+ \S+ a step, \S+ \S+ an epoch, \S+ \S+ for 2 epochs\n  whole run: /);
  });

  it('uses the measured throughput of the chosen backend, or of --backend NAME; --json carries it', async () => {
    const env = { MONO_DATA: path.join(root, 'cache-b') };
    await recordBench('wasm', entry(1e6), 'wasm', env);
    await recordBench('webgpu', entry(1e8), null, env);
    const wasm = await mono(['compile', 'tiny.mono'], { cwd: root, env });
    expect(wasm.stdout).toContain('Time (estimated on wasm at 1 MFLOP/s, measured by mono doctor --bench on 2026-11-30 (test machine)');
    const webgpu = await mono(['compile', 'tiny.mono', '--backend', 'webgpu'], { cwd: root, env });
    expect(webgpu.stdout).toContain('Time (estimated on webgpu at 100 MFLOP/s');
    const node = await mono(['compile', 'tiny.mono', '--backend', 'node'], { cwd: root, env });
    expect(node.stdout).toContain('Time: no measurement for the node backend; run mono doctor --bench --backend node');
    const json = JSON.parse((await mono(['compile', 'tiny.mono', '--json'], { cwd: root, env })).stdout) as { time: { seconds: number; throughput: { backend: string } } };
    expect(json.time.throughput.backend).toBe('wasm');
    const ir = compilePlan(PLAN, 'tiny.mono').ir!;
    expect(json.time.seconds).toBeGreaterThan(0);
    // 100 examples a epoch in 5 full batches, 20 held out, 2 epochs.
    expect(json.time.seconds * 1e6).toBeCloseTo(2 * (100 * stepFlopsPerExample(ir, ir.phases[0]!) + 20 * ir.partitions[0]!.flops), 3);
    expect((await mono(['compile', 'tiny.mono', '--backend', 'tpu'], { cwd: root, env })).code).toBe(EXIT_USAGE);
  });
});

describe('mono run: a warning before a run of more than a day', () => {
  const ir = compilePlan(PLAN.replace('param n = 2', 'param n = 200'), 'tiny.mono').ir!;

  it('names a measured backend that would finish within a day, or the throughput one would need', () => {
    const slow = { version: 1 as const, chosen: 'wasm', backends: { wasm: entry(10) } };
    expect(longRunWarning(ir, 'wasm', slow)).toMatch(/^this run is estimated at \S+ days on wasm at 10 FLOP\/s, measured by mono doctor --bench on 2026-11-30 \(test machine\); finishing within a day needs about \S+ \S?FLOP\/s: a GPU backend/);
    const withGpu = { ...slow, backends: { ...slow.backends, webgpu: entry(1e12) } };
    expect(longRunWarning(ir, 'wasm', withGpu)).toMatch(/; on webgpu \(measured 1 TFLOP\/s\) it would take about \S+ \S+: mono run --backend webgpu$/);
    expect(longRunWarning(ir, 'webgpu', withGpu)).toBeUndefined();
    // No measurement and no default for this backend: no estimate, no warning.
    expect(longRunWarning(ir, 'node', withGpu)).toBeUndefined();
  });

  it('is printed by mono run before it starts', async () => {
    const env = { MONO_DATA: path.join(root, 'cache-c') };
    await recordBench('cpu', entry(100), 'cpu', env);
    await recordBench('webgpu', entry(1e12), null, env);
    const result = await mono(['run', 'tiny.mono', '--backend', 'cpu', '--set', 'n=200', '--max-epochs', '1', '--out', 'long'], { cwd: root, env });
    expect(result.code, result.stderr).toBe(EXIT_OK);
    expect(result.stderr).toMatch(/mono run: warning: this run is estimated at .* on cpu at 100 FLOP\/s.*: mono run --backend webgpu\n/);
    expect((await readFile(path.join(root, 'long', 'metrics.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(1);
    const short = await mono(['run', 'tiny.mono', '--backend', 'cpu', '--max-epochs', '1', '--out', 'short'], { cwd: root, env: { MONO_DATA: path.join(root, 'cache-c') } });
    expect(short.stderr).not.toContain('estimated');
  });
});
