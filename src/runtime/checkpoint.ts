import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, ftruncateSync, linkSync, openSync, promises as fs, read, readSync, renameSync, statSync, unlinkSync, write, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { Ajv, type ErrorObject } from 'ajv';
import type { IR } from '../ir/types.js';
import type { OptimizerState } from '../optim/optimizers.js';
import { RuntimeFailure, writeFailure } from './errors.js';
import { faultPoint } from './fault-points.js';
import type { NamedWeights } from './graph.js';
import type { TrainerScalars, TrainerState } from './trainer.js';

/**
 * One checkpoint file, `checkpoint.bin`, format version 2:
 *   bytes 0..7   "MONOCKPT"
 *   bytes 8..11  format version (uint32 LE)
 *   bytes 12..15 header length H (uint32 LE)
 *   H bytes      header JSON (utf-8, space-padded to a multiple of 4)
 *   4*T bytes    float32 LE values of every tensor, in the header's order, back to back
 *   12 bytes     trailer: "CRC-32: " and the CRC-32 (uint32 LE) of every byte before it
 * The header holds the plan hash, the trainer state without tensor values (phase, next
 * epoch, schedules, RNG states, optimizer scalars) and the tensor index. It is checked
 * against a schema, its sizes against the file's, and the whole file against the
 * trailer's checksum before anything is returned: a damaged file is refused, never
 * half loaded.
 *
 * Files are written and read in chunks of at most `chunkBytes`, tensor by tensor, with
 * no buffer of the whole file: a tensor's values are asked for only when the writer
 * reaches it and read straight into its own Float32Array. So neither the file nor one
 * tensor is limited by what one Buffer or one read call can hold.
 *
 * The checksum is CRC-32 (the gzip/PNG one): it detects every single-bit flip and
 * every burst of up to 32 bits, and other damage with probability 1 - 2^-32, which is
 * what a file damaged by accident needs; it runs about 3x faster than sha256 here (on a
 * loaded 2-core machine sha256 alone ran at 300-640 MB/s, slower than cp).
 *
 * Version 1 files (no trailer; the header held the sha256 of the values only) are still
 * read, with their weaker check.
 */
export const CHECKPOINT_FILE = 'checkpoint.bin';
/**
 * The weights of the run's best epoch by the plan's `best` metric (trainer.ts, BestEpoch),
 * in the same format, written by the same atomic writer when that metric improves; its
 * header's `state.best` says which epoch it holds.
 */
export const BEST_CHECKPOINT_FILE = 'best.bin';
export const CHECKPOINT_VERSION = 2;
const MAGIC = 'MONOCKPT';
const PREFIX_BYTES = 16;
const TRAILER_MARK = 'CRC-32: ';
const TRAILER_BYTES = TRAILER_MARK.length + 4;
/** Bytes per read or write call and per checksum update: bounded memory, well below fs's 2 GiB per call. */
export const DEFAULT_CHUNK_BYTES = 1 << 20;
/** A header is a few kB per thousand tensors; a larger length field is damage, not a header to allocate. */
const MAX_HEADER_BYTES = 256 << 20;
const LITTLE_ENDIAN = os.endianness() === 'LE';

/** A checkpoint as read back: every tensor's values in memory. */
export interface Checkpoint {
  planHash: string;
  /** Size of metrics.jsonl when the checkpoint was taken: resume cuts it back to this. */
  metricsBytes: number;
  state: TrainerState;
  weights: NamedWeights[];
  /** What the run's data was normalised with (absent in checkpoints from before it was recorded). */
  normalization?: InputNormalization;
  /**
   * The tensors read straight into their destinations (ReadCheckpointOptions.destination),
   * as `<kind> <name>`: they are not in `weights` or the state's tensor lists.
   */
  readInPlace?: string[];
}

/**
 * The per-channel (per-feature) statistics the run normalised its examples with,
 * x -> (x - mean) / std, after scaling pixels to [0, 1]: what `mono predict` and an
 * exported model apply to new inputs.
 */
export interface InputNormalization {
  mean: number[];
  std: number[];
}

/** `weight`: a parameter; `slot`: an optimizer slot; `best`: a parameter at the phase's best epoch (`stop early(restore: true)`); `synapse`: a cost-per-synapse tensor (`<param>/omega`, ...). */
export type TensorKind = 'weight' | 'slot' | 'best' | 'synapse';

/**
 * One tensor to save; its values are asked for only when the writer reaches it, and
 * dropped after: an array, or the tensor's own memory (tensorSource: written without a
 * copy; nothing may change or move it until the write is done).
 */
export interface TensorToSave {
  name: string;
  kind: TensorKind;
  shape: number[];
  values(): Float32Array | TensorMemory | Promise<Float32Array | TensorMemory>;
}

/** What writeCheckpoint saves: the state without tensor values, and the tensors (weights, then slots). */
export interface CheckpointToSave {
  planHash: string;
  metricsBytes: number;
  state: TrainerScalars;
  tensors: readonly TensorToSave[];
  normalization?: InputNormalization;
}

