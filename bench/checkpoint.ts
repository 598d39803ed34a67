/**
 * Checkpoint I/O benchmark (npm run bench:checkpoint [-- --sizes 1,3 --rounds 3 --dir /tmp]):
 * writes and reads checkpoints of 1 GB and 3 GB of synthetic tensors (one of a quarter
 * of the total, the rest 64 MiB each, plus 1,000 small ones) and copies the same file
 * with `cp` (and `cp` + `sync FILE`, which also flushes it to disk as the checkpoint
 * writer does), alternating, each measurement in its own process. Prints throughput,
 * the ratio to cp (goal >= 0.5) and the peak RSS (VmHWM) of the writing and reading
 * processes against the goal model bytes x 1.1 + the largest tensor.
 *
 * The writer is measured twice: with tensors whose values() returns the tensor's own
 * memory (the cpu backend's dataSync() does that) and a fresh copy (wasm, tfjs-node).
 * Files are read right after being written, from the page cache, by both sides. The
 * reader must allocate the model's memory; `fresh memory` is how fast this machine
 * hands out and touches new memory (allocate + fill, same size), for comparison.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { readCheckpoint, writeCheckpoint, type TensorToSave } from '../src/runtime/checkpoint.js';

const GB = 1e9;
const MIB = 1 << 20;

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1,3' },
    rounds: { type: 'string', default: '3' },
    dir: { type: 'string', default: '/tmp' },
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

async function child(mode: string, bytes: number, folder: string): Promise<void> {
  if (mode === 'fresh') {
    const started = performance.now();
    const arrays = layout(bytes).map((n, i) => new Float32Array(n).fill(i + 0.5));
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(JSON.stringify({ seconds, tensors: arrays.length }) + '\n');
  } else if (mode === 'write' || mode === 'write-copy') {
    const sizes = layout(bytes);
    const arrays = sizes.map((n, i) => new Float32Array(n).fill(i + 0.5));
    const copy = mode === 'write-copy';
    const tensors: TensorToSave[] = arrays.map((values, i) => ({ name: `t${i}`, kind: 'weight', shape: [values.length], values: () => (copy ? values.slice() : values) }));
    const before = memory();
    const started = performance.now();
    await writeCheckpoint(folder, { planHash: 'bench', metricsBytes: 0, state: { phaseIndex: 0, nextEpoch: 0, optimizer: null, schedules: null, rng: { data: [1, 2, 3, 4], dropout: [5, 6, 7, 8] } }, tensors });
    const seconds = (performance.now() - started) / 1000;
    const modelBytes = sizes.reduce((a, b) => a + b, 0) * 4;
    process.stdout.write(JSON.stringify({ seconds, peak: memory().peak, before: before.now, modelBytes, largest: sizes[0]! * 4 }) + '\n');
  } else {
    const started = performance.now();
    const checkpoint = await readCheckpoint(folder);
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(JSON.stringify({ seconds, peak: memory().peak, tensors: checkpoint.weights.length }) + '\n');
  }
}

function measure(mode: 'write' | 'write-copy' | 'read' | 'fresh', bytes: number, folder: string): Record<string, number> {
  const self = fileURLToPath(import.meta.url);
  const result = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', mode, '--bytes', String(bytes), '--folder', folder], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (result.status !== 0) throw new Error(`${mode} child failed: ${result.stderr}`);
  return JSON.parse(result.stdout.trim()) as Record<string, number>;
}

function timed(command: string, commandArgs: string[]): number {
  const started = performance.now();
  const result = spawnSync(command, commandArgs, { stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`${command} failed`);
  return (performance.now() - started) / 1000;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const rounds = Number(args.rounds);
  const folder = await mkdtemp(path.join(args.dir!, 'mono-bench-ckpt-'));
  const file = path.join(folder, 'checkpoint.bin');
  const copy = path.join(folder, 'copy.bin');
  try {
    for (const size of args.sizes!.split(',').map(Number)) {
      const bytes = size * GB;
      const rows = { write: [] as number[], writeCopy: [] as number[], read: [] as number[], fresh: [] as number[], cp: [] as number[], cpSync: [] as number[], writePeak: [] as number[], writeCopyPeak: [] as number[], readPeak: [] as number[] };
      let model = 0;
      let largest = 0;
      let fileBytes = 0;
      for (let round = 0; round < rounds; round++) {
        const w = measure('write', bytes, folder);
        model = w['modelBytes']!;
        largest = w['largest']!;
        fileBytes = (await stat(file)).size;
        rows.write.push(w['seconds']!);
        rows.writePeak.push(w['peak']!);
        rows.cp.push(timed('cp', [file, copy]));
        await rm(copy);
        const c = measure('write-copy', bytes, folder);
        rows.writeCopy.push(c['seconds']!);
        rows.writeCopyPeak.push(c['peak']!);
        rows.fresh.push(measure('fresh', bytes, folder)['seconds']!);
        const r = measure('read', bytes, folder);
        rows.read.push(r['seconds']!);
        rows.readPeak.push(r['peak']!);
        rows.cpSync.push(timed('sh', ['-c', `cp "${file}" "${copy}" && sync "${copy}"`]));
        await rm(copy);
      }
      const mbps = (seconds: number) => fileBytes / seconds / 1e6;
      const cp = median(rows.cp);
      const cpSync = median(rows.cpSync);
      const goal = model * 1.1 + largest;
      console.log(`\n${(fileBytes / GB).toFixed(2)} GB checkpoint (${rounds} rounds, medians; largest tensor ${(largest / GB).toFixed(2)} GB)`);
      const line = (label: string, seconds: number, vsSync = true) =>
        console.log(`  ${label.padEnd(26)} ${mbps(seconds).toFixed(0).padStart(5)} MB/s   vs cp ${(cp / seconds).toFixed(2)}${vsSync ? `   vs cp+sync ${(cpSync / seconds).toFixed(2)}` : ''}`);
      line('write (own memory)', median(rows.write));
      line('write (a copy per tensor)', median(rows.writeCopy));
      line('read', median(rows.read), false);
      console.log(`  ${'cp'.padEnd(26)} ${mbps(cp).toFixed(0).padStart(5)} MB/s;  cp + sync ${mbps(cpSync).toFixed(0)} MB/s;  fresh memory ${mbps(median(rows.fresh)).toFixed(0)} MB/s`);
      console.log(`  all rounds (s): write ${rows.write.map((x) => x.toFixed(1)).join(' ')}; copy ${rows.writeCopy.map((x) => x.toFixed(1)).join(' ')}; read ${rows.read.map((x) => x.toFixed(1)).join(' ')}; cp ${rows.cp.map((x) => x.toFixed(1)).join(' ')}; cp+sync ${rows.cpSync.map((x) => x.toFixed(1)).join(' ')}`);
      console.log(`  peak RSS writing ${(Math.max(...rows.writePeak) / GB).toFixed(2)} GB own memory, ${(Math.max(...rows.writeCopyPeak) / GB).toFixed(2)} GB with copies (goal <= model x 1.1 + largest = ${(goal / GB).toFixed(2)} GB)`);
      console.log(`  peak RSS reading ${(Math.max(...rows.readPeak) / GB).toFixed(2)} GB (model ${(model / GB).toFixed(2)} GB)`);
    }
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

if (args.child) await child(args.child, Number(args.bytes), args.folder!);
else await main();
