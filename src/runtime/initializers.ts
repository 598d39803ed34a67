import type { Initializer, Shape } from '../ir/types.js';

/** The part of the project's seeded Rng (src/runtime/rng.ts) that initialisation needs. */
export interface RandomSource {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal. */
  normal(): number;
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
 * Initial values of one parameter, drawn from `rng` in a fixed order so that a
 * seed gives the same network on every backend. he_normal is an untruncated
 * normal with std sqrt(2 / fanIn); glorot_uniform is U(-l, l) with l = sqrt(6 / (fanIn + fanOut)).
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
    case 'glorot_uniform': {
      const { fanIn, fanOut } = fans(shape);
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < size; i++) values[i] = (rng.next() * 2 - 1) * limit;
      return values;
    }
  }
}
