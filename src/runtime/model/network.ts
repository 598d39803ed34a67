/**
 * A run's network on a backend, with the weights of the checkpoint a RunModel opened, read
 * straight into its parameters where the backend allows (loadWeightsFile, as a resume
 * does: the model is not held twice), for inference (`mono evaluate`, `mono predict`).
 * The caller disposes it.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, type ActiveBackend } from '../backend.js';
import type { BackendChoice } from '../backend-choices.js';
import { Network } from '../graph.js';
import { loadWeightsFile } from '../load-checkpoint.js';
import { runRngs } from '../trainer.js';
import type { RunModel } from './run-model.js';

export async function loadNetwork(run: RunModel, options: { backend?: BackendChoice } = {}): Promise<{ network: Network; backend: ActiveBackend }> {
  const backend = await selectBackend(options.backend !== undefined ? { force: options.backend } : {});
  // Initialised from the run's own stream, then every parameter replaced by the checkpoint's (openRun checked that they all fit).
  const network = new Network(run.ir, runRngs(run.info.seed).init);
  try {
    await loadWeightsFile(network, run.dir, { file: path.basename(run.file) });
  } catch (error) {
    network.dispose(); // a damaged file leaves the parameters part read
    throw error;
  }
  return { network, backend };
}

/**
 * Class probabilities of `count` normalised examples through the network's own output,
 * in inference mode, in batches of at most `batch` (memory).
 */
export async function predictProbabilities(network: Network, examples: Float32Array, count: number, batch = 256): Promise<Float32Array> {
  const shape = network.ir.input.shape;
  const length = shape.reduce((a, b) => a * b, 1);
  const classes = network.ir.classes;
  const out = new Float32Array(count * classes);
  for (let start = 0; start < count; start += batch) {
    const size = Math.min(batch, count - start);
    const probabilities = tf.tidy(() => tf.softmax(network.forward(tf.tensor(examples.subarray(start * length, (start + size) * length), [size, ...shape]), { training: false })));
    // Read asynchronously: webgpu has no synchronous read in Node.
    out.set(await probabilities.data(), start * classes);
    probabilities.dispose();
  }
  return out;
}
