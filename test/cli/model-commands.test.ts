/**
 * mono evaluate, predict and export on tiny trained runs (cpu backend), through main():
 * what they report against what training measured, and the exported models run by
 * other engines against `mono predict` on the same 100 hold-out examples: the
 * TensorFlow.js LayersModel by @tensorflow/tfjs in a child process, the ONNX model by
 * onnxruntime-node. The plan has every layer kind an export must get right: residual
 * adds, BatchNorm, 'same' padding with stride 2 (asymmetric), a shared stack with its
 * 1/N scale, a crop, pools, activations, dropout, a flatten before the dense.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import pngjs from 'pngjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EXIT_OK, EXIT_RUNTIME, EXIT_USAGE } from '../../src/cli/command.js';
import type { IR } from '../../src/ir/types.js';
import { valueMemory } from '../../src/runtime/checkpoint.js';
import { loadData } from '../../src/runtime/data/dataset.js';
import { encodeNpy } from '../../src/runtime/model/inputs/npy.js';
import { readMetrics } from '../../src/runtime/run-folder.js';
import type { EpochMetrics } from '../../src/runtime/trainer.js';
import type { Prediction, RunEvaluation } from '../../src/runtime/index.js';
import { mono } from './harness.js';

const ZOO = `plan zoo
data synthetic(examples: 220, classes: 3, shape: [14, 14, 2], noise: 0.4) {
  normalize per_channel
  batch 20
  holdout 100
}
block euler(f) { residual { conv(f, 3, bias: true) tanh conv(f, 3, bias: true) } }
head probe(classes) { conv(6, 3, stride: 2) bn gelu global_max_pool dense(classes) }
network input [14, 14, 2] {
  stem: conv(6, 3, stride: 2) bn relu
  ode: repeat 3 shared(scale: 1 / 3) euler(6)
  down: residual { conv(6, 3, padding: valid) bn leaky_relu maxpool } elu
  mix: avgpool(3, stride: 1, padding: same) swish sigmoid dropout(0.2)
  out: flatten dense(3)
}
partition p1 = stem proxy probe(3)
partition p2 = ode .. out
schedule {
  best val_loss
  train p1 for 1 epoch with msgd(lr: 0.05)
  train p2 for 1 epoch with msgd(lr: 0.05)
  finetune all for 2 epochs with msgd(lr: 0.01)
}
`;

/** One-channel images and the step activation, which TensorFlow.js cannot express. */
const STEP = `plan stepnet
data synthetic(examples: 120, classes: 2, shape: [8, 8, 1], noise: 0.3) {
  batch 20
  holdout 20
}
head probe(classes) { global_avg_pool dense(classes) }
network input [8, 8, 1] {
  stem: conv(4, 3) bn binary
  out: global_avg_pool dense(2)
}
partition p1 = stem proxy probe(2)
partition p2 = out
schedule {
  train p1 for 1 epoch with msgd(lr: 0.05)
  train p2 for 1 epoch with msgd(lr: 0.05)
}
`;

const run = (args: string[]) => mono(args, { cwd: root });
const cpu = ['--backend', 'cpu'];
const execFileAsync = promisify(execFile);
const TFJS_PREDICT = path.resolve(import.meta.dirname, '../support/tfjs-predict.mjs');

