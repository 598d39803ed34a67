/**
 * Competitive spike-timing-dependent plasticity (STDP) for conv kernels of binary
 * units: the unsupervised rule of the spiking-network paper's feature layers
 * (docs/stdp.md has the formulas and their sources). Everything is tensor ops, so a
 * batch of images costs a few kernels per layer on any backend.
 *
 * Per image, for one conv layer with kernel W[k, k, c, F] in [0, 1]:
 *  1. potentials V = conv(pre, W) of the binary input spikes `pre`; a unit fires when
 *     V >= threshold (the `binary(threshold:)` after the conv);
 *  2. lateral inhibition: at each position only the map with the highest potential
 *     among those that fired keeps its spike (ties: the lowest map index);
 *  3. competition per map: of each map's surviving spikes, the one with the highest
 *     potential is the map's winner; with `winners` set, only the maps whose winners
 *     have the highest potentials (at most `winners` of them) learn from this image;
 *  4. each learning map's kernel moves towards the winner's receptive field:
 *     dw = +a_plus w(1 - w) where the input spiked, -a_minus w(1 - w) where it did not.
 * Images of one update share the weights they were measured with; each map's update is
 * the mean of its per-image updates over the images in which it learnt, so with
 * a_plus, a_minus <= 1 every weight stays in [0, 1] (w + a w(1 - w) <= 1 when a w <= 1).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { StdpSpec } from '../ir/types.js';

/** The geometry of the conv a kernel belongs to. */
export interface ConvGeometry {
  stride: number;
  padding: 'same' | 'valid';
}

/** The rates of the rule after `images` images of the phase: a_plus grows by `growth` every `growthEvery` images up to aMax; a_minus keeps its ratio. */
export function stdpRates(spec: StdpSpec, images: number): { aPlus: number; aMinus: number } {
  const doublings = Math.floor(images / spec.growthEvery);
  const aPlus = Math.min(spec.aMax, spec.aPlus * spec.growth ** doublings);
  return { aPlus, aMinus: aPlus * (spec.aMinus / spec.aPlus) };
}

/** One layer's update from a batch of images (tensors kept: the caller disposes them). */
export interface StdpLayerUpdate {
  /** The change of the kernel, [k, k, c, F]. */
  delta: tf.Tensor4D;
  /** Spikes of the layer before inhibition (what the network's forward pass gives), [B, h, w, F]. */
  fired: tf.Tensor4D;
  /** The winner of each map in each image: 1 where that map learnt at that position, [B, h, w, F]. */
  winners: tf.Tensor4D;
  /** How many images each map learnt from, [F]. */
  learnt: tf.Tensor1D;
}

/** Far below any potential: marks positions and maps that may not win. */
const NEVER = -1e30;

/**
 * The STDP update of kernel W for the binary input spikes `pre` [B, H, W, c] of a batch.
 * Pure: W is not changed.
 */
export function stdpLayerUpdate(
  pre: tf.Tensor4D,
  kernel: tf.Tensor4D,
  geometry: ConvGeometry,
  threshold: number,
  rates: { aPlus: number; aMinus: number },
  winnersPerImage: number | null,
): StdpLayerUpdate {
  return tf.tidy(() => {
    const potentials = tf.conv2d(pre, kernel, geometry.stride, geometry.padding);
    const [batch, height, width, maps] = potentials.shape;
    const positions = height * width;
    const fired = tf.cast(tf.greaterEqual(potentials, threshold), 'float32');
    // 2. Lateral inhibition across maps at each position.
    const candidates = tf.where(tf.greater(fired, 0), potentials, tf.fill(potentials.shape, NEVER));
    const anyFired = tf.max(fired, 3, true);
    const survived = tf.mul(oneHotFloat(tf.argMax(candidates, 3), maps), anyFired);
    // 3. One winner per map: the surviving spike with the highest potential.
    const perMap = tf.reshape(tf.where(tf.greater(survived, 0), potentials, tf.fill(potentials.shape, NEVER)), [batch, positions, maps]);
    const winnerPosition = tf.argMax(perMap, 1); // [B, F]
    let learns = tf.max(tf.reshape(survived, [batch, positions, maps]), 1); // [B, F]
    if (winnersPerImage !== null && winnersPerImage < maps) {
      const best = tf.where(tf.greater(learns, 0), tf.max(perMap, 1), tf.fill([batch, maps], NEVER)) as tf.Tensor2D;
      const top = tf.sum(oneHotFloat(tf.topk(best, winnersPerImage).indices, maps), 1);
      learns = tf.mul(learns, top);
    }
    // [B, F, P] one-hot of each map's winner, kept only for maps that learn.
    const atWinner = tf.mul(oneHotFloat(winnerPosition, positions), tf.expandDims(learns, 2));
    const winners = tf.reshape(tf.transpose(atWinner, [0, 2, 1]), [batch, height, width, maps]) as tf.Tensor4D;
    // 4. Sum of the winners' receptive fields: the conv's filter gradient with the winners as dy.
    const spikedInputs = tf.engine().runKernel('Conv2DBackpropFilter', { x: pre, dy: winners }, {
      strides: [geometry.stride, geometry.stride],
      pad: geometry.padding,
      dataFormat: 'NHWC',
      filterShape: kernel.shape,
    }) as tf.Tensor4D;
    const learnt = tf.sum(learns, 0) as tf.Tensor1D; // images per map
    const silentInputs = tf.sub(learnt, spikedInputs);
    const perImage = tf.sub(tf.mul(spikedInputs, rates.aPlus), tf.mul(silentInputs, rates.aMinus));
    const softBound = tf.mul(kernel, tf.sub(1, kernel));
    const delta = tf.div(tf.mul(softBound, perImage), tf.maximum(learnt, 1)) as tf.Tensor4D;
    return { delta, fired: fired as tf.Tensor4D, winners, learnt };
  });
}

/** One-hot as float32 through a cast: the wasm backend's OneHot ignores a float32 dtype and writes int32 bits (tfjs 4.22). */
function oneHotFloat(indices: tf.Tensor, depth: number): tf.Tensor {
  return tf.cast(tf.oneHot(indices, depth), 'float32');
}

/** C = mean of w(1 - w) over a kernel: 0 once every weight has gone to 0 or 1 (Kheradpisheh et al. 2018's convergence measure). */
export function convergence(kernel: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.mul(kernel, tf.sub(1, kernel))) as tf.Scalar);
}
