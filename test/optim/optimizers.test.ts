import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import type { OptimizerSpec } from '../../src/ir/types.js';
import { globMatch } from '../../src/ir/glob.js';
import { lrMultiplierOf, Optimizer, type OptimizedParam } from '../../src/optim/optimizers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function param(name: string, values: number[], extra: Partial<OptimizedParam> = {}): OptimizedParam {
  return { name, variable: tf.variable(tf.tensor1d(values)), lrMult: 1, tags: [], group: 'p1', ...extra };
}

/** Gradient of f(x) = a/2 * x^2 at x. */
function quadraticGrad(variable: tf.Variable, a: number): Map<string, tf.Tensor> {
  return new Map([['w', tf.mul(variable, a)]]);
}

describe('msgd', () => {
  it('follows the heavy-ball formula on a 1-D quadratic, with lr and momentum changing per step', () => {
    const a = 3;
    const wd = 0.01;
    const spec: OptimizerSpec = { type: 'msgd', lr: 0.1, momentum: 0.9, weightDecay: wd, lars: null };
    const w = param('w', [2]);
    const optimizer = new Optimizer(spec, [w]);
    let theta = 2;
    let previous = 2;
    for (let step = 0; step < 12; step++) {
      const lr = 0.1 / (1 + step);
      const mu = 0.9 - 0.03 * step;
      const grads = quadraticGrad(w.variable, a);
      optimizer.step(grads, { lr, momentum: mu });
      grads.forEach((g) => g.dispose());
      const next = theta - lr * (a * theta + wd * theta) + mu * (theta - previous);
      previous = theta;
      theta = next;
      expect(w.variable.dataSync()[0]).toBeCloseTo(theta, 5);
    }
    optimizer.dispose();
    w.variable.dispose();
  });

  it('sgd has no memory: theta - lr * (g + wd * theta)', () => {
    const w = param('w', [1, -2]);
    const optimizer = new Optimizer({ type: 'sgd', lr: 0.5, momentum: 0, weightDecay: 0.1, lars: null }, [w]);
    const grads = new Map([['w', tf.tensor1d([0.2, 0.4])]]);
    optimizer.step(grads, { lr: 0.5, momentum: 0.9 });
    optimizer.step(grads, { lr: 0.5, momentum: 0.9 });
    // two independent steps: x1 = x0 - 0.5(g + 0.1 x0), x2 = x1 - 0.5(g + 0.1 x1)
    const expected = [1, -2].map((x0, i) => {
      const g = [0.2, 0.4][i]!;
      const x1 = x0 - 0.5 * (g + 0.1 * x0);
      return x1 - 0.5 * (g + 0.1 * x1);
    });
    const got = Array.from(w.variable.dataSync());
    got.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
  });

  it('scales the step by the LARS trust ratio', () => {
    const w = param('w', [3, 4]); // ||w|| = 5
    const optimizer = new Optimizer({ type: 'sgd', lr: 0.1, momentum: 0, weightDecay: 0, lars: { eta: 0.01 } }, [w]);
    const grads = new Map([['w', tf.tensor1d([0.6, 0.8])]]); // ||g|| = 1
    optimizer.step(grads, { lr: 0.1, momentum: 0 });
    const trust = (0.01 * 5) / 1;
    expect(w.variable.dataSync()[0]).toBeCloseTo(3 - 0.1 * trust * 0.6, 6);
    expect(w.variable.dataSync()[1]).toBeCloseTo(4 - 0.1 * trust * 0.8, 6);
  });
});

describe('LARS as an msgd option', () => {
  it('scales each step by eta*||w|| / (||g|| + wd*||w||), with momentum and weight decay, per parameter', () => {
    const eta = 0.02;
    const wd = 0.01;
    const mu = 0.9;
    const lr = 0.5;
    const a = param('a', [3, 4]);
    const b = param('b', [0, 0]); // ||w|| = 0: trust ratio 1, plain msgd step
    const optimizer = new Optimizer({ type: 'msgd', lr, momentum: mu, weightDecay: wd, lars: { eta } }, [a, b]);
    const g = [0.6, 0.8]; // ||g|| = 1
    // By hand, in plain numbers: v' = mu v - lr * trust * (g + wd w), w' = w + v'.
    const norm = (x: number[]) => Math.hypot(...x);
    let wa = [3, 4];
    let va = [0, 0];
    let wb = [0, 0];
    let vb = [0, 0];
    for (let step = 0; step < 2; step++) {
      optimizer.step(new Map([['a', tf.tensor1d(g)], ['b', tf.tensor1d(g)]]), { lr, momentum: mu });
      const trustA = (eta * norm(wa)) / (norm(g) + wd * norm(wa));
      va = va.map((v, i) => mu * v - lr * trustA * (g[i]! + wd * wa[i]!));
      wa = wa.map((w, i) => w + va[i]!);
      const trustB = norm(wb) > 0 ? (eta * norm(wb)) / (norm(g) + wd * norm(wb)) : 1;
      vb = vb.map((v, i) => mu * v - lr * trustB * (g[i]! + wd * wb[i]!));
      wb = wb.map((w, i) => w + vb[i]!);
      Array.from(a.variable.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(wa[i]!, 5));
      Array.from(b.variable.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(wb[i]!, 5));
    }
    // Not plain msgd: with trust 1 the first step alone would move a[0] by lr * (g + wd w) = 0.315.
    expect(Math.abs(3 - a.variable.dataSync()[0]!)).toBeLessThan(0.1);
  });
});

