// Starts tfjs's webgpu backend in Node on Dawn (the optional npm package `webgpu`,
// whose prebuilt dawn.node runs WebGPU on any Vulkan device: a GPU through its
// driver, a CPU through Mesa's lavapipe). tfjs-backend-webgpu registers its backend
// only if navigator.gpu exists when it is imported, and then asks for an adapter of
// its own; mono asks Dawn for the adapter once, describes it (for `mono doctor` and
// the memory check), and registers the backend itself on that adapter.
import * as tf from '@tensorflow/tfjs-core';
import { RuntimeFailure } from '../../errors.js';
import { explainNoAdapter, isCpuAdapter, mesaVersionOfLibrary, vulkanReport } from '../../gpu/vulkan.js';

const WEBGPU = 'webgpu';
const DAWN_PACKAGE = 'webgpu';

/** What `mono doctor` shows of an adapter, and what the memory check holds a run against. */
export interface WebgpuAdapterInfo {
  /** Dawn's description, e.g. `llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6)` or `NVIDIA H100 80GB HBM3`. */
  name: string;
  vendor: string;
  architecture: string;
  /** A CPU implementation of Vulkan (lavapipe, SwiftShader): correct, and slower than wasm. */
  cpu: boolean;
  limits: {
    /** The largest buffer, i.e. the largest tensor, in bytes. */
    maxBufferSize: number;
    /** The largest buffer one kernel may bind: the largest tensor a kernel can read or write. */
    maxStorageBufferBindingSize: number;
    maxComputeWorkgroupStorageSize: number;
    maxComputeWorkgroupsPerDimension: number;
  };
}

export type WebgpuProbe = { found: true; adapter: WebgpuAdapterInfo } | { found: false; reason: string };

/** Dawn's adapter info: newer than the @webgpu/types that tfjs-backend-webgpu 4.22 brings. */
interface DawnAdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
type DawnAdapter = GPUAdapter & { info: DawnAdapterInfo & GPUAdapterInfo };

interface Dawn {
  gpu: GPU;
  adapter: DawnAdapter | null;
}

let dawn: Promise<Dawn | { failed: string }> | undefined;
let started: WebgpuAdapterInfo | undefined;

/** Loads dawn.node and asks for the high-performance adapter, once per process. */
function loadDawn(): Promise<Dawn | { failed: string }> {
  dawn ??= (async () => {
    let module: { create(flags: string[]): GPU; globals: Record<string, unknown> };
    try {
      // A variable specifier: the package is optional.
      const specifier: string = DAWN_PACKAGE;
      module = (await import(specifier)) as typeof module;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
        return { failed: `not installed: the optional dependency ${DAWN_PACKAGE} (Dawn's dawn.node) is absent; npm install ${DAWN_PACKAGE}` };
      }
      return { failed: `${DAWN_PACKAGE} is installed but dawn.node failed to load: ${(error as Error).message.split('\n')[0]}` };
    }
    // tfjs-backend-webgpu uses the WebGPU constants (GPUBufferUsage, ...) as globals.
    for (const [name, value] of Object.entries(module.globals)) {
      if (!(name in globalThis)) Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
    }
    const gpu = module.create([]);
    const adapter = (await gpu.requestAdapter({ powerPreference: 'high-performance' })) as DawnAdapter | null;
    return { gpu, adapter };
  })();
  return dawn;
}

function describe(adapter: DawnAdapter): WebgpuAdapterInfo {
  const info = adapter.info;
  const name = info.description || info.device || info.vendor || 'unnamed adapter';
  const cpu = isCpuAdapter(name, info);
  const limits = adapter.limits;
  return {
    name,
    vendor: info.vendor || 'unknown',
    architecture: info.architecture || '',
    cpu,
    limits: {
      maxBufferSize: limits.maxBufferSize,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
    },
  };
}

