/**
 * Checkpoint I/O benchmark (npm run bench:checkpoint [-- --sizes 1,3 --rounds 4 --dir /tmp]):
 * checkpoints of 1 GB and 3 GB of synthetic tensors (one of a quarter of the total,
 * the rest 64 MiB each, plus 1,000 small ones), against copying the same file with
 * `cp`, and with `cp` + `sync FILE` (which, like the checkpoint writer, waits until
 * the bytes are on disk). Goal: at least half of cp's speed; peak RSS while saving at
 * most model bytes x 1.1 + the largest tensor.
 *
 *  - warm: one process holds the tensors and alternates, --rounds times, a checkpoint
 *    write (overwriting the file the last write replaced, as writeCheckpoint does by
 *    default), a write into a new file (reusePrevious: false, as before), cp, cp + sync
 *    a checkpoint read (into new arrays) and a read into the existing model (the
 *    arrays it holds, refilled first, untimed, as a resume reads into the network's
 *    own, just initialised tensors) (medians of
 *    the rounds after the first); this is a training run, which rewrites its
 *    checkpoint every epoch.
 *  - cold: a fresh process per measurement: peak RSS (VmHWM) while writing (a session's
 *    first write: into a new file), with
 *    values() giving the tensor's own memory (the cpu backend's dataSync() does) and
 *    a fresh copy (wasm, tfjs-node); peak RSS while reading; the read into an existing
 *    model (allocated and filled first, untimed: a resumed network's initial values;
 *    the header read first, untimed, as a resume does before its network exists), its
 *    time and peak RSS; and how fast this machine
 *    hands a process new memory (allocate + fill the same bytes), which bounds any
 *    reader that must allocate the model; the read and the new memory again with
 *    GLIBC_TUNABLES=glibc.malloc.hugetlb=1 (malloc asks for transparent huge pages).
 * Files are read right after being written, from the page cache, by both sides.
 *
 * --parts resume (in the default `io,resume`): a resume as `mono run --resume` makes it,
 * in a fresh process per measurement, alternating --rounds times: a plan of one dense
 * layer whose weights and msgd momentum slots add up to the size, on the cpu backend;
 * its network is built untimed, then timed: restoreCheckpointFile (parameters and slots
 * read in place, the slots into the optimizer the phase will train with) against the
 * path before it (readCheckpoint into new arrays, restoreCheckpoint, then the optimizer
 * the phase start makes: zero slots, assigned the read ones); peak RSS of each (from the
 * end of the set-up, which is left out: resetPeak). Then the
 * same network and slots on the wasm backend, saved from the heap (tensorSource, what
 * saveCheckpoint does) against a copy per tensor (data(), what it did before).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { compilePlan } from '../src/compile.js';
import type { IR } from '../src/ir/types.js';
import { Optimizer } from '../src/optim/optimizers.js';
import { selectBackend } from '../src/runtime/backend.js';
import { arrayMemory, CHECKPOINT_FILE, planHash, readCheckpoint, readCheckpointHeader, removeStaleTemporaries, writeCheckpoint, type CheckpointToSave, type ReadCheckpointOptions, type TensorToSave } from '../src/runtime/checkpoint.js';
import type { LoadedData } from '../src/runtime/data/dataset.js';
import { Network } from '../src/runtime/graph.js';
import { restoreCheckpoint, restoreCheckpointFile } from '../src/runtime/load-checkpoint.js';
import { gradientOptimizer, optimizedParams, phaseGraph } from '../src/runtime/step.js';
import { tensorSource } from '../src/runtime/tensor-memory.js';
import { runRngs, Trainer } from '../src/runtime/trainer.js';

const GB = 1e9;
const MIB = 1 << 20;

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1,3' },
    rounds: { type: 'string', default: '4' },
    dir: { type: 'string', default: '/tmp' },
    parts: { type: 'string', default: 'io,resume' },
    child: { type: 'string' },
    bytes: { type: 'string' },
    folder: { type: 'string' },
  },
});

/** Peak and current resident set of this process, in bytes (Linux). */
function memory(): { peak: number; now: number } {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { peak: kb('VmHWM'), now: kb('VmRSS') };
}