describe('adam', () => {
  it('takes a first step of lr * sign(g) (bias-corrected) plus decoupled decay', () => {
    const w = param('w', [1, -1]);
    const optimizer = new Optimizer({ type: 'adam', lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1 }, [w]);
    optimizer.step(new Map([['w', tf.tensor1d([5, -0.001])]]), { lr: 0.01, momentum: 0.9 });
    const got = w.variable.dataSync();
    expect(got[0]).toBeCloseTo(1 - 0.01 * (1 + 0.1 * 1), 5);
    expect(got[1]).toBeCloseTo(-1 - 0.01 * (-1 + 0.1 * -1), 5);
  });
});

describe('rmsprop', () => {
  /** Gradient of sum(a_i / 2 * x_i^2): a * x. */
  const curvatures = [3, 0.5, 10];
  const quadratic = (variable: tf.Variable) => new Map([['w', tf.mul(variable, tf.tensor1d(curvatures))]]);

  it('follows d = g + wd*theta, s = rho*s + (1-rho)*d^2, theta -= lr*d/(sqrt(s)+eps), with momentum on the normalised step', () => {
    for (const momentum of [0, 0.5]) {
      const spec: OptimizerSpec = { type: 'rmsprop', lr: 0.01, rho: 0.9, epsilon: 1e-7, momentum, weightDecay: 0.1 };
      const w = param('w', [1, -2, 0.5]);
      const optimizer = new Optimizer(spec, [w]);
      let theta = [1, -2, 0.5];
      let s = [0, 0, 0];
      let b = [0, 0, 0];
      for (let step = 0; step < 5; step++) {
        const lr = 0.01 * (1 - 0.1 * step);
        const grads = quadratic(w.variable);
        optimizer.step(grads, { lr, momentum });
        grads.forEach((g) => g.dispose());
        const d = theta.map((x, i) => curvatures[i]! * x + 0.1 * x);
        s = s.map((v, i) => 0.9 * v + 0.1 * d[i]! ** 2);
        const u = d.map((di, i) => di / (Math.sqrt(s[i]!) + 1e-7));
        b = momentum > 0 ? b.map((v, i) => momentum * v + u[i]!) : u;
        theta = theta.map((x, i) => x - lr * b[i]!);
        Array.from(w.variable.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(theta[i]!, 5));
      }
      optimizer.dispose();
      w.variable.dispose();
    }
  });

  it("matches torch.optim.RMSprop(lr=0.01, alpha=0.9, eps=1e-7, weight_decay=0.1) over 5 steps", () => {
    // Printed by PyTorch 1.13 (float64) for theta0 = [1, -2, 0.5] on the same quadratic.
    const torchValues: Record<number, number[]> = {
      0: [0.8955067175223583, -1.8945087970193748, 0.39761536654744956],
      0.5: [0.8252588604033462, -1.8230178499023237, 0.33011519318257193],
    };
    for (const momentum of [0, 0.5]) {
      const w = param('w', [1, -2, 0.5]);
      const optimizer = new Optimizer({ type: 'rmsprop', lr: 0.01, rho: 0.9, epsilon: 1e-7, momentum, weightDecay: 0.1 }, [w]);
      for (let step = 0; step < 5; step++) optimizer.step(quadratic(w.variable), { lr: 0.01, momentum });
      Array.from(w.variable.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(torchValues[momentum]![i]!, 5));
      optimizer.dispose();
    }
  });

  it('keeps its mean square and momentum buffer in the state, so a restored optimizer continues identically', async () => {
    const spec: OptimizerSpec = { type: 'rmsprop', lr: 0.01, rho: 0.9, epsilon: 1e-7, momentum: 0.5, weightDecay: 0 };
    const w1 = param('w', [1, -2, 0.5]);
    const first = new Optimizer(spec, [w1]);
    for (let i = 0; i < 3; i++) first.step(quadratic(w1.variable), { lr: 0.01, momentum: 0.5 });
    const state = await first.getState();
    expect(state.type).toBe('rmsprop');
    expect(state.slots.map((slot) => slot.name).sort()).toEqual(['w/first', 'w/second']);
    const w2 = param('w', Array.from(w1.variable.dataSync()));
    const second = new Optimizer(spec, [w2]);
    second.setState(state);
    first.step(quadratic(w1.variable), { lr: 0.01, momentum: 0.5 });
    second.step(quadratic(w2.variable), { lr: 0.01, momentum: 0.5 });
    expect(Array.from(w2.variable.dataSync())).toEqual(Array.from(w1.variable.dataSync()));
    // Without momentum there is no buffer to keep.
    const plain = new Optimizer({ ...spec, momentum: 0 }, [param('w', [1])]);
    expect((await plain.getState()).slots.map((slot) => slot.name)).toEqual(['w/second']);
  });
});

