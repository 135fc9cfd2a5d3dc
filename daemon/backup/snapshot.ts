import { NoSpaceError, ValidationError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { CommandRunner } from '../../common/runner.js';
import type { Lvm } from '../../lvm/lvm.js';
import { validateLvPath } from '../../lvm/names.js';
import { SNAPSHOT_PREFIX, snapshotName } from './names.js';

const MiB = 1024 * 1024;
/** A COW store gets a fifth of the volume, at least this: writes during the backup land there. */
const MIN_COW_BYTES = 64 * MiB;

export interface SnapshotDeps {
  lvm: Lvm;
  runner: CommandRunner;
  vg: string;
  log: Logger;
  /** The block device of an LV (`/dev/<vg>/<lv>`; tests map it to a file). */
  lvDevice: (vg: string, lv: string) => string;
}

export interface Snapshot {
  name: string;
  device: string;
}

/** The backing LV of a volume, from the engine's observed path `/dev/<vg>/<lv>`. */
export function backingLv(vg: string, lvPath: string): string {
  const m = /^\/dev\/([^/]+)\/([^/]+)$/.exec(lvPath);
  if (!m || m[1] !== vg)
    throw new ValidationError('observed.lv.path', `"${lvPath}" is not an LV of VG ${vg}`);
  return validateLvPath(vg, m[2]).lv;
}

/**
 * Snapshots a volume's LV: a thin snapshot (activated although LVM marks thin snapshots
 * skip-activation) for a thin LV, a COW snapshot for a thick one. A snapshot left by an
 * earlier, interrupted backup of the same volume is removed first: its content is old.
 */
export async function takeSnapshot(
  deps: SnapshotDeps,
  spec: { volume: string; origin: string; thin: boolean; sizeBytes: number },
): Promise<Snapshot> {
  const { lvm, vg } = deps;
  const name = snapshotName(vg, spec.volume);
  if (await lvm.findLv(vg, name)) {
    deps.log.warn({ volume: spec.volume, snapshot: name }, 'removing a stale backup snapshot');
    await lvm.removeSnapshot({ vg, name });
  }
  if (spec.thin) {
    const lv = await lvm.createThinSnapshot({ vg, origin: spec.origin, name });
    if (lv.active !== true) {
      await deps.runner.run('lvchange', ['--activate', 'y', '--ignoreactivationskip', `${vg}/${name}`], {
        env: { LVM_SUPPRESS_FD_WARNINGS: '1' },
      });
    }
  } else {
    const cow = BigInt(Math.max(MIN_COW_BYTES, Math.ceil(spec.sizeBytes / 5)));
    const free = (await lvm.getVg(vg)).freeBytes;
    if (free < cow)
      throw new NoSpaceError(`VG ${vg} has ${free} bytes free; a snapshot of ${spec.volume} needs ${cow}`);
    await lvm.createSnapshot({ vg, origin: spec.origin, name, sizeBytes: cow });
  }
  deps.log.info({ volume: spec.volume, snapshot: name, thin: spec.thin }, 'backup snapshot taken');
  return { name, device: deps.lvDevice(vg, name) };
}

export async function dropSnapshot(deps: SnapshotDeps, volume: string, name: string): Promise<void> {
  await deps.lvm.removeSnapshot({ vg: deps.vg, name });
  deps.log.info({ volume, snapshot: name }, 'backup snapshot dropped');
}

/** Backup snapshots left by a crash: our prefix, our owner tag, and a snapshot (has an origin). */
export async function removeStaleSnapshots(deps: SnapshotDeps): Promise<string[]> {
  const lvs = await deps.lvm.listLvs(deps.vg);
  const stale = lvs.filter(
    (lv) => lv.name.startsWith(SNAPSHOT_PREFIX) && lv.tags.includes(deps.lvm.ownerTag) && lv.origin !== null,
  );
  for (const lv of stale) {
    await deps.lvm.removeSnapshot({ vg: deps.vg, name: lv.name });
    deps.log.warn(
      { volume: lv.name.slice(SNAPSHOT_PREFIX.length), snapshot: lv.name },
      'removed a stale backup snapshot',
    );
  }
  return stale.map((lv) => lv.name);
}
