import { type Logger, silentLogger } from '../common/log.js';
import { CommandError, type CommandRunner } from '../common/runner.js';
import { classifyLvmError, LvmAlreadyExistsError, LvmNotFoundError, LvmRefusedError } from './errors.js';
import {
  validateDevicePaths,
  validateLvName,
  validateLvPath,
  validateTag,
  validateTags,
  validateVgName,
} from './names.js';
import {
  LV_FIELDS,
  type LvInfo,
  PV_FIELDS,
  type PvInfo,
  parseLvsReport,
  parsePvsReport,
  parseVgsReport,
  VG_FIELDS,
  type VgInfo,
} from './report.js';
import { lvmBytesArg, roundToExtent, validateBytes } from './size.js';

export interface LvmOptions {
  runner: CommandRunner;
  logger?: Logger;
  /** Every LV xlss creates carries this tag; LVs without it are never changed or removed. */
  ownerTag?: string;
}

const REPORT_ARGS = ['--reportformat', 'json', '--units', 'b', '--nosuffix'] as const;

// LVM warns on stderr about every inherited descriptor; a long-lived daemon has many.
const LVM_ENV = { LVM_SUPPRESS_FD_WARNINGS: '1' };

export interface SnapshotUsage {
  kind: 'cow' | 'thin';
  /** COW: how full the exception store is (100 = invalid). Thin: the snapshot's share of its size. null if inactive. */
  percent: number | null;
}

export interface ThickLvSpec {
  vg: string;
  name: string;
  sizeBytes: bigint;
  tags?: string[];
}

export interface ThinLvSpec {
  vg: string;
  name: string;
  pool: string;
  virtualSizeBytes: bigint;
  tags?: string[];
}

/** Typed LVM operations. Every input is validated before any command runs. */
export class Lvm {
  private readonly runner: CommandRunner;
  private readonly log: Logger;
  readonly ownerTag: string;

  constructor(options: LvmOptions) {
    this.runner = options.runner;
    this.log = (options.logger ?? silentLogger).child({ component: 'lvm' });
    this.ownerTag = validateTag(options.ownerTag ?? 'xlss', 'ownerTag');
  }

  // ---- reports -------------------------------------------------------------------------

  async listVgs(): Promise<VgInfo[]> {
    return parseVgsReport(await this.report('vgs', VG_FIELDS, []));
  }

  /** Throws LvmNotFoundError (kind `vg`) when the VG does not exist. */
  async getVg(vg: string): Promise<VgInfo> {
    const name = validateVgName(vg);
    const [found] = parseVgsReport(await this.report('vgs', VG_FIELDS, [name]));
    if (!found) throw new LvmNotFoundError(this.facts('vgs', []), 'vg', name);
    return found;
  }

  async listPvs(): Promise<PvInfo[]> {
    return parsePvsReport(await this.report('pvs', PV_FIELDS, []));
  }

  /** All LVs of a VG, hidden pool sub-LVs excluded (lvs lists only visible LVs without `-a`). */
  async listLvs(vg: string): Promise<LvInfo[]> {
    const name = validateVgName(vg);
    return parseLvsReport(await this.report('lvs', LV_FIELDS, [name]));
  }

  /** The LV, or null when it does not exist. A missing VG is still an error. */
  async findLv(vg: string, lv: string): Promise<LvInfo | null> {
    const p = validateLvPath(vg, lv);
    return this.findValidLv(p.vg, p.lv);
  }

  // ---- volume groups ---------------------------------------------------------------------

  /**
   * First-time setup: makes `devices` PVs and a VG of them, tagged with the owner tag.
   * Re-running on the same VG and devices returns it. Existing signatures on a device are
   * wiped only with `wipeSignatures: true`; otherwise pvcreate's question is answered "no"
   * (stdin is closed) and it fails, so a disk holding data is never wiped by accident.
   */
  async createVg(
    vg: string,
    devices: readonly string[],
    opts: { wipeSignatures?: boolean } = {},
  ): Promise<VgInfo> {
    const name = validateVgName(vg);
    const devs = await this.canonicalDevices(validateDevicePaths(devices));
    const pvs = await this.listPvs();
    const members = pvs.filter((p) => p.vg === name).map((p) => p.name);
    if (members.length > 0) {
      const same = members.length === devs.length && devs.every((d) => members.includes(d));
      if (!same) throw new LvmAlreadyExistsError(this.facts('vgcreate', []), 'vg', name);
      return this.getVg(name);
    }
    const taken = pvs.filter((p) => devs.includes(p.name) && p.vg !== null);
    if (taken.length > 0)
      throw new LvmRefusedError(`${taken.map((p) => `${p.name} belongs to VG ${p.vg}`).join(', ')}`);
    const fresh = devs.filter((d) => !pvs.some((p) => p.name === d));
    if (fresh.length > 0)
      await this.change('pvcreate', [...(opts.wipeSignatures ? ['--yes'] : []), ...fresh]);
    await this.change('vgcreate', ['--addtag', this.ownerTag, name, ...devs]);
    return this.getVg(name);
  }

