import * as tf from '@tensorflow/tfjs-core';
import { noiseStatistics, type GradientNoiseStatistics } from '../optim/gradient-covariance.js';
import { RuntimeFailure } from './errors.js';
import { exampleLength, type Split } from './data/types.js';
import type { Network } from './graph.js';
import { crossEntropy, type PhaseGraph } from './step.js';

export interface NoiseProbeOptions {
  /** Examples the per-example gradients are taken on: the first ones of the split, the same at every probe. */
  examples: number;
  /** Eigenvalues reported per partition. */
  top: number;
}

/**
 * The covariance of per-example gradients of the phase's loss, per trained partition
 * (its parameters, with its proxy head's when the phase trains through it).
 *
 * Each example's gradient is taken on its own in inference mode: BatchNorm uses its
 * moving statistics and dropout is off, so an example's gradient does not depend on
 * the other examples of its batch (in training mode it would, and a batch of one has
 * no variance to normalise by). Weight decay is not part of it: it is the same for
 * every example and adds nothing to the covariance. The frozen partitions run once,
 * batched, since inference is per example anyway.
 */
export async function probeGradientNoise(network: Network, graph: PhaseGraph, split: Split, options: NoiseProbeOptions): Promise<Record<string, GradientNoiseStatistics>> {
  const n = options.examples;
  assertProbeFits(split, n);
  const groups = partitionGroups(network, graph);
  const rows = new Map<string, tf.Tensor1D[]>(groups.map(({ partition }) => [partition, []]));
  const length = exampleLength(split.shape);
  const inputs = tf.tensor(split.images.subarray(0, n * length), [n, ...split.shape]);
  const frozenOutput = graph.frozen.length > 0 ? tf.tidy(() => network.runPartitions(graph.frozen, inputs, { training: false })) : inputs;
  try {
    for (let i = 0; i < n; i++) {
      const example = tf.slice(frozenOutput, i, 1);
      const label = tf.tensor1d([split.labels[i]!], 'int32');
      const { value, grads } = tf.variableGrads(() => {
        const mode = { training: false };
        const features = network.runPartitions(graph.trainable, example, mode);
        const logits = graph.headPartition ? network.runHead(graph.headPartition, features, mode) : features;
        return crossEntropy(logits, label, network.ir.classes);
      }, graph.variables);
      for (const { partition, variables } of groups) {
        rows.get(partition)!.push(tf.tidy(() => tf.concat(variables.map((v) => tf.reshape(grads[v.name]!, [-1]))) as tf.Tensor1D));
      }
      tf.dispose([example, label, value, ...Object.values(grads)]);
    }
  } catch (error) {
    for (const tensors of rows.values()) tf.dispose(tensors);
    throw error;
  } finally {
    tf.dispose(frozenOutput === inputs ? [inputs] : [inputs, frozenOutput]);
  }
  const result: Record<string, GradientNoiseStatistics> = {};
  for (const { partition, variables } of groups) {
    const partitionRows = rows.get(partition)!;
    const [gram, meanSqNorm] = tf.tidy(() => {
      const matrix = tf.stack(partitionRows) as tf.Tensor2D;
      tf.dispose(partitionRows);
      const mean = tf.mean(matrix, 0, true);
      const centred = tf.sub(matrix, mean);
      // An explicit transpose: wasm's matMul with transposeB was 7x slower at [256, 58378] (measured).
      return [tf.div(tf.matMul(centred, tf.transpose(centred)), n), tf.sum(tf.square(mean))];
    });
    const params = variables.reduce((sum, v) => sum + v.size, 0);
    // Read asynchronously: webgpu has no synchronous read in Node.
    const [gramValues, meanSq] = await Promise.all([gram.data(), meanSqNorm.data()]);
    result[partition] = noiseStatistics(Float64Array.from(gramValues), n, params, meanSq[0]!, options.top);
    tf.dispose([gram, meanSqNorm]);
  }
  return result;
}

/** The probe's sample must exist: checked before training starts, and again here. */
export function assertProbeFits(split: Split, examples: number, phase?: string): void {
  if (split.count >= examples) return;
  const where = phase ? `phase ${phase}: ` : '';
  throw new RuntimeFailure(
    `${where}the noise probe takes ${examples} training examples, but the training split has ${split.count}; lower 'examples' in its 'probe noise(...)' to at most ${split.count}`,
  );
}

/** The phase's trained variables by partition, in the phase's order; partitions without trainable parameters are left out. */
function partitionGroups(network: Network, graph: PhaseGraph): { partition: string; variables: tf.Variable[] }[] {
  const trained = new Set(graph.variables.map((v) => v.name));
  const byPartition = new Map<string, tf.Variable[]>(graph.trainable.map((name) => [name, []]));
  for (const spec of network.paramSpecs()) {
    const variable = network.variable(spec.name);
    if (trained.has(variable.name)) byPartition.get(spec.partition)?.push(variable);
  }
  return [...byPartition].filter(([, variables]) => variables.length > 0).map(([partition, variables]) => ({ partition, variables }));
}
