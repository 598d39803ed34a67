/**
 * The exchange folder between mono and the PyTorch replica (bench/pytorch_replica.py):
 * the IR, the exact data mono trains on, and per seed the data order mono's trainer
 * draws and mono's initial weights. Everything the replica needs to run the same
 * plan on the same examples in the same order from the same start.
 *
 *   plan.json                  { ir, trained: {phase: [{name, mult}]}, extraPhases, data: {train, holdout} }
 *   train.images.f32 / .labels.i32, holdout.images.f32 / .labels.i32   (NHWC float32, int32, little-endian)
 *   seed-N/order.i32           example indices, every epoch of every phase one after another
 *   seed-N/order.json          { epochs: [{phase, epoch, offset, count, steps}] }
 *   seed-N/augment.i8          (dy, dx, flip) per entry of order.i32, when the plan augments
 *   seed-N/init.f32 / .json    mono's initial weights for the seed (mono's layouts)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Augmentation, IR, PhaseSpec, ScheduleSpec } from '../../src/ir/types.js';
import { Optimizer } from '../../src/optim/optimizers.js';
import { batchesPerEpoch, epochBatches } from '../../src/runtime/data/batches.js';
import type { LoadedData, Split } from '../../src/runtime/data/dataset.js';
import { identityOrder } from '../../src/runtime/data/holdout.js';
import { Network, type NamedWeights } from '../../src/runtime/graph.js';
import type { Rng } from '../../src/runtime/rng.js';
import { gradientOptimizer, optimizedParams, phaseGraph } from '../../src/runtime/step.js';
import { runRngs } from '../../src/runtime/trainer.js';

/** One crop / flip as mono's Augmenter drew it for one example. */
export interface AugmentMove {
  dy: number;
  dx: number;
  flip: boolean;
}

export interface EpochOrder {
  /** Example indices into the training split, in the order the batches take them. */
  order: Int32Array;
  /** Per entry of `order`, when the plan augments. */
  moves?: AugmentMove[];
  steps: number;
}

/**
 * The side of the probe images: big enough that a crop shifted by up to `pad`
 * still shows two pixels of one row (which gives the flip) whatever the shift.
 */
function probeSide(augment: readonly Augmentation[]): number {
  const pads = augment.map((a) => (a.type === 'crop' ? a.pad : 0));
  return augment.length === 0 ? 1 : Math.max(3, 2 * Math.max(0, ...pads) + 2);
}

function checkSupported(augment: readonly Augmentation[]): void {
  const crops = augment.filter((a) => a.type === 'crop').length;
  const flips = augment.filter((a) => a.type === 'flip').length;
  if (crops > 1 || flips > 1) {
    throw new Error(`the PyTorch replica supports at most one crop and one flip, the plan augments with ${JSON.stringify(augment)}`);
  }
}

/**
 * Reads back what mono's Augmenter did to a probe image whose pixel (y, x) holds
 * 1 + y*side + x: any mix of one crop and one flip maps out(y, x) = in(y + a, s*x + b)
 * (zero outside), and (a, s, b) give dy, the flip and dx.
 */
export function decodeMove(image: Float32Array, side: number, augment: readonly Augmentation[]): AugmentMove {
  let first: [number, number] | undefined;
  let second: [number, number] | undefined;
  for (let y = 0; y < side && !second; y++) {
    first = undefined;
    for (let x = 0; x < side; x++) {
      if (image[y * side + x]! === 0) continue;
      if (!first) first = [y, x];
      else {
        second = [y, x];
        break;
      }
    }
  }
  if (!first || !second) throw new Error('augmentation probe: no row with two pixels left; the crop pad is larger than the probe');
  const source = (y: number, x: number) => {
    const v = image[y * side + x]! - 1;
    return [Math.floor(v / side), v % side] as const;
  };
  const [sy, sx] = source(first[0], first[1]);
  const [, sx2] = source(second[0], second[1]);
  const s = (sx2 - sx) / (second[1] - first[1]);
  const a = sy - first[0];
  const b = sx - s * first[1];
  const flip = s < 0;
  const cropIndex = augment.findIndex((step) => step.type === 'crop');
  const flipIndex = augment.findIndex((step) => step.type === 'flip');
  let dx = b;
  // crop then flip: out(y, x) = in(y + dy, side-1 - x + dx); flip then crop: in(y + dy, side-1 - x - dx).
  if (flip) dx = cropIndex < flipIndex ? b - (side - 1) : side - 1 - b;
  return { dy: a, dx: dx === 0 ? 0 : dx, flip };
}