export interface CheckpointIoOptions {
  /** Bytes per read/write call (a multiple of 4; default 1 MiB). Tests force small chunks. */
  chunkBytes?: number;
  /** The file in the run folder: CHECKPOINT_FILE (default) or BEST_CHECKPOINT_FILE. */
  file?: string;
  /**
   * Writing: overwrite the file this one replaced last time (kept as `<file>.previous.tmp`)
   * instead of a new one, and keep the replaced one for next time (default true). See
   * writeCheckpoint.
   */
  reusePrevious?: boolean;
  /**
   * Chunks of at least this many bytes go through the thread pool while this thread
   * checksums them (default OVERLAP_MIN_BYTES; Infinity: every call synchronous).
   */
  overlapMinBytes?: number;
  /**
   * Told the bytes done so far and the file's size after every chunk, for a progress
   * bar: only for files of at least `progressMinBytes` (default PROGRESS_MIN_BYTES;
   * smaller ones take too little time to show).
   */
  onProgress?(done: number, total: number): void;
  progressMinBytes?: number;
}

/** Files this large report progress (CheckpointIoOptions.onProgress): about a tenth of a second to write or read here and more. */
export const PROGRESS_MIN_BYTES = 64 << 20;

/** The progress callback of one read or write of `total` bytes: a no-op for small files or none asked for. */
function progressOf(options: CheckpointIoOptions, total: number): (done: number) => void {
  const onProgress = options.onProgress;
  if (onProgress === undefined || total < (options.progressMinBytes ?? PROGRESS_MIN_BYTES)) return () => undefined;
  return (done) => onProgress(done, total);
}

export interface ReadCheckpointOptions extends CheckpointIoOptions {
  /** Skip the optimizer slots' values (checked, not kept): --init-from needs only the weights. */
  weightsOnly?: boolean;
  /**
   * Called with the checked header before any value is read (and before any destination
   * is asked for): a resume refuses a checkpoint that does not fit its plan here, so a
   * misfit never overwrites a tensor.
   */
  checkHeader?(header: CheckpointHeader): void;
  /**
   * The memory an entry's values are read straight into when the tensor already exists
   * (a live model's parameter), or undefined to read them into a new Float32Array. Asked
   * for every entry after checkHeader and before any value is read.
   */
  destination?(entry: CheckpointEntry): TensorMemory | undefined;
}

/** One tensor of a checkpoint as its header lists it. */
export interface CheckpointEntry {
  name: string;
  kind: TensorKind;
  shape: readonly number[];
}

/** What a checkpoint's header says, without the tensors' values. */
export interface CheckpointHeader {
  planHash: string;
  metricsBytes: number;
  state: TrainerScalars;
  tensors: CheckpointEntry[];
  normalization?: InputNormalization;
}

/**
 * The float32 values of a tensor that exists, in its own memory: what a reader
 * overwrites in place (ReadCheckpointOptions.destination) or a writer saves without a
 * copy (TensorToSave.values). `length` counts values; `bytes(start, length)` is a view
 * of bytes start..start+length of them, taken again for every chunk (a wasm heap's
 * views detach when the heap grows) and used at once: the reader reads each chunk into
 * one of two reused scratch chunks, checksums it (and swaps it to this machine's order)
 * and copies it there; the writer writes the view and checksums it.
 */
export interface TensorMemory {
  readonly length: number;
  bytes(start: number, length: number): Uint8Array;
}

/** The memory of a Float32Array (the cpu backend's own values; tests; the benchmark). */
export function arrayMemory(values: Float32Array): TensorMemory {
  return { length: values.length, bytes: (start, length) => new Uint8Array(values.buffer, values.byteOffset + start, length) };
}

/**
 * Where the reader gets the memory of a tensor that has no destination: one call per
 * such tensor, of the tensor's size. An object so that tests can count (spy on) the
 * calls: a read into a live model must make none.
 */
export const valueMemory = {
  allocate(length: number): Float32Array {
    return new Float32Array(length);
  },
};

interface TensorEntry {
  name: string;
  kind: TensorKind;
  shape: number[];
  /** Offset in float32 elements from the start of the values. */
  offset: number;
  length: number;
}

interface Header {
  planHash: string;
  metricsBytes: number;
  state: TrainerScalars;
  tensors: TensorEntry[];
  savedAt: string;
  normalization?: InputNormalization;
  /** Version 1 only: the sha256 of the values. */
  valuesSha256?: string;
}