describe('lr multipliers and groups', () => {
  it('matches globs on names and section/partition tags', () => {
    expect(globMatch('stage1/*', 'stage1/conv#1/kernel')).toBe(true);
    expect(globMatch('*.bias', 'stem.conv.bias')).toBe(true);
    expect(globMatch('stage?', 'stage12')).toBe(false);
    const p = { name: 'n3/kernel', lrMult: 2, tags: ['stage2', 'p2'] };
    expect(lrMultiplierOf(p, [{ pattern: 'stage2', factor: 0.5 }, { pattern: 'n3/*', factor: 3 }, { pattern: 'p1', factor: 7 }])).toBe(3);
  });

  it('uses the per-group lr and the multiplier', () => {
    const a = param('a', [1], { group: 'p1', lrMult: 2 });
    const b = param('b', [1], { group: 'p2' });
    const optimizer = new Optimizer({ type: 'sgd', lr: 1, momentum: 0, weightDecay: 0, lars: null }, [a, b]);
    const grads = new Map([['a', tf.tensor1d([1])], ['b', tf.tensor1d([1])]]);
    optimizer.step(grads, { lr: 0.1, momentum: 0, lrOfGroup: (g) => (g === 'p2' ? 0.5 : undefined) });
    expect(a.variable.dataSync()[0]).toBeCloseTo(1 - 0.2, 6);
    expect(b.variable.dataSync()[0]).toBeCloseTo(1 - 0.5, 6);
  });
});

describe('state and memory', () => {
  it('exports and imports slots so a restored optimizer continues identically', async () => {
    const spec: OptimizerSpec = { type: 'msgd', lr: 0.1, momentum: 0.9, weightDecay: 0, lars: null };
    const w1 = param('w', [2]);
    const first = new Optimizer(spec, [w1]);
    for (let i = 0; i < 3; i++) first.step(quadraticGrad(w1.variable, 1), { lr: 0.1, momentum: 0.9 });
    const state = await first.getState();
    const w2 = param('w', Array.from(w1.variable.dataSync()));
    const second = new Optimizer(spec, [w2]);
    second.setState(state);
    first.step(quadraticGrad(w1.variable, 1), { lr: 0.1, momentum: 0.9 });
    second.step(quadraticGrad(w2.variable, 1), { lr: 0.1, momentum: 0.9 });
    expect(w2.variable.dataSync()[0]).toBe(w1.variable.dataSync()[0]);
  });

  it('keeps the tensor count flat across steps', () => {
    for (const spec of [
      { type: 'msgd', lr: 0.1, momentum: 0.9, weightDecay: 1e-4, lars: { eta: 0.001 } },
      { type: 'adam', lr: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 1e-4 },
      { type: 'rmsprop', lr: 0.1, rho: 0.9, epsilon: 1e-7, momentum: 0.9, weightDecay: 1e-4 },
    ] satisfies OptimizerSpec[]) {
      const w = param('w', [1, 2, 3]);
      const optimizer = new Optimizer(spec, [w]);
      const grads = new Map([['w', tf.tensor1d([0.1, 0.2, 0.3])]]);
      optimizer.step(grads, { lr: 0.1, momentum: 0.9 });
      const before = tf.memory().numTensors;
      for (let i = 0; i < 5; i++) optimizer.step(grads, { lr: 0.1, momentum: 0.9 });
      expect(tf.memory().numTensors).toBe(before);
    }
  });
});