/**
 * The order (and crops / flips) of one epoch exactly as mono's trainer draws it:
 * mono's own epochBatches runs on probe data with the same Rng, so the Rng advances
 * exactly as in training. The labels of the probe split are the example indices.
 */
export function epochOrder(count: number, batch: number, augment: readonly Augmentation[], rng: Rng): EpochOrder {
  checkSupported(augment);
  const side = probeSide(augment);
  const length = side * side;
  const probe = new Float32Array(length);
  for (let i = 0; i < length; i++) probe[i] = 1 + i;
  const images = new Float32Array(count * length);
  for (let k = 0; k < count; k++) images.set(probe, k * length);
  const split: Split = { images, labels: identityOrder(count), count, shape: [side, side, 1] };
  const dropLast = count >= batch;
  const steps = batchesPerEpoch(count, batch, dropLast);
  const order: number[] = [];
  const moves: AugmentMove[] = [];
  for (const b of epochBatches(split, { batch, shuffle: true, augment: [...augment], rng, dropLast })) {
    for (let k = 0; k < b.size; k++) {
      order.push(b.labels[k]!);
      if (augment.length > 0) moves.push(decodeMove(b.images.subarray(k * length, (k + 1) * length), side, augment));
    }
  }
  return { order: Int32Array.from(order), ...(augment.length > 0 ? { moves } : {}), steps };
}

export interface EpochEntry {
  phase: string;
  epoch: number;
  offset: number;
  count: number;
  steps: number;
}

/** Every epoch of every phase for a seed, in training order, as one order array. */
export function runOrder(ir: IR, trainCount: number, seed: number): { order: Int32Array; moves?: AugmentMove[]; epochs: EpochEntry[] } {
  const rng = runRngs(seed).data;
  const parts: EpochOrder[] = [];
  const epochs: EpochEntry[] = [];
  let offset = 0;
  for (const phase of ir.phases) {
    for (let epoch = 0; epoch < phase.epochs; epoch++) {
      const part = epochOrder(trainCount, ir.data.batch, ir.data.augment, rng);
      parts.push(part);
      epochs.push({ phase: phase.name, epoch: epoch + 1, offset, count: part.order.length, steps: part.steps });
      offset += part.order.length;
    }
  }
  const order = new Int32Array(offset);
  parts.forEach((part, i) => order.set(part.order, epochs[i]!.offset));
  const moves = ir.data.augment.length > 0 ? parts.flatMap((part) => part.moves!) : undefined;
  return { order, ...(moves ? { moves } : {}), epochs };
}

/** Why the replica cannot rebuild this plan (checked before anything runs), or undefined. */
export function unsupportedByReplica(ir: IR): string | undefined {
  const rebuilt = new Set(['constant', 'step', 'multistep', 'exponential', 'cosine', 'linear', 'warmup', 'onecycle', 'anneal', 'plateau']);
  const scheduleProblem = (spec: ScheduleSpec): string | undefined => {
    if (spec.type === 'warmup') return scheduleProblem(spec.then);
    return rebuilt.has(spec.type) ? undefined : `its '${spec.type}' schedule (MI-driven schedules need mono's MI estimator)`;
  };
  for (const phase of ir.phases) {
    const problem = scheduleProblem(phase.lr) ?? scheduleProblem(phase.momentum);
    if (problem) return `phase ${phase.name}: the PyTorch replica does not rebuild ${problem}`;
    if (phase.optimizer.type === 'rmsprop') return `phase ${phase.name}: the PyTorch replica does not rebuild rmsprop`;
    if (phase.optimizer.type === 'stdp') return `phase ${phase.name}: the PyTorch replica does not rebuild stdp`;
    if (phase.optimizer.type !== 'adam' && phase.optimizer.lars) return `phase ${phase.name}: the PyTorch replica does not rebuild LARS`;
  }
  const augment = ir.data.augment;
  if (augment.filter((a) => a.type === 'crop').length > 1 || augment.filter((a) => a.type === 'flip').length > 1) {
    return `the PyTorch replica supports at most one crop and one flip, the plan augments with ${JSON.stringify(augment)}`;
  }
  return undefined;
}