/** What a run's checkpoints are tied to: the plan source and the params after --set. */
export function planHash(ir: Pick<IR, 'source' | 'params'>): string {
  const params = Object.fromEntries(Object.entries(ir.params).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return createHash('sha256').update(JSON.stringify({ source: ir.source.sha256, params })).digest('hex');
}

/** A checkpoint held in memory (tests, tools) as something writeCheckpoint can save. */
export function checkpointToSave(checkpoint: Checkpoint): CheckpointToSave {
  const { optimizer, earlyStop, synapse, ...rest } = checkpoint.state;
  const { slots, ...scalars } = optimizer ?? { slots: [] as OptimizerState['slots'] };
  const { weights: bestWeights = [], ...watch } = earlyStop ?? {};
  const tensor = (kind: TensorKind) => (t: NamedWeights): TensorToSave => ({ name: t.name, kind, shape: t.shape, values: () => t.values });
  return {
    planHash: checkpoint.planHash,
    metricsBytes: checkpoint.metricsBytes,
    state: {
      ...rest,
      optimizer: optimizer ? (scalars as Omit<OptimizerState, 'slots'>) : null,
      ...(earlyStop ? { earlyStop: watch as Omit<typeof earlyStop, 'weights'> } : {}),
      ...(synapse ? { synapse: { consolidated: synapse.consolidated } } : {}),
    },
    tensors: [...checkpoint.weights.map(tensor('weight')), ...slots.map(tensor('slot')), ...bestWeights.map(tensor('best')), ...(synapse?.tensors ?? []).map(tensor('synapse'))],
    ...(checkpoint.normalization ? { normalization: checkpoint.normalization } : {}),
  };
}

// ---------------------------------------------------------------------------------------
// Header schema

const integer = { type: 'integer', minimum: 0 } as const;
const rngState = { type: 'array', minItems: 1, items: { type: 'integer', minimum: 0, maximum: 4294967295 } } as const;
const headerSchema = {
  type: 'object',
  required: ['planHash', 'metricsBytes', 'state', 'tensors', 'savedAt'],
  additionalProperties: false,
  properties: {
    planHash: { type: 'string', minLength: 1 },
    metricsBytes: integer,
    savedAt: { type: 'string' },
    valuesSha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    normalization: {
      type: 'object',
      required: ['mean', 'std'],
      additionalProperties: false,
      properties: { mean: { type: 'array', items: { type: 'number' } }, std: { type: 'array', items: { type: 'number' } } },
    },
    state: {
      type: 'object',
      required: ['phaseIndex', 'nextEpoch', 'optimizer', 'schedules', 'rng'],
      additionalProperties: false,
      properties: {
        phaseIndex: integer,
        nextEpoch: integer,
        optimizer: {
          type: ['object', 'null'],
          required: ['type', 'steps', 'beta1Power', 'beta2Power'],
          additionalProperties: false,
          properties: {
            type: { enum: ['msgd', 'sgd', 'adam', 'rmsprop'] },
            steps: integer,
            beta1Power: { type: 'number' },
            beta2Power: { type: 'number' },
          },
        },
        schedules: {
          type: ['object', 'null'],
          required: ['lr', 'momentum', 'groups'],
          additionalProperties: false,
          properties: { lr: {}, momentum: {}, groups: { type: 'object' } },
        },
        rng: {
          type: 'object',
          required: ['data', 'dropout'],
          additionalProperties: false,
          properties: { data: rngState, dropout: rngState },
        },
        lrBounds: {
          type: 'object',
          additionalProperties: {
            type: 'object',
            required: ['min', 'max'],
            additionalProperties: false,
            properties: {
              min: { type: 'number' },
              max: { type: 'number' },
              source: { enum: ['lr-find', 'given', 'plan'] },
              rejected: { type: 'string' },
            },
          },
        },
        best: {
          type: 'object',
          required: ['metric', 'value', 'phase', 'epoch'],
          additionalProperties: false,
          properties: { metric: { enum: ['val_acc', 'val_loss'] }, value: { type: 'number' }, phase: { type: 'string' }, epoch: integer },
        },
        earlyStop: {
          type: ['object', 'null'],
          required: ['best', 'bestEpoch', 'stalled'],
          additionalProperties: false,
          properties: { best: { type: 'number' }, bestEpoch: integer, stalled: integer },
        },
        synapse: {
          type: 'object',
          required: ['consolidated'],
          additionalProperties: false,
          properties: { consolidated: integer },
        },
        // An stdp phase's images so far (its rates follow from them); null outside one.
        stdp: {
          type: ['object', 'null'],
          required: ['images'],
          additionalProperties: false,
          properties: { images: integer },
        },
        taskRecords: {
          type: 'array',
          items: {
            type: 'object',
            required: ['task', 'acc'],
            additionalProperties: false,
            // A task split without examples measures NaN, which JSON writes as null.
            properties: { task: integer, acc: { type: 'array', items: { type: ['number', 'null'] } } },
          },
        },
      },
    },
    tensors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'kind', 'shape', 'offset', 'length'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', minLength: 1 },
          kind: { enum: ['weight', 'slot', 'best', 'synapse'] },
          shape: { type: 'array', items: integer },
          offset: integer,
          length: integer,
        },
      },
    },
  },
} as const;

let validateHeader: ReturnType<Ajv['compile']> | undefined;

/** The first way `header` breaks the schema, or undefined. The validator is compiled once. */
function headerSchemaError(header: unknown): string | undefined {
  validateHeader ??= new Ajv({ strict: true, allowUnionTypes: true }).compile(headerSchema);
  if (validateHeader(header)) return undefined;
  const error = validateHeader.errors?.[0] as ErrorObject | undefined;
  if (!error) return 'does not match the checkpoint schema';
  const where = error.instancePath === '' ? 'the header' : error.instancePath;
  const extra = 'additionalProperty' in error.params ? ` '${String(error.params['additionalProperty'])}'` : '';
  return `${where} ${error.message ?? 'is invalid'}${extra}`;
}

