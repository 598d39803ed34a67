/**
 * Chooses and starts a TensorFlow.js backend. In order of preference: node-gpu
 * (@tensorflow/tfjs-node-gpu, an explicit install), node (@tensorflow/tfjs-node, an
 * optional dependency), webgpu (tfjs-backend-webgpu on Dawn, when a GPU adapter is
 * found: never a CPU implementation of Vulkan by default, it is slower than wasm),
 * wasm (with mono's training kernels), cpu. At most one of the two native TensorFlow
 * addons is ever loaded into a process; `mono doctor` probes them in child processes.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import { RuntimeFailure } from './errors.js';
import { cudaReport, silentCpuFallbackWarning, TFJS_NODE_GPU_CUDA, TFJS_NODE_GPU_CUDNN } from './gpu/cuda.js';
import { noGpuReason } from './gpu/vulkan.js';
import type { WebgpuAdapterInfo } from './kernels/webgpu/setup.js';

/** User-facing backend names, in order of preference. */
import { isBackendChoice, BACKEND_CHOICES, type BackendChoice } from './backend-choices.js';

export { BACKEND_CHOICES, type BackendChoice };
export type { WebgpuAdapterInfo };

export interface BackendProbe {
  name: BackendChoice;
  /** The npm package that provides it. */
  package: string;
  available: boolean;
  /** Why it is or is not available, in words. */
  detail: string;
  /** Something the user should know when it runs (tfjs-node-gpu without CUDA runs on the CPU). */
  warning?: string;
  /** webgpu: the adapter Dawn offers (also when it is not chosen by default, e.g. lavapipe). */
  adapter?: WebgpuAdapterInfo;
}

export interface ActiveBackend {
  name: BackendChoice;
  /** tfjs's own name of the backend (`tensorflow`, `webgpu`, `wasm`, `cpu`). */
  tfName: string;
  /** Threads its kernels use (1 on webgpu: the work runs on the adapter). */
  threads: number;
  /** What was tried before it (and it), in order. */
  probes: BackendProbe[];
  /** webgpu: the adapter it runs on (limits for the memory check). */
  adapter?: WebgpuAdapterInfo;
  /** What `mono run` prints before starting (e.g. tfjs-node-gpu without CUDA). */
  warnings: string[];
}

export class BackendError extends RuntimeFailure {
  override name = 'BackendError';
}

const PACKAGES: Record<BackendChoice, string> = {
  'node-gpu': '@tensorflow/tfjs-node-gpu',
  node: '@tensorflow/tfjs-node',
  webgpu: '@tensorflow/tfjs-backend-webgpu on webgpu (Dawn)',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

type NativeChoice = 'node-gpu' | 'node';

export { isBackendChoice };

const require = createRequire(import.meta.url);

/** The entry file of an installed package, found without loading it; undefined when absent. */
function installedEntry(pkg: string): string | undefined {
  try {
    return require.resolve(pkg);
  } catch {
    return undefined;
  }
}

function notInstalled(name: NativeChoice): string {
  return name === 'node-gpu'
    ? `not installed: an explicit install (npm install ${PACKAGES['node-gpu']}), which downloads libtensorflow for ` +
        `CUDA ${TFJS_NODE_GPU_CUDA} and cuDNN ${TFJS_NODE_GPU_CUDNN}`
    : `not installed: ${PACKAGES.node} is an optional dependency whose install script downloads libtensorflow; ` +
        'that download failed or was skipped (no network, or an unsupported platform)';
}

/** The native TensorFlow addon this process has loaded, if any: the other is never loaded beside it. */
let nativeLoaded: NativeChoice | undefined;

/** TensorFlow.js's gradients (through @tensorflow/tfjs), mono's overrides of a few, and mono's wasm kernels; idempotent. */
async function registerTrainingKernels(): Promise<void> {
  const kernels = await import('./kernels/index.js');
  kernels.registerWasmTrainingKernels();
}

function gpuWarning(name: NativeChoice): string | undefined {
  return name === 'node-gpu' ? silentCpuFallbackWarning(cudaReport()) : undefined;
}

async function tryNode(name: NativeChoice): Promise<BackendProbe> {
  const pkg = PACKAGES[name];
  const entry = installedEntry(pkg);
  if (entry === undefined) return { name, package: pkg, available: false, detail: notInstalled(name) };
  if (nativeLoaded !== undefined && nativeLoaded !== name) {
    return { name, package: pkg, available: false, detail: `not loaded: ${PACKAGES[nativeLoaded]} is already in this process, and two native TensorFlow addons never share one` };
  }
  try {
    await import(entry);
  } catch (error) {
    return { name, package: pkg, available: false, detail: `installed but failed to load: ${(error as Error).message.split('\n')[0]}` };
  } finally {
    // A half-loaded addon counts as loaded: its libtensorflow may be in the process.
    nativeLoaded = name;
  }
  // tfjs-node loads @tensorflow/tfjs, whose gradients (if it is another copy) would replace mono's overrides.
  await registerTrainingKernels();
  const ok = await tf.setBackend('tensorflow').catch(() => false);
  if (!ok) return { name, package: pkg, available: false, detail: 'loaded, but its `tensorflow` backend did not start' };
  const warning = gpuWarning(name);
  return {
    name, package: pkg, available: true,
    detail: name === 'node-gpu' ? 'libtensorflow with CUDA' : 'libtensorflow (native, multi-threaded)',
    ...(warning ? { warning } : {}),
  };
}

/**
 * Whether a native package loads and starts, in a child process (so this one never
 * loads it): for `mono doctor`, which describes both native backends.
 */
function probeNativeInChild(name: NativeChoice): Promise<BackendProbe> {
  const pkg = PACKAGES[name];
  const entry = installedEntry(pkg);
  if (entry === undefined) return Promise.resolve({ name, package: pkg, available: false, detail: notInstalled(name) });
  const script =
    `import(${JSON.stringify(entry)}).then(async (m) => { const tf = m.default ?? m; await tf.ready(); ` +
    `process.stdout.write(JSON.stringify({ backend: tf.getBackend() })); }, (e) => { process.stdout.write(JSON.stringify({ error: String(e && e.message || e).split('\\n')[0] })); })`;
  return new Promise((resolve) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 120_000, maxBuffer: 1 << 20 }, (error, stdout) => {
      let result: { backend?: string; error?: string } = {};
      try {
        result = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as typeof result;
      } catch {
        result = { error: error ? error.message.split('\n')[0]! : 'no answer from the probe process' };
      }
      if (result.error !== undefined) resolve({ name, package: pkg, available: false, detail: `installed but failed to load: ${result.error}` });
      else if (result.backend !== 'tensorflow') resolve({ name, package: pkg, available: false, detail: `loaded, but its \`tensorflow\` backend did not start (got ${result.backend})` });
      else {
        const warning = gpuWarning(name);
        resolve({ name, package: pkg, available: true, detail: name === 'node-gpu' ? 'libtensorflow with CUDA (probed in a child process)' : 'libtensorflow (native, multi-threaded; probed in a child process)', ...(warning ? { warning } : {}) });
      }
    });
  });
}

