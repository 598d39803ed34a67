/**
 * What `@tensorflow/tfjs-node-gpu` 4.x needs to run on a GPU, and whether this machine
 * has it, without loading the package. Its install downloads libtensorflow 2.9.1
 * (scripts/deps-constants.js of the package), built against CUDA 11.2 and cuDNN 8.1
 * (tfjs-node's README: CUDA Toolkit 11.2, cuDNN SDK 8.1.0, NVIDIA driver > 450.x).
 * libtensorflow opens the CUDA libraries when it starts; when one is missing it
 * logs a line and carries on with its CPU kernels, so a GPU run silently becomes a
 * CPU run. mono looks for them first and says so.
 */
import { findOnPath, findSharedLibrary, nvidiaDriverVersion, realHost, type Host } from './host.js';

export const TFJS_NODE_GPU_CUDA = '11.2';
export const TFJS_NODE_GPU_CUDNN = '8.1';

/** The shared libraries libtensorflow 2.9 opens for the GPU, by soname, and what provides each. */
export const CUDA_LIBRARIES: readonly { soname: string; from: string }[] = [
  { soname: 'libcudart.so.11.0', from: `the CUDA ${TFJS_NODE_GPU_CUDA} runtime` },
  { soname: 'libcublas.so.11', from: `cuBLAS (CUDA ${TFJS_NODE_GPU_CUDA})` },
  { soname: 'libcublasLt.so.11', from: `cuBLAS (CUDA ${TFJS_NODE_GPU_CUDA})` },
  { soname: 'libcufft.so.10', from: `cuFFT (CUDA ${TFJS_NODE_GPU_CUDA})` },
  { soname: 'libcurand.so.10', from: `cuRAND (CUDA ${TFJS_NODE_GPU_CUDA})` },
  { soname: 'libcusolver.so.11', from: `cuSOLVER (CUDA ${TFJS_NODE_GPU_CUDA})` },
  { soname: 'libcusparse.so.11', from: `cuSPARSE (CUDA ${TFJS_NODE_GPU_CUDA})` },
  { soname: 'libcudnn.so.8', from: `cuDNN ${TFJS_NODE_GPU_CUDNN}` },
];

export interface CudaReport {
  /** The NVIDIA kernel driver's version, or null without one. */
  driver: string | null;
  /** nvidia-smi's path, or null when it is not on PATH. */
  nvidiaSmi: string | null;
  libraries: { soname: string; from: string; path: string | null }[];
  /** True when the driver and every library are there. */
  ready: boolean;
  /** One line per missing piece; empty when ready. */
  missing: string[];
}

/** The driver and CUDA libraries tfjs-node-gpu 4.x needs, as this machine has them. */
export function cudaReport(host: Host = realHost): CudaReport {
  const driver = nvidiaDriverVersion(host) ?? null;
  const libraries = CUDA_LIBRARIES.map((lib) => ({ ...lib, path: findSharedLibrary(lib.soname, host) ?? null }));
  const missing: string[] = [];
  if (driver === null) missing.push('no NVIDIA driver (/proc/driver/nvidia/version is absent)');
  const absent = libraries.filter((lib) => lib.path === null);
  if (absent.length > 0) {
    missing.push(
      `not found by the dynamic linker (ldconfig -p, LD_LIBRARY_PATH, /usr/local/cuda/lib64): ` +
        absent.map((lib) => `${lib.soname} (${lib.from})`).join(', '),
    );
  }
  return { driver, nvidiaSmi: findOnPath('nvidia-smi', host) ?? null, libraries, ready: missing.length === 0, missing };
}

/** The warning for a machine where tfjs-node-gpu would run on the CPU without saying so. */
export function silentCpuFallbackWarning(report: CudaReport): string | undefined {
  if (report.ready) return undefined;
  return (
    `tfjs-node-gpu needs CUDA ${TFJS_NODE_GPU_CUDA} and cuDNN ${TFJS_NODE_GPU_CUDNN} with an NVIDIA driver, and falls back ` +
    `to the CPU without an error when they are missing: ${report.missing.join('; ')}`
  );
}
