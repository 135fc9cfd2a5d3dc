import { ValidationError } from '../common/errors.js';

// lvm(8) VALID NAMES. Everything here runs before any command, so that nothing a caller
// supplies can reach LVM's command line as an option or as a second argument.

const NAME_CHARS = /^[A-Za-z0-9+_.-]+$/;
// NAME_LEN in lvm2 is 128 including the terminating NUL.
const MAX_NAME = 127;
const RESERVED_LV_PREFIXES = ['snapshot', 'pvmove'] as const;
// Suffixes LVM gives the hidden sub-LVs of pools, mirrors, raids, caches, integrity and VDO.
const RESERVED_LV_SUBSTRINGS = [
  '_cdata',
  '_cmeta',
  '_corig',
  '_cpool',
  '_cvol',
  '_imeta',
  '_iorig',
  '_mimage',
  '_mlog',
  '_pmspare',
  '_rimage',
  '_rmeta',
  '_tdata',
  '_tmeta',
  '_vdata',
  '_vorigin',
  '_wcorig',
] as const;

function checkCommonName(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new ValidationError(field, 'must be a string');
  if (value.length === 0) throw new ValidationError(field, 'must not be empty');
  if (value.length > MAX_NAME) throw new ValidationError(field, `must be at most ${MAX_NAME} characters`);
  if (!NAME_CHARS.test(value))
    throw new ValidationError(field, `"${printable(value)}" may only contain A-Z a-z 0-9 + _ . -`);
  if (value.startsWith('-')) throw new ValidationError(field, 'must not begin with "-"');
  if (value === '.' || value === '..') throw new ValidationError(field, 'must not be "." or ".."');
  return value;
}

export function validateVgName(value: unknown, field = 'vg'): string {
  return checkCommonName(value, field);
}

export function validateLvName(value: unknown, field = 'lv'): string {
  const name = checkCommonName(value, field);
  for (const prefix of RESERVED_LV_PREFIXES) {
    if (name.startsWith(prefix))
      throw new ValidationError(field, `names starting "${prefix}" are reserved by LVM`);
  }
  for (const part of RESERVED_LV_SUBSTRINGS) {
    if (name.includes(part))
      throw new ValidationError(field, `names containing "${part}" are reserved by LVM`);
  }
  return name;
}

/**
 * Device-mapper names the LV `<vg>-<lv>` with every `-` doubled, in a 128-byte buffer:
 * a pair that passes each name's own check can still fail at activation.
 */
export function validateLvPath(vg: unknown, lv: unknown, field = 'lv'): { vg: string; lv: string } {
  const v = validateVgName(vg);
  const l = validateLvName(lv, field);
  const dmNameLength = `${v}-${l}`.length + countHyphens(v) + countHyphens(l);
  if (dmNameLength > MAX_NAME)
    throw new ValidationError(
      field,
      `"${v}/${l}" is too long for a device-mapper name (${dmNameLength} > ${MAX_NAME})`,
    );
  return { vg: v, lv: l };
}

const TAG_CHARS = /^[A-Za-z0-9_+.\-/=!:&#]+$/;
const MAX_TAG = 1024;

export function validateTag(value: unknown, field = 'tag'): string {
  if (typeof value !== 'string') throw new ValidationError(field, 'must be a string');
  if (value.length === 0) throw new ValidationError(field, 'must not be empty');
  if (value.length > MAX_TAG) throw new ValidationError(field, `must be at most ${MAX_TAG} characters`);
  if (!TAG_CHARS.test(value))
    throw new ValidationError(
      field,
      `"${printable(value)}" may only contain A-Z a-z 0-9 _ + . - / = ! : & #`,
    );
  if (value.startsWith('-')) throw new ValidationError(field, 'must not begin with "-"');
  return value;
}

export function validateTags(values: unknown, field = 'tags'): string[] {
  if (!Array.isArray(values)) throw new ValidationError(field, 'must be a list of tags');
  return values.map((t, i) => validateTag(t, `${field}[${i}]`));
}

// Whole path components of safe characters under /dev; `.`/`..` components are refused so
// the path cannot climb out of /dev.
const DEVICE_PATH = /^\/dev(\/[A-Za-z0-9_+:.-]+)+$/;

export function validateDevicePath(value: unknown, field = 'device'): string {
  if (typeof value !== 'string') throw new ValidationError(field, 'must be a string');
  if (value.length > 4096 || !DEVICE_PATH.test(value))
    throw new ValidationError(field, `"${printable(value)}" is not a device path such as /dev/vdb`);
  const parts = value.split('/').slice(2);
  if (parts.some((p) => p === '.' || p === '..' || p.startsWith('-')))
    throw new ValidationError(field, `"${printable(value)}" must not contain ".", ".." or "-…" components`);
  return value;
}

export function validateDevicePaths(values: unknown, field = 'devices'): string[] {
  if (!Array.isArray(values) || values.length === 0)
    throw new ValidationError(field, 'must be a non-empty list of device paths');
  const paths = values.map((v, i) => validateDevicePath(v, `${field}[${i}]`));
  if (new Set(paths).size !== paths.length) throw new ValidationError(field, 'must not repeat a device');
  return paths;
}

function countHyphens(s: string): number {
  return s.split('-').length - 1;
}

/** Keeps error messages on one line when the bad input holds control characters. */
function printable(s: string): string {
  const shown = s.length > 80 ? `${s.slice(0, 80)}…` : s;
  return JSON.stringify(shown).slice(1, -1);
}
