/**
 * Per-kernel wall time for synchronous tfjs backends (wasm, cpu): every kernel the
 * backend has registered is swapped for a wrapper that times its kernelFunc, charged
 * to the kernel's name and to the current "context" (what mono was doing: a training
 * step, the optimizer update, evaluation). tfjs looks kernels up in the registry on
 * every call, so the wrappers see every dispatch, forward and backward alike. A kernel
 * that dispatches other kernels (mono's Conv2DBackpropInput runs a Conv2D, for one) is
 * charged its whole time, and the kernels inside it are only counted in `nested`, so
 * the totals add up to the time spent in kernels.
 *
 * (tf.profile() would also list kernels, but it reads every output back to check it,
 * which changes what is measured; the wrappers add two clock reads per kernel.)
 */
import * as tf from '@tensorflow/tfjs-core';

export interface KernelTotals {
  calls: number;
  ms: number;
}

export class KernelTimer {
  /** By context, then by kernel name. */
  readonly totals = new Map<string, Map<string, KernelTotals>>();
  /** Kernels dispatched from inside another kernel, by `outer > inner` (already in the outer's time). */
  readonly nested = new Map<string, KernelTotals>();
  private readonly originals: tf.KernelConfig[] = [];
  private readonly running: string[] = [];
  private context = 'other';

  /** Wraps every kernel of `backendName`. */
  install(backendName: string): void {
    if (this.originals.length > 0) throw new Error('KernelTimer already installed');
    for (const config of tf.getKernelsForBackend(backendName)) {
      this.originals.push(config);
      const kernelFunc = config.kernelFunc;
      const name = config.kernelName;
      const wrapped: tf.KernelConfig = {
        ...config,
        kernelFunc: (args) => {
          const started = performance.now();
          this.running.push(name);
          try {
            return kernelFunc(args);
          } finally {
            this.running.pop();
            this.add(name, performance.now() - started);
          }
        },
      };
      tf.unregisterKernel(name, backendName);
      tf.registerKernel(wrapped);
    }
  }

  /** Puts the original kernels back. */
  uninstall(): void {
    for (const config of this.originals) {
      tf.unregisterKernel(config.kernelName, config.backendName);
      tf.registerKernel(config);
    }
    this.originals.length = 0;
  }

  /** Runs `body` with kernels charged to `context` (restored afterwards, so contexts nest). */
  within<T>(context: string, body: () => T): T {
    const saved = this.context;
    this.context = context;
    try {
      return body();
    } finally {
      this.context = saved;
    }
  }

  setContext(context: string): void {
    this.context = context;
  }

  reset(): void {
    this.totals.clear();
    this.nested.clear();
  }

  /** Total kernel milliseconds of a context (all contexts when omitted). */
  totalMs(context?: string): number {
    let sum = 0;
    for (const [name, kernels] of this.totals) {
      if (context !== undefined && name !== context) continue;
      for (const k of kernels.values()) sum += k.ms;
    }
    return sum;
  }

  private add(kernel: string, ms: number): void {
    const outer = this.running[0];
    if (outer !== undefined) {
      const key = `${outer} > ${kernel}`;
      const entry = this.nested.get(key) ?? { calls: 0, ms: 0 };
      entry.calls++;
      entry.ms += ms;
      this.nested.set(key, entry);
      return;
    }
    let byKernel = this.totals.get(this.context);
    if (!byKernel) this.totals.set(this.context, (byKernel = new Map()));
    const entry = byKernel.get(kernel);
    if (entry) {
      entry.calls++;
      entry.ms += ms;
    } else {
      byKernel.set(kernel, { calls: 1, ms });
    }
  }
}

/** The family a kernel belongs to in the profile tables. */
export function kernelFamily(kernel: string): string {
  switch (kernel) {
    case 'Conv2D':
    case 'FusedConv2D':
    case 'DepthwiseConv2dNative':
    case 'FusedDepthwiseConv2D':
      return 'conv forward';
    case 'Conv2DBackpropInput':
      return 'conv backprop input';
    case 'Conv2DBackpropFilter':
      return 'conv backprop filter';
    case 'MaxPool':
    case 'AvgPool':
    case 'MaxPoolGrad':
    case 'AvgPoolGrad':
      return 'pooling (forward and backward)';
    case 'BatchMatMul':
    case '_FusedMatMul':
      return 'dense (matmul)';
    case 'Mean':
    case 'Sum':
    case 'Max':
    case 'Min':
    case 'Prod':
    case 'ArgMax':
    case 'ArgMin':
      return 'reductions (BatchNorm moments, global pooling, loss, gradient sums)';
    default:
      if (kernel === 'FusedBatchNorm' || kernel.startsWith('MonoBatchNorm')) return 'BatchNorm kernels';
      return 'elementwise and other kernels';
  }
}
