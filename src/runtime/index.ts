/**
 * The runtime's one entry point: everything the CLI (src/cli/) uses of src/runtime/
 * comes from here (test/architecture/imports.test.ts checks it).
 *
 * Importing this module is light: it loads no TensorFlow.js, so `mono compile`, `check`,
 * `fmt` and `lsp` start without it. What it exports statically is the error classes,
 * types and helpers without tensors (run-folder files, progress lines, the data cache).
 * Each operation that needs TensorFlow.js (train, find the lr, evaluate, predict, the
 * backend probes) is an async function here that loads its modules with a dynamic
 * import() when called; `export` needs no tensors but loads protobufjs the same way.
 * docs/design-notes.md, "The runtime's entry point", says why it is one light module
 * rather than a second, heavy one.
 */
import type { IR, PhaseSpec } from '../ir/types.js';
import type { ActiveBackend, BackendProbe } from './backend.js';
import type { BackendChoice } from './backend-choices.js';
import type { KernelStatus } from './kernels/index.js';
import type { OnnxruntimeStatus } from './onnxruntime.js';
import type { BenchEntry } from './throughput-cache.js';
import type { ThroughputOptions } from './throughput.js';
import type { DownloadableName } from './data/cache.js';
import type { GetDataOptions, GetDataResult } from './data/get.js';
import type { FindLrOptions, FindLrOutcome } from './lr-find-run.js';
import type { TrainOptions, TrainOutcome } from './train-run.js';
import type { EvaluateOptions, RunEvaluation } from './model/evaluate.js';
import type { ExportOptions, ExportResult } from './export/index.js';
import type { PredictOptions, Prediction } from './model/predict.js';

// ------------------------------------------------------------------ light: errors, types, helpers

export { describeFailure, EXIT_ON_SIGNAL, RunInterrupted, RuntimeFailure, WriteFailure, writeFailure } from './errors.js';
export { BACKEND_CHOICES, isBackendChoice, type BackendChoice } from './backend-choices.js';
export { formatLrBoundsLine, ProgressReporter } from './progress.js';
export { dataCacheRoot } from './data/cache.js';
export { measuredThroughputs, readBenchCache, recordBench, throughputFor, type BenchCache, type BenchEntry } from './throughput-cache.js';
export { cudaReport, TFJS_NODE_GPU_CUDA, TFJS_NODE_GPU_CUDNN, type CudaReport } from './gpu/cuda.js';
export { DOWNLOADABLE, DOWNLOADABLE_NAMES, isDownloadable } from './data/downloadable.js';
export { defaultRunDir, PLAN_FILE, readRunInfo, readRunPlan, writeFileAtomically, type RunInfo } from './run-folder.js';
export { LR_FIND_FROM, LR_FIND_TO } from '../optim/lr-range.js';
/** Formats `mono export` writes (export/index.ts would load the writers: the list is here). */
export const EXPORT_FORMATS = ['tfjs', 'onnx'] as const;
export type { BatchProgress, EpochMetrics, LrBoundsEvent } from './trainer.js';
export type { TrainEvents, TrainOptions, TrainOutcome, TrainStart } from './train-run.js';
export type { CheckpointProgress } from './session.js';
export type { FindLrOptions, FindLrOutcome } from './lr-find-run.js';
export type { BackendProbe } from './backend.js';
export type { TransferProgress } from './data/download.js';
export type { CheckpointChoice, ClassScores, EvaluateOptions, HeadInformation, RunEvaluation, SplitChoice } from './model/evaluate.js';
export type { PredictOptions, Prediction, PredictionInput } from './model/predict.js';
export type { ExportFormat, ExportOptions, ExportResult } from './export/index.js';
export type { KernelStatus } from './kernels/index.js';
export type { ActiveBackend } from './backend.js';
export type { WebgpuAdapterInfo } from './kernels/webgpu/setup.js';
export type { ThroughputOptions } from './throughput.js';

// ------------------------------------------------------------------ heavy: loaded when called

/** Trains a compiled plan into a run folder, new or resumed (`mono run`); train-run.ts. */
export async function train(options: TrainOptions): Promise<TrainOutcome> {
  const { trainRun } = await import('./train-run.js');
  return trainRun(options);
}