  /**
   * pvs names a PV by its kernel node (`/dev/vdb`), never by the alias it was created with
   * (`/dev/disk/by-id/...`), so devices are compared, and handed to LVM, in that form.
   */
  private async canonicalDevices(devs: string[]): Promise<string[]> {
    let stdout: string;
    try {
      ({ stdout } = await this.runner.run('realpath', ['--canonicalize-existing', '--', ...devs], {
        readOnly: true,
      }));
    } catch (err) {
      if (!(err instanceof CommandError)) throw err;
      const missing = devs.find((d) => err.stderr.includes(`${d}:`)) ?? devs.join(' ');
      throw new LvmNotFoundError(
        { command: err.command, args: err.args, exitCode: err.exitCode, stderr: err.stderr.trim() },
        'device',
        missing,
        { cause: err },
      );
    }
    const resolved = stdout.split('\n').filter((l) => l !== '');
    if (resolved.length !== devs.length)
      throw new LvmRefusedError(`realpath printed ${resolved.length} paths for ${devs.length} devices`);
    return validateDevicePaths(resolved);
  }

  // ---- creating LVs ----------------------------------------------------------------------

  /** A linear (thick) LV of at least `sizeBytes`, rounded up to whole extents. */
  async createThickLv(spec: ThickLvSpec): Promise<LvInfo> {
    const p = validateLvPath(spec.vg, spec.name, 'name');
    const bytes = validateBytes(spec.sizeBytes, 'sizeBytes');
    const tags = validateTags(spec.tags ?? []);
    const size = roundToExtent(bytes, (await this.getVg(p.vg)).extentBytes);
    return this.createOnce(
      p,
      (lv) => isThick(lv) && lv.sizeBytes === size,
      `a thick LV of ${size}`,
      this.thickLvArgs(p, size, tags),
    );
  }

  /** `tags` validated already. */
  private thickLvArgs(p: { vg: string; lv: string }, size: bigint, tags: string[]): string[] {
    return [
      // --yes: a stale signature where the new LV lands (a removed LV's filesystem) is
      // wiped without a prompt we could not answer. --wipesignatures y and --zero y say so
      // explicitly rather than trusting lvm.conf. DRBD internal metadata sits at the END
      // of a device and is not covered; the drbd layer runs create-md itself.
      '--yes',
      '--wipesignatures',
      'y',
      '--zero',
      'y',
      ...this.tagArgs(tags),
      '--name',
      p.lv,
      '--size',
      lvmBytesArg(size),
      p.vg,
    ];
  }

  /** A thin pool whose data LV holds `sizeBytes` (rounded up to extents). */
  async createThinPool(spec: { vg: string; name: string; sizeBytes: bigint }): Promise<LvInfo> {
    const p = validateLvPath(spec.vg, spec.name, 'name');
    const bytes = validateBytes(spec.sizeBytes, 'sizeBytes');
    const size = roundToExtent(bytes, (await this.getVg(p.vg)).extentBytes);
    return this.createOnce(
      p,
      (lv) => lv.attr.volumeType === 'thin-pool' && lv.sizeBytes === size,
      'a thin pool',
      [
        '--yes',
        '--type',
        'thin-pool',
        // Zeroing newly provisioned blocks costs write speed but stops one volume reading
        // blocks another (deleted) volume left behind; volumes belong to different tenants.
        '--zero',
        'y',
        ...this.tagArgs([]),
        '--name',
        p.lv,
        '--size',
        lvmBytesArg(size),
        p.vg,
      ],
    );
  }

  /** A thin LV of `virtualSizeBytes` (rounded up to extents) in `pool`. */
  async createThinLv(spec: ThinLvSpec): Promise<LvInfo> {
    const p = validateLvPath(spec.vg, spec.name, 'name');
    const pool = validateLvName(spec.pool, 'pool');
    const bytes = validateBytes(spec.virtualSizeBytes, 'virtualSizeBytes');
    const tags = validateTags(spec.tags ?? []);
    const size = roundToExtent(bytes, (await this.getVg(p.vg)).extentBytes);
    return this.createOnce(
      p,
      (lv) =>
        lv.attr.volumeType === 'thin' && lv.pool === pool && lv.origin === null && lv.sizeBytes === size,
      `a thin LV in ${pool}`,
      this.thinLvArgs(p, pool, size, tags),
    );
  }