const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** A checksum fed chunk by chunk. */
interface Checksum {
  update(bytes: Uint8Array): void;
}

let crcTable: Int32Array | undefined;

/** CRC-32 by table, for Node versions before 20.15 (no zlib.crc32). */
export function crc32InJs(bytes: Uint8Array, value: number): number {
  if (!crcTable) {
    crcTable = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c;
    }
  }
  let crc = ~value;
  for (let i = 0; i < bytes.length; i++) crc = crcTable[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

const crc32: (bytes: Uint8Array, value: number) => number = typeof zlib.crc32 === 'function' ? zlib.crc32 : crc32InJs;

class Crc32 implements Checksum {
  value = 0;
  update(bytes: Uint8Array): void {
    this.value = crc32(bytes, this.value);
  }
}

// ---------------------------------------------------------------------------------------
// Writing

/** Where encoded bytes go: a file (writeCheckpoint) or memory (tests). */
export interface ByteSink {
  /** Writes all of `bytes`; the caller does not touch them until the promise settles. */
  write(bytes: Uint8Array): Promise<void>;
}

function chunkSize(options: CheckpointIoOptions): number {
  const chunk = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!Number.isInteger(chunk) || chunk < 4 || chunk % 4 !== 0 || chunk > 1 << 30) {
    throw new RangeError(`checkpoint chunk size must be a multiple of 4 bytes between 4 and 1 GiB, got ${chunk}`);
  }
  return chunk;
}

/** The byte views of a tensor's memory in chunks of at most `chunk` bytes, without copying (each view is taken when it is reached). */
function* chunksOf(memory: TensorMemory, chunk: number): Generator<Uint8Array> {
  const bytes = memory.length * 4;
  for (let start = 0; start < bytes; start += chunk) yield memory.bytes(start, Math.min(chunk, bytes - start));
}

/**
 * Encodes a checkpoint into `sink`, tensor by tensor: each tensor's values are asked
 * for when the writer reaches it and written and checksummed in chunks, so the
 * memory this takes beyond the tensors themselves is what `values()` returns for one
 * tensor (nothing where it is the tensor's own memory, a copy otherwise).
 */
export async function encodeCheckpoint(contents: CheckpointToSave, sink: ByteSink, options: CheckpointIoOptions = {}): Promise<void> {
  const chunk = chunkSize(options);
  const entries: TensorEntry[] = [];
  let offset = 0;
  for (const t of contents.tensors) {
    const length = product(t.shape);
    entries.push({ name: t.name, kind: t.kind, shape: [...t.shape], offset, length });
    offset += length;
  }
  const header: Header = {
    planHash: contents.planHash,
    metricsBytes: contents.metricsBytes,
    state: contents.state,
    tensors: entries,
    savedAt: new Date().toISOString(),
    ...(contents.normalization ? { normalization: contents.normalization } : {}),
  };
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  if (json.length % 4 !== 0) json = Buffer.concat([json, Buffer.alloc(4 - (json.length % 4), 0x20)]);
  const head = Buffer.alloc(PREFIX_BYTES + json.length);
  head.write(MAGIC, 0, 'ascii');
  head.writeUInt32LE(CHECKPOINT_VERSION, 8);
  head.writeUInt32LE(json.length, 12);
  json.copy(head, PREFIX_BYTES);

  const checksum = new Crc32();
  checksum.update(head);
  const total = head.length + offset * 4 + TRAILER_BYTES;
  const report = progressOf(options, total);
  let done = head.length;
  await sink.write(head);
  for (const [i, t] of contents.tensors.entries()) {
    const values = await t.values();
    const memory = values instanceof Float32Array ? arrayMemory(values) : values;
    if (memory.length !== entries[i]!.length) {
      throw new RangeError(`checkpoint tensor ${t.name}: ${memory.length} values for shape [${t.shape}]`);
    }
    for (const view of chunksOf(memory, chunk)) {
      // Big-endian machines write a byte-swapped copy of the chunk; little-endian ones the tensor's own bytes.
      const bytes = LITTLE_ENDIAN ? view : Buffer.from(view).swap32();
      // The chunk is written (by the thread pool, for a file) while this thread checksums it; neither changes it.
      const writing = sink.write(bytes);
      try {
        checksum.update(bytes);
      } finally {
        await writing;
      }
      faultPoint('checkpoint-chunk');
      done += bytes.length;
      report(done);
    }
  }
  const trailer = Buffer.alloc(TRAILER_BYTES);
  trailer.write(TRAILER_MARK, 0, 'ascii');
  trailer.writeUInt32LE(checksum.value, TRAILER_MARK.length);
  await sink.write(trailer);
  report(total);
}