// ---------------------------------------------------------------- weights files

export function writeWeights(folder: string, stem: string, weights: readonly NamedWeights[]): void {
  const total = weights.reduce((sum, w) => sum + w.values.length, 0);
  const values = new Float32Array(total);
  const index: { name: string; shape: number[]; offset: number; length: number }[] = [];
  let offset = 0;
  for (const w of weights) {
    values.set(w.values, offset);
    index.push({ name: w.name, shape: [...w.shape], offset, length: w.values.length });
    offset += w.values.length;
  }
  writeFileSync(join(folder, `${stem}.f32`), littleEndianBytes(values));
  writeFileSync(join(folder, `${stem}.json`), JSON.stringify(index));
}

export function readWeights(folder: string, stem: string): NamedWeights[] {
  const index = JSON.parse(readFileSync(join(folder, `${stem}.json`), 'utf8')) as { name: string; shape: number[]; offset: number; length: number }[];
  const bytes = readFileSync(join(folder, `${stem}.f32`));
  const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return index.map((e) => ({ name: e.name, shape: e.shape, values: values.slice(e.offset, e.offset + e.length) }));
}

function littleEndianBytes(array: Float32Array | Int32Array | Int8Array): Uint8Array {
  // Every platform Node runs on here is little-endian; the Python side reads '<f4' / '<i4'.
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

// ---------------------------------------------------------------- the folder

/** The parameters each phase's optimizer updates and their lr multipliers, from mono's own phase graph. */
export function trainedParams(network: Network, phases: readonly PhaseSpec[]): Record<string, { name: string; mult: number }[]> {
  const result: Record<string, { name: string; mult: number }[]> = {};
  for (const phase of phases) {
    const params = optimizedParams(network, phaseGraph(network, phase));
    const optimizer = new Optimizer(gradientOptimizer(phase), params, phase.lrMultipliers);
    const multipliers = optimizer.multipliers();
    optimizer.dispose();
    result[phase.name] = params.map((p) => ({ name: p.name, mult: multipliers.get(p.name) ?? 1 }));
  }
  return result;
}

function writeSplit(folder: string, name: string, split: Split): { count: number; shape: number[] } {
  writeFileSync(join(folder, `${name}.images.f32`), littleEndianBytes(split.images));
  writeFileSync(join(folder, `${name}.labels.i32`), littleEndianBytes(split.labels));
  return { count: split.count, shape: [...split.shape] };
}

/**
 * Writes plan.json and the data. `extraPhases` are phases the benchmark times that the
 * plan does not have (an end-to-end phase for a plan without `finetune all`).
 */
export function writeExchange(folder: string, ir: IR, data: LoadedData, extraPhases: PhaseSpec[] = []): void {
  mkdirSync(folder, { recursive: true });
  const network = new Network(ir, runRngs(0).init);
  try {
    const trained = trainedParams(network, [...ir.phases, ...extraPhases]);
    const splits = { train: writeSplit(folder, 'train', data.train), holdout: writeSplit(folder, 'holdout', data.holdout) };
    const extra = Object.fromEntries(extraPhases.map((p) => [p.name, p]));
    writeFileSync(join(folder, 'plan.json'), JSON.stringify({ ir, trained, extraPhases: extra, data: splits }));
  } finally {
    network.dispose();
  }
}

/** A seed's data order, crops / flips and mono's initial weights. */
export async function writeSeed(folder: string, ir: IR, trainCount: number, seed: number): Promise<void> {
  const dir = join(folder, `seed-${seed}`);
  mkdirSync(dir, { recursive: true });
  const { order, moves, epochs } = runOrder(ir, trainCount, seed);
  writeFileSync(join(dir, 'order.i32'), littleEndianBytes(order));
  writeFileSync(join(dir, 'order.json'), JSON.stringify({ epochs }));
  if (moves) {
    const packed = new Int8Array(moves.length * 3);
    moves.forEach((m, i) => packed.set([m.dy, m.dx, m.flip ? 1 : 0], i * 3));
    writeFileSync(join(dir, 'augment.i8'), littleEndianBytes(packed));
  }
  const network = new Network(ir, runRngs(seed).init);
  try {
    writeWeights(dir, 'init', await network.getWeights());
  } finally {
    network.dispose();
  }
}