/**
 * Frees what setting up left for the garbage collector and starts the peak RSS afresh
 * (Linux: clear_refs 5 resets VmHWM), so that the peak measured next is the measured
 * work's own, not the set-up's (building a network makes its initial values twice).
 */
function resetPeak(): void {
  (globalThis as { gc?: () => void }).gc?.();
  writeFileSync('/proc/self/clear_refs', '5');
}

/** Tensor sizes (in float32 values) adding up to about `bytes`. */
function layout(bytes: number): number[] {
  const small = Array.from({ length: 1000 }, () => 1024);
  const largest = Math.floor(bytes / 4 / 4);
  const rest: number[] = [];
  let left = bytes / 4 - largest - small.length * 1024;
  while (left > 0) {
    const n = Math.min(left, (64 * MIB) / 4);
    rest.push(n);
    left -= n;
  }
  return [largest, ...rest, ...small];
}

function contents(arrays: Float32Array[], copy: boolean): CheckpointToSave {
  return {
    planHash: 'bench',
    metricsBytes: 0,
    state: { phaseIndex: 0, nextEpoch: 0, optimizer: null, schedules: null, rng: { data: [1, 2, 3, 4], dropout: [5, 6, 7, 8] } },
    tensors: arrays.map((values, i) => ({ name: `t${i}`, kind: 'weight', shape: [values.length], values: () => (copy ? values.slice() : values) })),
  };
}

/** Reading into `arrays` (tensor `t<i>` into arrays[i]): what a resume does with its network's tensors. */
function into(arrays: Float32Array[]): ReadCheckpointOptions {
  return { destination: (entry) => arrayMemory(arrays[Number(entry.name.slice(1))]!) };
}

function timed(command: string, commandArgs: string[]): number {
  const started = performance.now();
  const result = spawnSync(command, commandArgs, { stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`${command} failed`);
  return (performance.now() - started) / 1000;
}

const seconds = async (work: () => Promise<unknown>) => {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
};

/** A plan of one dense layer of 1,000 outputs whose weights and momentum slots add up to about `bytes`. */
function resumePlan(bytes: number): IR {
  const rows = Math.max(1, Math.round(bytes / 8 / 1000 / 1000));
  const compiled = compilePlan(
    `plan resume
data synthetic(examples: 1, classes: 1000, shape: [${rows}, 1000, 1], noise: 0.1) { batch 1 holdout 0 seed 1 }
network input [${rows}, 1000, 1] { out: flatten dense(1000) }
partition all = out
schedule { train all for 2 epochs with msgd(lr: 0.01, momentum: 0.9, decay: 0) }
`,
    'resume.mono',
  );
  if (!compiled.ir) throw new Error(`the resume plan does not compile: ${JSON.stringify(compiled.diagnostics)}`);
  return compiled.ir;
}

/** The data a Trainer needs to exist (never trained on here). */
function placeholderData(ir: IR): LoadedData {
  const shape = ir.input.shape as [number, number, number];
  const empty = { images: new Float32Array(0), labels: new Int32Array(0), count: 0, shape };
  return { name: 'bench', origin: 'synthetic data', classes: 1000, train: { images: new Float32Array(shape[0] * shape[1] * shape[2]), labels: new Int32Array([1]), count: 1, shape }, holdout: empty, mean: [0], std: [1] };
}

/** The trainer's state of a checkpoint written after the first epoch of the resume plan's phase (msgd, one step). */
const INSIDE_PHASE: CheckpointToSave['state'] = { phaseIndex: 0, nextEpoch: 1, optimizer: { type: 'msgd', steps: 1, beta1Power: 1, beta2Power: 1 }, schedules: null, rng: { data: [1, 2, 3, 4], dropout: [5, 6, 7, 8] } };

/** A checkpoint of the resume plan inside its phase, after one step: weights and momentum slots. */
async function writeResumeCheckpoint(bytes: number, folder: string): Promise<void> {
  await selectBackend({ force: 'cpu' });
  const ir = resumePlan(bytes);
  const network = new Network(ir, runRngs(1).init);
  const tensors: TensorToSave[] = [];
  for (const spec of network.paramSpecs()) {
    const values = network.variable(spec.name).dataSync() as Float32Array;
    tensors.push({ name: spec.name, kind: 'weight', shape: [...spec.shape], values: () => values });
    tensors.push({ name: `${spec.name}/first`, kind: 'slot', shape: [...spec.shape], values: () => values.map((v) => v * 0.01) });
  }
  tensors.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'weight' ? -1 : 1));
  await writeCheckpoint(folder, {
    planHash: planHash(ir),
    metricsBytes: 0,
    state: INSIDE_PHASE,
    tensors,
  });
  network.dispose();
}

