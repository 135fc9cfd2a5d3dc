import { ValidationError } from '../common/errors.js';
import { roundUp } from '../common/size.js';

/** A size given to LVM: a positive whole number of bytes. Numbers must be safe integers. */
export function validateBytes(value: unknown, field = 'size'): bigint {
  if (typeof value === 'bigint') {
    if (value <= 0n) throw new ValidationError(field, 'must be a positive number of bytes');
    return value;
  }
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value <= 0)
      throw new ValidationError(field, `must be a positive whole number of bytes, got ${value}`);
    return BigInt(value);
  }
  throw new ValidationError(field, 'must be a number of bytes (bigint)');
}

/** LVM allocates whole extents; asking for the rounded size makes "same size" comparable. */
export function roundToExtent(bytes: bigint, extentBytes: bigint): bigint {
  return roundUp(bytes, extentBytes);
}

/** The `-L`/`-V` argument: bytes, with the unit spelled out so LVM never guesses MiB. */
export function lvmBytesArg(bytes: bigint): string {
  return `${bytes}b`;
}
