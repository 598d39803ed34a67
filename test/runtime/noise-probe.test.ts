import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compilePlan } from '../../src/compile.js';
import type { IR } from '../../src/ir/types.js';
import { selectBackend } from '../../src/runtime/backend.js';
import { loadData } from '../../src/runtime/data/dataset.js';
import type { Split } from '../../src/runtime/data/types.js';
import { RuntimeFailure } from '../../src/runtime/errors.js';
import { Network } from '../../src/runtime/graph.js';
import { assertPhasesFit } from '../../src/runtime/memory-check.js';
import { probeGradientNoise } from '../../src/runtime/noise-probe.js';
import { readMetrics } from '../../src/runtime/run-folder.js';
import { phaseGraph } from '../../src/runtime/step.js';
import { runRngs, Trainer, type EpochMetrics } from '../../src/runtime/trainer.js';
import { mono } from '../cli/harness.js';
import { tinyIR } from './tiny-ir.js';

beforeAll(async () => {
  await selectBackend({ force: 'cpu' });
});

function compileIR(text: string): IR {
  const result = compilePlan(text, 'probe.mono');
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  expect(errors).toEqual([]);
  return result.ir!;
}

describe('probeGradientNoise against a closed form', () => {
  // Softmax regression at W = 0, b = 0 on inputs with E[x] = 0, E[x x^T] = diag(s), and
  // labels independent of x and uniform over K classes. Per example, the gradient is
  // dL/dW = x (p - e_y)^T and dL/db = p - e_y with p = 1/K. So C = blockdiag(A (x) S, A),
  // A = (1/K)(I - 1 1^T / K): eigenvalues s_j / K and 1/K, each K - 1 times, the rest 0,
  // and the mean gradient is 0. A full factorial design (every sign pattern of x with
  // every label) makes the sample moments exactly these, so the test is exact.
  const s = [4, 2, 1, 0.5];
  const K = 3;
  const plan = `plan probe
data synthetic(examples: 48, classes: ${K}, shape: [4], noise: 0.1) { batch 16 }
network input [4] { out: dense(${K}) }
schedule {
  train main for 1 epoch with sgd(lr: 0.1) { probe noise(examples: 48, top: 15) }
}
`;

  function factorial(): Split {
    const rows: number[][] = [];
    const labels: number[] = [];
    for (let signs = 0; signs < 16; signs++) {
      for (let label = 0; label < K; label++) {
        rows.push(s.map((v, j) => ((signs >> j) & 1 ? 1 : -1) * Math.sqrt(v)));
        labels.push(label);
      }
    }
    return { images: Float32Array.from(rows.flat()), labels: Int32Array.from(labels), count: rows.length, shape: [4] };
  }

  it('finds every eigenvalue, multiplicities included, the trace, and a zero mean gradient', async () => {
    const ir = compileIR(plan);
    const network = new Network(ir, runRngs(1).init);
    network.setWeights((await network.getWeights()).map((w) => ({ ...w, values: new Float32Array(w.values.length) })));
    const phase = ir.phases[0]!;
    const stats = await probeGradientNoise(network, phaseGraph(network, phase), factorial(), phase.noiseProbe!);
    const main = stats['main']!;
    const expected = [...s.flatMap((v) => [v / K, v / K]), 1 / K, 1 / K, 0, 0, 0, 0, 0].sort((a, b) => b - a);
    expect(main.params).toBe(4 * K + K);
    expect(main.examples).toBe(48);
    expect(main.top).toHaveLength(15);
    main.top.forEach((value, i) => expect(value).toBeCloseTo(expected[i]!, 5));
    expect(main.trace).toBeCloseTo(((K - 1) / K) * (s.reduce((a, b) => a + b) + 1), 5);
    expect(main.lambda1_share).toBeCloseTo(4 / K / main.trace, 5);
    expect(main.mean_sq_norm).toBeLessThan(1e-10);
    const squares = expected.reduce((sum, v) => sum + v * v, 0);
    expect(main.effective_rank).toBeCloseTo(main.trace ** 2 / squares, 4);
    network.dispose();
  });

  it('leaves no tensors behind', async () => {
    const ir = compileIR(plan);
    const network = new Network(ir, runRngs(1).init);
    const before = tf.memory().numTensors;
    await probeGradientNoise(network, phaseGraph(network, ir.phases[0]!), factorial(), { examples: 48, top: 3 });
    expect(tf.memory().numTensors).toBe(before);
    network.dispose();
  });

  it('refuses a sample larger than the training split, naming both numbers', async () => {
    const ir = compileIR(plan);
    const network = new Network(ir, runRngs(1).init);
    await expect(probeGradientNoise(network, phaseGraph(network, ir.phases[0]!), factorial(), { examples: 64, top: 3 })).rejects.toThrow(
      /takes 64 training examples, but the training split has 48/,
    );
    network.dispose();
  });
});

