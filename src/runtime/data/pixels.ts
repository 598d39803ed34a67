/** Byte pixels (0..255) to floats in [0, 1], through a table so no division runs per pixel. */
const UNIT_OF_BYTE = new Float32Array(256).map((_, byte) => byte / 255);

export function bytesToUnit(bytes: Uint8Array, from: number, count: number, out: Float32Array, to: number): void {
  for (let i = 0; i < count; i++) out[to + i] = UNIT_OF_BYTE[bytes[from + i]!]!;
}

export function unitOfByte(byte: number): number {
  return UNIT_OF_BYTE[byte]!;
}
