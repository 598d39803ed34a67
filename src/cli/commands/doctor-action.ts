/** The work of `mono doctor`: which tfjs backends this machine can run, which one mono picks, and why. */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { compilePlan } from '../../compile.js';
import type { IR, PhaseSpec } from '../../ir/types.js';
import {
  BACKEND_CHOICES,
  benchThroughput,
  cudaReport,
  isBackendChoice,
  onnxruntimeReport,
  probeBackends,
  recordBench,
  startBackend,
  TFJS_NODE_GPU_CUDA,
  TFJS_NODE_GPU_CUDNN,
  wasmKernels as wasmKernelReport,
  webgpuKernels as webgpuKernelReport,
  type ActiveBackend,
  type BackendProbe,
  type BenchEntry,
  type CudaReport,
  type KernelStatus,
  type WebgpuAdapterInfo,
} from '../../runtime/index.js';
import { formatBytes } from '../../summary/units.js';
import { formatRate } from '../../summary/time.js';
import { parseCommandArgs } from '../args.js';
import { EXIT_OK, UsageError, type CommandIO } from '../command.js';
import { shownPath } from '../io.js';

const options = { json: { type: 'boolean' }, bench: { type: 'boolean' }, backend: { type: 'string' } } as const;

/** The bench net: monolithnet at its smallest, end to end (what bench/train-step.ts times too). */
const BENCH_PLAN = fileURLToPath(new URL('../../../plans/monolithnet.mono', import.meta.url));
const BENCH_SET = { width: '1', depth: '1' };
const BENCH_NET = 'plans/monolithnet.mono width=1 depth=1, finetune (end to end), synthetic 32x32x3';

/** Steps of a few seconds; the pure-JS cpu backend takes minutes a step at batch 32, so it gets 2 examples. */
function benchBatch(backend: string): number {
  return backend === 'cpu' ? 2 : 32;
}

async function benchIr(): Promise<{ ir: IR; phase: PhaseSpec }> {
  const compiled = compilePlan(await readFile(BENCH_PLAN, 'utf8'), 'plans/monolithnet.mono', { set: BENCH_SET });
  if (!compiled.ir) throw new Error(`mono doctor: the bench plan ${BENCH_PLAN} did not compile`);
  const phase = compiled.ir.phases.find((p) => p.kind === 'finetune');
  if (!phase) throw new Error('mono doctor: the bench plan has no finetune phase');
  return { ir: compiled.ir, phase };
}

function adapterLines(adapter: WebgpuAdapterInfo): string[] {
  const l = adapter.limits;
  return [
    `  adapter ${adapter.name}: vendor ${adapter.vendor}${adapter.architecture ? `, ${adapter.architecture}` : ''}, ` +
      `${adapter.cpu ? 'a CPU implementation of Vulkan (correct; slower than wasm)' : 'a GPU'}`,
    `  limits: maxBufferSize ${formatBytes(l.maxBufferSize)}, maxStorageBufferBindingSize ${formatBytes(l.maxStorageBufferBindingSize)} ` +
      `(the largest tensor a kernel can bind), maxComputeWorkgroupStorageSize ${formatBytes(l.maxComputeWorkgroupStorageSize)}`,
  ];
}

function cudaLines(report: CudaReport, nodeGpu: BackendProbe | undefined): string[] {
  const lines = [`What a node-gpu run needs (tfjs-node-gpu 4.x: libtensorflow 2.9.1, CUDA ${TFJS_NODE_GPU_CUDA}, cuDNN ${TFJS_NODE_GPU_CUDNN}, NVIDIA driver > 450):`];
  lines.push(`  NVIDIA driver: ${report.driver ?? 'none (/proc/driver/nvidia/version is absent)'}${report.nvidiaSmi ? `; nvidia-smi at ${report.nvidiaSmi}` : '; no nvidia-smi on PATH'}`);
  for (const lib of report.libraries) lines.push(`  ${lib.path ? 'ok ' : '-- '} ${lib.soname.padEnd(18)} ${lib.path ?? `not found (${lib.from})`}`);
  if (!report.ready) {
    lines.push(
      `  warning: tfjs-node-gpu falls back to the CPU without an error when these are missing: it logs a line and runs libtensorflow's CPU kernels`,
    );
  }
  if (nodeGpu && !nodeGpu.available && nodeGpu.detail.startsWith('not installed')) {
    lines.push(`  tfjs-node-gpu is not installed (an explicit install: npm install @tensorflow/tfjs-node-gpu; never beside tfjs-node in one process)`);
  }
  return lines;
}