/** The adapter Dawn offers, or exactly why there is none. Loads dawn.node; starts no device. */
export async function probeWebgpuAdapter(): Promise<WebgpuProbe> {
  const loaded = await loadDawn();
  if ('failed' in loaded) return { found: false, reason: loaded.failed };
  if (loaded.adapter === null) {
    return { found: false, reason: explainNoAdapter(vulkanReport(), (library) => mesaVersionOfLibrary(library)) };
  }
  return { found: true, adapter: describe(loaded.adapter) };
}

/** The adapter the webgpu backend runs on, once started; undefined before. */
export function webgpuAdapterInfo(): WebgpuAdapterInfo | undefined {
  return started;
}

/** Registers tfjs's WebGPUBackend class as 'webgpu', on Dawn's adapter, in place of any earlier registration. */
async function registerBackendOn(gpu: GPU, adapter: DawnAdapter): Promise<void> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav === undefined) Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  else if (nav.gpu === undefined) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true, writable: true });
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  if (tf.engine().registryFactory[WEBGPU] !== undefined) tf.removeBackend(WEBGPU);
  tf.registerBackend(WEBGPU, async () => {
    const limits = adapter.limits;
    const device = await adapter.requestDevice({
      requiredLimits: {
        maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
        maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
        maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
        maxBufferSize: limits.maxBufferSize,
        maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
        maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      },
    });
    const backend = new WebGPUBackend(device, adapter.info);
    reportDeviceErrors(device, backend);
    return backend;
  }, 3);
}

/** A validation error, an out-of-memory or a lost device on the webgpu backend. */
export class WebgpuDeviceError extends RuntimeFailure {
  override name = 'WebgpuDeviceError';
}

/**
 * WebGPU reports a failed kernel (an invalid shader, a buffer over a limit, no memory)
 * as an event, not an exception: its outputs are then zeros. The first such error is
 * kept and thrown by the next read, so a step whose loss is read fails, naming it.
 */
function reportDeviceErrors(device: GPUDevice, backend: { read(dataId: object): Promise<unknown> }): void {
  let failure: string | undefined;
  device.addEventListener('uncapturederror', (event) => {
    const error = (event as GPUUncapturedErrorEvent).error;
    failure ??= `${error.constructor.name}: ${error.message.split('\n')[0]}`;
  });
  void device.lost.then((info) => {
    failure ??= `the device was lost (${info.reason}): ${info.message}`;
  });
  const read = backend.read.bind(backend);
  backend.read = async (dataId) => {
    const values = await read(dataId);
    if (failure !== undefined) throw new WebgpuDeviceError(`the webgpu backend failed: ${failure}`);
    return values;
  };
}

export class WebgpuUnavailable extends Error {}

/**
 * Makes 'webgpu' the active backend with mono's webgpu kernels. A CPU adapter
 * (lavapipe) is refused unless `allowCpu` (`--backend webgpu` asks for it by name).
 */
export async function initWebgpuBackend(options: { allowCpu: boolean }): Promise<WebgpuAdapterInfo> {
  const loaded = await loadDawn();
  const probe = await probeWebgpuAdapter();
  if (!probe.found || 'failed' in loaded || loaded.adapter === null) throw new WebgpuUnavailable(probe.found ? 'no adapter' : probe.reason);
  if (probe.adapter.cpu && !options.allowCpu) {
    throw new WebgpuUnavailable(`only a CPU implementation of Vulkan (${probe.adapter.name}): slower than wasm, so not chosen by default; --backend webgpu uses it`);
  }
  if (started === undefined) await registerBackendOn(loaded.gpu, loaded.adapter);
  const { registerWebgpuTrainingKernels } = await import('./index.js');
  registerWebgpuTrainingKernels();
  const ok = await tf.setBackend(WEBGPU).catch((error: unknown) => {
    throw new WebgpuUnavailable(`the webgpu backend failed to start on ${probe.adapter.name}: ${(error as Error).message.split('\n')[0]}`);
  });
  if (!ok) throw new WebgpuUnavailable(`the webgpu backend failed to start on ${probe.adapter.name}`);
  started = probe.adapter;
  return probe.adapter;
}
