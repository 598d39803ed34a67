/**
 * `mono export --format tfjs` in a real browser: headless Chromium (Debian's package,
 * driven by playwright-core) opens a page served from 127.0.0.1 that loads TensorFlow.js
 * from node_modules and the exported LayersModel with tf.loadLayersModel, as a user's
 * page would, and predicts 100 hold-out examples; the probabilities must be those of
 * `mono predict` (max abs difference < 1e-4). The page uses tfjs's cpu backend: the
 * check is of the model file, not of the machine's WebGL. Skips (with the reason)
 * without Chromium, fails without it in CI.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium, type Browser } from 'playwright-core';
import pngjs from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_OK } from '../../src/cli/command.js';
import type { IR } from '../../src/ir/types.js';
import { loadData } from '../../src/runtime/data/dataset.js';
import type { Prediction } from '../../src/runtime/index.js';
import { encodeNpy } from '../../src/runtime/model/inputs/npy.js';
import { skipWithoutComponent } from '../support/components.js';
import { startFileServer, type FileServer } from '../support/file-server.js';
import { mono } from './harness.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((file) => existsSync(file));
const skip = skipWithoutComponent('Chromium', CHROMIUM !== undefined && existsSync(CHROMIUM), `no Chromium at ${process.env.CHROMIUM_PATH ?? '/usr/bin/chromium or /usr/bin/chromium-browser'} (Debian: apt-get install chromium; or set CHROMIUM_PATH)`);

/** A residual network with BatchNorm, gelu, a stride-2 'same' conv and a shared stack with its 1/2 scale. */
const PLAN = `plan web
data synthetic(examples: 200, classes: 3, shape: [10, 10, 1], noise: 0.4) {
  normalize per_channel
  batch 20
  holdout 100
}
block euler(f) { residual { conv(f, 3) bn gelu conv(f, 3, bias: true) } }
head probe(classes) { global_avg_pool dense(classes) }
network input [10, 10, 1] {
  stem: conv(4, 3, stride: 2) bn relu
  ode: repeat 2 shared(scale: 1 / 2) euler(4)
  out: global_avg_pool dense(3)
}
partition p1 = stem proxy probe(3)
partition p2 = ode .. out
schedule {
  train p1 for 1 epoch with msgd(lr: 0.05)
  train p2 for 2 epochs with msgd(lr: 0.05)
}
`;

/** The page a user would write: tfjs from a script tag, the model from its URL. */
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>mono export in a page</title>
<script src="/tfjs/tf.min.js"></script>
<script>
  window.predictions = (async () => {
    await tf.setBackend('cpu');
    const model = await tf.loadLayersModel('/model/model.json');
    const input = await (await fetch('/holdout.json')).json();
    const output = model.predict(tf.tensor(input.data, input.shape));
    return { backend: tf.getBackend(), version: tf.version.tfjs, probabilities: await output.array(), metadata: model.getUserDefinedMetadata() };
  })();
