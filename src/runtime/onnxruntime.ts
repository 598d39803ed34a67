// onnxruntime's CPU kernels (MLAS: AVX2/AVX-512 GEMMs and direct convolutions) inside
// mono's wasm runs: WebAssembly SIMD is 128 bits wide, so tfjs-backend-wasm's XNNPACK
// runs convolutions at a fraction of what the CPU can do (docs/kernels.md,
// "onnxruntime"). Two users: the Conv2D kernel (kernels/conv2d.ts) and the frozen
// partitions' forward pass (onnx-forward.ts).
//
// tfjs kernels are synchronous and onnxruntime-node's public `run()` returns a Promise
// (it only defers the native call), so this calls the package's native session
// directly: dist/binding.js of the exact version package.json pins (a test checks the
// shape of that API). MONO_ONNXRUNTIME=off keeps everything on tfjs (the benchmarks'
// "before", and a way out).
import { createRequire } from 'node:module';

interface NativeSession {
  loadModel(buffer: ArrayBufferLike, offset: number, length: number, options: object): void;
  run(feeds: Record<string, unknown>, fetches: Record<string, unknown>, options: object): Record<string, unknown>;
  dispose(): void;
}

interface OrtBinding {
  binding: { InferenceSession: new () => NativeSession };
  initOrt(): void;
}

type OrtTensor = new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown;

interface Loaded {
  binding: OrtBinding['binding'];
  Tensor: OrtTensor;
}

export const ONNXRUNTIME_SETTING = 'MONO_ONNXRUNTIME';

export interface OnnxruntimeStatus {
  active: boolean;
  /** What runs and why, for `mono doctor`. */
  detail: string;
}

let loaded: Loaded | null | undefined;
let status: OnnxruntimeStatus = { active: false, detail: 'not loaded yet' };

function load(env: NodeJS.ProcessEnv): Loaded | null {
  const setting = env[ONNXRUNTIME_SETTING];
  if (setting === 'off') {
    status = { active: false, detail: `off (${ONNXRUNTIME_SETTING}=off): tfjs-backend-wasm runs everything` };
    return null;
  }
  if (setting !== undefined && setting !== '' && setting !== 'on') {
    status = { active: false, detail: `off: ${ONNXRUNTIME_SETTING}=${setting} is neither on nor off` };
    return null;
  }
  try {
    const require = createRequire(import.meta.url);
    const version = (require('onnxruntime-node/package.json') as { version: string }).version;
    const ort = require('onnxruntime-node/dist/binding.js') as OrtBinding;
    const { Tensor } = require('onnxruntime-node') as { Tensor: OrtTensor };
    if (typeof ort.binding?.InferenceSession !== 'function' || typeof ort.initOrt !== 'function') {
      throw new Error(`onnxruntime-node ${version} has no native InferenceSession where 1.30 had it`);
    }
    ort.initOrt();
    status = { active: true, detail: `on, onnxruntime-node ${version} (CPU); MONO_ONNXRUNTIME=off turns it off` };
    return { binding: ort.binding, Tensor };
  } catch (e) {
    status = { active: false, detail: `off: onnxruntime-node did not load (${(e as Error).message.split('\n')[0]})` };
    return null;
  }
}

function engine(): Loaded | null {
  if (loaded === undefined) loaded = load(process.env);
  return loaded;
}

/** Whether onnxruntime runs parts of wasm runs, and why (loads it on first call). */
export function onnxruntimeStatus(): OnnxruntimeStatus {
  engine();
  return { ...status };
}

/** Whether onnxruntime runs (a boolean for the kernels' hot path; loads it on first call). */
export function onnxruntimeActive(): boolean {
  return engine() !== null;
}

/** For tests and benchmarks: forget the engine, so that the next use reads MONO_ONNXRUNTIME again. */
export function resetOnnxruntime(): void {
  loaded = undefined;
  status = { active: false, detail: 'not loaded yet' };
}

/** A float32 tensor for a session: its data and dims. */
export interface Float32Value {
  data: Float32Array;
  dims: readonly number[];
}

const isShared = (view: Float32Array) => typeof SharedArrayBuffer !== 'undefined' && view.buffer instanceof SharedArrayBuffer;

/**
 * One model loaded into onnxruntime. Views on a SharedArrayBuffer (the threaded wasm
 * heap), which the binding refuses, go through staging arrays of the session's own,
 * grown as needed and reused: their memory is touched once (new memory is slow on some
 * VMs; docs/runtime.md, "Checkpoints").
 */
export class OnnxSession {
  private readonly staging = new Map<string, Float32Array>();

  private constructor(private readonly ort: Loaded, private readonly session: NativeSession) {}

  /** The session of `model` (ONNX bytes) on `threads` threads, or null when onnxruntime is off. */
  static create(model: Uint8Array, threads: number): OnnxSession | null {
    const ort = engine();
    if (ort === null) return null;
    const session = new ort.binding.InferenceSession();
    session.loadModel(model.buffer, model.byteOffset, model.byteLength, {
      intraOpNumThreads: Math.max(1, threads),
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      // Idle pool threads that spin would take the cores from wasm's own threads.
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    });
    return new OnnxSession(ort, session);
  }

  /** Runs the model; each output is written into the array given for it. */
  run(inputs: Record<string, Float32Value>, outputs: Record<string, Float32Value>): void {
    const tensor = (name: string, value: Float32Value, copyIn: boolean) =>
      new this.ort.Tensor('float32', isShared(value.data) ? this.stage(name, value.data, copyIn) : value.data, value.dims);
    const feeds = Object.fromEntries(Object.entries(inputs).map(([name, v]) => [name, tensor(name, v, true)]));
    const fetches = Object.fromEntries(Object.entries(outputs).map(([name, v]) => [name, tensor(name, v, false)]));
    this.session.run(feeds, fetches, {});
    for (const [name, v] of Object.entries(outputs)) if (isShared(v.data)) v.data.set(this.staging.get(name)!.subarray(0, v.data.length));
  }

  /**
   * Frees the session's native memory (its constant weights, its arena) now: V8 does not
   * see that memory, so waiting for the garbage collector could hold one model per
   * evaluation (a session per epoch) for a long time.
   */
  dispose(): void {
    this.session.dispose();
    this.staging.clear();
  }

  private stage(name: string, view: Float32Array, copyIn: boolean): Float32Array {
    let buffer = this.staging.get(name);
    if (buffer === undefined || buffer.length < view.length) {
      buffer = new Float32Array(view.length);
      this.staging.set(name, buffer);
    }
    const part = buffer.subarray(0, view.length);
    if (copyIn) part.set(view);
    return part;
  }
}