/** One resume, timed from a built network to the phase's optimizer holding the saved slots. */
async function resume(mode: 'resume' | 'resume-arrays', bytes: number, folder: string): Promise<{ seconds: number; peak: number; before: number }> {
  await selectBackend({ force: 'cpu' });
  const ir = resumePlan(bytes);
  const network = new Network(ir, runRngs(2).init);
  const trainer = new Trainer({ network, data: placeholderData(ir), seed: 1 });
  await readCheckpointHeader(folder); // untimed, as train-run.ts reads it before the network exists
  resetPeak();
  const before = memory().now;
  const restore = { force: false, file: CHECKPOINT_FILE };
  const s = await seconds(async () => {
    if (mode === 'resume') {
      await restoreCheckpointFile(network, trainer, folder, restore);
      return;
    }
    const checkpoint = await readCheckpoint(folder);
    restoreCheckpoint(network, trainer, checkpoint, restore);
    // What the phase's start then did: an optimizer with zero slots, assigned the ones read.
    const phase = ir.phases[0]!;
    const optimizer = new Optimizer(gradientOptimizer(phase), optimizedParams(network, phaseGraph(network, phase)), phase.lrMultipliers);
    optimizer.setState(checkpoint.state.optimizer!);
    if (optimizer.slotVariables().length !== 2) throw new Error('the old path made no slots');
  });
  const peak = memory().peak;
  if (tf.memory().numTensors < 4) throw new Error('the resume made no slots');
  return { seconds: s, peak, before };
}

/**
 * One checkpoint write of the resume plan's network and momentum slots on the wasm
 * backend (the default), timed with peak RSS: each tensor saved from the wasm heap
 * (tensorSource, what saveCheckpoint does) or from a copy read out of it (data(), what it did before).
 */
async function saveFromWasm(mode: 'save' | 'save-copies', bytes: number, folder: string): Promise<{ seconds: number; peak: number; before: number }> {
  await selectBackend({ force: 'wasm' });
  const ir = resumePlan(bytes);
  const network = new Network(ir, runRngs(2).init);
  const phase = ir.phases[0]!;
  const optimizer = new Optimizer(gradientOptimizer(phase), optimizedParams(network, phaseGraph(network, phase)), phase.lrMultipliers);
  const all = [...network.paramSpecs().map((spec) => ({ name: spec.name, kind: 'weight' as const, tensor: network.variable(spec.name) })), ...optimizer.slotVariables().map(({ name, variable }) => ({ name, kind: 'slot' as const, tensor: variable }))];
  const tensors: TensorToSave[] = all.map(({ name, kind, tensor }) => ({
    name,
    kind,
    shape: [...tensor.shape],
    values: () => (mode === 'save' ? tensorSource(tensor)! : (tensor.data() as Promise<Float32Array>)),
  }));
  await removeStaleTemporaries(folder); // a session's first write: into a new file
  resetPeak();
  const before = memory().now;
  const s = await seconds(() => writeCheckpoint(folder, { planHash: 'bench', metricsBytes: 0, state: INSIDE_PHASE, tensors }));
  return { seconds: s, peak: memory().peak, before };
}