function kernelLines(title: string, kernels: KernelStatus[]): string[] {
  const lines = [title];
  for (const status of ['mono', 'native', 'missing'] as const) {
    const names = kernels.filter((k) => k.status === status).map((k) => k.kernel);
    if (names.length > 0) lines.push(`  ${status.padEnd(7)} (${names.length}): ${names.join(', ')}`);
  }
  return lines;
}

async function runBench(backend: ActiveBackend, chosen: string | null, io: CommandIO): Promise<{ entry: BenchEntry; file: string }> {
  const { ir, phase } = await benchIr();
  const entry = await benchThroughput(ir, phase, {
    batch: benchBatch(backend.name),
    budgetMs: 3000,
    minSteps: backend.name === 'cpu' ? 1 : 3,
    maxSteps: 20,
    net: BENCH_NET,
    ...(backend.adapter ? { adapter: backend.adapter.name } : {}),
  });
  const file = await recordBench(backend.name, entry, chosen, io.env);
  return { entry, file };
}

/** The body of `mono doctor` (src/cli/commands/doctor.ts holds its name, summary and help). */
export async function doctorAction(args: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, options);
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  if (values.backend !== undefined && !isBackendChoice(values.backend)) {
    throw new UsageError(`unknown backend '${values.backend}' (choose one of: ${BACKEND_CHOICES.join(', ')})`);
  }
  if (values.backend !== undefined && !values.bench) throw new UsageError('--backend applies to --bench: it names the backend to measure');
  const { probes, chosen } = await probeBackends();
  const cuda = cudaReport();
  const wasmKernels = await wasmKernelReport();
  const onnxruntime = await onnxruntimeReport();
  const webgpuProbe = probes.find((p) => p.name === 'webgpu');
  const webgpuKernels: KernelStatus[] | undefined = webgpuProbe?.adapter ? await webgpuKernelReport() : undefined;

  let bench: { backend: string; entry: BenchEntry; file: string } | undefined;
  if (values.bench) {
    const target = values.backend !== undefined && values.backend !== chosen?.name ? await startBackend(values.backend) : chosen;
    if (target === null) throw new UsageError('no backend is available to measure');
    bench = { backend: target.name, ...(await runBench(target, chosen?.name ?? null, io)) };
  }

  if (values.json) {
    io.stdout.write(JSON.stringify({
      backends: probes,
      chosen: chosen?.name ?? null,
      threads: chosen?.threads ?? 0,
      warnings: chosen?.warnings ?? [],
      cuda,
      wasmKernels,
      onnxruntime,
      ...(webgpuKernels ? { webgpuKernels } : {}),
      ...(bench ? { bench: { backend: bench.backend, ...bench.entry, file: bench.file } } : {}),
    }, null, 2) + '\n');
    return EXIT_OK;
  }
  const width = Math.max(...probes.map((p) => p.name.length));
  const lines = ['Backends (in order of preference):'];
  for (const p of probes) {
    lines.push(`  ${p.available ? 'ok ' : '-- '} ${p.name.padEnd(width)}  ${p.package}: ${p.detail}`);
    if (p.warning) lines.push(`       warning: ${p.warning}`);
  }
  lines.push('', chosen ? `Chosen: ${chosen.name} (${chosen.threads} thread${chosen.threads === 1 ? '' : 's'}); force another with mono run --backend NAME` : 'Chosen: none');
  for (const warning of chosen?.warnings ?? []) lines.push(`warning: ${warning}`);
  lines.push('', 'webgpu (Dawn on Vulkan):');
  if (webgpuProbe?.adapter) lines.push(...adapterLines(webgpuProbe.adapter));
  else lines.push(`  no adapter: ${webgpuProbe?.detail ?? 'not probed'}`);
  lines.push('', ...cudaLines(cuda, probes.find((p) => p.name === 'node-gpu')));
  lines.push('', ...kernelLines('wasm training kernels and gradients:', wasmKernels));
  lines.push(`  onnxruntime (convolutions of 32+ channels, frozen partitions, evaluation): ${onnxruntime.detail}`);
  if (webgpuKernels) lines.push('', ...kernelLines('webgpu training kernels:', webgpuKernels));
  if (bench) {
    lines.push(
      '',
      `Bench (${bench.entry.net}, batch ${bench.entry.batch}) on ${bench.backend}: ${bench.entry.stepMs.toFixed(1)} ms a step ` +
        `(median of ${bench.entry.steps}), ${formatRate(bench.entry.flopsPerSecond)} of training; recorded in ${shownPath(io.cwd, bench.file)} ` +
        `for mono compile's and mono run's time estimates`,
    );
  }
  io.stdout.write(lines.join('\n') + '\n');
  return EXIT_OK;
}