/**
 * Chunks of at least this many bytes are written and read by the thread pool while this
 * thread checksums them; smaller ones (most tensors of a small net) synchronously,
 * where the checksum is too short to hide anything behind and a trip through the
 * thread pool and back costs more than the call (it measured up to 4x slower for
 * chunks of 1 MiB and less on a loaded 2-core machine).
 */
export const OVERLAP_MIN_BYTES = 1 << 20;

function fileSink(fd: number, overlapMinBytes: number): ByteSink & { bytesWritten(): number } {
  let position = 0;
  return {
    bytesWritten: () => position,
    async write(bytes) {
      const start = position;
      position += bytes.length;
      if (bytes.length < overlapMinBytes) {
        for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done, start + done);
        return;
      }
      for (let done = 0; done < bytes.length; ) {
        done += await new Promise<number>((resolve, reject) => write(fd, bytes, done, bytes.length - done, start + done, (error, n) => (error ? reject(error) : resolve(n))));
      }
    },
  };
}

/** Where writeCheckpoint keeps the file a checkpoint replaced, to overwrite it next time. */
export const previousFileName = (file: string) => `${file}.previous.tmp`;

/**
 * Opens `temporary` for writing: the previous file renamed to it when there is one that
 * nothing else links to (its pages are in the page cache: overwriting them needs no new
 * memory), else a new file.
 */
function openTemporary(dir: string, file: string, temporary: string, reuse: boolean): { fd: number; reused: boolean } {
  if (reuse) {
    let fd: number | undefined;
    try {
      fd = openSync(path.join(dir, previousFileName(file)), 'r+');
      const stat = fstatSync(fd);
      // A second link is the checkpoint itself (a crash between linking and renaming below) or a copy someone keeps: never overwrite those.
      if (stat.isFile() && stat.nlink === 1) {
        renameSync(path.join(dir, previousFileName(file)), temporary);
        return { fd, reused: true };
      }
    } catch {
      // None, or not a file this process can overwrite: write a new one.
    }
    if (fd !== undefined) closeSync(fd);
  }
  return { fd: openSync(temporary, 'wx'), reused: false };
}

/**
 * Replaces `dir/checkpoint.bin` (or `options.file`: best.bin) atomically: the bytes go
 * to a temporary file in the same folder, are fsynced, and the file is renamed over the
 * old one (then the folder is fsynced so the rename itself survives a power cut). A
 * crash at any point leaves either the old file or the new one, never a mix; a failed
 * write (a full disk) removes its temporary file and is a WriteFailure naming the file.
 *
 * The temporary file is the one the last write replaced, kept under
 * `<file>.previous.tmp` (a second link to the old checkpoint made just before the
 * rename) and overwritten in place: on a VM that hands memory back to its host (this
 * build machine), a new file's page cache is fresh memory at 250-400 MB/s, and the
 * previous file's is already there. It costs a second checkpoint's room on disk while a
 * run goes on; runSession removes it when the run ends (removeStaleTemporaries).
 */
export async function writeCheckpoint(dir: string, contents: CheckpointToSave, options: CheckpointIoOptions = {}): Promise<void> {
  const file = options.file ?? CHECKPOINT_FILE;
  const target = path.join(dir, file);
  const temporary = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  let fd: number | undefined;
  try {
    let reused: boolean;
    ({ fd, reused } = openTemporary(dir, file, temporary, options.reusePrevious ?? true));
    const sink = fileSink(fd, options.overlapMinBytes ?? OVERLAP_MIN_BYTES);
    await encodeCheckpoint(contents, sink, options);
    // An overwritten file may have been longer.
    if (reused) ftruncateSync(fd, sink.bytesWritten());
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    if (options.reusePrevious ?? true) keepPrevious(target, path.join(dir, previousFileName(file)));
    await fs.rename(temporary, target);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    await fs.rm(temporary, { force: true }).catch(() => undefined);
    throw writeFailure(target, error);
  }
  await syncFolder(dir);
}

/** Links the checkpoint about to be replaced as the next write's file; where that fails (no checkpoint yet, no hard links here) there is none. */
function keepPrevious(target: string, previous: string): void {
  try {
    statSync(target);
  } catch {
    return;
  }
  try {
    unlinkSync(previous);
  } catch {
    // None left over.
  }
  try {
    linkSync(target, previous);
  } catch {
    // A file system without hard links: the next write makes a new file.
  }
}

async function syncFolder(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } catch {
    // Some file systems cannot fsync a folder; the rename is still atomic there.
  } finally {
    await handle.close();
  }
}

// ---------------------------------------------------------------------------------------
// Reading

/** Where encoded bytes come from: a file (readCheckpoint) or memory (tests). */
export interface ByteSource {
  /** Total bytes. */
  readonly size: number;
  /** Fills all of `target` from `position`; rejects if the source ends first. */
  readInto(target: Uint8Array, position: number): Promise<void>;
}

