import { LvmReportError } from './errors.js';

// lv_attr as documented in lvs(8), one character per position. An unknown character is
// an error rather than a guess: a new LVM state must be looked at before xlss acts on it.

export type LvVolumeType =
  | 'plain'
  | 'cache'
  | 'mirrored'
  | 'mirrored-without-initial-sync'
  | 'origin'
  | 'origin-with-merging-snapshot'
  | 'raid'
  | 'raid-without-initial-sync'
  | 'snapshot'
  | 'merging-snapshot'
  | 'pvmove'
  | 'virtual'
  | 'image'
  | 'image-out-of-sync'
  | 'mirror-log'
  | 'under-conversion'
  | 'thin'
  | 'thin-pool'
  | 'thin-pool-data'
  | 'vdo-pool'
  | 'vdo-pool-data'
  | 'metadata';

export type LvPermissions = 'writeable' | 'read-only' | 'read-only-activation' | 'unknown';
export type LvAllocationPolicy = 'anywhere' | 'contiguous' | 'inherited' | 'cling' | 'normal';
export type LvState =
  | 'inactive'
  | 'active'
  | 'historical'
  | 'suspended'
  | 'invalid-snapshot'
  | 'invalid-suspended-snapshot'
  | 'snapshot-merge-failed'
  | 'suspended-snapshot-merge-failed'
  | 'mapped-device-without-tables'
  | 'mapped-device-with-inactive-table'
  | 'thin-pool-check-needed'
  | 'suspended-thin-pool-check-needed'
  | 'unknown';
export type LvTargetType = 'none' | 'cache' | 'mirror' | 'raid' | 'snapshot' | 'thin' | 'unknown' | 'virtual';
export type LvHealth =
  | 'ok'
  | 'partial'
  | 'refresh-needed'
  | 'mismatches'
  | 'writemostly'
  | 'reshaping'
  | 'remove-after-reshape'
  | 'failed'
  | 'out-of-data-space'
  | 'metadata-read-only'
  | 'error'
  | 'unknown';

export interface LvAttr {
  raw: string;
  volumeType: LvVolumeType;
  permissions: LvPermissions;
  allocationPolicy: LvAllocationPolicy;
  /** Capitalised policy letter: locked against allocation changes, e.g. during pvmove. */
  allocationLocked: boolean;
  fixedMinor: boolean;
  state: LvState;
  /** null when LVM could not tell (`X`). */
  open: boolean | null;
  targetType: LvTargetType;
  zero: boolean;
  health: LvHealth;
  skipActivation: boolean;
}

const VOLUME_TYPE: Record<string, LvVolumeType> = {
  '-': 'plain',
  C: 'cache',
  m: 'mirrored',
  M: 'mirrored-without-initial-sync',
  o: 'origin',
  O: 'origin-with-merging-snapshot',
  r: 'raid',
  R: 'raid-without-initial-sync',
  s: 'snapshot',
  S: 'merging-snapshot',
  p: 'pvmove',
  v: 'virtual',
  i: 'image',
  I: 'image-out-of-sync',
  l: 'mirror-log',
  c: 'under-conversion',
  V: 'thin',
  t: 'thin-pool',
  T: 'thin-pool-data',
  d: 'vdo-pool',
  D: 'vdo-pool-data',
  e: 'metadata',
};

const PERMISSIONS: Record<string, LvPermissions> = {
  w: 'writeable',
  r: 'read-only',
  R: 'read-only-activation',
  // lvs prints `-` when the permissions of a partial/unknown LV cannot be read.
  '-': 'unknown',
};

const ALLOCATION: Record<string, LvAllocationPolicy> = {
  a: 'anywhere',
  c: 'contiguous',
  i: 'inherited',
  l: 'cling',
  n: 'normal',
};

const STATE: Record<string, LvState> = {
  '-': 'inactive',
  a: 'active',
  h: 'historical',
  s: 'suspended',
  I: 'invalid-snapshot',
  S: 'invalid-suspended-snapshot',
  m: 'snapshot-merge-failed',
  M: 'suspended-snapshot-merge-failed',
  d: 'mapped-device-without-tables',
  i: 'mapped-device-with-inactive-table',
  c: 'thin-pool-check-needed',
  C: 'suspended-thin-pool-check-needed',
  X: 'unknown',
};

const OPEN: Record<string, boolean | null> = { '-': false, o: true, X: null };

const TARGET: Record<string, LvTargetType> = {
  '-': 'none',
  C: 'cache',
  m: 'mirror',
  r: 'raid',
  s: 'snapshot',
  t: 'thin',
  u: 'unknown',
  v: 'virtual',
};

const HEALTH: Record<string, LvHealth> = {
  '-': 'ok',
  p: 'partial',
  r: 'refresh-needed',
  m: 'mismatches',
  w: 'writemostly',
  s: 'reshaping',
  R: 'remove-after-reshape',
  F: 'failed',
  D: 'out-of-data-space',
  M: 'metadata-read-only',
  E: 'error',
  X: 'unknown',
};

function pick<T>(table: Record<string, T>, raw: string, index: number, what: string, report: string): T {
  return lookup(table, raw[index] ?? '', raw, index, what, report);
}

function lookup<T>(
  table: Record<string, T>,
  ch: string,
  raw: string,
  index: number,
  what: string,
  report: string,
): T {
  if (!Object.hasOwn(table, ch))
    throw new LvmReportError(report, `lv_attr "${raw}": unknown ${what} "${ch}" at position ${index + 1}`);
  return table[ch] as T;
}

/** Decodes the 10-character lv_attr string, e.g. `Vwi-aotz--`. */
export function decodeLvAttr(raw: string, report = 'lvs'): LvAttr {
  if (raw.length !== 10) throw new LvmReportError(report, `lv_attr "${raw}" must be 10 characters`);
  const policyChar = raw[2] ?? '';
  const allocationPolicy = lookup(ALLOCATION, policyChar.toLowerCase(), raw, 2, 'allocation policy', report);
  return {
    raw,
    volumeType: pick(VOLUME_TYPE, raw, 0, 'volume type', report),
    permissions: pick(PERMISSIONS, raw, 1, 'permissions', report),
    allocationPolicy,
    allocationLocked: policyChar !== policyChar.toLowerCase(),
    fixedMinor: pick({ '-': false, m: true }, raw, 3, 'fixed minor', report),
    state: pick(STATE, raw, 4, 'state', report),
    open: pick(OPEN, raw, 5, 'open', report),
    targetType: pick(TARGET, raw, 6, 'target type', report),
    zero: pick({ '-': false, z: true }, raw, 7, 'zero', report),
    health: pick(HEALTH, raw, 8, 'health', report),
    skipActivation: pick({ '-': false, k: true }, raw, 9, 'skip activation', report),
  };
}
