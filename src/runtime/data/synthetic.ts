/**
 * A seeded synthetic data set for tests and smoke runs: `classes` random prototype
 * examples (uniform in [0, 1)), of any shape (images [h, w, c] or vectors [n]), and
 * each example is its class's prototype plus
 * gaussian noise of standard deviation `noise`. With small noise the classes are
 * linearly separable (nearest prototype wins).
 */
import type { Shape } from '../../ir/types.js';
import { Rng } from '../rng.js';
import { exampleLength, type RawData } from './types.js';

export interface SyntheticOptions {
  examples: number;
  classes: number;
  shape: Shape;
  noise: number;
}

const PROTOTYPE_STREAM = 1;
const EXAMPLE_STREAM = 2;

export function makeSynthetic(options: SyntheticOptions, seed: number): RawData {
  const { examples, classes, shape, noise } = options;
  if (shape.length === 0 || !shape.every((size) => Number.isInteger(size) && size > 0)) {
    throw new RangeError(`synthetic data needs a shape of positive whole numbers ([h, w, c] or [n]), got ${JSON.stringify(shape)}`);
  }
  if (!Number.isInteger(examples) || examples <= 0) throw new RangeError(`synthetic data needs a positive number of examples, got ${examples}`);
  if (!Number.isInteger(classes) || classes < 2) throw new RangeError(`synthetic data needs at least 2 classes, got ${classes}`);
  if (!(noise >= 0)) throw new RangeError(`synthetic noise must be >= 0, got ${noise}`);

  const length = exampleLength(shape);
  const root = new Rng(seed);
  const prototypeRng = root.fork(PROTOTYPE_STREAM);
  const prototypes = new Float32Array(classes * length);
  for (let i = 0; i < prototypes.length; i++) prototypes[i] = prototypeRng.next();

  const exampleRng = root.fork(EXAMPLE_STREAM);
  const images = new Float32Array(examples * length);
  const labels = new Int32Array(examples);
  for (let example = 0; example < examples; example++) {
    const label = example % classes; // balanced classes; the hold-out permutation mixes them
    labels[example] = label;
    const from = label * length;
    const to = example * length;
    for (let i = 0; i < length; i++) images[to + i] = prototypes[from + i]! + (noise === 0 ? 0 : noise * exampleRng.normal());
  }
  return { name: 'synthetic', origin: `synthetic data (${examples} examples of ${JSON.stringify(shape)}, ${classes} classes)`, classes, train: { images, labels, count: examples, shape: [...shape] } };
}
