import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { IR } from '../ir/types.js';
import type { OptimizerState } from '../optim/optimizers.js';
import { RuntimeFailure } from './errors.js';
import type { NamedWeights } from './graph.js';
import type { TrainerState } from './trainer.js';

/**
 * One checkpoint file, `checkpoint.bin`:
 *   bytes 0..7   "MONOCKPT"
 *   bytes 8..11  format version (uint32 LE)
 *   bytes 12..15 header length H (uint32 LE)
 *   H bytes      header JSON (utf-8, space-padded to a multiple of 4)
 *   the rest     float32 LE values of every tensor, at the offsets the header gives
 * The header holds the plan hash, the trainer state (phase, next epoch, schedules,
 * RNG states, optimizer scalars) and the tensor index, plus the sha256 of the values,
 * so a damaged file is refused rather than half loaded.
 */
export const CHECKPOINT_FILE = 'checkpoint.bin';
const MAGIC = 'MONOCKPT';
const FORMAT_VERSION = 1;
const LITTLE_ENDIAN = os.endianness() === 'LE';

export interface Checkpoint {
  planHash: string;
  /** Size of metrics.jsonl when the checkpoint was taken: resume truncates it back to this. */
  metricsBytes: number;
  state: TrainerState;
  weights: NamedWeights[];
}

interface TensorEntry {
  name: string;
  kind: 'weight' | 'slot';
  shape: number[];
  /** Offset in float32 elements from the start of the values. */
  offset: number;
  length: number;
}

interface Header {
  planHash: string;
  metricsBytes: number;
  state: Omit<TrainerState, 'optimizer'> & { optimizer: Omit<OptimizerState, 'slots'> | null };
  tensors: TensorEntry[];
  valuesSha256: string;
  savedAt: string;
}

/** What a run's checkpoints are tied to: the plan source and the params after --set. */
export function planHash(ir: Pick<IR, 'source' | 'params'>): string {
  const params = Object.fromEntries(Object.entries(ir.params).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return createHash('sha256').update(JSON.stringify({ source: ir.source.sha256, params })).digest('hex');
}

export function encodeCheckpoint(checkpoint: Checkpoint): Buffer {
  const tensors: TensorEntry[] = [];
  const arrays: Float32Array[] = [];
  let offset = 0;
  const add = (name: string, kind: TensorEntry['kind'], shape: number[], values: Float32Array) => {
    tensors.push({ name, kind, shape, offset, length: values.length });
    arrays.push(values);
    offset += values.length;
  };
  for (const w of checkpoint.weights) add(w.name, 'weight', w.shape, w.values);
  const optimizer = checkpoint.state.optimizer;
  for (const slot of optimizer?.slots ?? []) add(slot.name, 'slot', slot.shape, slot.values);
  const values = Buffer.alloc(offset * 4);
  let at = 0;
  for (const array of arrays) {
    if (LITTLE_ENDIAN) {
      values.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), at);
      at += array.byteLength;
    } else {
      for (let i = 0; i < array.length; i++, at += 4) values.writeFloatLE(array[i]!, at);
    }
  }
  const { slots: _slots, ...optimizerScalars } = optimizer ?? { slots: [] };
  const header: Header = {
    planHash: checkpoint.planHash,
    metricsBytes: checkpoint.metricsBytes,
    state: { ...checkpoint.state, optimizer: optimizer ? (optimizerScalars as Omit<OptimizerState, 'slots'>) : null },
    tensors,
    valuesSha256: createHash('sha256').update(values).digest('hex'),
    savedAt: new Date().toISOString(),
  };
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  if (json.length % 4 !== 0) json = Buffer.concat([json, Buffer.alloc(4 - (json.length % 4), 0x20)]);
  const prefix = Buffer.alloc(16);
  prefix.write(MAGIC, 0, 'ascii');
  prefix.writeUInt32LE(FORMAT_VERSION, 8);
  prefix.writeUInt32LE(json.length, 12);
  return Buffer.concat([prefix, json, values]);
}

export function decodeCheckpoint(bytes: Buffer, where = 'checkpoint'): Checkpoint {
  const bad = (why: string) => new RuntimeFailure(`${where} is not a readable mono checkpoint: ${why}`);
  if (bytes.length < 16 || bytes.toString('ascii', 0, 8) !== MAGIC) throw bad('wrong magic bytes');
  const version = bytes.readUInt32LE(8);
  if (version !== FORMAT_VERSION) throw bad(`format version ${version}, this mono reads ${FORMAT_VERSION}`);
  const headerLength = bytes.readUInt32LE(12);
  if (16 + headerLength > bytes.length) throw bad('truncated header');
  let header: Header;
  try {
    header = JSON.parse(bytes.toString('utf8', 16, 16 + headerLength)) as Header;
  } catch {
    throw bad('damaged header');
  }
  const values = bytes.subarray(16 + headerLength);
  if (createHash('sha256').update(values).digest('hex') !== header.valuesSha256) throw bad('values do not match their checksum');
  const read = (entry: TensorEntry) => {
    if (entry.offset < 0 || (entry.offset + entry.length) * 4 > values.length) throw bad(`tensor ${entry.name} lies outside the file`);
    const out = new Float32Array(entry.length);
    if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(values.subarray(entry.offset * 4, (entry.offset + entry.length) * 4));
    else for (let i = 0; i < entry.length; i++) out[i] = values.readFloatLE((entry.offset + i) * 4);
    return out;
  };
  const weights: NamedWeights[] = [];
  const slots: OptimizerState['slots'] = [];
  for (const entry of header.tensors) {
    const item = { name: entry.name, shape: entry.shape, values: read(entry) };
    (entry.kind === 'weight' ? weights : slots).push(item);
  }
  const optimizer = header.state.optimizer ? { ...header.state.optimizer, slots } : null;
  return { planHash: header.planHash, metricsBytes: header.metricsBytes, state: { ...header.state, optimizer }, weights };
}

/**
 * Replaces `dir/checkpoint.bin` atomically: the bytes go to a temporary file in the
 * same folder, are fsynced, and the file is renamed over the old one (then the folder
 * is fsynced so the rename itself survives a power cut). A crash at any point leaves
 * either the old checkpoint or the new one, never a mix.
 */
export async function writeCheckpoint(dir: string, checkpoint: Checkpoint): Promise<void> {
  const target = path.join(dir, CHECKPOINT_FILE);
  const temporary = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const bytes = encodeCheckpoint(checkpoint);
  const handle = await fs.open(temporary, 'w');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await fs.rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  await fs.rename(temporary, target);
  await syncFolder(dir);
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

export async function hasCheckpoint(dir: string): Promise<boolean> {
  return fs.access(path.join(dir, CHECKPOINT_FILE)).then(
    () => true,
    () => false,
  );
}

export async function readCheckpoint(dir: string): Promise<Checkpoint> {
  const file = path.join(dir, CHECKPOINT_FILE);
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (error) {
    throw new RuntimeFailure(`no checkpoint in ${dir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return decodeCheckpoint(bytes, file);
}

/** Removes temporary files a killed writer left behind. */
export async function removeStaleTemporaries(dir: string): Promise<void> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => n.startsWith(`${CHECKPOINT_FILE}.tmp-`)).map((n) => fs.rm(path.join(dir, n), { force: true })));
}