  private thinLvArgs(
    p: { vg: string; lv: string },
    pool: string,
    size: bigint,
    tags: string[] = [],
  ): string[] {
    // A new thin LV reads zeros until written, so there are no signatures to wipe.
    return [
      '--yes',
      '--type',
      'thin',
      ...this.tagArgs(tags),
      '--name',
      p.lv,
      '--virtualsize',
      lvmBytesArg(size),
      '--thinpool',
      pool,
      p.vg,
    ];
  }

  /**
   * A thin or thick LV whose absence the caller has just seen in a report it read itself
   * (under its own lock) and which it reads again afterwards, as a reconcile loop does:
   * no report before lvcreate (the VG's extent size, an existing LV) and none after it.
   * lvcreate rounds the size up to whole extents itself. An LV that appeared meanwhile
   * makes lvcreate fail with LvmAlreadyExistsError; nothing is ever created twice.
   */
  async createObservedAbsentLv(
    spec: ({ thin: true } & ThinLvSpec) | ({ thin: false } & ThickLvSpec),
  ): Promise<void> {
    const p = validateLvPath(spec.vg, spec.name, 'name');
    const tags = validateTags(spec.tags ?? []);
    const args = spec.thin
      ? this.thinLvArgs(
          p,
          validateLvName(spec.pool, 'pool'),
          validateBytes(spec.virtualSizeBytes, 'virtualSizeBytes'),
          tags,
        )
      : this.thickLvArgs(p, validateBytes(spec.sizeBytes, 'sizeBytes'), tags);
    await this.change('lvcreate', args);
  }

  /** A COW snapshot of a thick LV, with `sizeBytes` of exception store. */
  async createSnapshot(spec: {
    vg: string;
    origin: string;
    name: string;
    sizeBytes: bigint;
  }): Promise<LvInfo> {
    const p = validateLvPath(spec.vg, spec.name, 'name');
    const origin = validateLvName(spec.origin, 'origin');
    const bytes = validateBytes(spec.sizeBytes, 'sizeBytes');
    const size = roundToExtent(bytes, (await this.getVg(p.vg)).extentBytes);
    await this.requireOwned(p.vg, origin);
    return this.createOnce(
      p,
      (lv) => lv.attr.volumeType === 'snapshot' && lv.origin === origin && cowSizeMatches(lv, size),
      `a snapshot of ${origin}`,
      // No --zero/--wipesignatures: LVM rejects them for snapshots, whose content is the origin's.
      [
        '--yes',
        '--snapshot',
        ...this.tagArgs([]),
        '--name',
        p.lv,
        '--size',
        lvmBytesArg(size),
        `${p.vg}/${origin}`,
      ],
    );
  }

  /** A thin snapshot of a thin LV (no size: it shares the pool). */
  async createThinSnapshot(spec: { vg: string; origin: string; name: string }): Promise<LvInfo> {
    const p = validateLvPath(spec.vg, spec.name, 'name');
    const origin = validateLvName(spec.origin, 'origin');
    await this.requireOwned(p.vg, origin);
    return this.createOnce(
      p,
      (lv) => lv.attr.volumeType === 'thin' && lv.origin === origin,
      `a thin snapshot of ${origin}`,
      // Thin snapshots carry LVM's skip-activation flag, so they stay inactive at boot;
      // --ignoreactivationskip activates this one now, because a backup reads it at once.
      [
        '--yes',
        '--snapshot',
        '--ignoreactivationskip',
        ...this.tagArgs([]),
        '--name',
        p.lv,
        `${p.vg}/${origin}`,
      ],
    );
  }

  // ---- changing LVs ----------------------------------------------------------------------

  /** Grows an LV to `sizeBytes` (rounded up to extents). Same size: no-op. Smaller: refused. */
  async extendLv(spec: { vg: string; name: string; sizeBytes: bigint }): Promise<LvInfo> {
    const p = validateLvPath(spec.vg, spec.name, 'name');
    const bytes = validateBytes(spec.sizeBytes, 'sizeBytes');
    const size = roundToExtent(bytes, (await this.getVg(p.vg)).extentBytes);
    const lv = await this.requireOwned(p.vg, p.lv);
    if (lv.sizeBytes === size) return lv;
    if (size < lv.sizeBytes)
      throw new LvmRefusedError(
        `${p.vg}/${p.lv}: shrinking from ${lv.sizeBytes} to ${size} bytes is not supported`,
      );
    // No --resizefs: the LV holds DRBD, whose own resize comes next; the filesystem is above it.
    await this.change('lvextend', ['--size', lvmBytesArg(size), `${p.vg}/${p.lv}`]);
    return this.requireLv(p.vg, p.lv);
  }

