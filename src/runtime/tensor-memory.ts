// The memory a backend keeps a tensor's values in, as views a checkpoint reader can write
// into and a writer can save from without a copy.
//
// Reading: a resume overwrites the parameters its network already holds (their memory is
// allocated and touched) instead of reading into new arrays and copying those in. Only
// before any kernel has read the tensor: tfjs treats tensors as immutable, and the wasm
// backend's XNNPACK keeps packed copies of the filters it has run (keyed by tensor),
// which a write in place would leave stale. A resume reads right after building the
// network (session.ts), before the first step.
//
// Writing: a checkpoint saves each tensor from the backend's own memory (on wasm, the
// heap) rather than from a copy that dataSync()/data() would make, so saving holds no
// tensor twice. The trainer waits for the write between two epochs, so nothing changes
// or frees the tensors meanwhile, and nothing of the run allocates (which could grow the
// heap); the view is still taken again for every chunk.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { TensorMemory } from './checkpoint.js';
import { heapBuffer } from './kernels/simd/module.js';

/** The parts of tfjs-backend-cpu's backend read here: its data map holds each tensor's values array. */
interface CpuBackendData {
  data: { get(dataId: object): { values?: unknown } | undefined };
}

/**
 * A float32 tensor's own memory on the current backend (cpu: its values array; wasm: its
 * bytes in the wasm heap, the view taken again for every chunk because growing the heap
 * detaches the old buffer), or undefined where it cannot be reached: on a device or in
 * native code (webgpu, tfjs-node), or not yet written (a wasm tensor with no data).
 * `owned`: only when no other tensor shares the memory (writing it would change both).
 */
function ownMemory(tensor: tf.Tensor, owned: boolean): TensorMemory | undefined {
  if (tensor.dtype !== 'float32' || tensor.isDisposed) return undefined;
  const name = tf.getBackend();
  const backend = tf.backend();
  const dataId = tensor.dataId;
  if (owned && backend.refCount(dataId) !== 1) return undefined;
  const inRange = (start: number, length: number) => {
    if (start < 0 || length < 0 || start + length > tensor.size * 4) throw new RangeError(`bytes ${start}..${start + length} of a tensor of ${tensor.size * 4}`);
  };
  if (name === 'cpu') {
    const values = (backend as unknown as CpuBackendData).data.get(dataId)?.values;
    if (!(values instanceof Float32Array) || values.length !== tensor.size) return undefined;
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
    if (!wasm.dataIdMap.has(dataId) || heapBuffer(wasm) === undefined) return undefined;
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

/** The memory a checkpoint reader may overwrite with a tensor's values: its own, shared with no other tensor. */
export function tensorDestination(tensor: tf.Tensor): TensorMemory | undefined {
  return ownMemory(tensor, true);
}

/** The memory a checkpoint writer may save a tensor's values from without a copy (another tensor may share it). */
export function tensorSource(tensor: tf.Tensor): TensorMemory | undefined {
  return ownMemory(tensor, false);
}
