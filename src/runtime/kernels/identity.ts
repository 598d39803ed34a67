// Identity for wasm without a copy. tfjs's engine clones every tensor a gradient needs
// (inputs and outputs saved for the backward pass) with Identity, and the shipped wasm
// kernel copies the whole buffer each time: ~190 copies per monolithnet training step.
// Tensors are immutable (kernels write only their own outputs; Variable.assign rebinds
// the variable to the new data), so the clone can share the data, as Reshape does on
// wasm and Identity does on cpu: one more reference, freed with the last tensor using it.
import * as tf from '@tensorflow/tfjs-core';

export function sharedIdentityKernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: tf.Identity,
    backendName,
    kernelFunc: ({ inputs, backend }) => {
      const { x } = inputs as tf.IdentityInputs;
      if (x === undefined) throw new Error('Identity needs x');
      (backend as tf.KernelBackend).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  };
}
