import { ValidationError } from '../common/errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `500ms`, `5s`, `2m`, `1h`, `1d` (or a whole number of milliseconds) → milliseconds. */
export function parseDuration(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value;
  const m = typeof value === 'string' ? /^(\d{1,9})(ms|s|m|h|d)?$/.exec(value.trim()) : null;
  const ms = m ? Number(m[1]) * (UNIT_MS[m[2] ?? 'ms'] ?? 1) : 0;
  if (!m || !(ms > 0) || !Number.isSafeInteger(ms))
    throw new ValidationError(
      field,
      `"${String(value)}" is not a duration (examples: 500ms, 5s, 2m, 1h, 1d)`,
    );
  return ms;
}
