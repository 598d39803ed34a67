import type { Initializer, Shape } from '../ir/types.js';

/** The part of the project's seeded Rng (src/runtime/rng.ts) that initialisation needs. */
export interface RandomSource {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal. */
  normal(): number;
  /** An independent child stream; the parent does not advance. */
  fork(stream: number): RandomSource;
}

/**
 * A 32-bit stream number for a parameter name (FNV-1a). Each parameter draws from
 * its own stream, so its initial values depend on the seed and its name only:
 * editing a later partition or a head leaves every other parameter's start as it was.
 */
export function parameterStream(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * Fan-in and fan-out as Keras counts them: a conv kernel [kh, kw, in, out] has
 * fan-in kh*kw*in and fan-out kh*kw*out; a dense kernel [in, out] has in and out.
 */
export function fans(shape: Shape): { fanIn: number; fanOut: number } {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0]!, fanOut: shape[0]! };
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return { fanIn: receptive * shape[shape.length - 2]!, fanOut: receptive * shape[shape.length - 1]! };
}

/**
 * Initial values of one parameter, drawn from `rng` (the parameter's own stream) so
 * that a seed gives the same network on every backend. he_normal is an untruncated
 * normal with std sqrt(2 / fanIn); fan_in_uniform is U(-l, l) with l = 1 / sqrt(fanIn);
 * glorot_uniform is U(-l, l) with l = sqrt(6 / (fanIn + fanOut)).
 */
export function initialValues(init: Initializer, shape: Shape, rng: RandomSource): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  switch (init) {
    case 'zeros':
      return values;
    case 'ones':
      return values.fill(1);
    case 'he_normal': {
      const std = Math.sqrt(2 / fans(shape).fanIn);
      for (let i = 0; i < size; i++) values[i] = rng.normal() * std;
      return values;
    }
    case 'fan_in_uniform': {
      // PyTorch's default for conv and linear weights (kaiming_uniform with a = sqrt(5)).
      const limit = 1 / Math.sqrt(fans(shape).fanIn);
      for (let i = 0; i < size; i++) values[i] = (rng.next() * 2 - 1) * limit;
      return values;
    }
    case 'stdp_normal': {
      // The spiking-network paper's N(0.8, 0.01^2); the STDP rule's soft bound w(1 - w) needs w in [0, 1].
      for (let i = 0; i < size; i++) values[i] = Math.min(1, Math.max(0, 0.8 + 0.01 * rng.normal()));
      return values;
    }
    case 'glorot_uniform': {
      const { fanIn, fanOut } = fans(shape);
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < size; i++) values[i] = (rng.next() * 2 - 1) * limit;
      return values;
    }
  }
}