  /** Removes an owned LV; success if it is already gone. */
  async removeLv(spec: { vg: string; name: string }): Promise<void> {
    const p = validateLvPath(spec.vg, spec.name, 'name');
    const lv = await this.findValidLv(p.vg, p.lv);
    if (!lv) return;
    this.checkOwned(lv);
    await this.refuseIfOthersDepend(lv);
    await this.remove(lv);
  }

  /** Removes a snapshot (COW or thin); refuses anything that is not one. */
  async removeSnapshot(spec: { vg: string; name: string }): Promise<void> {
    const p = validateLvPath(spec.vg, spec.name, 'name');
    const lv = await this.findValidLv(p.vg, p.lv);
    if (!lv) return;
    this.checkOwned(lv);
    if (!isSnapshot(lv)) throw new LvmRefusedError(`${p.vg}/${p.lv} is not a snapshot`);
    await this.refuseIfOthersDepend(lv);
    await this.remove(lv);
  }

  /** Renames an owned LV. If `from` is gone and `to` is ours, a previous run did it: success. */
  async renameLv(spec: { vg: string; from: string; to: string }): Promise<LvInfo> {
    const from = validateLvPath(spec.vg, spec.from, 'from');
    const to = validateLvPath(spec.vg, spec.to, 'to');
    const source = await this.findValidLv(from.vg, from.lv);
    if (!source) {
      const done = await this.findValidLv(to.vg, to.lv);
      if (done?.tags.includes(this.ownerTag)) return done;
      throw new LvmNotFoundError(this.facts('lvrename', []), 'lv', `${from.vg}/${from.lv}`);
    }
    this.checkOwned(source);
    await this.change('lvrename', [from.vg, from.lv, to.lv]);
    return this.requireLv(to.vg, to.lv);
  }

  async addTags(spec: { vg: string; name: string; tags: string[] }): Promise<LvInfo> {
    const p = validateLvPath(spec.vg, spec.name, 'name');
    const tags = validateTags(spec.tags);
    const lv = await this.requireOwned(p.vg, p.lv);
    const missing = tags.filter((t) => !lv.tags.includes(t));
    if (missing.length === 0) return lv;
    await this.change('lvchange', [...missing.flatMap((t) => ['--addtag', t]), `${p.vg}/${p.lv}`]);
    return this.requireLv(p.vg, p.lv);
  }

  /** Removing the owner tag is refused: it would orphan the LV. */
  async removeTags(spec: { vg: string; name: string; tags: string[] }): Promise<LvInfo> {
    const p = validateLvPath(spec.vg, spec.name, 'name');
    const tags = validateTags(spec.tags);
    if (tags.includes(this.ownerTag))
      throw new LvmRefusedError(`removing the owner tag "${this.ownerTag}" would orphan ${p.vg}/${p.lv}`);
    const lv = await this.requireOwned(p.vg, p.lv);
    const present = tags.filter((t) => lv.tags.includes(t));
    if (present.length === 0) return lv;
    await this.change('lvchange', [...present.flatMap((t) => ['--deltag', t]), `${p.vg}/${p.lv}`]);
    return this.requireLv(p.vg, p.lv);
  }

  /** How full a snapshot is: snap_percent for COW, data_percent for thin. */
  async snapshotUsage(spec: { vg: string; name: string }): Promise<SnapshotUsage> {
    const p = validateLvPath(spec.vg, spec.name, 'name');
    const lv = await this.requireLv(p.vg, p.lv);
    if (lv.attr.volumeType === 'snapshot' || lv.attr.volumeType === 'merging-snapshot')
      return { kind: 'cow', percent: lv.snapPercent };
    if (lv.attr.volumeType === 'thin' && lv.origin !== null) return { kind: 'thin', percent: lv.dataPercent };
    throw new LvmRefusedError(`${p.vg}/${p.lv} is not a snapshot`);
  }

  // ---- internals -------------------------------------------------------------------------

