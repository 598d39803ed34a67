// The frozen partitions of a phase on onnxruntime (./onnxruntime.ts): one session per
// phase, its weights constants, so that onnxruntime folds each BatchNorm into its
// convolution, fuses the ReLUs and runs its blocked-layout convolutions (AVX2/AVX-512).
// A training step of a later partition spends most of its time there when the prefix
// is not cached (augmented data): monolithnet width=1's whole inference pass took
// 5.2 ms there against 25 ms on tfjs-backend-wasm (batch 32, 1 thread; docs/kernels.md).
//
// Only on the wasm backend (cpu is the tests' reference; webgpu and the native backends
// have their own fast paths), and only for layers the ONNX export can write.
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { featuresGraph } from './export/graph.js';
import { onnxExpressible, toOnnxModel } from './export/onnx.js';
import type { Network, NamedWeights } from './graph.js';
import { encodeModelProto } from './onnx-model.js';
import { OnnxSession, onnxruntimeActive } from './onnxruntime.js';

/** Above this many bytes of weights the model is not built (protobuf's 2 GiB limit, and the copy it costs). */
const MAX_MODEL_BYTES = 1 << 30;

export class OnnxForward {
  private output: Float32Array = new Float32Array(0);

  private constructor(
    private readonly session: OnnxSession,
    private readonly inputShape: readonly number[],
    private readonly outputShape: readonly number[],
  ) {}

  /**
   * The first partitions `partitions` of `network` (followed by `head`'s proxy head:
   * its logits) with the weights as they are now, in inference mode; or null where
   * onnxruntime does not run them (another backend, onnxruntime off, a layer ONNX cannot
   * express, weights too large).
   */
  static build(network: Network, partitions: readonly string[], head?: string): OnnxForward | null {
    if (partitions.length === 0 || tf.getBackend() !== 'wasm' || !onnxruntimeActive()) return null;
    const ir = network.ir;
    const headNodes = head === undefined ? [] : ir.partitions.find((p) => p.name === head)?.head?.nodes ?? [];
    const nodes = new Set([...ir.partitions.filter((p) => partitions.includes(p.name)).flatMap((p) => p.nodes), ...headNodes.map((n) => n.id)]);
    const params = [...new Set([...ir.nodes, ...headNodes].filter((n) => nodes.has(n.id)).flatMap((n) => n.params))];
    const bytes = params.reduce((sum, name) => sum + network.variable(name).size * 4, 0);
    if (bytes > MAX_MODEL_BYTES) return null;
    const weights: NamedWeights[] = params.map((name) => {
      const variable = network.variable(name);
      return { name, shape: [...variable.shape], values: variable.dataSync() as Float32Array };
    });
    let graph;
    try {
      graph = featuresGraph(ir, weights, partitions, { ...(head !== undefined ? { head } : {}), format: 'ONNX', expressible: onnxExpressible });
    } catch {
      return null; // a layer ONNX cannot express: tfjs runs these partitions
    }
    const session = OnnxSession.create(encodeModelProto(toOnnxModel(graph, {}, 'mono')), getThreadsCount());
    if (session === null) return null;
    const outputShape = graph.nodes.find((n) => n.id === graph.output)?.shape ?? [];
    return new OnnxForward(session, ir.input.shape, outputShape);
  }

  /** Frees the session (onnxruntime's memory for these weights); run() must not follow. */
  dispose(): void {
    this.session.dispose();
  }

  /** The output (features or logits) for `size` examples (NHWC, normalised as the network takes them), as a new tensor. */
  run(images: Float32Array, size: number): tf.Tensor {
    const perExample = this.outputShape.reduce((a, b) => a * b, 1);
    if (this.output.length < size * perExample) this.output = new Float32Array(size * perExample);
    const output = this.output.subarray(0, size * perExample);
    this.session.run(
      { input: { data: images.subarray(0, size * this.inputShape.reduce((a, b) => a * b, 1)), dims: [size, ...this.inputShape] } },
      { features: { data: output, dims: [size, ...this.outputShape] } },
    );
    return tf.tensor(output, [size, ...this.outputShape], 'float32');
  }
}
