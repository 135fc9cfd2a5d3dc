import { join } from 'node:path';
import { ValidationError } from '../../common/errors.js';
import { validateLvPath } from '../../lvm/names.js';
import { NAME_PATTERN } from '../api/schemas.js';

// Everything that becomes a file name or reaches LVM's command line is checked here
// first. Requests only ever supply a volume name, a backup id and a target directory.

const VOLUME_NAME = new RegExp(NAME_PATTERN);
/** The schema's id pattern, tightened: no leading dot or dash, so never "..", never an option. */
const BACKUP_ID = /^[A-Za-z0-9][A-Za-z0-9T:._-]{0,99}$/;
const TARGET_PATH = /^\/(?!.*\.\.)[A-Za-z0-9_./-]*$/;

/**
 * Name prefix of the LVM snapshots backups make; with the owner tag it marks them as ours.
 * The underscore cannot occur in a volume name, so no volume's LV can ever carry it.
 */
export const SNAPSHOT_PREFIX = 'xlssbk_';

export function isVolumeName(value: string): boolean {
  return VOLUME_NAME.test(value);
}

export function validateVolumeName(value: unknown, field = 'volume'): string {
  if (typeof value !== 'string' || !VOLUME_NAME.test(value))
    throw new ValidationError(field, `${show(value)} is not a volume name (${NAME_PATTERN})`);
  return value;
}

export function validateBackupId(value: unknown, field = 'backupId'): string {
  if (typeof value !== 'string' || !BACKUP_ID.test(value) || value.includes('..'))
    throw new ValidationError(field, `${show(value)} is not a backup id`);
  return value;
}

/** A backup target: an absolute directory without "..", spaces or shell metacharacters. */
export function validateTargetDir(value: unknown, field = 'target'): string {
  if (typeof value !== 'string' || value.length > 200 || !TARGET_PATH.test(value) || value === '/')
    throw new ValidationError(field, `${show(value)} must be an absolute directory without ".." (not /)`);
  return value.replace(/\/+$/, '');
}

/** The one snapshot a volume's backup uses (one backup at a time per volume). */
export function snapshotName(vg: string, volume: string): string {
  return validateLvPath(vg, `${SNAPSHOT_PREFIX}${validateVolumeName(volume)}`, 'snapshot').lv;
}

/**
 * Backup ids sort by time and name the node that wrote them:
 * `20261130T192722.123Z-node1` (ISO time without the dashes and colons of the date part).
 */
export function makeBackupId(nowMs: number, nodeName: string): string {
  const iso = new Date(nowMs).toISOString(); // 2026-11-30T19:27:22.123Z
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 13)}${iso.slice(14, 16)}${iso.slice(17)}`;
  return validateBackupId(`${stamp}-${validateVolumeName(nodeName, 'nodeName')}`);
}

/** Where one volume's backups live under a target. */
export function volumeDir(target: string, volume: string): string {
  return join(validateTargetDir(target), validateVolumeName(volume));
}

export function imageFile(dir: string, id: string): string {
  return join(dir, `${validateBackupId(id)}.img.gz`);
}

export function manifestFile(dir: string, id: string): string {
  return join(dir, `${validateBackupId(id)}.json`);
}

function show(value: unknown): string {
  const s = typeof value === 'string' ? value : String(value);
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);
}