</script></head><body></body></html>
`;

const N = 100;
const CLASSIFY_PAGE = path.resolve(import.meta.dirname, '../../docs/examples/classify.html');
const TFJS_BUNDLE = path.join(path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs/package.json')), 'dist', 'tf.min.js');

describe.skipIf(skip)('a tfjs export in headless Chromium', () => {
  let root: string;
  let server: FileServer | undefined;
  let browser: Browser | undefined;
  let holdout: { values: Float32Array; shape: number[] };
  const run = (args: string[]) => mono(args, { cwd: root });

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'mono-browser-'));
    await writeFile(path.join(root, 'web.mono'), PLAN);
    const trained = await run(['run', 'web.mono', '--out', 'web', '--backend', 'cpu']);
    expect(trained.code, trained.stderr).toBe(EXIT_OK);
    const exported = await run(['export', 'web', '--format', 'tfjs', '--out', 'web-tfjs']);
    expect(exported.code, exported.stderr).toBe(EXIT_OK);
    const ir = JSON.parse(await readFile(path.join(root, 'web', 'ir.json'), 'utf8')) as IR;
    // The run's hold-out split (the plan's seed), as pixels in [0, 1]: the model normalises.
    const raw = await loadData({ ...ir.data, normalize: { type: 'none' } });
    holdout = { values: raw.holdout.images.slice(0, N * 100), shape: [N, 10, 10, 1] };
    await writeFile(path.join(root, 'holdout.npy'), encodeNpy(holdout.shape, holdout.values));
    const png = new pngjs.PNG({ width: 10, height: 10 });
    for (let i = 0; i < 100; i++) {
      const v = Math.round(holdout.values[i]! * 255);
      png.data.set([v, v, v, 255], i * 4);
    }
    await writeFile(path.join(root, 'first.png'), pngjs.PNG.sync.write(png));

    const model = JSON.parse(await readFile(path.join(root, 'web-tfjs', 'model.json'), 'utf8')) as { weightsManifest: { paths: string[] }[] };
    const files: Record<string, Uint8Array> = {
      '/': new TextEncoder().encode(PAGE),
      '/tfjs/tf.min.js': await readFile(TFJS_BUNDLE),
      '/model/model.json': await readFile(path.join(root, 'web-tfjs', 'model.json')),
      '/holdout.json': new TextEncoder().encode(JSON.stringify({ shape: holdout.shape, data: Array.from(holdout.values) })),
    };
    // docs/examples/classify.html, the page the README's quick start opens, with an image of the first hold-out example.
    files['/classify.html'] = await readFile(CLASSIFY_PAGE);
    files['/tf.min.js'] = files['/tfjs/tf.min.js']!;
    files['/digit-7.png'] = await readFile(path.join(root, 'first.png'));
    for (const shard of model.weightsManifest.flatMap((group) => group.paths)) files[`/model/${shard}`] = await readFile(path.join(root, 'web-tfjs', shard));
    server = await startFileServer(files);
    browser = await chromium.launch({ executablePath: CHROMIUM! });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('tf.loadLayersModel loads it from 127.0.0.1 and predicts what mono predicts (max abs difference < 1e-4)', async () => {
    const page = await browser!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${server!.origin}/`);
    const result = await page.evaluate(() => (globalThis as unknown as { predictions: Promise<{ backend: string; version: string; probabilities: number[][]; metadata: Record<string, unknown> }> }).predictions);
    expect(errors).toEqual([]);
    expect(result.backend).toBe('cpu');
    expect(result.metadata).toMatchObject({ plan: 'web', head: 'network' });
    // The page fetched tfjs, the model and its weights from the server.
    const paths = server!.requests.map((r) => r.path);
    for (const file of ['/tfjs/tf.min.js', '/model/model.json', '/model/group1-shard1of1.bin']) expect(paths).toContain(file);

    const predicted = await run(['predict', 'web', 'holdout.npy', '--json', '--top', '3', '--backend', 'cpu']);
    expect(predicted.code, predicted.stderr).toBe(EXIT_OK);
    const mine = predicted.stdout.trim().split('\n').map((line) => {
      const row: number[] = [];
      for (const t of (JSON.parse(line) as Prediction).top) row[t.class] = t.probability;
      return row;
    });
    expect(result.probabilities).toHaveLength(N);
    let max = 0;
    result.probabilities.forEach((row, i) => row.forEach((p, c) => (max = Math.max(max, Math.abs(p - mine[i]![c]!)))));
    expect(max).toBeLessThan(1e-4);
    // Not a degenerate model: the probabilities differ between examples.
    expect(new Set(result.probabilities.map((row) => row[0]!.toFixed(4))).size).toBeGreaterThan(10);
    await page.close();
  }, 60_000);

  it("docs/examples/classify.html classifies an image as mono predict does", async () => {
    const page = await browser!.newPage();
    await page.goto(`${server!.origin}/classify.html?backend=cpu`);
    const result = await page.evaluate(() => (globalThis as unknown as { classified: Promise<{ backend: string; probabilities: number[] }> }).classified);
    expect(result.backend).toBe('cpu');
    const predicted = await run(['predict', 'web', 'first.png', '--json', '--top', '3', '--backend', 'cpu']);
    expect(predicted.code, predicted.stderr).toBe(EXIT_OK);
    const top = (JSON.parse(predicted.stdout) as Prediction).top;
    for (const t of top) expect(Math.abs(result.probabilities[t.class]! - t.probability)).toBeLessThan(1e-4);
    // The page shows the top classes as mono predict ranks them.
    const shown = (await page.textContent('#result'))!;
    expect(shown).toMatch(/^\d \([\d.]+%\)  \d \([\d.]+%\)  \d \([\d.]+%\)$/);
    expect([...shown.matchAll(/(\d) \(/g)].map((m) => Number(m[1]))).toEqual(top.map((t) => t.class));
    await page.close();
  }, 60_000);
});
