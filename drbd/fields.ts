import { XlssError } from '../common/errors.js';

/** A line of drbdsetup output that does not have the documented shape. */
export class DrbdParseError extends XlssError {
  readonly line: string;
  constructor(message: string, line: string) {
    super(
      'EDRBD_PARSE',
      `${message}: ${JSON.stringify(line.length > 200 ? `${line.slice(0, 200)}…` : line)}`,
    );
    this.line = line;
  }
}

/** Splits `key:value` words; a word without a colon or with an empty side means the line was cut. */
export function parseKeyValues(words: readonly string[], line: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const w of words) {
    const i = w.indexOf(':');
    if (i <= 0 || i === w.length - 1) throw new DrbdParseError(`malformed field ${JSON.stringify(w)}`, line);
    out[w.slice(0, i)] = w.slice(i + 1);
  }
  return out;
}

export function enumValue<T extends string>(
  values: readonly T[],
  key: string,
  value: string | undefined,
  line: string,
): T | undefined {
  if (value === undefined) return undefined;
  if (!(values as readonly string[]).includes(value)) {
    throw new DrbdParseError(`unknown ${key} value ${JSON.stringify(value)}`, line);
  }
  return value as T;
}

export function intValue(key: string, value: string | undefined, line: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) throw new DrbdParseError(`${key} is not an integer`, line);
  return Number(value);
}

export function floatValue(key: string, value: string | undefined, line: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(value)) throw new DrbdParseError(`${key} is not a number`, line);
  return Number(value);
}

export function boolValue(key: string, value: string | undefined, line: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'yes') return true;
  if (value === 'no') return false;
  throw new DrbdParseError(`${key} is not yes/no`, line);
}
