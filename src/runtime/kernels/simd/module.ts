// mono's WebAssembly SIMD kernels (wasm/batch-norm.ts, wasm/conv.ts, compiled by scripts/build-wasm.ts
// into binaries.ts), instantiated on tfjs-backend-wasm's own memory: a pointer is a byte
// offset into the heap where tfjs keeps its tensors, so a kernel reads and writes them in
// place. One instance per started wasm backend.
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { SIMD_WASM } from './binaries.js';

/** The exports of wasm/batch-norm.ts and wasm/conv.ts (pointers are byte offsets into tfjs's heap). */
export interface SimdKernels {
  moments(x: number, rows: number, channels: number, shift: number, sums: number, squares: number, blockSums: number, blockSquares: number): void;
  affine(x: number, rows: number, channels: number, scale: number, shift: number, relu: number, y: number): void;
  gradientSums(x: number, dy: number, rows: number, channels: number, mean: number, scale: number, shift: number, relu: number,
    sumDy: number, sumDyCentred: number, blockA: number, blockB: number): void;
  inputGradient(x: number, dy: number, rows: number, channels: number, scale: number, shift: number, relu: number,
    k1: number, k2: number, k0: number, dx: number): void;
  convFilterGradient(x: number, dy: number, dw: number, batch: number, inH: number, inW: number, inC: number,
    outH: number, outW: number, outC: number, fh: number, fw: number, sh: number, sw: number, padTop: number, padLeft: number): void;
  scatterPhase(src: number, dst: number, batch: number, rows: number, cols: number, channels: number,
    dstH: number, dstW: number, rh: number, rw: number, sh: number, sw: number): void;
  zeroFill(pointer: number, count: number): void;
  maxPoolGradient(x: number, dy: number, dx: number, batch: number, inH: number, inW: number, channels: number,
    outH: number, outW: number, fh: number, fw: number, sh: number, sw: number, padTop: number, padLeft: number): void;
}

/** The parts of tfjs's emscripten module used here. */
interface EmscriptenModule {
  /** The threaded binary's memory (imported by it, shared). */
  wasmMemory?: WasmMemory;
  /** The single-threaded binaries' exports, their memory among them. */
  asm?: { memory?: WasmMemory };
  _malloc(bytes: number): number;
  _free(pointer: number): void;
}

interface WasmMemory { buffer: ArrayBufferLike }

/** WebAssembly's JS API, typed here: the project's TS lib has no DOM types. */
interface WasmJsApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const webAssembly = (globalThis as unknown as { WebAssembly: WasmJsApi }).WebAssembly;

const instances = new WeakMap<BackendWasm, SimdKernels | null>();

function memoryOf(module: EmscriptenModule): WasmMemory | undefined {
  return module.wasmMemory ?? module.asm?.memory;
}

/**
 * The current buffer of this wasm backend's heap, or undefined when the emscripten
 * module does not show its memory. Take it again after anything that may grow the heap
 * (an allocation): growing detaches the buffer taken before.
 */
export function heapBuffer(backend: BackendWasm): ArrayBufferLike | undefined {
  return memoryOf(backend.wasm as unknown as EmscriptenModule)?.buffer;
}

/**
 * The kernels on this backend's memory, or null when they cannot run there (the
 * emscripten module does not show its memory): callers then fall back to tfjs ops.
 */
export function simdKernels(backend: BackendWasm): SimdKernels | null {
  const known = instances.get(backend);
  if (known !== undefined) return known;
  let kernels: SimdKernels | null = null;
  const memory = memoryOf(backend.wasm as unknown as EmscriptenModule);
  if (memory) {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const bytes = Buffer.from(shared ? SIMD_WASM.shared : SIMD_WASM.plain, 'base64');
    try {
      const instance = new webAssembly.Instance(new webAssembly.Module(bytes), { env: { memory } });
      kernels = instance.exports as unknown as SimdKernels;
    } catch {
      kernels = null;
    }
  }
  instances.set(backend, kernels);
  return kernels;
}

/**
 * Scratch space on tfjs's heap for the duration of `body`: `bytes` bytes at the pointer
 * it is given, freed afterwards. Views on the heap must be taken after the allocation
 * (growing the heap detaches older ones): `heap()` gives the current buffer.
 */
export function withScratch<T>(backend: BackendWasm, bytes: number, body: (pointer: number, heap: () => ArrayBufferLike) => T): T {
  const module = backend.wasm as unknown as EmscriptenModule;
  const pointer = module._malloc(bytes);
  if (pointer === 0) throw new Error(`mono kernels: the wasm heap has no room for ${bytes} bytes of scratch space`);
  try {
    return body(pointer, () => memoryOf(module)!.buffer);
  } finally {
    module._free(pointer);
  }
}
