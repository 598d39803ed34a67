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
import { OnnxSession, onnxruntimeStatus } from './onnxruntime.js';

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
   * The first partitions `partitions` of `network` with its weights as they are now, or
   * null where onnxruntime does not run them (another backend, onnxruntime off, a layer
   * ONNX cannot express, weights too large).
   */
  static build(network: Network, partitions: readonly string[]): OnnxForward | null {
    if (partitions.length === 0 || tf.getBackend() !== 'wasm' || !onnxruntimeStatus().active) return null;
    const ir = network.ir;
    const nodes = new Set(ir.partitions.filter((p) => partitions.includes(p.name)).flatMap((p) => p.nodes));
    const params = [...new Set(ir.nodes.filter((n) => nodes.has(n.id)).flatMap((n) => n.params))];
    const bytes = params.reduce((sum, name) => sum + network.variable(name).size * 4, 0);
    if (bytes > MAX_MODEL_BYTES) return null;
    const weights: NamedWeights[] = params.map((name) => {
      const variable = network.variable(name);
      return { name, shape: [...variable.shape], values: variable.dataSync() as Float32Array };
    });
    let graph;
    try {
      graph = featuresGraph(ir, weights, partitions, { format: 'ONNX', expressible: onnxExpressible });
    } catch {
      return null; // a layer ONNX cannot express: tfjs runs these partitions
    }
    const session = OnnxSession.create(encodeModelProto(toOnnxModel(graph, {}, 'mono')), getThreadsCount());
    if (session === null) return null;
    const last = ir.partitions.find((p) => p.name === partitions[partitions.length - 1])!;
    const outputShape = ir.nodes.find((n) => n.id === last.output)?.shape ?? [];
    return new OnnxForward(session, ir.input.shape, outputShape);
  }

  /** The partitions' output for `size` examples (NHWC, normalised as the network takes them), as a new tensor. */
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