/** Continues the run in `options.resume.dir` from its checkpoint (`mono run --resume`): train with `resume` set. */
export async function resume(options: TrainOptions & { resume: NonNullable<TrainOptions['resume']> }): Promise<TrainOutcome> {
  return train(options);
}

/** The LR range test of one phase (`mono lr-find`); lr-find-run.ts. */
export async function findLr(options: FindLrOptions): Promise<FindLrOutcome> {
  const { findLr: run } = await import('./lr-find-run.js');
  return run(options);
}

/**
 * The phase and bounds of a `mono lr-find --out DIR` summary (`mono run --lr-find DIR`);
 * throws the fs error when DIR has none, a RuntimeFailure when it is malformed.
 */
export async function readLrFindBounds(dir: string): Promise<{ file: string; phase: string; bounds: { min: number; max: number }; problem: string | null }> {
  const { readLrFindSummary } = await import('./lr-find.js');
  return readLrFindSummary(dir);
}

/** Refuses (RuntimeFailure) lr-find bounds whose sweep was unusable. */
export async function requireUsableLrFindBounds(found: { file: string; phase: string; problem: string | null }): Promise<void> {
  const { requireUsableLrFind } = await import('./lr-find.js');
  requireUsableLrFind(found);
}

/** A trained run measured on its test or hold-out split (`mono evaluate`); model/evaluate.ts. */
export async function evaluateRun(options: EvaluateOptions): Promise<RunEvaluation> {
  const { evaluateRun: run } = await import('./model/evaluate.js');
  return run(options);
}

/** A trained run's top classes for images and batches of examples (`mono predict`); model/predict.ts. */
export async function predict(options: PredictOptions): Promise<Prediction[]> {
  const { predictFiles } = await import('./model/predict.js');
  return predictFiles(options);
}

/**
 * A trained run written as a TensorFlow.js LayersModel or an ONNX model (`mono export`);
 * export/index.ts. It makes no tensors, so it loads no TensorFlow.js; protobufjs only for ONNX.
 */
export async function exportModel(options: ExportOptions): Promise<ExportResult> {
  const { exportRun } = await import('./export/index.js');
  return exportRun(options);
}

/** Every backend tried in order of preference, and the one chosen (`mono doctor`). */
export async function probeBackends(): Promise<{ probes: BackendProbe[]; chosen: ActiveBackend | null }> {
  const { probeAllBackends } = await import('./backend.js');
  return probeAllBackends();
}

/** Starts the named backend (`mono doctor --bench --backend NAME`). */
export async function startBackend(name: BackendChoice): Promise<ActiveBackend> {
  const { selectBackend } = await import('./backend.js');
  return selectBackend({ force: name });
}

/** Training throughput of one phase's step on the current backend (`mono doctor --bench`); throughput.ts. */
export async function benchThroughput(ir: IR, phase: PhaseSpec, options: ThroughputOptions): Promise<BenchEntry> {
  const { measureThroughput } = await import('./throughput.js');
  return measureThroughput(ir, phase, options);
}

/** Registers mono's webgpu kernels and says who supplies each kernel training needs there (`mono doctor`). */
export async function webgpuKernels(): Promise<KernelStatus[]> {
  const webgpu = await import('./kernels/webgpu/index.js');
  webgpu.registerWebgpuTrainingKernels();
  return webgpu.webgpuKernelReport();
}

/** Who supplies each kernel and gradient training needs on wasm (`mono doctor`). */
export async function wasmKernels(): Promise<KernelStatus[]> {
  const { wasmKernelReport } = await import('./kernels/index.js');
  return wasmKernelReport();
}

/** Whether onnxruntime runs the wide convolutions and inference passes of wasm runs, and why (`mono doctor`); onnxruntime.ts. */
export async function onnxruntimeReport(): Promise<OnnxruntimeStatus> {
  const { onnxruntimeStatus } = await import('./onnxruntime.js');
  return onnxruntimeStatus();
}

/** Downloads a data set into the data cache (`mono data get`); loads the tar reader when called. */
export async function getDataSet(name: DownloadableName, options: GetDataOptions): Promise<GetDataResult> {
  const { getDataSet: get } = await import('./data/get.js');
  return get(name, options);
}
