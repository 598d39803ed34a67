import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { compilePlan } from '../../src/compile.js';
import type { IRNode } from '../../src/ir/types.js';
import { selectBackend } from '../../src/runtime/backend.js';
import { Network } from '../../src/runtime/graph.js';
import { applyNode } from '../../src/runtime/layers.js';
import { Rng } from '../../src/runtime/rng.js';
import { crossEntropy } from '../../src/runtime/step.js';
import { tinyIR } from './tiny-ir.js';

beforeAll(async () => {
  await selectBackend({ force: 'cpu' });
});

const images = (n: number) => tf.tensor4d(Array.from({ length: n * 36 }, (_, i) => Math.sin(i * 0.7)), [n, 6, 6, 1]);

function lossGrads(network: Network, names: string[]): Map<string, Float32Array> {
  const x = images(4);
  const labels = tf.tensor1d([0, 1, 2, 1], 'int32');
  const variables = names.map((n) => network.variable(n));
  const { grads } = tf.variableGrads(() => crossEntropy(network.forward(x, { training: false }), labels, 3), variables);
  const out = new Map(names.map((n) => [n, Float32Array.from(grads[network.variable(n).name]!.dataSync())]));
  tf.dispose([x, labels, ...Object.values(grads)]);
  return out;
}

describe('Network', () => {
  it('initialises deterministically for a seed, differently for another', async () => {
    const a = new Network(tinyIR(), new Rng(5));
    const b = new Network(tinyIR(), new Rng(5));
    const c = new Network(tinyIR(), new Rng(6));
    const weights = async (n: Network) => (await n.getWeights()).map((w) => Array.from(w.values));
    expect(await weights(a)).toEqual(await weights(b));
    expect(await weights(a)).not.toEqual(await weights(c));
    const kernel = (await a.getWeights()).find((w) => w.name === 'c1.kernel')!.values;
    const std = Math.sqrt(kernel.reduce((s, v) => s + v * v, 0) / kernel.length);
    expect(std).toBeGreaterThan(0.2); // he_normal: sqrt(2 / 9) = 0.47
    expect(std).toBeLessThan(0.8);
    expect(Array.from((await a.getWeights()).find((w) => w.name === 'bn1.moving_variance')!.values)).toEqual([1, 1, 1, 1]);
    [a, b, c].forEach((n) => n.dispose());
  });

  it("draws each parameter's initial values from its name, not from its place in the IR", async () => {
    const ir = tinyIR();
    const reordered = tinyIR();
    reordered.parameters.reverse();
    reordered.parameters.unshift({ ...reordered.parameters.find((p) => p.name === 'c1.kernel')!, name: 'extra.kernel' });
    const a = new Network(ir, new Rng(5));
    const b = new Network(reordered, new Rng(5));
    const values = async (n: Network) => new Map((await n.getWeights()).map((w) => [w.name, Array.from(w.values)]));
    const before = await values(a);
    const after = await values(b);
    for (const [name, v] of before) expect(after.get(name)).toEqual(v);
    expect(after.get('extra.kernel')).not.toEqual(before.get('c1.kernel'));
    a.dispose();
    b.dispose();
  });

  it('shares one variable per shared group and sums the gradients of its uses', async () => {
    const shared = tinyIR({ shared: true });
    const tiedNet = new Network(shared, new Rng(1));
    expect(shared.parameters.filter((p) => p.name === 'shared.kernel')).toHaveLength(1);
    // The same net with the second use untied into its own copy of the kernel.
    const untied = tinyIR({ shared: true });
    untied.parameters.push({ ...untied.parameters.find((p) => p.name === 'shared.kernel')!, name: 'copy.kernel' });
    untied.nodes.find((n) => n.id === 's2')!.params = ['copy.kernel'];
    const untiedNet = new Network(untied, new Rng(1));
    untiedNet.setWeights([{ ...(await tiedNet.getWeights()).find((w) => w.name === 'shared.kernel')!, name: 'copy.kernel' }]);
    const tied = lossGrads(tiedNet, ['shared.kernel']).get('shared.kernel')!;
    const parts = lossGrads(untiedNet, ['shared.kernel', 'copy.kernel']);
    const sum = parts.get('shared.kernel')!.map((g, i) => g + parts.get('copy.kernel')![i]!);
    expect(Math.max(...sum.map(Math.abs))).toBeGreaterThan(1e-4);
    tied.forEach((g, i) => expect(g).toBeCloseTo(sum[i]!, 5));
    tiedNet.dispose();
    untiedNet.dispose();
  });

  it('BatchNorm uses batch statistics and updates its moving ones in training mode only', () => {
    const network = new Network(tinyIR(), new Rng(1));
    const x = images(8);
    const moving = () => Array.from(network.variable('bn1.moving_mean').dataSync());
    const before = moving();
    tf.tidy(() => network.runPartition('p1', x, { training: false }));
    expect(moving()).toEqual(before);
    const conv = tf.tidy(() => tf.conv2d(x, network.variable('c1.kernel') as unknown as tf.Tensor4D, 1, 'same'));
    const batchMean = Array.from(tf.tidy(() => tf.mean(conv, [0, 1, 2])).dataSync());
    tf.tidy(() => network.runPartition('p1', x, { training: true }));
    // momentum 0.9: moving = 0.9 * 0 + 0.1 * batch mean
    moving().forEach((m, i) => expect(m).toBeCloseTo(0.1 * batchMean[i]!, 5));
    tf.dispose([x, conv]);
    network.dispose();
  });
});