/** One measurement in this (child) process; prints one JSON line. */
async function child(mode: string, bytes: number, folder: string): Promise<void> {
  const print = (result: object) => process.stdout.write(JSON.stringify(result) + '\n');
  const file = path.join(folder, 'checkpoint.bin');
  if (mode === 'resume-file') {
    await writeResumeCheckpoint(bytes, folder);
    print({ fileBytes: (await stat(file)).size });
  } else if (mode === 'resume' || mode === 'resume-arrays') {
    print(await resume(mode, bytes, folder));
  } else if (mode === 'save' || mode === 'save-copies') {
    print(await saveFromWasm(mode, bytes, folder));
  } else if (mode === 'fresh') {
    print({ seconds: await seconds(async () => layout(bytes).map((n, i) => new Float32Array(n).fill(i + 0.5))) });
  } else if (mode === 'read') {
    print({ seconds: await seconds(() => readCheckpoint(folder)), peak: memory().peak });
  } else if (mode === 'read-into') {
    const sizes = layout(bytes);
    const arrays = sizes.map((n, i) => new Float32Array(n).fill(i + 0.25));
    // Untimed, as a resume reads the header before its network exists (this compiles the header schema).
    await readCheckpointHeader(folder);
    const before = memory().now;
    const s = await seconds(() => readCheckpoint(folder, into(arrays)));
    if (arrays[0]![0] !== 0.5) throw new Error('the read did not land in the model');
    print({ seconds: s, peak: memory().peak, before, model: sizes.reduce((a, b) => a + b, 0) * 4 });
  } else if (mode === 'write' || mode === 'write-copy') {
    const sizes = layout(bytes);
    const arrays = sizes.map((n, i) => new Float32Array(n).fill(i + 0.5));
    // The first write of a session: no previous file to overwrite (runSession removes it at the start).
    await removeStaleTemporaries(folder);
    const before = memory().now;
    const s = await seconds(() => writeCheckpoint(folder, contents(arrays, mode === 'write-copy')));
    print({ seconds: s, peak: memory().peak, before, model: sizes.reduce((a, b) => a + b, 0) * 4, largest: sizes[0]! * 4 });
  } else if (mode === 'warm') {
    const arrays = layout(bytes).map((n, i) => new Float32Array(n).fill(i + 0.5));
    const copy = path.join(folder, 'copy.bin');
    const rows: Record<Row, number[]> = { write: [], writeNew: [], cp: [], cpSync: [], read: [], readInto: [] };
    for (let round = 0; round < Number(args.rounds); round++) {
      rows.write.push(await seconds(() => writeCheckpoint(folder, contents(arrays, false))));
      rows.writeNew.push(await seconds(() => writeCheckpoint(folder, contents(arrays, false), { reusePrevious: false })));
      rows.cp.push(timed('cp', [file, copy]));
      await rm(copy);
      rows.cpSync.push(timed('sh', ['-c', `cp "${file}" "${copy}" && sync "${copy}"`]));
      await rm(copy);
      rows.read.push(await seconds(() => readCheckpoint(folder)));
      // What was read is not kept: free it before the next round, as a training run's memory would be.
      (globalThis as { gc?: () => void }).gc?.();
      // A resumed network's initial values, written after this round's cp processes: spawning one
      // (fork) leaves every page of this process copy-on-write, and the first write to each page then
      // faults like new memory (measured: a 50 MB read into the arrays 25-50 ms, 250-400 ms right after
      // spawning `true`). A resume spawns nothing between initialising its network and reading into it.
      arrays.forEach((values, i) => values.fill(i + 0.25));
      rows.readInto.push(await seconds(() => readCheckpoint(folder, into(arrays))));
      if (arrays[0]![0] !== 0.5) throw new Error('the read did not land in the model');
    }
    print({ ...rows, fileBytes: (await stat(file)).size });
  }
}

type Row = 'write' | 'writeNew' | 'cp' | 'cpSync' | 'read' | 'readInto';

