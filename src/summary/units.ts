/**
 * Human-readable numbers for the dry-run summary: counts with SI suffixes
 * (437.2M), FLOPs with SI prefixes (1.3 GFLOP) and bytes with binary prefixes
 * (512 MiB), as people read them in papers and in `nvidia-smi`.
 */

const SI_SUFFIXES = ['', 'k', 'M', 'G', 'T', 'P'] as const;
const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** One decimal, without a trailing `.0`: 437.2, 512, 1.3. */
function oneDecimal(value: number): string {
  const rounded = Math.round(value * 10) / 10;
  return Number.isInteger(rounded) ? String(rounded) : rounded.toFixed(1);
}

/** Scales `value` by `base` until it is below `base`, carrying over when rounding reaches `base` (999.96k -> 1M). */
function scale(value: number, base: number, units: readonly string[]): { scaled: number; unit: string } {
  let index = 0;
  let scaled = Math.abs(value);
  while (index < units.length - 1 && Math.round(scaled * 10) / 10 >= base) {
    scaled /= base;
    index++;
  }
  return { scaled: Math.sign(value) * scaled, unit: units[index]! };
}

/** 437_234_123 -> `437.2M`; 950 -> `950`; 12_345 -> `12.3k`. */
export function formatCount(value: number): string {
  if (Math.abs(value) < 1000) return String(Math.round(value));
  const { scaled, unit } = scale(value, 1000, SI_SUFFIXES);
  return `${oneDecimal(scaled)}${unit}`;
}

/** 1.3e9 -> `1.3 GFLOP`. */
export function formatFlops(value: number): string {
  const { scaled, unit } = scale(value, 1000, SI_SUFFIXES);
  return `${oneDecimal(scaled)} ${unit}FLOP`;
}

/** 536_870_912 -> `512 MiB`. */
export function formatBytes(value: number): string {
  const { scaled, unit } = scale(value, 1024, BINARY_UNITS);
  return `${oneDecimal(scaled)} ${unit}`;
}

/** `[32, 32, 3]` */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Short numbers for hyper-parameters: 0.1, 1e-3, 5e-4, 0.9. */
export function formatValue(value: number): string {
  if (value === 0 || (Math.abs(value) >= 1e-2 && Math.abs(value) < 1e6)) return String(Number(value.toPrecision(6)));
  const [mantissa, exponent] = value.toExponential().split('e');
  return `${Number(Number(mantissa).toPrecision(6))}e${Number(exponent)}`;
}
