import type { Shape } from '../ir/types.js';

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function shapeSize(shape: Shape): number {
  let size = 1;
  for (const dim of shape) size *= dim;
  return size;
}

export function isImage(shape: Shape): shape is [number, number, number] {
  return shape.length === 3;
}

export function isFlat(shape: Shape): shape is [number] {
  return shape.length === 1;
}

/** Output length of a sliding window (conv, pooling) along one axis; 0 or less when it does not fit. */
export function windowOutput(input: number, window: number, stride: number, padding: 'same' | 'valid'): number {
  return padding === 'same' ? Math.ceil(input / stride) : Math.floor((input - window) / stride) + 1;
}