describe('residual projection geometry', () => {
  const residualPool = `plan p
network input [7, 7, 1] {
  a: residual { maxpool conv(1, 1) }
  b: global_avg_pool dense(2)
}
schedule { train main for 1 epoch with msgd(lr: 0.1) }
`;

  it('residual { maxpool } on 7x7: the skip takes pixels 0, 2, 4 of each axis, inside the windows 0-1, 2-3, 4-5', () => {
    const ir = compilePlan(residualPool, 'p.mono').ir!;
    const network = new Network(ir, new Rng(1));
    // Identity convs: the branch is the pool itself, the skip its sampled pixels (bn in inference mode: x / sqrt(1 + eps)).
    for (const name of ['a.conv1.kernel', 'a.proj1.kernel']) network.variable(name).assign(tf.ones([1, 1, 1, 1]));
    const x = tf.tensor4d(Array.from({ length: 49 }, (_, i) => i), [1, 7, 7, 1]);
    const env = new Map<string, tf.Tensor>([['input', x]]);
    for (const node of ir.nodes.slice(0, ir.nodes.findIndex((n) => n.id === 'a.add1') + 1)) {
      env.set(node.id, applyNode(node, node.inputs.map((id) => env.get(id)!), node.params.map((name) => network.variable(name)), { training: false }));
    }
    const skip = Array.from(env.get('a.proj_bn1')!.dataSync()).map((v) => Math.round(v * Math.sqrt(1 + 1e-3) * 1000) / 1000);
    const rowsAndColumns = [0, 2, 4];
    expect(skip).toEqual(rowsAndColumns.flatMap((r) => rowsAndColumns.map((c) => r * 7 + c)));
    // The branch's max of each window: its bottom-right pixel (the input grows to the right and down).
    expect(Array.from(env.get('a.conv1')!.dataSync())).toEqual([1, 3, 5].flatMap((r) => [1, 3, 5].map((c) => r * 7 + c)));
    tf.dispose([...env.values()]);
    network.dispose();
  });

  it('trains through the cropped projection (its kernel gets a gradient)', () => {
    const ir = compilePlan(residualPool, 'p.mono').ir!;
    const network = new Network(ir, new Rng(2));
    const x = tf.tensor4d(Array.from({ length: 2 * 49 }, (_, i) => Math.sin(i * 0.7)), [2, 7, 7, 1]);
    const labels = tf.tensor1d([0, 1], 'int32');
    const kernel = network.variable('a.proj1.kernel');
    const { grads } = tf.variableGrads(() => crossEntropy(network.forward(x, { training: true }), labels, 2), [kernel]);
    const g = grads[kernel.name]!.dataSync()[0]!;
    expect(Number.isFinite(g)).toBe(true);
    expect(Math.abs(g)).toBeGreaterThan(0);
    tf.dispose([x, labels, ...Object.values(grads)]);
    network.dispose();
  });
});

