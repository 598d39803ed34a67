// Runs already-registered kernels of one backend directly, below the engine, so
// that a composite kernel creates no engine tensors and frees what it allocates.
import * as tf from '@tensorflow/tfjs-core';

export type TensorInfo = tf.TensorInfo;

export class BackendKernelRunner {
  private readonly temporaries: TensorInfo[] = [];

  constructor(
    private readonly backend: tf.KernelBackend,
    private readonly backendName: string,
  ) {}

  /** Runs kernel `name`; the result is freed by `dispose()` unless `keep`-ed. */
  run(name: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap = {}): TensorInfo {
    const config = tf.getKernel(name, this.backendName);
    if (config === undefined) {
      throw new Error(`mono kernels: '${name}' is not registered for backend '${this.backendName}'`);
    }
    const result = config.kernelFunc({ inputs, attrs, backend: this.backend });
    if (Array.isArray(result)) throw new Error(`mono kernels: '${name}' returned several outputs`);
    this.temporaries.push(result);
    return result;
  }

  /** Frees `info` (made by the caller, e.g. with makeOutput) with the temporaries. */
  adopt(info: TensorInfo): TensorInfo {
    this.temporaries.push(info);
    return info;
  }

  /** Removes `info` from the temporaries, so that it outlives `dispose()`. */
  keep(info: TensorInfo): TensorInfo {
    const at = this.temporaries.indexOf(info);
    if (at >= 0) this.temporaries.splice(at, 1);
    return info;
  }

  dispose(): void {
    // Reshape-like kernels share data and raise a reference count: one
    // disposeData per result undoes exactly what each kernel call did.
    for (const info of this.temporaries) this.backend.disposeData(info.dataId);
    this.temporaries.length = 0;
  }
}

/** Runs `body` with a runner and always frees its temporaries. */
export function withRunner(
  backend: tf.KernelBackend,
  backendName: string,
  body: (runner: BackendKernelRunner) => TensorInfo,
): TensorInfo {
  const runner = new BackendKernelRunner(backend, backendName);
  try {
    return runner.keep(body(runner));
  } finally {
    runner.dispose();
  }
}