let root: string;
let ir: IR;
let metrics: EpochMetrics[];
/** The first 100 hold-out examples, pixels in [0, 1] (not normalised), and their labels. */
let holdout: { values: Float32Array; labels: Int32Array; shape: number[] };
const N = 100;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mono-model-'));
  await writeFile(path.join(root, 'zoo.mono'), ZOO);
  await writeFile(path.join(root, 'step.mono'), STEP);
  const trained = await run(['run', 'zoo.mono', '--out', 'zoo', ...cpu]);
  expect(trained.code, trained.stderr).toBe(EXIT_OK);
  // Only p1 (through its proxy head): a checkpoint but no best.bin.
  const step = await run(['run', 'step.mono', '--out', 'step', '--max-epochs', '1', ...cpu]);
  expect(step.code, step.stderr).toBe(EXIT_OK);
  ir = JSON.parse(await readFile(path.join(root, 'zoo', 'ir.json'), 'utf8')) as IR;
  metrics = await readMetrics(path.join(root, 'zoo'));
  // The same split as the run's (the plan's seed), before normalisation.
  const raw = await loadData({ ...ir.data, normalize: { type: 'none' } });
  const length = 14 * 14 * 2;
  holdout = { values: raw.holdout.images.slice(0, N * length), labels: raw.holdout.labels.slice(0, N), shape: [N, 14, 14, 2] };
  await writeFile(path.join(root, 'holdout.npy'), encodeNpy(holdout.shape, holdout.values));
  await writeFile(path.join(root, 'holdout.json'), JSON.stringify({ shape: holdout.shape, data: Array.from(holdout.values) }));
}, 180_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const bestLine = () => metrics.filter((m) => m.best).at(-1)!;
const argmax = (row: readonly number[]) => row.indexOf(Math.max(...row));
const accuracyOf = (rows: readonly (readonly number[])[]) => rows.filter((row, i) => argmax(row) === holdout.labels[i]).length / rows.length;

function maxAbsDifference(a: readonly (readonly number[])[], b: readonly (readonly number[])[]): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  a.forEach((row, i) => row.forEach((v, c) => (max = Math.max(max, Math.abs(v - b[i]![c]!)))));
  return max;
}

/** `mono predict RUN holdout.npy --json` as [example][class] probabilities. */
async function monoProbabilities(runDir: string, file = 'holdout.npy'): Promise<number[][]> {
  const result = await run(['predict', runDir, file, '--json', '--top', '10', ...cpu]);
  expect(result.code, result.stderr).toBe(EXIT_OK);
  const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Prediction);
  return lines.map((p) => {
    const row: number[] = [];
    for (const t of p.top) row[t.class] = t.probability;
    return row;
  });
}

async function tfjsProbabilities(modelDir: string): Promise<{ probabilities: number[][]; metadata: Record<string, unknown>; layers: string[] }> {
  const { stdout } = await execFileAsync(process.execPath, [TFJS_PREDICT, path.join(root, modelDir), path.join(root, 'holdout.json')], { maxBuffer: 1 << 26 });
  return JSON.parse(stdout) as { probabilities: number[][]; metadata: Record<string, unknown>; layers: string[] };
}

async function onnxProbabilities(modelFile: string): Promise<number[][]> {
  const session = await ort.InferenceSession.create(path.join(root, modelFile));
  const output = await session.run({ input: new ort.Tensor('float32', holdout.values, holdout.shape) });
  const flat = Array.from(output['probabilities']!.data as Float32Array);
  const classes = flat.length / N;
  return Array.from({ length: N }, (_, i) => flat.slice(i * classes, (i + 1) * classes));
}