/** Reads large chunks in the thread pool and small ones synchronously, for the reasons OVERLAP_MIN_BYTES gives. */
function fileSource(fd: number, size: number, overlapMinBytes: number): ByteSource {
  const ended = (at: number) => new Error(`the file ended at byte ${at}, before its header said it would (${size})`);
  return {
    size,
    async readInto(target, position) {
      for (let done = 0; done < target.length; ) {
        const bytesRead =
          target.length < overlapMinBytes
            ? readSync(fd, target, done, target.length - done, position + done)
            : await new Promise<number>((resolve, reject) => read(fd, target, done, target.length - done, position + done, (error, n) => (error ? reject(error) : resolve(n))));
        if (bytesRead === 0) throw ended(position + done);
        done += bytesRead;
      }
    },
  };
}

/** A checked header and where the values start: what decodeHeader reads before any value. */
interface DecodedHeader {
  version: number;
  header: Header;
  prefix: Buffer;
  headerBytes: Buffer;
  valuesStart: number;
  bad(why: string): RuntimeFailure;
}

/** Reads and checks the prefix and the header: the schema, and the sizes against the file's. */
async function decodeHeader(source: ByteSource, where: string): Promise<DecodedHeader> {
  const bad = (why: string) => new RuntimeFailure(`${where} is not a readable mono checkpoint: ${why}`);
  const prefix = Buffer.alloc(PREFIX_BYTES);
  if (source.size < PREFIX_BYTES) throw bad(`only ${source.size} bytes`);
  await source.readInto(prefix, 0);
  if (prefix.toString('latin1', 0, 8) !== MAGIC) throw bad('wrong magic bytes');
  const version = prefix.readUInt32LE(8);
  if (version !== 1 && version !== CHECKPOINT_VERSION) throw bad(`format version ${version}, this mono reads versions 1 and ${CHECKPOINT_VERSION}`);
  const trailerBytes = version === 1 ? 0 : TRAILER_BYTES;
  const headerLength = prefix.readUInt32LE(12);
  if (headerLength > MAX_HEADER_BYTES || PREFIX_BYTES + headerLength + trailerBytes > source.size) {
    throw bad(`its header length (${headerLength} bytes) does not fit in the file (${source.size} bytes): truncated or damaged`);
  }
  const headerBytes = Buffer.alloc(headerLength);
  await source.readInto(headerBytes, PREFIX_BYTES);
  let header: Header;
  try {
    header = JSON.parse(headerBytes.toString('utf8')) as Header;
  } catch (error) {
    throw bad(`damaged header (not JSON: ${(error as Error).message})`);
  }
  const schemaError = headerSchemaError(header);
  if (schemaError) throw bad(`damaged header: ${schemaError}`);
  if ((version === 1) !== (header.valuesSha256 !== undefined)) throw bad(`damaged header: valuesSha256 ${version === 1 ? 'missing' : 'present'} in a version ${version} file`);

  let elements = 0;
  const seen = new Set<string>();
  for (const entry of header.tensors) {
    const key = `${entry.kind} ${entry.name}`;
    if (seen.has(key)) throw bad(`damaged header: ${key} is listed twice`);
    seen.add(key);
    if (entry.length !== product(entry.shape)) throw bad(`damaged header: ${key} has ${entry.length} values for shape [${entry.shape}]`);
    if (entry.offset !== elements) throw bad(`damaged header: ${key} starts at value ${entry.offset}, not ${elements}`);
    elements += entry.length;
  }
  const valuesStart = PREFIX_BYTES + headerLength;
  const expectedSize = valuesStart + elements * 4 + trailerBytes;
  if (expectedSize !== source.size) {
    throw bad(`the file has ${source.size} bytes but its header describes ${expectedSize}: truncated or damaged`);
  }
  return { version, header, prefix, headerBytes, valuesStart, bad };
}

/** The header as callers see it (no offsets, no format details). */
function publicHeader(header: Header): CheckpointHeader {
  return {
    planHash: header.planHash,
    metricsBytes: header.metricsBytes,
    state: header.state,
    tensors: header.tensors.map(({ name, kind, shape }) => ({ name, kind, shape })),
    ...(header.normalization ? { normalization: header.normalization } : {}),
  };
}

/**
 * Decodes a checkpoint from `source`, checking the header against the schema and the
 * sizes, and the whole file against its checksum, before returning anything. `where`
 * names the file in messages.
 *
 * Values go into new Float32Arrays (valueMemory.allocate), or straight into the memory
 * `options.destination` gives for an entry. Destinations are written as the file is
 * read, so when the checksum then fails they hold part of a damaged file: the failure
 * (a RuntimeFailure) must stop whatever owns them from using them (a resume discards
 * its network; see restoreCheckpointFile in load-checkpoint.ts).
 */
