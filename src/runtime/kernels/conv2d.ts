// Conv2D for wasm: onnxruntime's CPU convolution where it measured faster than XNNPACK
// (32+ channels in and out, filters larger than 1x1; ../onnxruntime.ts), reading
// tfjs's wasm heap in place; otherwise the shipped XNNPACK kernel with explicit
// padding (explicit-same-padding.ts). mono's input-gradient kernel runs its
// convolutions through this kernel too (conv2d-backprop-input.ts).
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount, type BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { OnnxSession, onnxruntimeActive } from '../onnxruntime.js';
import { encodeModelProto, ints, ONNX_IR_VERSION, ONNX_OPSET, tensorType } from '../onnx-model.js';
import { withRunner } from './backend-kernel.js';
import { heapBuffer } from './simd/module.js';

type Shape4 = [number, number, number, number];
type ConvInfo = tf.backend_util.Conv2DInfo;

/**
 * Where onnxruntime's convolution measured faster than XNNPACK's (bench:conv, forward and
 * input gradient, monolithnet and quickstart layers, 1 thread): 32 channels and more in
 * and out, and a filter larger than 1x1 (1.1-2.5x). 1x1 filters (0.3-0.5x), 16 channels
 * (0.4-1.1x) and the first layers' 1 and 3 channels (down to 0.08x) stay on XNNPACK.
 */
function onnxruntimeWins(info: ConvInfo): boolean {
  return info.inChannels >= 32 && info.outChannels >= 32 && info.filterHeight * info.filterWidth > 1;
}

/**
 * The model of one convolution: NCHW x and OIHW w in, NCHW y out, batch and output size
 * free. The layout changes around it run on wasm: onnxruntime's Transpose measured
 * 5-20x slower than its Conv on 3 and 16 channels.
 */
function convModel(info: ConvInfo): Uint8Array {
  const { top, bottom, left, right } = info.padInfo;
  return encodeModelProto({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'mono',
    graph: {
      name: 'conv',
      node: [{
        opType: 'Conv', input: ['x', 'w'], output: ['y'], attribute: [
          ints('kernel_shape', [info.filterHeight, info.filterWidth]),
          ints('strides', [info.strideHeight, info.strideWidth]),
          ints('dilations', [info.dilationHeight, info.dilationWidth]),
          ints('pads', [top, left, bottom, right]),
        ],
      }],
      input: [
        { name: 'x', type: tensorType(['batch', info.inChannels, info.inHeight, info.inWidth]) },
        { name: 'w', type: tensorType([info.outChannels, info.inChannels, info.filterHeight, info.filterWidth]) },
      ],
      output: [{ name: 'y', type: tensorType(['batch', info.outChannels, 'out_h', 'out_w']) }],
    },
  });
}

/** One session per convolution shape and thread count (the batch is free), made on first use. */
const sessions = new Map<string, OnnxSession | null>();

function sessionFor(info: ConvInfo, threads: number): OnnxSession | null {
  const { top, bottom, left, right } = info.padInfo;
  const key = [info.inHeight, info.inWidth, info.inChannels, info.outChannels, info.filterHeight, info.filterWidth,
    info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth, top, bottom, left, right, threads].join(',');
  let session = sessions.get(key);
  if (session === undefined) {
    session = OnnxSession.create(convModel(info), threads);
    sessions.set(key, session);
  }
  return session;
}

/** The convolution on onnxruntime, or null where it does not apply (NCHW, not float32, empty, slower there, off). */
function convOnOnnxruntime(backend: BackendWasm, x: tf.TensorInfo, filter: tf.TensorInfo, attrs: tf.Conv2DAttrs): tf.TensorInfo | null {
  if (attrs.dataFormat === 'NCHW' || x.dtype !== 'float32' || filter.dtype !== 'float32') return null;
  const info = tf.backend_util.computeConv2DInfo(x.shape as Shape4, filter.shape as Shape4, attrs.strides,
    attrs.dilations, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
  const { top, bottom, left, right } = info.padInfo;
  if (info.batchSize * info.outHeight * info.outWidth === 0 || Math.min(top, bottom, left, right) < 0) return null;
  if (!onnxruntimeWins(info) || !onnxruntimeActive()) return null;
  const session = sessionFor(info, getThreadsCount());
  if (session === null) return null;
  return withRunner(backend, 'wasm', (run) => {
    // NHWC -> NCHW and HWIO -> OIHW on wasm, the convolution on onnxruntime, NCHW -> NHWC on wasm.
    const xNchw = run.run('Transpose', { x }, { perm: [0, 3, 1, 2] });
    const wOihw = run.run('Transpose', { x: filter }, { perm: [3, 2, 0, 1] });
    const yNchw = run.adopt(backend.makeOutput([info.batchSize, info.outChannels, info.outHeight, info.outWidth], 'float32'));
    // Views after the last allocation: growing the heap detaches older ones.
    const heap = heapBuffer(backend);
    if (heap === undefined) throw new Error('mono kernels: the wasm backend does not show its heap');
    const value = (t: tf.TensorInfo) => ({ data: new Float32Array(heap, backend.getMemoryOffset(t.dataId), tf.util.sizeFromShape(t.shape)), dims: t.shape });
    session.run({ x: value(xNchw), w: value(wOihw) }, { y: value(yNchw) });
    return run.run('Transpose', { x: yNchw }, { perm: [0, 2, 3, 1] });
  });
}

/** Conv2D on wasm, `fallback` (the shipped kernel with explicit padding) where onnxruntime does not run it. */
export function conv2dKernel(fallback: tf.KernelConfig): tf.KernelConfig {
  const config: tf.KernelConfig = {
    kernelName: tf.Conv2D,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { x, filter } = args.inputs as tf.Conv2DInputs;
      if (x === undefined || filter === undefined) throw new Error('Conv2D needs x and filter');
      return convOnOnnxruntime(args.backend as BackendWasm, x, filter, args.attrs as unknown as tf.Conv2DAttrs)
        ?? fallback.kernelFunc(args);
    },
  };
  // The backend runs the setup functions of the kernels registered when it starts (XNNPACK's init).
  if (fallback.setupFunc !== undefined) config.setupFunc = fallback.setupFunc;
  if (fallback.disposeFunc !== undefined) config.disposeFunc = fallback.disposeFunc;
  return config;
}
