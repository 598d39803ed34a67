import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import os from 'node:os';
import { RuntimeFailure } from './errors.js';

/** User-facing backend names, in order of preference. */
import { BACKEND_CHOICES, type BackendChoice } from './backend-choices.js';

export { BACKEND_CHOICES, type BackendChoice };

export interface BackendProbe {
  name: BackendChoice;
  /** The npm package that provides it. */
  package: string;
  available: boolean;
  /** Why it is or is not available, in words. */
  detail: string;
}

export interface ActiveBackend {
  name: BackendChoice;
  /** tfjs's own name of the backend (`tensorflow`, `wasm`, `cpu`). */
  tfName: string;
  /** Threads its kernels use. */
  threads: number;
  /** What was tried before it (and it), in order. */
  probes: BackendProbe[];
}

export class BackendError extends RuntimeFailure {
  override name = 'BackendError';
}

const PACKAGES: Record<BackendChoice, string> = {
  'node-gpu': '@tensorflow/tfjs-node-gpu',
  node: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

export function isBackendChoice(name: string): name is BackendChoice {
  return (BACKEND_CHOICES as readonly string[]).includes(name);
}

function describeImportError(pkg: string, error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
    return `not installed: ${pkg} is an optional dependency whose install script downloads libtensorflow; that download failed or was skipped (no network, or an unsupported platform)`;
  }
  return `installed but failed to load: ${(error as Error).message.split('\n')[0]}`;
}

/** TensorFlow.js's gradients (through @tensorflow/tfjs), mono's overrides of a few, and mono's wasm kernels; idempotent. */
async function registerTrainingKernels(): Promise<void> {
  const kernels = await import('./kernels/index.js');
  kernels.registerWasmTrainingKernels();
}

async function tryNode(name: 'node-gpu' | 'node'): Promise<BackendProbe> {
  const pkg = PACKAGES[name];
  try {
    // A variable specifier: these packages are optional and usually absent.
    const specifier: string = pkg;
    await import(specifier);
  } catch (error) {
    return { name, package: pkg, available: false, detail: describeImportError(pkg, error) };
  }
  // tfjs-node loads @tensorflow/tfjs, whose gradients (if it is another copy) would replace mono's overrides.
  await registerTrainingKernels();
  const ok = await tf.setBackend('tensorflow').catch(() => false);
  if (!ok) return { name, package: pkg, available: false, detail: 'loaded, but its `tensorflow` backend did not start' };
  return { name, package: pkg, available: true, detail: name === 'node-gpu' ? 'libtensorflow with CUDA' : 'libtensorflow (native, multi-threaded)' };
}

async function tryWasm(): Promise<BackendProbe> {
  const pkg = PACKAGES.wasm;
  try {
    const { initWasmBackend } = await import('./kernels/wasm-setup.js');
    await initWasmBackend();
    return { name: 'wasm', package: pkg, available: true, detail: 'WebAssembly with SIMD, with mono training kernels' };
  } catch (error) {
    return { name: 'wasm', package: pkg, available: false, detail: `failed to start: ${(error as Error).message.split('\n')[0]}` };
  }
}

async function tryCpu(): Promise<BackendProbe> {
  const ok = await tf.setBackend('cpu');
  return { name: 'cpu', package: PACKAGES.cpu, available: ok, detail: ok ? 'pure JavaScript (slow; always there)' : 'did not start' };
}

/** Tries to make `name` the active tfjs backend. */
export function probeBackend(name: BackendChoice): Promise<BackendProbe> {
  switch (name) {
    case 'node-gpu':
    case 'node':
      return tryNode(name);
    case 'wasm':
      return tryWasm();
    case 'cpu':
      return tryCpu();
  }
}

async function threadsOf(name: BackendChoice): Promise<number> {
  if (name === 'node' || name === 'node-gpu') return os.availableParallelism();
  if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    return wasm.getThreadsCount();
  }
  return 1;
}

/**
 * Makes a backend active: `force` names one (an error when unknown or unavailable),
 * otherwise the first available of node-gpu, node, wasm, cpu.
 */
export async function selectBackend(options: { force?: string } = {}): Promise<ActiveBackend> {
  // Production mode: no debug checks, and no "install tfjs-node" banner from the cpu backend.
  tf.env().set('PROD', true);
  await registerTrainingKernels();
  const force = options.force;
  if (force !== undefined && !isBackendChoice(force)) {
    throw new BackendError(`unknown backend '${force}'; choose one of: ${BACKEND_CHOICES.join(', ')}`);
  }
  const candidates: readonly BackendChoice[] = force ? [force] : BACKEND_CHOICES;
  const probes: BackendProbe[] = [];
  for (const name of candidates) {
    const probe = await probeBackend(name);
    probes.push(probe);
    if (probe.available) return { name, tfName: tf.getBackend(), threads: await threadsOf(name), probes };
  }
  const last = probes[probes.length - 1]!;
  throw new BackendError(`backend ${last.name} is not available: ${last.detail}`);
}

/** Every backend, available or not and why (for `mono doctor`); leaves the preferred one active. */
export async function probeAllBackends(): Promise<{ probes: BackendProbe[]; chosen: BackendChoice | null; threads: number }> {
  tf.env().set('PROD', true);
  await registerTrainingKernels();
  const probes: BackendProbe[] = [];
  for (const name of BACKEND_CHOICES) probes.push(await probeBackend(name));
  const chosen = probes.find((p) => p.available)?.name ?? null;
  if (chosen) await probeBackend(chosen);
  return { probes, chosen, threads: chosen ? await threadsOf(chosen) : 0 };
}