export async function decodeCheckpoint(source: ByteSource, where = 'checkpoint', options: ReadCheckpointOptions = {}): Promise<Checkpoint> {
  const chunk = chunkSize(options);
  const { version, header, prefix, headerBytes, valuesStart, bad } = await decodeHeader(source, where);
  options.checkHeader?.(publicHeader(header));
  const destinations = header.tensors.map((entry) => {
    if (entry.kind !== 'weight' && options.weightsOnly) return undefined;
    const destination = options.destination?.({ name: entry.name, kind: entry.kind, shape: entry.shape });
    if (destination && destination.length !== entry.length) {
      throw new RangeError(`checkpoint destination of ${entry.kind} ${entry.name}: ${destination.length} values for ${entry.length}`);
    }
    return destination;
  });

  // Version 2 checks everything before the trailer (CRC-32); version 1 only the values (sha256).
  const crc = new Crc32();
  const sha256 = createHash('sha256');
  const checksum: Checksum = version === 1 ? { update: (bytes) => void sha256.update(bytes) } : crc;
  if (version !== 1) {
    checksum.update(prefix);
    checksum.update(headerBytes);
  }
  const weights: NamedWeights[] = [];
  const slots: OptimizerState['slots'] = [];
  const bestWeights: NamedWeights[] = [];
  const synapseTensors: OptimizerState['slots'] = [];
  const readInPlace: string[] = [];
  // Skipped tensors (--init-from's slots) and those with a destination are read into two scratch
  // chunks, in turn: one is checksummed (and copied to its destination) while the next is read.
  const scratch: Uint8Array[] = [];
  let turn = 0;
  const scratchChunk = (length: number) => (scratch[turn++ % 2] ??= new Uint8Array(chunk)).subarray(0, length);
  function* valueViews(): Generator<ValueChunk> {
    for (const [i, entry] of header.tensors.entries()) {
      const bytes = entry.length * 4;
      if (entry.kind !== 'weight' && options.weightsOnly) {
        for (let start = 0; start < bytes; start += chunk) yield { bytes: scratchChunk(Math.min(chunk, bytes - start)) };
        continue;
      }
      const destination = destinations[i];
      if (destination) {
        readInPlace.push(`${entry.kind} ${entry.name}`);
        for (let start = 0; start < bytes; start += chunk) {
          // Copied after the read and the checksum, with the destination's view taken then (a wasm heap may have
          // grown since the last chunk), rather than read into directly: on the build machine, the kernel's first
          // write into memory a process has touched ran at 300-400 MB/s, this copy at several GB/s (docs/runtime.md).
          yield { bytes: scratchChunk(Math.min(chunk, bytes - start)), deliver: (read) => destination.bytes(start, read.length).set(read) };
        }
        continue;
      }
      let values: Float32Array;
      try {
        values = valueMemory.allocate(entry.length);
      } catch {
        throw new RuntimeFailure(`${where}: tensor ${entry.name} (${entry.length} values) does not fit in memory`);
      }
      // Listed now, filled by the reads below; nothing is returned before every read is done and checked.
      (entry.kind === 'weight' ? weights : entry.kind === 'slot' ? slots : entry.kind === 'best' ? bestWeights : synapseTensors).push({ name: entry.name, shape: entry.shape, values });
      // Reads go straight into the tensor's memory.
      for (const view of chunksOf(arrayMemory(values), chunk)) yield { bytes: view };
    }
  }
  const report = progressOf(options, source.size);
  const position = await readChecked(source, valueViews(), valuesStart, checksum, report);
  if (version === 1) {
    if (sha256.digest('hex') !== header.valuesSha256) throw bad('values do not match their checksum');
  } else {
    const trailer = Buffer.alloc(TRAILER_BYTES);
    await source.readInto(trailer, position);
    if (trailer.toString('latin1', 0, TRAILER_MARK.length) !== TRAILER_MARK || trailer.readUInt32LE(TRAILER_MARK.length) !== crc.value) {
      throw bad('the file does not match its checksum (damaged)');
    }
  }
  report(source.size);
  const optimizer = header.state.optimizer ? { ...header.state.optimizer, slots } : null;
  const { earlyStop: watch, synapse: synapseScalars, ...scalars } = header.state;
  const earlyStop = watch ? { ...watch, ...(bestWeights.length > 0 ? { weights: bestWeights } : {}) } : watch;
  const synapse = synapseScalars ? { synapse: { ...synapseScalars, tensors: synapseTensors } } : {};
  return {
    planHash: header.planHash,
    metricsBytes: header.metricsBytes,
    state: { ...scalars, optimizer, ...(earlyStop !== undefined ? { earlyStop } : {}), ...synapse },
    weights,
    ...(header.normalization ? { normalization: header.normalization } : {}),
    ...(readInPlace.length > 0 ? { readInPlace } : {}),
  };
}

/** A chunk of values to read: where the read goes, and where it is copied once checked (a destination), if anywhere else. */
interface ValueChunk {
  bytes: Uint8Array;
  deliver?(bytes: Uint8Array): void;
}

/**
 * Reads consecutive chunks from `position`, checking each as it arrives (and copying it to
 * its destination, if it has one);
 * returns the position after them. The next chunk is read (by the thread pool, for a
 * file) while this thread checksums the one before.
 */
