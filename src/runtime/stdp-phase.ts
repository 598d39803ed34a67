/**
 * An `stdp` phase: the trained partition's conv kernels learn by the local rule of
 * src/optim/stdp.ts from the binary spikes of the partition's own forward pass, batch
 * by batch, without labels, loss or head. The trainer runs it under the same phase
 * machinery as a gradient phase (frozen prefix, epochs, checkpoints, metrics).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { IRNode, StdpSpec } from '../ir/types.js';
import { convergence, stdpLayerUpdate, stdpRates } from '../optim/stdp.js';
import { GraphError, type Network } from './graph.js';
import { applyNode } from './layers.js';

/** One conv trained by the rule: its kernel and the threshold of the binary units after it. */
interface StdpLayer {
  node: IRNode;
  kernel: tf.Variable;
  threshold: number;
}

/** What an STDP epoch reports per conv (metrics.jsonl `stdp.layers`). */
export interface StdpLayerMetrics {
  /** Mean |dw| over the kernel's weights, per update. */
  dw: number;
  /** Fraction of the layer's binary units that fired, over the epoch's images (before inhibition). */
  active: number;
  /** Maps that learnt per image, on average (at most `winners`). */
  winners: number;
  /** C = mean w(1 - w) of the kernel at the epoch's end: 0 when every weight is 0 or 1. */
  convergence: number;
  /** Fraction of the kernel's weights above 0.5 at the epoch's end. */
  above_half: number;
}

/** The `stdp` field of an STDP epoch's metrics line. */
export interface StdpEpochMetrics {
  /** The rates at the epoch's end, and the images the phase has learnt from so far. */
  a_plus: number;
  a_minus: number;
  images: number;
  updates: number;
  layers: Record<string, StdpLayerMetrics>;
}

/** The rule's state between epochs: the rates follow from it (a checkpoint keeps it). */
export interface StdpState {
  images: number;
}

/** The convs an stdp phase trains: those of `partition`, each with the binary after it (the compiler checked the layout). */
export function stdpLayers(network: Network, partition: string): StdpLayer[] {
  const ir = network.ir;
  const nodes = ir.nodes.filter((node) => node.partition === partition);
  const layers: StdpLayer[] = [];
  for (const node of nodes) {
    if (node.op !== 'conv2d') continue;
    const binary = nodes.find((other) => other.inputs[0] === node.id);
    if (binary?.op !== 'binary') throw new GraphError(`stdp: conv ${node.id} of partition ${partition} is not followed by binary units`);
    const threshold = binary.attrs['threshold'];
    layers.push({ node, kernel: network.variable(node.params[0]!), threshold: typeof threshold === 'number' ? threshold : 0 });
  }
  if (layers.length === 0) throw new GraphError(`stdp: partition ${partition} has no conv to train`);
  return layers;
}

interface Accumulator {
  dw: tf.Scalar;
  fired: tf.Scalar;
  units: number;
  learnt: tf.Scalar;
}

export class StdpPhase {
  private readonly layers: StdpLayer[];
  private readonly nodes: IRNode[];
  private images: number;
  /** Updates and images of the current epoch. */
  private updates = 0;
  private epochImages = 0;
  private accumulators = new Map<string, Accumulator>();

  constructor(
    private readonly network: Network,
    private readonly spec: StdpSpec,
    private readonly partition: string,
    state: StdpState | null,
  ) {
    this.layers = stdpLayers(network, partition);
    this.nodes = network.ir.nodes.filter((node) => node.partition === partition);
    this.images = state?.images ?? 0;
  }

  state(): StdpState {
    return { images: this.images };
  }

  rates(): { aPlus: number; aMinus: number } {
    return stdpRates(this.spec, this.images);
  }

  /**
   * Learns from one batch of the partition's input (the frozen prefix's output, or the
   * images): `spec.batch` images per update, in order. Nothing is read back.
   */
  learn(input: tf.Tensor): void {
    const size = input.shape[0]!;
    for (let start = 0; start < size; start += this.spec.batch) {
      const count = Math.min(this.spec.batch, size - start);
      const chunk = count === size ? input : tf.slice(input, start, count);
      try {
        this.update(chunk);
      } finally {
        if (chunk !== input) chunk.dispose();
      }
      this.images += count;
      this.epochImages += count;
      this.updates++;
    }
  }

