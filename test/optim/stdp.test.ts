/**
 * The STDP rule on cases small enough to work out by hand: a 3x3 spike image, a 2x2
 * kernel of two maps, valid padding (2x2 positions), threshold 0.5.
 *
 *   pre = 1 1 0     map 0 = 0.9 0.9     map 1 = 0.5 0.5
 *         1 0 0             0.9 0.1             0.5 0.5
 *         0 0 1
 *
 * Potentials, map 0: 2.7 (top left), 0.9, 0.9, 0.1; map 1: 1.5, 0.5, 0.5, 0.5. Map 0
 * fires at three positions and wins all three (lateral inhibition); map 1 fires at all
 * four but keeps only the bottom right, where map 0 is silent. Map 0's winner is the
 * top left (2.7): its receptive field [1 1; 1 0] gives +a_plus w(1-w) = 0.1 * 0.09 on the
 * three 0.9s and -a_minus w(1-w) = -0.075 * 0.09 on the 0.1. Map 1's winner is the
 * bottom right, field [0 0; 0 1]: -0.075 * 0.25 on three weights, +0.1 * 0.25 on one.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { StdpSpec } from '../../src/ir/types.js';
import { convergence, stdpLayerUpdate, stdpRates } from '../../src/optim/stdp.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const PRE = [1, 1, 0, 1, 0, 0, 0, 0, 1];
// [kh, kw, c, F]: each position's two values are map 0's and map 1's.
const KERNEL = [0.9, 0.5, 0.9, 0.5, 0.9, 0.5, 0.1, 0.5];
const VALID = { stride: 1, padding: 'valid' as const };
const RATES = { aPlus: 0.1, aMinus: 0.075 };

async function update(pre: number[], images: number, winners: number | null = null) {
  const input = tf.tensor4d(pre, [images, 3, 3, 1]);
  const kernel = tf.tensor4d(KERNEL, [2, 2, 1, 2]);
  const result = stdpLayerUpdate(input, kernel, VALID, 0.5, RATES, winners);
  const out = {
    delta: Array.from(await result.delta.data()),
    fired: Array.from(await result.fired.data()),
    winners: Array.from(await result.winners.data()),
    learnt: Array.from(await result.learnt.data()),
  };
  tf.dispose([input, kernel, result.delta, result.fired, result.winners, result.learnt]);
  return out;
}

describe('stdpLayerUpdate', () => {
  it('gives the hand-computed update of one image', async () => {
    const { delta, fired, winners, learnt } = await update(PRE, 1);
    const expected = [0.1 * 0.09, -0.075 * 0.25, 0.1 * 0.09, -0.075 * 0.25, 0.1 * 0.09, -0.075 * 0.25, -0.075 * 0.09, 0.1 * 0.25];
    delta.forEach((d, i) => expect(d).toBeCloseTo(expected[i]!, 7));
    // [B, h, w, F]: map 0 silent only at the bottom right.
    expect(fired).toEqual([1, 1, 1, 1, 1, 1, 0, 1]);
    // Map 0 wins at the top left, map 1 at the bottom right.
    expect(winners).toEqual([1, 0, 0, 0, 0, 0, 0, 1]);
    expect(learnt).toEqual([1, 1]);
  });

  it('lets only the strongest maps learn with winners set', async () => {
    const { delta, learnt } = await update(PRE, 1, 1);
    expect(learnt).toEqual([1, 0]);
    expect(delta.filter((_, i) => i % 2 === 1)).toEqual([0, 0, 0, 0]);
    expect(delta[0]).toBeCloseTo(0.009, 7);
  });

  it('averages a map over the images it learnt from', async () => {
    // Image 2 spikes only at the top right: map 0 reaches 0.9 and map 1 0.5 at position (0, 1), nothing
    // elsewhere; map 0 wins there, so map 1 learns from image 1 only.
    const second = [0, 0, 1, 0, 0, 0, 0, 0, 0];
    const { delta, learnt } = await update([...PRE, ...second], 2);
    expect(learnt).toEqual([2, 1]);
    // Every weight of map 0 has w(1 - w) = 0.09; its field is [1 1; 1 0] in image 1 and [0 1; 0 0] in image 2.
    const image1 = [0.1 * 0.09, 0.1 * 0.09, 0.1 * 0.09, -0.075 * 0.09];
    const image2 = [-0.075 * 0.09, 0.1 * 0.09, -0.075 * 0.09, -0.075 * 0.09];
    for (let i = 0; i < 4; i++) expect(delta[2 * i]).toBeCloseTo((image1[i]! + image2[i]!) / 2, 7);
    // Map 1 learnt from image 1 only: its update is that image's, not halved.
    expect(delta[7]).toBeCloseTo(0.1 * 0.25, 7);
  });

  it('keeps every weight in [0, 1] (soft bounds), for any spikes, weights and rates up to 1', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.boolean(), { minLength: 2 * 5 * 5 * 2, maxLength: 2 * 5 * 5 * 2 }),
        fc.array(fc.float({ min: 0, max: 1, noNaN: true }), { minLength: 3 * 3 * 2 * 3, maxLength: 3 * 3 * 2 * 3 }),
        fc.float({ min: Math.fround(1e-3), max: 1, noNaN: true }),
        fc.float({ min: 0, max: 1, noNaN: true }),
        fc.float({ min: 0, max: 3, noNaN: true }),
        async (spikes, weights, aPlus, aMinus, threshold) => {
          const pre = tf.tensor4d(spikes.map(Number), [2, 5, 5, 2]);
          const kernel = tf.tensor4d(weights, [3, 3, 2, 3]);
          const result = stdpLayerUpdate(pre, kernel, { stride: 1, padding: 'same' }, threshold, { aPlus, aMinus }, null);
          const next = tf.add(kernel, result.delta);
          const values = await next.data();
          tf.dispose([pre, kernel, next, result.delta, result.fired, result.winners, result.learnt]);
          for (const w of values) {
            expect(w).toBeGreaterThanOrEqual(-1e-6);
            expect(w).toBeLessThanOrEqual(1 + 1e-6);
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('stdpRates', () => {
  const spec: StdpSpec = { type: 'stdp', aPlus: 0.002, aMinus: 0.0015, growth: 2, growthEvery: 500, aMax: 0.15, winners: null, batch: 1 };

  it('doubles a_plus every 500 images up to a_max, a_minus keeping its ratio', () => {
    expect(stdpRates(spec, 0)).toEqual({ aPlus: 0.002, aMinus: 0.0015 });
    expect(stdpRates(spec, 499).aPlus).toBe(0.002);
    expect(stdpRates(spec, 500).aPlus).toBe(0.004);
    expect(stdpRates(spec, 3499).aPlus).toBe(0.128);
    expect(stdpRates(spec, 3500)).toEqual({ aPlus: 0.15, aMinus: 0.15 * 0.75 });
    expect(stdpRates(spec, 1e6).aPlus).toBe(0.15);
  });
});

describe('convergence', () => {
  it('is the mean of w(1 - w): 0 for weights at 0 or 1, 0.25 at 0.5', async () => {
    expect(await convergence(tf.tensor1d([0, 1, 1, 0])).data()).toEqual(new Float32Array([0]));
    expect((await convergence(tf.tensor1d([0.5, 0.5, 0, 1])).data())[0]).toBeCloseTo(0.125, 7);
  });
});