describe('the noise probe in training', () => {
  it('runs after the chosen epochs, per trained partition (with its proxy head), and does not change training', async () => {
    const withProbe = tinyIR({ epochs: [3, 1], finetune: 1, examples: 120 });
    withProbe.phases[0]!.noiseProbe = { examples: 32, top: 4, every: 2 };
    withProbe.phases[2]!.noiseProbe = { examples: 32, top: 4, every: 1 };
    const without = tinyIR({ epochs: [3, 1], finetune: 1, examples: 120 });
    const run = async (ir: IR) => {
      const data = await loadData(ir.data);
      const network = new Network(ir, runRngs(7).init);
      const lines: EpochMetrics[] = [];
      await new Trainer({ network, data, seed: 7, hooks: { onEpoch: (m) => void lines.push(m) } }).run();
      const weights = await network.getWeights();
      network.dispose();
      return { lines, weights };
    };
    const probed = await run(withProbe);
    const plain = await run(without);
    // After epochs 2 and 3 (the last) of p1, none in p2, every epoch of the fine-tune.
    expect(probed.lines.map((m) => (m.noise ? Object.keys(m.noise).join('+') : '-'))).toEqual(['-', 'p1', 'p1', '-', 'p1+p2']);
    const p1 = probed.lines[1]!.noise!['p1']!;
    // c1.kernel (3*3*1*4) + bn1 gamma, beta (4 + 4) + the proxy head's dense (6*6*4*3 + 3).
    expect(p1.params).toBe(36 + 8 + 6 * 6 * 4 * 3 + 3);
    expect(p1.top).toHaveLength(4);
    expect(p1.top[0]).toBeGreaterThan(0);
    expect([...p1.top]).toEqual([...p1.top].sort((a, b) => b - a));
    expect(p1.effective_rank).toBeGreaterThanOrEqual(1);
    expect(p1.effective_rank).toBeLessThanOrEqual(31 + 1e-9);
    expect(p1.lambda1_share).toBeLessThanOrEqual(1);
    expect(probed.lines[1]!.noise_seconds).toBeGreaterThan(0);
    // The fine-tune's p1 has no proxy head in its loss: only its own parameters.
    expect(probed.lines[4]!.noise!['p1']!.params).toBe(36 + 8);
    // Inference mode, no randomness drawn: the probed run trains exactly as the plain one.
    expect(probed.lines.map((m) => m.loss)).toEqual(plain.lines.map((m) => m.loss));
    expect(probed.weights).toEqual(plain.weights);
  });

  it('is refused before training when its sample is larger than the training split', async () => {
    const ir = tinyIR({ examples: 100 });
    ir.phases[1]!.noiseProbe = { examples: 500, top: 4, every: 1 };
    const data = await loadData(ir.data);
    const network = new Network(ir, runRngs(1).init);
    expect(() => new Trainer({ network, data, seed: 1 })).toThrow(RuntimeFailure);
    expect(() => new Trainer({ network, data, seed: 1 })).toThrow(/phase p2: the noise probe takes 500 training examples/);
    network.dispose();
  });

  it('is refused by the memory check when its per-example gradients cannot fit', () => {
    const ir = tinyIR();
    ir.phases[0]!.noiseProbe = { examples: 100_000, top: 4, every: 1 };
    expect(() => assertPhasesFit(ir, 'cpu', ir.phases, 64 * 2 ** 20)).toThrow(/phase p1: its noise probe holds 100000 per-example gradients of 479 parameters/);
  });
});

describe('mono run with a noise probe', () => {
  it('logs the probe in metrics.jsonl, plots noise.svg and shows it in the dry run', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'mono-noise-'));
    try {
      await writeFile(
        path.join(root, 'noise.mono'),
        `plan noise
data synthetic(examples: 160, classes: 3, shape: [6, 6, 1], noise: 0.3) { batch 16 holdout 40 }
network input [6, 6, 1] {
  stem: conv(4, 3) bn relu
  out: global_avg_pool dense(3)
}
partition p1 = stem proxy gap(3)
partition p2 = out
head gap(classes) { global_avg_pool dense(classes) }
schedule {
  train p1 for 2 epochs with msgd(lr: 0.05, momentum: 0.9) { probe noise(examples: 64, top: 3) }
  train p2 for 1 epoch with msgd(lr: 0.05, momentum: 0.9)
}
`,
      );
      const dry = await mono(['compile', 'noise.mono'], { cwd: root });
      expect(dry.code).toBe(0);
      expect(dry.stdout).toMatch(/noise probe +64 examples after epochs 1 and 2, top 3 eigenvalues; per-example gradients/);
      const result = await mono(['run', 'noise.mono', '--backend', 'cpu', '--out', 'run'], { cwd: root });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const lines = await readMetrics(path.join(root, 'run'));
      expect(lines.map((l) => Object.keys(l.noise ?? {}))).toEqual([['p1'], ['p1'], []]);
      expect(lines[0]!.noise!['p1']!.top).toHaveLength(3);
      const svg = await readFile(path.join(root, 'run', 'noise.svg'), 'utf8');
      expect(svg).toContain('p1 tr(C)');
      expect(svg).toContain('p1 λ1');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