describe('layers', () => {
  const node = (op: IRNode['op'], attrs: IRNode['attrs'] = {}): IRNode => ({ id: op, op, attrs, inputs: ['input'], shape: [], params: [], section: 's', partition: 'p', path: op, flops: 0 });

  it('binary: a step forward that is 1 for x >= 0 (exactly 0 included), surrogate gradient 1 on [0, tau/4]', () => {
    const x = tf.tensor1d([-1, -1e-7, 0, -0, 1e-7, 0.1, 0.4, 0.6, 2]);
    const f = (t: tf.Tensor) => applyNode(node('binary', { tau: 2 }), [t], [], { training: true });
    expect(Array.from(f(x).dataSync())).toEqual([0, 0, 1, 1, 1, 1, 1, 1, 1]);
    expect(Array.from(tf.grad(f)(x).dataSync())).toEqual([0, 0, 1, 1, 1, 1, 1, 0, 0]);
  });

  it('binary with a threshold: 1 for x >= threshold, the surrogate gradient on [threshold, threshold + tau/4]', () => {
    const x = tf.tensor1d([2.9, 3, 3.2, 3.6, -1]);
    const f = (t: tf.Tensor) => applyNode(node('binary', { tau: 2, threshold: 3 }), [t], [], { training: true });
    expect(Array.from(f(x).dataSync())).toEqual([0, 1, 1, 1, 0]);
    expect(Array.from(tf.grad(f)(x).dataSync())).toEqual([0, 1, 1, 0, 0]);
  });

  it('binary gives 1 at exactly 0 on wasm too', async () => {
    await selectBackend({ force: 'wasm' });
    try {
      const x = tf.tensor1d([-0.5, 0, 0.5]);
      const y = applyNode(node('binary', { tau: 1 }), [x], [], { training: false });
      expect(tf.getBackend()).toBe('wasm');
      expect(Array.from(y.dataSync())).toEqual([0, 1, 1]);
      tf.dispose([x, y]);
    } finally {
      await selectBackend({ force: 'cpu' });
    }
  });

  it('add: skip + scale * branch; dropout only in training', () => {
    const skip = tf.tensor1d([1, 2]);
    const branch = tf.tensor1d([4, 8]);
    expect(Array.from(applyNode(node('add', { scale: 0.25 }), [skip, branch], [], { training: false }).dataSync())).toEqual([2, 4]);
    const ones = tf.ones([1000]);
    const dropout = node('dropout', { rate: 0.5 });
    expect(Array.from(applyNode(dropout, [ones], [], { training: false }).dataSync()).every((v) => v === 1)).toBe(true);
    const dropped = Array.from(applyNode(dropout, [ones], [], { training: true, nextSeed: () => 42 }).dataSync());
    const again = Array.from(applyNode(dropout, [ones], [], { training: true, nextSeed: () => 42 }).dataSync());
    expect(dropped).toEqual(again); // seeded
    const zeros = dropped.filter((v) => v === 0).length;
    expect(zeros).toBeGreaterThan(400);
    expect(zeros).toBeLessThan(600);
  });

  it('elu and gelu have gradients on every backend', () => {
    const x = tf.tensor1d([-1, 0.5]);
    const elu = tf.grad((t: tf.Tensor) => applyNode(node('elu'), [t], [], { training: true }))(x).dataSync();
    expect(elu[0]).toBeCloseTo(Math.exp(-1), 5);
    expect(elu[1]).toBeCloseTo(1, 5);
    const gelu = tf.grad((t: tf.Tensor) => applyNode(node('gelu'), [t], [], { training: true }))(x).dataSync();
    expect(gelu[1]).toBeGreaterThan(0.8);
  });
});