  private async createOnce(
    p: { vg: string; lv: string },
    matches: (lv: LvInfo) => boolean,
    wanted: string,
    args: string[],
  ): Promise<LvInfo> {
    // The previous attempt may have died after lvcreate: an identical LV of ours is success.
    const existing = await this.findValidLv(p.vg, p.lv);
    if (existing) {
      if (existing.tags.includes(this.ownerTag) && matches(existing)) return existing;
      throw new LvmAlreadyExistsError(
        {
          command: 'lvcreate',
          args: [],
          exitCode: undefined,
          stderr: `exists as ${existing.attr.raw} ${existing.sizeBytes}b, wanted ${wanted}`,
        },
        'lv',
        `${p.vg}/${p.lv}`,
      );
    }
    await this.change('lvcreate', args);
    return this.requireLv(p.vg, p.lv);
  }

  private async remove(lv: LvInfo): Promise<void> {
    try {
      // --yes: lvremove asks before removing an active LV, and nobody is there to answer.
      await this.change('lvremove', ['--yes', `${lv.vg}/${lv.name}`]);
    } catch (err) {
      // Removed between our look and lvremove (a concurrent retry): the goal is met.
      if (err instanceof LvmNotFoundError && err.kind === 'lv') return;
      throw err;
    }
  }

  /** lvremove --yes would take a pool's thin LVs or an origin's snapshots with it. */
  private async refuseIfOthersDepend(lv: LvInfo): Promise<void> {
    const type = lv.attr.volumeType;
    if (type !== 'thin-pool' && type !== 'origin' && type !== 'thin') return;
    const others = await this.listLvs(lv.vg);
    const dependants = others.filter((o) => o.pool === lv.name || o.origin === lv.name).map((o) => o.name);
    if (dependants.length > 0)
      throw new LvmRefusedError(`${lv.vg}/${lv.name} has dependent LVs: ${dependants.join(', ')}`);
  }

  private checkOwned(lv: LvInfo): void {
    if (!lv.tags.includes(this.ownerTag))
      throw new LvmRefusedError(
        `${lv.vg}/${lv.name} is not tagged "${this.ownerTag}": xlss does not touch it`,
      );
  }

  private async requireOwned(vg: string, lv: string): Promise<LvInfo> {
    const found = await this.requireLv(vg, lv);
    this.checkOwned(found);
    return found;
  }

  private async requireLv(vg: string, lv: string): Promise<LvInfo> {
    const found = await this.findValidLv(vg, lv);
    if (!found) throw new LvmNotFoundError(this.facts('lvs', []), 'lv', `${vg}/${lv}`);
    return found;
  }

  private async findValidLv(vg: string, lv: string): Promise<LvInfo | null> {
    try {
      const [found] = parseLvsReport(await this.report('lvs', LV_FIELDS, [`${vg}/${lv}`]));
      return found ?? null;
    } catch (err) {
      if (err instanceof LvmNotFoundError && err.kind === 'lv') return null;
      throw err;
    }
  }

  private tagArgs(extra: string[]): string[] {
    return [this.ownerTag, ...extra.filter((t) => t !== this.ownerTag)].flatMap((t) => ['--addtag', t]);
  }

  private async report(command: string, fields: readonly string[], targets: string[]): Promise<string> {
    const args = [...REPORT_ARGS, '-o', fields.join(','), ...targets];
    return (await this.exec(command, args, true)).stdout;
  }

  private async change(command: string, args: string[]): Promise<void> {
    await this.exec(command, args, false);
    this.log.info({ command, args }, 'lvm change');
  }

  private async exec(command: string, args: string[], readOnly: boolean) {
    try {
      return await this.runner.run(command, args, { readOnly, env: LVM_ENV });
    } catch (err) {
      if (err instanceof CommandError) throw classifyLvmError(err);
      throw err;
    }
  }

  private facts(command: string, args: readonly string[]) {
    return { command, args, exitCode: undefined, stderr: '' };
  }
}

function isThick(lv: LvInfo): boolean {
  return lv.attr.volumeType === 'plain' || lv.attr.volumeType === 'origin';
}

function isSnapshot(lv: LvInfo): boolean {
  const t = lv.attr.volumeType;
  return t === 'snapshot' || t === 'merging-snapshot' || (t === 'thin' && lv.origin !== null);
}

/**
 * LVM caps a COW store at what the origin can ever need ("Reducing COW size 2.00 GiB down
 * to maximum usable size 68.00 MiB"): a capped snapshot is what a larger request made.
 */
function cowSizeMatches(lv: LvInfo, requested: bigint): boolean {
  if (lv.sizeBytes === requested) return true;
  const origin = lv.originSizeBytes;
  return origin !== null && lv.sizeBytes > origin && lv.sizeBytes < requested;
}
