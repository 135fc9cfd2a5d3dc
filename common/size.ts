import { ValidationError } from './errors.js';

const UNITS: Record<string, bigint> = {
  '': 1n,
  b: 1n,
  k: 1024n,
  kib: 1024n,
  m: 1024n ** 2n,
  mib: 1024n ** 2n,
  g: 1024n ** 3n,
  gib: 1024n ** 3n,
  t: 1024n ** 4n,
  tib: 1024n ** 4n,
  kb: 1000n,
  mb: 1000n ** 2n,
  gb: 1000n ** 3n,
  tb: 1000n ** 4n,
};

/** A byte count given as a bigint or a safe integer; must be positive. */
export function byteCount(value: bigint | number, field = 'size'): bigint {
  if (typeof value === 'bigint') {
    if (value <= 0n) throw new ValidationError(field, 'must be a positive number of bytes');
    return value;
  }
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new ValidationError(field, `must be a positive whole number of bytes, got ${value}`);
  return BigInt(value);
}

/**
 * Parses a size such as `2GiB`, `512M`, `4096` (bytes) or a bigint/number of bytes.
 * Binary units are 1024-based (`G` = `GiB`), decimal ones need the `B` (`GB`).
 */
export function parseSize(value: unknown, field = 'size'): bigint {
  if (typeof value === 'bigint' || typeof value === 'number') return byteCount(value, field);
  if (typeof value !== 'string') throw new ValidationError(field, 'must be a size such as 10GiB');
  const m = /^\s*(\d{1,20})\s*([a-zA-Z]{0,3})\s*$/.exec(value);
  const unit = m ? UNITS[(m[2] ?? '').toLowerCase()] : undefined;
  if (!m || unit === undefined)
    throw new ValidationError(field, `"${value}" is not a size (examples: 4096, 512MiB, 10G, 1TB)`);
  const bytes = BigInt(m[1] ?? '0') * unit;
  if (bytes <= 0n) throw new ValidationError(field, 'must be greater than zero');
  return bytes;
}

/** Formats bytes with the largest binary unit that divides it evenly, e.g. `2GiB`. */
export function formatSize(bytes: bigint): string {
  for (const [unit, factor] of [
    ['TiB', 1024n ** 4n],
    ['GiB', 1024n ** 3n],
    ['MiB', 1024n ** 2n],
    ['KiB', 1024n],
  ] as const) {
    if (bytes >= factor && bytes % factor === 0n) return `${bytes / factor}${unit}`;
  }
  return `${bytes}B`;
}

/** Rounds `bytes` up to a whole number of `unit` bytes (e.g. LVM extents). */
export function roundUp(bytes: bigint, unit: bigint): bigint {
  return ((bytes + unit - 1n) / unit) * unit;
}