function describeAdapter(adapter: WebgpuAdapterInfo): string {
  const kind = adapter.cpu ? 'a CPU implementation of Vulkan' : 'a GPU';
  return `${adapter.name} (${adapter.vendor}; ${kind})`;
}

/** The webgpu probe: the adapter, and whether it would be chosen (`allowCpu`: it was asked for by name). */
async function tryWebgpu(options: { allowCpu: boolean; start: boolean }): Promise<BackendProbe> {
  const pkg = PACKAGES.webgpu;
  const noGpu = options.allowCpu ? undefined : noGpuReason();
  if (noGpu !== undefined && options.start) return { name: 'webgpu', package: pkg, available: false, detail: noGpu };
  const setup = await import('./kernels/webgpu/setup.js');
  const probe = await setup.probeWebgpuAdapter();
  if (!probe.found) return { name: 'webgpu', package: pkg, available: false, detail: probe.reason };
  const adapter = probe.adapter;
  if (adapter.cpu && !options.allowCpu) {
    return { name: 'webgpu', package: pkg, available: false, adapter, detail: `only ${describeAdapter(adapter)}: slower than wasm, so never chosen by default (--backend webgpu uses it)` };
  }
  if (options.start) {
    try {
      await setup.initWebgpuBackend({ allowCpu: options.allowCpu });
    } catch (error) {
      return { name: 'webgpu', package: pkg, available: false, adapter, detail: (error as Error).message };
    }
  }
  const slow = adapter.cpu ? '; slower than wasm: a correctness path, not a speed path' : '';
  return { name: 'webgpu', package: pkg, available: true, adapter, detail: `${describeAdapter(adapter)}, with mono's webgpu kernels${slow}` };
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

/**
 * Tries to make `name` the active tfjs backend. `forced`: asked for by name (a CPU
 * Vulkan adapter is then accepted for webgpu).
 */
export function probeBackend(name: BackendChoice, forced = true): Promise<BackendProbe> {
  switch (name) {
    case 'node-gpu':
    case 'node':
      return tryNode(name);
    case 'webgpu':
      return tryWebgpu({ allowCpu: forced, start: true });
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

async function activated(name: BackendChoice, probes: BackendProbe[]): Promise<ActiveBackend> {
  const probe = probes[probes.length - 1]!;
  return {
    name,
    tfName: tf.getBackend(),
    threads: await threadsOf(name),
    probes,
    ...(probe.adapter ? { adapter: probe.adapter } : {}),
    warnings: probe.warning ? [probe.warning] : [],
  };
}

/**
 * Makes a backend active: `force` names one (an error when unknown or unavailable),
 * otherwise the first available of node-gpu, node, webgpu (a GPU adapter only), wasm, cpu.
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
    const probe = await probeBackend(name, force !== undefined);
    probes.push(probe);
    if (probe.available) return activated(name, probes);
  }
  const last = probes[probes.length - 1]!;
  throw new BackendError(`backend ${last.name} is not available: ${last.detail}`);
}

/**
 * Every backend, available or not and why (for `mono doctor`), without ever loading
 * a native addon here (they are probed in child processes); then the one `mono run`
 * would choose is made active (loading that one native addon, if it is one).
 */
export async function probeAllBackends(): Promise<{ probes: BackendProbe[]; chosen: ActiveBackend | null }> {
  tf.env().set('PROD', true);
  await registerTrainingKernels();
  const probes: BackendProbe[] = [];
  for (const name of BACKEND_CHOICES) {
    if (name === 'node-gpu' || name === 'node') probes.push(await probeNativeInChild(name));
    else if (name === 'webgpu') probes.push(await tryWebgpu({ allowCpu: false, start: false }));
    else probes.push(await probeBackend(name, false));
  }
  const chosenName = probes.find((p) => p.available)?.name;
  if (chosenName === undefined) return { probes, chosen: null };
  const started = await probeBackend(chosenName, false);
  if (!started.available) return { probes, chosen: null };
  return { probes, chosen: await activated(chosenName, [started]) };
}