describe('mono evaluate', () => {
  it('reports the best epoch as training measured it: loss, accuracy, per-class scores, confusion matrix, MI of every head', async () => {
    const result = await run(['evaluate', 'zoo', '--json', ...cpu]);
    expect(result.code, result.stderr).toBe(EXIT_OK);
    // Synthetic data has no test split: the hold-out split, with a note.
    expect(result.stderr).toMatch(/note: no test split \(synthetic data has none\): evaluated on the hold-out split/);
    const e = JSON.parse(result.stdout) as RunEvaluation;
    const best = bestLine();
    expect(e.checkpoint).toMatchObject({ which: 'best', file: path.join('zoo', 'best.bin'), epoch: `${best.phase} epoch ${best.epoch}, val_loss ${best.val_loss!.toFixed(4)}` });
    expect(e.split).toMatchObject({ name: 'holdout', examples: 100 });
    expect(e.loss).toBeCloseTo(best.val_loss!, 5);
    expect(e.accuracy).toBe(best.val_acc);
    // The confusion matrix: rows are true classes; its diagonal is the accuracy; scores follow from it.
    const total = e.confusion.flat().reduce((a, b) => a + b, 0);
    expect(total).toBe(100);
    expect(e.confusion.reduce((sum, row, c) => sum + row[c]!, 0) / total).toBeCloseTo(e.accuracy, 10);
    for (const c of e.perClass) {
      expect(c.support).toBe(e.confusion[c.class]!.reduce((a, b) => a + b, 0));
      expect(c.support).toBe(holdout.labels.filter((l) => l === c.class).length);
      if (c.recall !== null) expect(c.recall).toBeCloseTo(e.confusion[c.class]![c.class]! / c.support, 10);
    }
    // MI of the network's output is the metrics line's; p1's proxy head is measured on the partitions up to p1.
    expect(e.information.map((i) => i.head)).toEqual(['network', 'p1.head']);
    expect(e.information[0]!.normalized).toBeCloseTo(best.mi!, 6);
    const p1 = best.phase === 'finetune' ? best.mi_groups!['p1']! : metrics.find((m) => m.phase === 'p1')!.mi!;
    expect(e.information[1]!.normalized).toBeCloseTo(p1, 6);
    const svg = await readFile(path.join(root, 'zoo', 'confusion.svg'), 'utf8');
    expect(svg).toMatch(/^<svg /);
    expect(svg.match(/<rect [^>]*width="\d+" height="\d+" fill="rgb/g)).toHaveLength(9);
  });

  it('prints the matrix as text; --checkpoint last gives the last epoch', async () => {
    const text = await run(['evaluate', 'zoo', '--checkpoint', 'last', ...cpu]);
    expect(text.code, text.stderr).toBe(EXIT_OK);
    const last = metrics.at(-1)!;
    expect(text.stdout).toContain(`mono evaluate: zoo, last checkpoint (the end of the run (finetune)), 100 examples of the hold-out split of synthetic data`);
    expect(text.stdout).toContain(`accuracy ${(last.val_acc! * 100).toFixed(2)}%`);
    expect(text.stdout).toMatch(/confusion matrix \(rows: true class, columns: predicted class\)\n\s+0\s+1\s+2\n0\s+\d+\s+\d+\s+\d+\n/);
    expect(text.stdout).toMatch(/p1\.head\s+[\d.]+ bits\s+[\d.]+\s+accuracy [\d.]+%\s+loss [\d.]+\s+\(partitions up to p1\)/);
    expect(text.stdout).toContain('wrote zoo/confusion.svg');
  });

  it('refuses what it cannot do: exit 3 with the reason, exit 2 for bad options', async () => {
    const test = await run(['evaluate', 'zoo', '--split', 'test', ...cpu]);
    expect(test).toMatchObject({ code: EXIT_RUNTIME });
    expect(test.stderr).toMatch(/^mono evaluate: synthetic data .* the plan asks for the test split .* there is none/);
    const noBest = await run(['evaluate', 'step', '--checkpoint', 'best', ...cpu]);
    expect(noBest.code).toBe(EXIT_RUNTIME);
    expect(noBest.stderr).toMatch(/has no best\.bin yet: best\.bin is written once an epoch trained through the network's own output .* use --checkpoint last/);
    const notRun = await run(['evaluate', '.', ...cpu]);
    expect(notRun.code).toBe(EXIT_RUNTIME);
    expect(notRun.stderr).toMatch(/is not a mono run folder \(cannot read ir\.json: ENOENT\)/);
    expect((await run(['evaluate', 'zoo', '--split', 'train'])).stderr).toBe("mono evaluate: --split expects one of test, holdout, got 'train'\nRun 'mono evaluate --help' for usage.\n");
  });

  it('reads the weights straight into its network, and refuses a damaged checkpoint, naming it (exit 3)', async () => {
    const allocate = vi.spyOn(valueMemory, 'allocate');
    const evaluated = await run(['evaluate', 'zoo', '--json', ...cpu]);
    expect(evaluated.code, evaluated.stderr).toBe(EXIT_OK);
    expect(allocate).not.toHaveBeenCalled(); // no array of any parameter: the network's own memory
    allocate.mockRestore();
    await cp(path.join(root, 'zoo'), path.join(root, 'zoo-damaged'), { recursive: true });
    const file = path.join(root, 'zoo-damaged', 'best.bin');
    const bytes = await readFile(file);
    const at = 16 + bytes.readUInt32LE(12) + 40; // inside the values
    bytes[at] = bytes[at]! ^ 0x01;
    await writeFile(file, bytes);
    for (const args of [['evaluate', 'zoo-damaged', ...cpu], ['predict', 'zoo-damaged', 'holdout.npy', ...cpu], ['export', 'zoo-damaged', '--format', 'onnx', '--out', 'damaged.onnx']]) {
      const result = await run(args);
      expect(result.code, args.join(' ')).toBe(EXIT_RUNTIME);
      expect(result.stderr).toContain(`${path.join('zoo-damaged', 'best.bin')} is not a readable mono checkpoint: the file does not match its checksum (damaged)`);
    }
  });
});

describe('mono predict', () => {
  it('classifies a batch: top classes in order, and on the hold-out examples the accuracy evaluate reports', async () => {
    const rows = await monoProbabilities('zoo');
    expect(rows).toHaveLength(N);
    for (const row of rows) expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(accuracyOf(rows)).toBe(bestLine().val_acc);
    const text = await run(['predict', 'zoo', 'holdout.npy', '--top', '2', ...cpu]);
    expect(text.stdout.split('\n')[0]).toMatch(/^mono predict: zoo, best checkpoint \(/);
    expect(text.stdout.split('\n')[1]).toMatch(/^holdout\.npy\[0\]\s+\d \([\d.]+%\)\s+\d \([\d.]+%\)$/);
  });

  it('reads IDX batches and uint8 .npy batches alike; images and batches on a one-channel network', async () => {
    // The hold-out examples as bytes: an IDX images file and a uint8 .npy give the same predictions.
    const step = JSON.parse(await readFile(path.join(root, 'step', 'ir.json'), 'utf8')) as IR;
    const raw = await loadData({ ...step.data, normalize: { type: 'none' } });
    const bytes = Uint8Array.from(raw.holdout.images.slice(0, 5 * 64), (v) => Math.round(v * 255));
    const idx = new Uint8Array(16 + bytes.length);
    idx.set([0, 0, 8, 3]);
    new DataView(idx.buffer).setUint32(4, 5, false);
    new DataView(idx.buffer).setUint32(8, 8, false);
    new DataView(idx.buffer).setUint32(12, 8, false);
    idx.set(bytes, 16);
    await writeFile(path.join(root, 'batch.idx'), idx);
    await writeFile(path.join(root, 'batch.npy'), encodeNpy([5, 8, 8], Float32Array.from(bytes, (b) => b / 255)));
    const a = await run(['predict', 'step', 'batch.idx', '--json', ...cpu]);
    const b = await run(['predict', 'step', 'batch.npy', '--json', ...cpu]);
    expect(a.code, a.stderr).toBe(EXIT_OK);
    const strip = (text: string) => text.trim().split('\n').map((line) => (JSON.parse(line) as Prediction).top);
    expect(strip(a.stdout)).toEqual(strip(b.stdout));
    // No best.bin: the last checkpoint, with a note.
    expect(a.stderr).toMatch(/^mono predict: note: no best\.bin yet \(.*\): using the last checkpoint\n$/);

    // The first example as an 8x8 grey PNG gives what its bytes give; a 16x16 one is resized, with a warning.
    const png = (size: number) => {
      const image = new pngjs.PNG({ width: size, height: size });
      for (let y = 0; y < size; y++)
        for (let x = 0; x < size; x++) {
          const v = bytes[Math.floor((y * 8) / size) * 8 + Math.floor((x * 8) / size)]!;
          image.data.set([v, v, v, 255], (y * size + x) * 4);
        }
      return pngjs.PNG.sync.write(image);
    };
    await writeFile(path.join(root, 'digit.png'), png(8));
    await writeFile(path.join(root, 'big.png'), png(16));
    const image = await run(['predict', 'step', 'digit.png', 'big.png', '--json', ...cpu]);
    expect(image.code, image.stderr).toBe(EXIT_OK);
    const [small, big] = image.stdout.trim().split('\n').map((line) => JSON.parse(line) as Prediction);
    expect(small).toMatchObject({ file: 'digit.png', kind: 'png', index: null });
    const first = strip(b.stdout)[0]!;
    small!.top.forEach((t, i) => {
      expect(t.class).toBe(first[i]!.class);
      expect(t.probability).toBeCloseTo(first[i]!.probability, 5);
    });
    expect(big).toMatchObject({ file: 'big.png', index: null });
    expect(image.stderr).toContain("warning: big.png is 16x16; resized to the network's 8x8 (bilinear)");
  });

  it('names the file it cannot use, exit 3', async () => {
    await writeFile(path.join(root, 'notes.txt'), 'hello');
    await writeFile(path.join(root, 'wrong.npy'), encodeNpy([2, 7, 7], new Float32Array(98)));
    const cases: [string[], RegExp][] = [
      [['zoo', 'nothere.png'], /^mono predict: cannot read nothere\.png: no such file\n$/],
      [['zoo', 'notes.txt'], /^mono predict: notes\.txt: is not a PNG, JPEG, \.npy or IDX file \(it starts with bytes 68 65 6c 6c\)/],
      [['zoo', 'wrong.npy'], /^mono predict: wrong\.npy: holds an array of shape \[2, 7, 7\]; the network takes examples \[14, 14, 2\]/],
      [['zoo', 'digit.png'], /^mono predict: digit\.png is an image, but the network takes 2-channel examples/],
    ];
    for (const [args, message] of cases) {
      const result = await run(['predict', ...args, ...cpu]);
      expect(result.code, result.stderr).toBe(EXIT_RUNTIME);
      expect(result.stderr).toMatch(message);
    }
    expect((await run(['predict', 'zoo'])).code).toBe(EXIT_USAGE);
  });
});

describe('mono export', () => {
  it('tfjs: a LayersModel that @tensorflow/tfjs loads and that predicts what mono predicts (max abs difference < 1e-4)', async () => {
    const result = await run(['export', 'zoo', '--format', 'tfjs', '--out', 'out-tfjs']);
    expect(result.code, result.stderr).toBe(EXIT_OK);
    expect(result.stdout).toMatch(/^mono export: the network of zoo, best checkpoint \(.*\), as a TensorFlow\.js LayersModel: \d+ layers, [\d,]+ parameters, input \[batch, 14, 14, 2\] \(pixels in \[0, 1\]\), output 3 class probabilities\nwrote out-tfjs\/model\.json, out-tfjs\/group1-shard1of1\.bin/);
    const tfjs = await tfjsProbabilities('out-tfjs');
    const mine = await monoProbabilities('zoo');
    expect(maxAbsDifference(tfjs.probabilities, mine)).toBeLessThan(1e-4);
    expect(tfjs.metadata).toMatchObject({ plan: 'zoo', head: 'network', normalization: { mean: expect.any(Array) } });
    for (const layer of ['BatchNormalization', 'Add', 'Rescaling', 'Cropping2D', 'AveragePooling2D', 'Flatten']) expect(tfjs.layers).toContain(layer);
    // The shared stack is one layer per shared parameter set, called once per repeat.
    const model = JSON.parse(await readFile(path.join(root, 'out-tfjs', 'model.json'), 'utf8')) as { modelTopology: { config: { layers: { name: string; inbound_nodes: unknown[] }[] } } };
    const shared = model.modelTopology.config.layers.find((l) => l.name === 'ode.euler1.conv1')!;
    expect(shared.inbound_nodes).toHaveLength(3);
    expect(model.modelTopology.config.layers.some((l) => l.name === 'ode.euler2.conv1')).toBe(false);
  });

  it('onnx: a model onnxruntime runs, predicting what mono predicts (max abs difference < 1e-4)', async () => {
    const result = await run(['export', 'zoo', '--format', 'onnx', '--out', 'out-onnx']);
    expect(result.code, result.stderr).toBe(EXIT_OK);
    const session = await ort.InferenceSession.create(path.join(root, 'out-onnx', 'model.onnx'));
    expect([session.inputNames, session.outputNames]).toEqual([['input'], ['probabilities']]);
    expect(maxAbsDifference(await onnxProbabilities('out-onnx/model.onnx'), await monoProbabilities('zoo'))).toBeLessThan(1e-4);
  });

  it('--partition p1: the partitions up to p1 with its proxy head, in both formats, as accurate as evaluate says', async () => {
    expect((await run(['export', 'zoo', '--format', 'onnx', '--partition', 'p1', '--out', 'p1-onnx'])).code).toBe(EXIT_OK);
    const tfjs = await run(['export', 'zoo', '--format', 'tfjs', '--partition', 'p1', '--out', 'p1-tfjs']);
    expect(tfjs.stdout).toMatch(/^mono export: partitions up to p1 with p1\.head of zoo/);
    const fromOnnx = await onnxProbabilities('p1-onnx/model.onnx');
    const fromTfjs = await tfjsProbabilities('p1-tfjs');
    expect(maxAbsDifference(fromOnnx, fromTfjs.probabilities)).toBeLessThan(1e-4);
    expect(fromTfjs.metadata).toMatchObject({ partition: 'p1', head: 'p1.head' });
    const evaluation = JSON.parse((await run(['evaluate', 'zoo', '--json', ...cpu])).stdout) as RunEvaluation;
    expect(accuracyOf(fromOnnx)).toBeCloseTo(evaluation.information.find((i) => i.head === 'p1.head')!.accuracy, 10);
  });

  it('refuses a layer the format cannot express, naming it and its place, exit 3; ONNX has the step activation', async () => {
    const tfjs = await run(['export', 'step', '--format', 'tfjs', '--out', 'step-tfjs']);
    expect(tfjs.code).toBe(EXIT_RUNTIME);
    expect(tfjs.stderr).toContain("mono export: layer 'binary' at stem/binary#1 cannot be exported to TensorFlow.js: TensorFlow.js layers have no step activation");
    const onnx = await run(['export', 'step', '--format', 'onnx', '--partition', 'p1', '--out', 'step-onnx']);
    expect(onnx.code, onnx.stderr).toBe(EXIT_OK);
    expect(onnx.stderr).toMatch(/note: no best\.bin yet/);
  });

  it('a run without a checkpoint, an unknown partition: exit 3; no --format or --out: exit 2', async () => {
    await mkdir(path.join(root, 'empty'));
    await cp(path.join(root, 'zoo', 'ir.json'), path.join(root, 'empty', 'ir.json'));
    await cp(path.join(root, 'zoo', 'run.json'), path.join(root, 'empty', 'run.json'));
    const empty = await run(['export', 'empty', '--format', 'onnx', '--out', 'x']);
    expect(empty).toMatchObject({ code: EXIT_RUNTIME, stderr: expect.stringMatching(/^mono export: .*empty has no checkpoint: its run completed no epoch/) });
    const unknown = await run(['export', 'zoo', '--format', 'onnx', '--partition', 'p9', '--out', 'x']);
    expect(unknown).toMatchObject({ code: EXIT_RUNTIME, stderr: 'mono export: --partition p9: zoo has no partition of that name (its partitions: p1, p2)\n' });
    expect((await run(['export', 'zoo', '--out', 'x'])).stderr).toMatch(/^mono export: missing --format \(tfjs or onnx\)/);
    expect((await run(['export', 'zoo', '--format', 'onnx'])).code).toBe(EXIT_USAGE);
  });
});
