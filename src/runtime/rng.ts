/**
 * Seeded pseudo-random numbers for everything in a run that must be repeatable:
 * shuffling, augmentation, hold-out splits, synthetic data, initialisation.
 *
 * The generator is xoshiro128** (four 32-bit words of state), seeded through
 * splitmix32 so that nearby seeds give unrelated streams. Its whole state is four
 * integers, which a checkpoint stores with `getState()`; `fromState` continues
 * the exact same sequence.
 */

const TWO_POW_32 = 4294967296;
const STATE_WORDS = 4;

/** One step of splitmix32: advances `state` by the golden-ratio increment and mixes it. */
function splitmix32(state: number): { state: number; value: number } {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return { state: next, value: z >>> 0 };
}

function rotateLeft(value: number, bits: number): number {
  return (value << bits) | (value >>> (32 - bits));
}

/** Spreads a list of 32-bit words into a full, never all-zero, generator state. */
function expandSeedWords(words: number[]): Uint32Array {
  let mixer = 0;
  for (const word of words) mixer = splitmix32((mixer ^ word) | 0).value | 0;
  const state = new Uint32Array(STATE_WORDS);
  for (let i = 0; i < STATE_WORDS; i++) {
    const step = splitmix32(mixer);
    mixer = step.state;
    state[i] = step.value;
  }
  // xoshiro is stuck at zero forever from the all-zero state.
  if (state.every((word) => word === 0)) state[0] = 1;
  return state;
}

/** The two 32-bit halves of a float64, so every finite number (even 1.5 or 2**40) is a distinct seed. */
function seedWords(seed: number): number[] {
  if (!Number.isFinite(seed)) throw new RangeError(`Rng seed must be a finite number, got ${seed}`);
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, seed === 0 ? 0 : seed); // folds -0 into 0
  return [view.getUint32(0), view.getUint32(4)];
}

export class Rng {
  private readonly state: Uint32Array;

  constructor(seed: number) {
    this.state = expandSeedWords(seedWords(seed));
  }

  /** Next raw 32-bit output (xoshiro128**). */
  private nextUint32(): number {
    const s = this.state;
    let s0 = s[0]!;
    let s1 = s[1]!;
    let s2 = s[2]!;
    let s3 = s[3]!;
    const result = Math.imul(rotateLeft(Math.imul(s1, 5), 7), 9) >>> 0;
    const shifted = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= shifted;
    s3 = rotateLeft(s3, 11);
    s[0] = s0;
    s[1] = s1;
    s[2] = s2;
    s[3] = s3;
    return result;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** Uniform integer in [0, n); n a positive integer up to 2^32. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > TWO_POW_32) {
      throw new RangeError(`Rng.int needs a positive integer bound up to 2^32, got ${n}`);
    }
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box-Muller; one draw per call so the state alone describes the stream). */
  normal(): number {
    const u = 1 - this.next(); // in (0, 1], keeps log finite
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** In-place Fisher-Yates shuffle. */
  shuffle<T>(items: T[] | Int32Array): void {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const held = items[i]!;
      items[i] = items[j]!;
      items[j] = held;
    }
  }

  /**
   * An independent child stream derived from this generator's current state and
   * `stream`. The parent does not advance, so the same fork can be re-created.
   */
  fork(stream: number): Rng {
    const child = new Rng(0);
    child.state.set(expandSeedWords([...this.state, ...seedWords(stream)]));
    return child;
  }

  getState(): number[] {
    return Array.from(this.state);
  }

  static fromState(state: number[]): Rng {
    const valid =
      state.length === STATE_WORDS &&
      state.every((word) => Number.isInteger(word) && word >= 0 && word < TWO_POW_32) &&
      state.some((word) => word !== 0);
    if (!valid) {
      throw new RangeError(`Rng state must be ${STATE_WORDS} unsigned 32-bit integers, not all zero; got ${JSON.stringify(state)}`);
    }
    const rng = new Rng(0);
    rng.state.set(state);
    return rng;
  }
}
