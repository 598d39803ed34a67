/**
 * Cost per synapse on a two-task quadratic, where every quantity has a closed form:
 * plain SGD on L1 = 1/2 sum a_i (theta_i - m_i)^2 moves each coordinate's distance to
 * m_i by r_i = 1 - lr * a_i per step, so omega_i = sum_t lr * g_t^2 is a geometric sum,
 * and the penalised task 2 (L2 = 1/2 sum b_i (theta_i - n_i)^2) converges to
 * (b n + 2 c Omega theta*) / (b + 2 c Omega).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { GradientOptimizerSpec } from '../../src/ir/types.js';
import { Optimizer, type OptimizedParam } from '../../src/optim/optimizers.js';
import { SynapseCost } from '../../src/optim/synapse-cost.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const SGD: GradientOptimizerSpec = { type: 'sgd', lr: 0.1, momentum: 0, weightDecay: 0, lars: null };

function param(values: number[]): OptimizedParam {
  return { name: 'w', variable: tf.variable(tf.tensor1d(values)), lrMult: 1, tags: [], group: 'p' };
}

/** Trains `steps` steps of SGD on 1/2 sum curvature_i (theta_i - target_i)^2 through the synapse cost. */
function trainTask(w: OptimizedParam, cost: SynapseCost, curvature: number[], target: number[], steps: number, lr: number): void {
  const optimizer = new Optimizer({ ...SGD, lr }, [w]);
  const a = tf.tensor1d(curvature);
  const m = tf.tensor1d(target);
  cost.beginTask();
  for (let step = 0; step < steps; step++) {
    const grad = tf.tidy(() => tf.mul(a, tf.sub(w.variable, m)));
    cost.step(new Map([['w', grad]]), () => lr, (grads) => optimizer.step(grads, { lr, momentum: 0 }));
    grad.dispose();
  }
  cost.endTask();
  tf.dispose([a, m]);
  optimizer.dispose();
}

describe('SynapseCost', () => {
  it('matches the closed-form Omega after task 1 and the regularised optimum after task 2', () => {
    const lr = 0.1;
    const start = [2, -1, 0.5];
    const a = [1, 3, 0.2];
    const m1 = [0, 1, -0.5];
    const b = [2, 1, 4];
    const m2 = [1, -2, 1];
    const c = 0.7;
    const damping = 1e-3;
    const steps = 40;
    const w = param(start);
    const cost = new SynapseCost();
    cost.attach([w], { c, damping });

    trainTask(w, cost, a, m1, steps, lr);
    const end1 = start.map((s, i) => m1[i]! + (1 - lr * a[i]!) ** steps * (s - m1[i]!));
    const omega = start.map((s, i) => {
      const r2 = (1 - lr * a[i]!) ** 2;
      return lr * a[i]! ** 2 * (s - m1[i]!) ** 2 * ((1 - r2 ** steps) / (1 - r2));
    });
    const importance = omega.map((o, i) => o / ((end1[i]! - start[i]!) ** 2 + damping));
    expectClose(cost.values('w', 'anchor'), end1, 1e-5);
    expectClose(cost.values('w', 'importance'), importance, 1e-4);
    expect(cost.consolidated).toBe(1);

    trainTask(w, cost, b, m2, 400, 0.05);
    const optimum = b.map((bi, i) => (bi * m2[i]! + 2 * c * importance[i]! * end1[i]!) / (bi + 2 * c * importance[i]!));
    expectClose(w.variable.dataSync() as Float32Array, optimum, 1e-4);
    // Between the two tasks' optima, nearer task 1's where Omega is large.
    for (let i = 0; i < 3; i++) expect((optimum[i]! - end1[i]!) * (optimum[i]! - m2[i]!)).toBeLessThanOrEqual(0);
    cost.dispose();
    w.variable.dispose();
  });

  it('caps the stiffness 2c * Omega at 1 / lr, so that a stiff weight converges instead of diverging', () => {
    const w = param([0.01]);
    const cost = new SynapseCost();
    cost.attach([w], { c: 100, damping: 1e-8 });
    trainTask(w, cost, [10], [0], 30, 0.05);
    const anchor = cost.values('w', 'anchor')[0]!;
    const stiffness = 2 * 100 * cost.values('w', 'importance')[0]!;
    expect(stiffness * 0.05).toBeGreaterThan(4); // an explicit step of this stiffness would diverge
    trainTask(w, cost, [1], [1], 300, 0.05);
    const capped = 1 / 0.05;
    expect(w.variable.dataSync()[0]).toBeCloseTo((1 * 1 + capped * anchor) / (1 + capped), 4);
    cost.dispose();
    w.variable.dispose();
  });

  it('omega sums -g * dtheta with the task gradient, not the penalty, under momentum too', () => {
    fc.assert(
      fc.property(fc.double({ min: -2, max: 2, noNaN: true }), fc.double({ min: 0.2, max: 3, noNaN: true }), (theta0, curvature) => {
        const w = param([theta0]);
        const cost = new SynapseCost();
        cost.attach([w], { c: 0.5, damping: 1e-3 });
        // A first task towards 3, so that the second carries a penalty its omega must leave out.
        trainTask(w, cost, [1], [3], 10, 0.1);
        expect(cost.penalty()).toBe(0);
        const optimizer = new Optimizer({ type: 'msgd', lr: 0.05, momentum: 0.9, weightDecay: 0, lars: null }, [w]);
        cost.beginTask();
        let expected = 0;
        for (let step = 0; step < 5; step++) {
          const before = w.variable.dataSync()[0]!;
          const g = curvature * before;
          const grad = tf.tensor1d([g]);
          cost.step(new Map([['w', grad]]), () => 0.05, (grads) => optimizer.step(grads, { lr: 0.05, momentum: 0.9 }));
          grad.dispose();
          expected += -g * (w.variable.dataSync()[0]! - before);
        }
        expect(cost.values('w', 'omega')[0]).toBeCloseTo(expected, 4);
        expect(cost.penalty()).toBeGreaterThan(0);
        optimizer.dispose();
        cost.dispose();
        w.variable.dispose();
      }),
      { numRuns: 20 },
    );
  });

  it('restores its state exactly, and keeps no tensors beyond its own', () => {
    const w = param([1, 2]);
    const cost = new SynapseCost();
    cost.attach([w], { c: 1, damping: 1e-3 });
    trainTask(w, cost, [1, 2], [0, 0], 5, 0.1);
    const before = tf.memory().numTensors;
    trainTask(w, cost, [1, 1], [1, 1], 3, 0.1);
    expect(tf.memory().numTensors).toBe(before);
    const saved = cost.getState();
    const copy = new SynapseCost();
    copy.setState(saved);
    copy.attach([w], { c: 1, damping: 1e-3 });
    expect(copy.consolidated).toBe(2);
    for (const kind of ['omega', 'importance', 'anchor', 'start'] as const) expect(copy.values('w', kind)).toEqual(cost.values('w', kind));
    expect(copy.penalty()).toBeCloseTo(cost.penalty(), 6);
    copy.dispose();
    cost.dispose();
    w.variable.dispose();
  });
});

function expectClose(actual: ArrayLike<number>, expected: number[], tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((value, i) => expect(Math.abs(actual[i]! - value), `index ${i}: ${actual[i]} vs ${value}`).toBeLessThan(tolerance * Math.max(1, Math.abs(value))));
}
