// The memory a backend keeps a tensor's values in, as something a checkpoint reader can
// write into: a resume overwrites the parameters its network already holds (their memory
// is allocated and touched) instead of reading into new arrays and copying those in.
// Only before any kernel has read the tensor: tfjs treats tensors as immutable, and the
// wasm backend's XNNPACK keeps packed copies of the filters it has run (keyed by tensor),
// which a write in place would leave stale. A resume reads right after building the
// network (session.ts), before the first step.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { TensorDestination } from './checkpoint.js';
import { heapBuffer } from './kernels/simd/module.js';

/** The parts of tfjs-backend-cpu's backend read here: its data map holds each tensor's values array. */
interface CpuBackendData {
  data: { get(dataId: object): { values?: unknown } | undefined };
}

/**
 * A float32 tensor's own memory on the current backend (cpu: its values array; wasm: its
 * bytes in the wasm heap, the view taken again for every chunk because growing the heap
 * detaches the old buffer), or undefined where a reader cannot reach it: on a device or
 * in native code (webgpu, tfjs-node), or shared with another tensor (writing it would
 * change that tensor too).
 */
export function tensorDestination(tensor: tf.Tensor): TensorDestination | undefined {
  if (tensor.dtype !== 'float32' || tensor.isDisposed) return undefined;
  const name = tf.getBackend();
  const backend = tf.backend();
  const dataId = tensor.dataId;
  const owned = () => backend.refCount(dataId) === 1;
  const inRange = (start: number, length: number) => {
    if (start < 0 || length < 0 || start + length > tensor.size * 4) throw new RangeError(`bytes ${start}..${start + length} of a tensor of ${tensor.size * 4}`);
  };
  if (name === 'cpu') {
    const values = (backend as unknown as CpuBackendData).data.get(dataId)?.values;
    if (!(values instanceof Float32Array) || values.length !== tensor.size || !owned()) return undefined;
    return {
      length: values.length,
      bytes: (start, length) => {
        inRange(start, length);
        return new Uint8Array(values.buffer, values.byteOffset + start, length);
      },
    };
  }
  if (name === 'wasm') {
    const wasm = backend as BackendWasm;
    if (!wasm.dataIdMap.has(dataId) || heapBuffer(wasm) === undefined || !owned()) return undefined;
    const offset = wasm.getMemoryOffset(dataId);
    return {
      length: tensor.size,
      bytes: (start, length) => {
        inRange(start, length);
        return new Uint8Array(heapBuffer(wasm)!, offset + start, length);
      },
    };
  }
  return undefined;
}
