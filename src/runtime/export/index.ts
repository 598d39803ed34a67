/**
 * `mono export`: a trained run written as a model other tools load: a TensorFlow.js
 * LayersModel (tfjs.ts) or an ONNX model (onnx.ts), of the whole network or of the
 * partitions up to one with its proxy head. No tensors are made: the weights go from
 * the checkpoint to the files.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFailure } from '../errors.js';
import { openRun, readRunWeights, runNormalization, type CheckpointChoice } from '../model/run-model.js';
import { exportGraph, type ExportGraph } from './graph.js';
import { encodeOnnx, ONNX_MODEL_FILE, onnxExpressible, toOnnxModel } from './onnx.js';
import { TFJS_MODEL_FILE, tfjsExpressible, toLayersModel } from './tfjs.js';

export type ExportFormat = 'tfjs' | 'onnx';

export interface ExportOptions {
  /** The run folder (absolute). */
  dir: string;
  format: ExportFormat;
  /** The folder to write into (absolute); made when missing. */
  out: string;
  /** Export partitions up to this one, with its proxy head. */
  partition?: string;
  checkpoint?: CheckpointChoice;
  /** mono's data cache (only for runs whose checkpoint predates recorded normalisation). */
  cacheDir?: string;
}

export interface ExportResult {
  format: ExportFormat;
  files: string[];
  bytes: number;
  /** Which checkpoint, the epoch it holds, and why the best was not used (when so). */
  checkpoint: { which: CheckpointChoice; file: string; epoch: string; note?: string };
  partition: string | null;
  head: string | null;
  /** Exported layers (mono's nodes, dropout left out) and distinct parameters (shared ones once). */
  nodes: number;
  parameters: number;
  input: number[];
  classes: number;
}

const FORMAT_NAMES: Record<ExportFormat, string> = { tfjs: 'TensorFlow.js', onnx: 'ONNX' };

function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

export async function exportRun(options: ExportOptions): Promise<ExportResult> {
  const run = await openRun(options.dir, options.checkpoint !== undefined ? { checkpoint: options.checkpoint } : {});
  const normalization = await runNormalization(run, options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {});
  const graph = exportGraph(run.ir, await readRunWeights(run), normalization, {
    ...(options.partition !== undefined ? { partition: options.partition } : {}),
    format: FORMAT_NAMES[options.format],
    expressible: options.format === 'tfjs' ? tfjsExpressible : onnxExpressible,
  });
  const version = packageVersion();
  const metadata = {
    producer: `mono ${version}`,
    plan: run.ir.plan,
    run: path.basename(run.dir),
    checkpoint: { file: path.basename(run.file), epoch: run.epoch },
    partition: graph.partition,
    head: graph.head ?? 'network',
    input: { shape: graph.inputShape, layout: 'NHWC, batch first', values: 'pixels scaled to [0, 1]; the run normalisation is the first layer' },
    normalization,
    output: { name: 'probabilities', classes: graph.classes },
  };
  const written: { name: string; bytes: Uint8Array }[] = [];
  if (options.format === 'tfjs') {
    const { modelJson, shards } = toLayersModel(graph, metadata);
    written.push({ name: TFJS_MODEL_FILE, bytes: Buffer.from(JSON.stringify(modelJson) + '\n') }, ...shards);
  } else {
    written.push({ name: ONNX_MODEL_FILE, bytes: await encodeOnnx(toOnnxModel(graph, metadata, version)) });
  }
  await fs.mkdir(options.out, { recursive: true }).catch((error: unknown) => {
    throw writeFailure(options.out, error);
  });
  const files: string[] = [];
  for (const file of written) files.push(await writeReplacing(path.join(options.out, file.name), file.bytes));
  return {
    format: options.format,
    files,
    bytes: written.reduce((sum, f) => sum + f.bytes.length, 0),
    checkpoint: { which: run.which, file: run.file, epoch: run.epoch, ...(run.note ? { note: run.note } : {}) },
    partition: graph.partition,
    head: graph.head,
    nodes: graph.nodes.length,
    parameters: countParameters(graph),
    input: graph.inputShape,
    classes: graph.classes,
  };
}

function countParameters(graph: ExportGraph): number {
  let count = 0;
  for (const name of graph.uses.keys()) count += graph.weights.get(name)!.values.length;
  return count;
}

/** Writes through a temporary file and a rename: an interrupted export leaves the old file or the new one. */
async function writeReplacing(file: string, bytes: Uint8Array): Promise<string> {
  const temporary = `${file}.tmp-${randomBytes(4).toString('hex')}`;
  try {
    await fs.writeFile(temporary, bytes);
    await fs.rename(temporary, file);
  } catch (error) {
    await fs.rm(temporary, { force: true }).catch(() => undefined);
    throw writeFailure(file, error);
  }
  return file;
}
