import * as tf from '@tensorflow/tfjs-core';
import type { Split } from './data/dataset.js';
import { exampleLength } from './data/types.js';
import type { Network } from './graph.js';
import { OnnxForward } from './onnx-forward.js';

/**
 * The frozen partitions' output for every example of a split, computed once (inference
 * mode, in batches of `batch`, each intermediate released; on onnxruntime where it runs
 * them, onnx-forward.ts) and kept on the backend as
 * one tensor; a training step gathers its batch's rows instead of running the frozen
 * partitions (src/summary/prefix-cache.ts decides when).
 */
export class PrefixCache {
  private constructor(private readonly outputs: tf.Tensor) {}

  static build(network: Network, frozen: readonly string[], split: Split, batch: number): PrefixCache {
    const length = exampleLength(split.shape);
    const chunks: tf.Tensor[] = [];
    const forward = OnnxForward.build(network, frozen);
    try {
      for (let start = 0; start < split.count; start += batch) {
        const size = Math.min(batch, split.count - start);
        const pixels = split.images.subarray(start * length, (start + size) * length);
        chunks.push(forward ? forward.run(pixels, size) : tf.tidy(() =>
          network.runPartitions(frozen, tf.tensor(pixels, [size, ...split.shape]), { training: false })));
      }
      return new PrefixCache(chunks.length === 1 ? chunks[0]!.clone() : tf.concat(chunks, 0));
    } finally {
      tf.dispose(chunks);
      forward?.dispose();
    }
  }

  /** The rows of these examples (indices into the split), as a new tensor. */
  rows(indices: Int32Array): tf.Tensor {
    return tf.tidy(() => tf.gather(this.outputs, tf.tensor1d(indices, 'int32')));
  }

  get bytes(): number {
    return this.outputs.size * 4;
  }

  dispose(): void {
    this.outputs.dispose();
  }
}