async function readChecked(source: ByteSource, chunks: Iterator<ValueChunk>, position: number, checksum: Checksum, report: (done: number) => void): Promise<number> {
  let next = chunks.next();
  if (next.done) return position;
  let current = next.value;
  let reading = source.readInto(current.bytes, position);
  position += current.bytes.length;
  for (;;) {
    const currentEnd = position;
    await reading;
    next = chunks.next();
    const following = next.done ? undefined : next.value;
    if (following) {
      reading = source.readInto(following.bytes, position);
      position += following.bytes.length;
    }
    const view = current.bytes;
    checksum.update(view);
    // The checksum is of the file's little-endian bytes; a big-endian machine swaps them afterwards.
    if (!LITTLE_ENDIAN) Buffer.from(view.buffer, view.byteOffset, view.byteLength).swap32();
    current.deliver?.(view);
    report(currentEnd);
    if (!following) return position;
    current = following;
  }
}

export async function hasCheckpoint(dir: string, file: string = CHECKPOINT_FILE): Promise<boolean> {
  return fs.access(path.join(dir, file)).then(
    () => true,
    () => false,
  );
}

/** Opens the checkpoint in `dir` and runs `read` on it, every failure a RuntimeFailure naming the file. */
async function withCheckpointFile<T>(dir: string, options: CheckpointIoOptions, read: (source: ByteSource, file: string) => Promise<T>): Promise<T> {
  const file = path.join(dir, options.file ?? CHECKPOINT_FILE);
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    const what = options.file === undefined || options.file === CHECKPOINT_FILE ? 'checkpoint' : options.file;
    throw new RuntimeFailure(`no ${what} in ${dir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    return await read(fileSource(fd, fstatSync(fd).size, options.overlapMinBytes ?? OVERLAP_MIN_BYTES), file);
  } catch (error) {
    if (error instanceof RuntimeFailure) throw error;
    throw new RuntimeFailure(`cannot read ${file}: ${(error as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

export async function readCheckpoint(dir: string, options: ReadCheckpointOptions = {}): Promise<Checkpoint> {
  return withCheckpointFile(dir, options, (source, file) => decodeCheckpoint(source, file, options));
}

/**
 * The header of the checkpoint in `dir`, checked against the schema and the file's size
 * but not against the checksum (that needs every value: readCheckpoint checks it).
 * What a resume decides before its network exists: the plan hash, the position.
 */
export async function readCheckpointHeader(dir: string, options: CheckpointIoOptions = {}): Promise<CheckpointHeader> {
  return withCheckpointFile(dir, options, async (source, file) => publicHeader((await decodeHeader(source, file)).header));
}

/**
 * Removes the temporary files of the run folder (the caller holds its lock): those a
 * killed writer left behind, and the previous files writeCheckpoint keeps to overwrite
 * (at the end of a run, to give their disk space back).
 */
export async function removeStaleTemporaries(dir: string): Promise<void> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  const files = [CHECKPOINT_FILE, BEST_CHECKPOINT_FILE];
  const temporary = (n: string) => files.some((file) => n.startsWith(`${file}.tmp-`) || n === previousFileName(file));
  // Only files: mono never makes a folder under these names, so one is the user's to keep.
  await Promise.all(entries.filter((e) => e.isFile() && temporary(e.name)).map((e) => fs.rm(path.join(dir, e.name), { force: true })));
}

// ---------------------------------------------------------------------------------------
// Fit to a plan

export interface ExpectedTensor {
  name: string;
  kind: TensorKind;
  shape: readonly number[];
}

/**
 * How the tensors of a checkpoint differ from what a plan expects: one line per tensor
 * missing from the checkpoint, not in the plan, or of another shape (empty when they fit).
 */
export function tensorMismatches(checkpoint: Pick<Checkpoint, 'weights' | 'state'>, expected: readonly ExpectedTensor[]): string[] {
  const entries: CheckpointEntry[] = [];
  for (const w of checkpoint.weights) entries.push({ name: w.name, kind: 'weight', shape: w.shape });
  for (const s of checkpoint.state.optimizer?.slots ?? []) entries.push({ name: s.name, kind: 'slot', shape: s.shape });
  for (const b of checkpoint.state.earlyStop?.weights ?? []) entries.push({ name: b.name, kind: 'best', shape: b.shape });
  for (const s of checkpoint.state.synapse?.tensors ?? []) entries.push({ name: s.name, kind: 'synapse', shape: s.shape });
  return entryMismatches(entries, expected);
}

/** tensorMismatches for the tensors a header lists (before their values are read). */
export function entryMismatches(entries: readonly CheckpointEntry[], expected: readonly ExpectedTensor[]): string[] {
  const actual = new Map<string, readonly number[]>();
  for (const e of entries) actual.set(`${e.kind} ${e.name}`, e.shape);
  const wanted = new Map(expected.map((e) => [`${e.kind} ${e.name}`, e.shape]));
  const problems: string[] = [];
  for (const [key, shape] of wanted) {
    const found = actual.get(key);
    if (!found) problems.push(`${key} is missing from the checkpoint`);
    else if (found.length !== shape.length || found.some((d, i) => d !== shape[i])) problems.push(`${key} has shape [${found}] in the checkpoint, [${shape}] in the plan`);
  }
  for (const key of actual.keys()) if (!wanted.has(key)) problems.push(`${key} is not in the plan`);
  return problems;
}