  /** One update of every conv from `input`: all layers measured with the weights as they were, then changed together. */
  private update(input: tf.Tensor): void {
    const rates = this.rates();
    const deltas: { layer: StdpLayer; delta: tf.Tensor }[] = [];
    try {
      tf.tidy(() => {
        const values = new Map<string, tf.Tensor>([[this.network.ir.partitions.find((p) => p.name === this.partition)!.input, input]]);
        for (const node of this.nodes) {
          const inputs = node.inputs.map((id) => {
            const value = values.get(id);
            if (!value) throw new GraphError(`stdp: node ${node.id} reads ${id}, which partition ${this.partition} does not compute`);
            return value;
          });
          const layer = this.layers.find((l) => l.node === node);
          if (layer) {
            const step = stdpLayerUpdate(inputs[0] as tf.Tensor4D, layer.kernel as tf.Tensor4D, geometry(node), layer.threshold, rates, this.spec.winners);
            deltas.push({ layer, delta: tf.keep(step.delta) });
            this.accumulate(node.id, step.delta, step.fired, step.learnt);
          }
          values.set(node.id, applyNode(node, inputs, node.params.map((name) => this.network.variable(name)), { training: false }));
        }
      });
      // Clipped only against float rounding: with a_plus, a_minus <= 1 the rule itself stays in [0, 1].
      // Inside tidy: assign keeps the data, the tidy releases the tensor that carried it.
      for (const { layer, delta } of deltas) tf.tidy(() => layer.kernel.assign(tf.clipByValue(tf.add(layer.kernel, delta), 0, 1)));
    } finally {
      tf.dispose(deltas.map((d) => d.delta));
    }
  }

  private accumulate(id: string, delta: tf.Tensor, fired: tf.Tensor, learnt: tf.Tensor): void {
    const previous = this.accumulators.get(id);
    const next: Accumulator = {
      dw: tf.keep(tf.add(previous?.dw ?? 0, tf.mean(tf.abs(delta)))),
      fired: tf.keep(tf.add(previous?.fired ?? 0, tf.sum(fired))),
      units: (previous?.units ?? 0) + fired.size,
      learnt: tf.keep(tf.add(previous?.learnt ?? 0, tf.sum(learnt))),
    };
    if (previous) tf.dispose([previous.dw, previous.fired, previous.learnt]);
    this.accumulators.set(id, next);
  }

  /** The epoch's metrics, read back in one go; the accumulators start again. */
  async endEpoch(): Promise<StdpEpochMetrics> {
    const layers: Record<string, StdpLayerMetrics> = {};
    for (const layer of this.layers) {
      const sums = this.accumulators.get(layer.node.id);
      const read = tf.tidy(() =>
        tf.stack([sums?.dw ?? tf.scalar(0), sums?.fired ?? tf.scalar(0), sums?.learnt ?? tf.scalar(0), convergence(layer.kernel), tf.mean(tf.cast(tf.greater(layer.kernel, 0.5), 'float32'))]),
      );
      const [dw, fired, learnt, c, above] = await read.data();
      read.dispose();
      layers[layer.node.id] = {
        dw: this.updates > 0 ? dw! / this.updates : 0,
        active: sums && sums.units > 0 ? fired! / sums.units : 0,
        winners: this.epochImages > 0 ? learnt! / this.epochImages : 0,
        convergence: c!,
        above_half: above!,
      };
    }
    const { aPlus, aMinus } = this.rates();
    const metrics: StdpEpochMetrics = { a_plus: aPlus, a_minus: aMinus, images: this.images, updates: this.updates, layers };
    this.resetEpoch();
    return metrics;
  }

  private resetEpoch(): void {
    for (const sums of this.accumulators.values()) tf.dispose([sums.dw, sums.fired, sums.learnt]);
    this.accumulators.clear();
    this.epochImages = 0;
    this.updates = 0;
  }

  dispose(): void {
    this.resetEpoch();
  }
}

function geometry(node: IRNode): { stride: number; padding: 'same' | 'valid' } {
  const stride = node.attrs['stride'];
  return { stride: typeof stride === 'number' ? stride : Array.isArray(stride) ? stride[0]! : 1, padding: node.attrs['padding'] === 'valid' ? 'valid' : 'same' };
}
