import { ValidationError } from '../common/errors.js';
import { byteCount, roundUp } from '../common/size.js';

/** A size given to LVM: a positive whole number of bytes. Numbers must be safe integers. */
export function validateBytes(value: unknown, field = 'size'): bigint {
  if (typeof value === 'bigint' || typeof value === 'number') return byteCount(value, field);
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