const HUGE_PAGES = { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' };

function measure(mode: string, bytes: number, folder: string, env: Record<string, string> = {}): Record<string, number> & Record<string, number[]> {
  const self = fileURLToPath(import.meta.url);
  const result = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', self, '--child', mode, '--bytes', String(bytes), '--folder', folder, '--rounds', args.rounds!], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
    env: { ...process.env, ...env },
  });
  if (result.status !== 0) throw new Error(`${mode} child failed: ${result.stderr.slice(-2000)}`);
  return JSON.parse(result.stdout.trim()) as Record<string, number> & Record<string, number[]>;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const list = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(' ');

async function main(): Promise<void> {
  const folder = await mkdtemp(path.join(args.dir!, 'mono-bench-ckpt-'));
  try {
    const parts = new Set(args.parts!.split(','));
    for (const size of args.sizes!.split(',').map(Number)) {
      const bytes = size * GB;
      if (parts.has('io')) await ioRows(bytes, folder);
      if (parts.has('resume')) resumeRows(bytes, folder);
    }
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/** The resume rows (--parts resume): the in-place resume against the path before it, fresh processes alternating. */
function resumeRows(bytes: number, folder: string): void {
  const { fileBytes } = measure('resume-file', bytes, folder);
  type Mode = 'resume' | 'resume-arrays' | 'save' | 'save-copies';
  const rounds: Record<Mode, { seconds: number; peak: number; before: number }[]> = { resume: [], 'resume-arrays': [], save: [], 'save-copies': [] };
  for (let round = 0; round < Number(args.rounds); round++) {
    const order: Mode[] = round % 2 === 0 ? ['resume', 'resume-arrays', 'save', 'save-copies'] : ['resume-arrays', 'resume', 'save-copies', 'save'];
    // The saves last: they replace the resume's file with one of the same plan and size.
    for (const mode of order) rounds[mode].push(measure(mode, bytes, folder) as unknown as { seconds: number; peak: number; before: number });
    if (round + 1 < Number(args.rounds)) measure('resume-file', bytes, folder);
  }
  const mbps = (s: number) => (fileBytes! / s / 1e6).toFixed(0).padStart(5);
  const inPlace = median(rounds.resume.map((r) => r.seconds));
  const arrays = median(rounds['resume-arrays'].map((r) => r.seconds));
  const peak = (rs: { peak: number; before: number }[]) => `${(median(rs.map((r) => r.peak)) / GB).toFixed(2)} GB (${(median(rs.map((r) => r.before)) / GB).toFixed(2)} GB before)`;
  console.log(`\nresume of a ${(fileBytes! / GB).toFixed(2)} GB checkpoint (weights and msgd momentum slots, one dense layer, cpu), a fresh process each, medians of ${args.rounds}`);
  console.log(`  every round in s: in place ${list(rounds.resume.map((r) => r.seconds))}; into new arrays ${list(rounds['resume-arrays'].map((r) => r.seconds))}`);
  console.log(`    in place (parameters and slots)  ${mbps(inPlace)} MB/s   peak RSS ${peak(rounds.resume)}`);
  console.log(`    into new arrays, then the slots  ${mbps(arrays)} MB/s   peak RSS ${peak(rounds['resume-arrays'])}   in place is ${(arrays / inPlace).toFixed(2)}x faster`);
  const save = median(rounds.save.map((r) => r.seconds));
  const copies = median(rounds['save-copies'].map((r) => r.seconds));
  console.log(`  the same network and slots saved on wasm, a session's first write (a new file); every round in s: from the heap ${list(rounds.save.map((r) => r.seconds))}; copies ${list(rounds['save-copies'].map((r) => r.seconds))}`);
  console.log(`    from the wasm heap               ${mbps(save)} MB/s   peak RSS ${peak(rounds.save)}`);
  console.log(`    a copy per tensor (data())       ${mbps(copies)} MB/s   peak RSS ${peak(rounds['save-copies'])}   from the heap is ${(copies / save).toFixed(2)}x faster`);
}

/** The write and read rows (--parts io). */
async function ioRows(bytes: number, folder: string): Promise<void> {
  {
    {
      const warm = measure('warm', bytes, folder);
      const fileBytes = warm['fileBytes'] as number;
      const after = (xs: number[]) => (xs.length > 1 ? xs.slice(1) : xs);
      const warmMedian = (k: Row) => median(after(warm[k] as number[]));
      const [write, writeNew, cp, cpSync, read, readInto] = (['write', 'writeNew', 'cp', 'cpSync', 'read', 'readInto'] as const).map(warmMedian) as [number, number, number, number, number, number];
      const mbps = (s: number) => (fileBytes / s / 1e6).toFixed(0).padStart(5);
      console.log(`\n${(fileBytes / GB).toFixed(2)} GB checkpoint, ${layout(bytes).length} tensors`);
      console.log(`  warm (medians of rounds 2-${args.rounds}; every round in s: write ${list(warm['write'] as number[])}; write, new file ${list(warm['writeNew'] as number[])}; cp ${list(warm['cp'] as number[])}; cp+sync ${list(warm['cpSync'] as number[])}; read ${list(warm['read'] as number[])}; read into the model ${list(warm['readInto'] as number[])})`);
      console.log(`    write  ${mbps(write)} MB/s   ${(cp / write).toFixed(2)} x cp   ${(cpSync / write).toFixed(2)} x cp+sync`);
      console.log(`    write into a new file  ${mbps(writeNew)} MB/s   ${(cp / writeNew).toFixed(2)} x cp   ${(cpSync / writeNew).toFixed(2)} x cp+sync`);
      console.log(`    read   ${mbps(read)} MB/s   ${(cp / read).toFixed(2)} x cp`);
      console.log(`    read into the existing model   ${mbps(readInto)} MB/s   ${(cp / readInto).toFixed(2)} x cp`);
      console.log(`    cp     ${mbps(cp)} MB/s;  cp + sync ${mbps(cpSync)} MB/s`);
      const own = measure('write', bytes, folder);
      const copied = measure('write-copy', bytes, folder);
      const reading = measure('read', bytes, folder);
      const readingInto = measure('read-into', bytes, folder);
      const fresh = measure('fresh', bytes, folder);
      const readingHuge = measure('read', bytes, folder, HUGE_PAGES);
      const freshHuge = measure('fresh', bytes, folder, HUGE_PAGES);
      const goal = own['model']! * 1.1 + own['largest']!;
      console.log(`  cold (a new process each)`);
      console.log(`    write  ${mbps(own['seconds']!)} MB/s own memory, ${mbps(copied['seconds']!)} MB/s a copy per tensor;  read ${mbps(reading['seconds']!)} MB/s;  new memory (allocate + fill) ${mbps(fresh['seconds']!)} MB/s`);
      console.log(
        `    read into the existing model ${mbps(readingInto['seconds']!)} MB/s, peak RSS ${(readingInto['peak']! / GB).toFixed(2)} GB (model ${(readingInto['model']! / GB).toFixed(2)} GB, ` +
          `${(readingInto['before']! / GB).toFixed(2)} GB resident before the read)`,
      );
      console.log(`    with huge pages (${HUGE_PAGES.GLIBC_TUNABLES}): read ${mbps(readingHuge['seconds']!)} MB/s;  new memory ${mbps(freshHuge['seconds']!)} MB/s`);
      console.log(
        `    peak RSS writing ${(own['peak']! / GB).toFixed(2)} GB own memory, ${(copied['peak']! / GB).toFixed(2)} GB with copies ` +
          `(before writing ${(own['before']! / GB).toFixed(2)} GB; goal <= model x 1.1 + largest = ${(goal / GB).toFixed(2)} GB); reading ${(reading['peak']! / GB).toFixed(2)} GB`,
      );
    }
  }
}

if (args.child) await child(args.child, Number(args.bytes), args.folder!);
else await main();
