// Starts tfjs's threaded-SIMD wasm binary under Node. tfjs 4.22 never does:
// its WASM_HAS_MULTITHREAD_SUPPORT flag is false under Node, its pthread worker
// script is handed to emscripten as a browser Blob URL (Node's Worker cannot
// load those), and its C++ caps the thread pool at os.cpus().length / 2 (one
// thread on a 2-core machine). Here the same emscripten module and binary are
// started directly: the worker script is written to a file, the core count the
// binary sees is raised to 2 * threads, and the pool's threads are unref'd so
// they never keep the process alive.
import { BackendWasm, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

/** emscripten's compiled-in pool of pthread workers (PTHREAD_POOL_SIZE). */
export const MAX_WASM_THREADS = 8;

const THREADED_JS = 'tfjs-backend-wasm-threaded-simd.js';
const THREADED_WASM = 'tfjs-backend-wasm-threaded-simd.wasm';
const WORKER_JS = 'tfjs-backend-wasm-threaded-simd.worker.js';

interface NodeWorker { unref(): void }

/** The parts of the emscripten module this file and BackendWasm use. */
interface ThreadedModule {
  cwrap(name: string, returnType: string | null, argTypes: string[]): (...args: number[]) => number;
  PThread: { runningWorkers: NodeWorker[]; terminateAllThreads(): void };
  tfjs?: unknown;
}

interface EmscriptenImports { env: Record<string, unknown>; [module: string]: unknown }

/** WebAssembly's JS API, typed here: the project's TS lib has no DOM types. */
interface WasmJsApi {
  instantiate(binary: Uint8Array, imports: object): Promise<{ instance: object; module: object }>;
}
const webAssembly = (globalThis as unknown as { WebAssembly: WasmJsApi }).WebAssembly;

interface FactoryConfig {
  locateFile(file: string, prefix: string): string;
  instantiateWasm(imports: EmscriptenImports, receive: (instance: object, module: object) => void): object;
  onAbort(reason: unknown): void;
}

type ThreadedFactory = (config: FactoryConfig) => Promise<ThreadedModule>;

const require = createRequire(import.meta.url);

function packageFolders(): { dist: string; wasmOut: string } {
  const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  return { dist, wasmOut: path.join(dist, '..', 'wasm-out') };
}

/**
 * The package ships the pthread worker only as a JS string export; emscripten's
 * Node path needs a file. Written once per content to the temp folder, atomically.
 */
function workerScriptFile(wasmOut: string): string {
  const exported = require(path.join(wasmOut, WORKER_JS)) as { wasmWorkerContents: string };
  // The string holds "\n" escapes that the template literal turned into newlines
  // inside string literals; put them back (tfjs does the same for its Blob).
  const source = exported.wasmWorkerContents.replace(/\n/g, '\\n');
  const digest = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const file = path.join(os.tmpdir(), `mono-tfjs-wasm-worker-${digest}.cjs`);
  if (!fs.existsSync(file)) {
    const partial = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(partial, source);
    fs.renameSync(partial, file);
  }
  return file;
}

/** The cwrapped entry points BackendWasm expects on `module.tfjs`. */
function attachTfjsApi(module: ThreadedModule): void {
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
}

/**
 * Calls `body` while the global `Worker` that emscripten assigns and then
 * constructs its 8 pool workers with (all synchronously, in the factory call)
 * starts them with no Node options: by default a worker inherits the parent's,
 * and some (--input-type, as in `node --input-type=module -e`) make it crash.
 */
function withPlainWorkers<T>(body: () => T): T {
  const key = 'Worker';
  const saved = Object.getOwnPropertyDescriptor(globalThis, key);
  class PlainWorker extends Worker {
    constructor(file: string) {
      super(file, { execArgv: [] });
    }
  }
  Object.defineProperty(globalThis, key, {
    configurable: true,
    get: () => PlainWorker,
    set: () => { /* emscripten assigns Node's Worker here; keep PlainWorker */ },
  });
  try {
    return body();
  } finally {
    if (saved === undefined) Reflect.deleteProperty(globalThis, key);
    else Object.defineProperty(globalThis, key, saved);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A BackendWasm on the threaded-SIMD binary with `threads` XNNPACK threads
 * (the calling thread counts as one). Rejects if the module fails to start.
 */
export async function startThreadedWasmBackend(threads: number, timeoutMs = 30_000): Promise<BackendWasm> {
  const { dist, wasmOut } = packageFolders();
  const factory = require(path.join(wasmOut, THREADED_JS)) as ThreadedFactory;
  const workerFile = workerScriptFile(wasmOut);
  const binary = fs.readFileSync(path.join(dist, THREADED_WASM));
  let aborted: ((reason: Error) => void) | undefined;
  const abort = new Promise<never>((_resolve, reject) => { aborted = reject; });
  const module = await withTimeout(Promise.race([abort, withPlainWorkers(() => factory({
    locateFile: (file, prefix) => (file.endsWith('.worker.js') ? workerFile : prefix + file),
    instantiateWasm: (imports, receive) => {
      // The binary sizes its pool from this import, halved; report enough cores.
      const env = { ...imports.env, emscripten_num_logical_cores: () => 2 * threads };
      webAssembly.instantiate(binary, { ...imports, env })
        .then(({ instance, module: compiled }) => receive(instance, compiled))
        .catch((e: unknown) => aborted?.(e instanceof Error ? e : new Error(String(e))));
      return {};
    },
    onAbort: (reason) => aborted?.(new Error(`threaded wasm aborted: ${String(reason)}`)),
  }))]), timeoutMs, 'starting the threaded wasm module');
  attachTfjsApi(module);
  setThreadsCount(threads);
  const backend = new BackendWasm(module as unknown as ConstructorParameters<typeof BackendWasm>[0]);
  // The pool's threads wait for work forever; unref'd, they no longer hold the
  // process open (work is synchronous, so none is in flight when Node exits).
  for (const worker of module.PThread.runningWorkers) worker.unref();
  return backend;
}
