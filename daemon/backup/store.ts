import { readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Value } from 'typebox/value';
import type { Logger } from '../../common/log.js';
import { BackupManifest } from '../api/schemas.js';
import { isOwnTemp } from './files.js';
import { imageFile, manifestFile, validateBackupId } from './names.js';

// One volume's directory under a target: `<id>.img.gz` and `<id>.json` pairs. A manifest
// is written only after its image is complete, so a manifest always names a whole image.

const MANIFEST_FILE = /^([A-Za-z0-9][A-Za-z0-9T:._-]*)\.json$/;
const IMAGE_FILE = /^([A-Za-z0-9][A-Za-z0-9T:._-]*)\.img\.gz$/;
/** An image without a manifest younger than this may be another node's backup about to get one. */
const ORPHAN_AGE_MS = 10 * 60 * 1000;

/** Valid manifests of `volume` in `dir`, newest first; anything else there is skipped (and logged). */
export async function readManifests(dir: string, volume: string, log: Logger): Promise<BackupManifest[]> {
  const names = await listDir(dir);
  const manifests: BackupManifest[] = [];
  for (const name of names) {
    const m = MANIFEST_FILE.exec(name);
    if (!m) continue;
    const manifest = await readManifest(join(dir, name)).catch(() => null);
    if (!manifest || manifest.id !== m[1] || manifest.volume !== volume) {
      log.warn({ volume, file: join(dir, name) }, 'not a backup manifest of this volume; skipped');
      continue;
    }
    manifests.push(manifest);
  }
  return manifests.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
}

/** Reads and checks one manifest against the schema; null when it is missing. */
export async function readManifest(path: string): Promise<BackupManifest | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const value: unknown = JSON.parse(text);
  if (!Value.Check(BackupManifest, value)) throw new Error(`${path} is not a backup manifest`);
  validateBackupId(value.id, 'manifest.id');
  return value;
}

/**
 * Keeps the newest `retain` backups of the volume (whichever node wrote them) and deletes
 * the rest: manifest first, so a crash in between leaves an orphan image, which
 * `removeLeftovers` clears, never a manifest without its image.
 */
export async function applyRetention(
  dir: string,
  volume: string,
  retain: number,
  log: Logger,
): Promise<string[]> {
  const manifests = await readManifests(dir, volume, log);
  const dropped = manifests.slice(retain).map((m) => m.id);
  for (const id of dropped) {
    await unlinkIfThere(manifestFile(dir, id));
    await unlinkIfThere(imageFile(dir, id));
    log.info({ volume, backupId: id }, 'backup removed by retention');
  }
  return dropped;
}

/**
 * What a crash mid-backup leaves: this node's temp files, and images that never got a
 * manifest (old enough that no writer can still be about to add one).
 */
export async function removeLeftovers(
  dir: string,
  volume: string,
  nodeName: string,
  nowMs: number,
  log: Logger,
): Promise<string[]> {
  const names = await listDir(dir);
  const removed: string[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const image = IMAGE_FILE.exec(name);
    let stale = isOwnTemp(name, nodeName);
    if (!stale && image?.[1] && !names.includes(`${image[1]}.json`)) {
      stale = nowMs - (await stat(path)).mtimeMs > ORPHAN_AGE_MS;
    }
    if (!stale) continue;
    await unlinkIfThere(path);
    removed.push(name);
    log.warn({ volume, file: path }, 'removed a leftover of an interrupted backup');
  }
  return removed;
}

/** A directory's entries; none when it does not exist yet (no backup was ever written). */
async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

async function unlinkIfThere(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
