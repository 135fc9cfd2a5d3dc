import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../common/log.js';
import type { CommandRunner } from '../../common/runner.js';
import { DrbdAdm, type DrbdEventStream, type DrbdGeneration, type DrbdState } from '../../drbd/index.js';
import type { Lvm } from '../../lvm/index.js';
import type { DrbdConfigFiles } from './config-files.js';
import { deviceOf, peerDeviceOf, type StepKind, type VolumeFacts } from './plan.js';
import { drbdDevice, lvPath } from './resource.js';
import type { EngineConfig, FenceRelay } from './service.js';
import type { SpecStore, VolumeRecord } from './store.js';

const MiB = 1024n * 1024n;
/** How much of each end of a new LV is zeroed: DRBD's superblock sits in the last 4 KiB, its bitmap and activity log before it. */
const WIPE_MIB = 8n;
/** How long a step waits for events2 to show its effect before the next observation. */
const SETTLE_MS = 10_000;

export interface StepDeps {
  runner: CommandRunner;
  config: EngineConfig;
  generation: DrbdGeneration;
  files: DrbdConfigFiles;
  store: SpecStore;
  lvm: Lvm;
  stream: DrbdEventStream;
  log: Logger;
  /** The controller, through the daemon's relay: the only one who may release a frozen Primary. */
  fence: FenceRelay;
  /** How long a step waits for events2 to show its effect (default 10 s). */
  settleMs?: number;
  /** How long drbd-resize watches the device size after `drbdadm resize` (default 5 s). */
  growWaitMs?: number;
  /** Reads a small file (sysfs); injected by unit tests. */
  readFile(path: string): Promise<string>;
  /** Writes the record (atomically) and makes it the engine's current one. */
  save(record: VolumeRecord): Promise<void>;
}

export interface StepInput {
  record: VolumeRecord;
  facts: VolumeFacts;
  /** The rendered `.res` the spec wants, with its hash; null without a peer. */
  wanted: { text: string; hash: string } | null;
}

/**
 * The step could not finish because of something outside this node that no DRBD event
 * will announce (the peer's LV not grown yet, the controller's "not yet"): the engine
 * tries again soon instead of at the next periodic pass.
 */
export class RetrySoonError extends Error {}
/** A Primary stays frozen: the controller did not allow resuming I/O (yet). */
export class FrozenError extends RetrySoonError {}

/** Carries out one planned step for one volume. Every step is safe to repeat after a crash. */
export class StepRunner {
  constructor(private readonly d: StepDeps) {}

  adm(name: string): DrbdAdm {
    return new DrbdAdm({
      runner: this.d.runner,
      generation: this.d.generation,
      configFile: this.d.files.wrapperPath(name),
      logger: this.d.log,
    });
  }

  async apply(kind: StepKind, input: StepInput): Promise<void> {
    const { record, facts, wanted } = input;
    const name = record.name;
    const spec = record.spec;
    const { config, lvm, runner } = this.d;
    this.d.log.info({ volume: name, step: kind }, 'step');
    switch (kind) {
      case 'create-lv':
        // Planned only when this pass's LVM report showed no such LV, and the engine reads
        // the report again after an LVM step: no look of its own before or after lvcreate.
        await lvm.createObservedAbsentLv(
          spec.thin
            ? {
                thin: true,
                vg: config.vg,
                name,
                pool: config.thinPool,
                virtualSizeBytes: BigInt(spec.sizeBytes),
              }
            : { thin: false, vg: config.vg, name, sizeBytes: BigInt(spec.sizeBytes) },
        );
        return;
      case 'activate-lv':
        await runner.run('lvchange', ['--activate', 'y', `${config.vg}/${name}`]);
        return;
      case 'wipe':
        // Only ever before create-md: LVM zeroes the first 4 KiB at most, and a stale DRBD
        // superblock at the end of a reused extent range would be taken as this volume's.
        await this.zeroEnds(name);
        await this.save({ ...record, wiped: true });
        return;
      case 'write-config':
        if (!wanted) throw new Error('no config to write');
        await this.d.files.install(name, wanted.text);
        return;
      case 'extend-lv':
        await lvm.extendLv({ vg: config.vg, name, sizeBytes: BigInt(spec.sizeBytes) });
        return;
      case 'up':
        await this.ensureMetadata(name);
        await this.adm(name).up(name);
        await this.settle((s) => s[name] !== undefined);
        if (wanted) await this.save({ ...record, adjustedConfig: wanted.hash });
        return;
      case 'adjust':
        await this.adm(name).adjust(name);
        if (wanted) await this.save({ ...record, adjustedConfig: wanted.hash });
        return;
      case 'initial-sync':
        await this.initialSync(name, spec.thin);
        return;
      case 'drbd-resize':
        await this.growDrbd(name, record, facts);
        return;
      case 'resume-io':
        await this.resumeIo(name, record);
        return;
      case 'connect':
        this.d.log.warn({ volume: name }, 'DRBD gave up on its peer (StandAlone): connecting again');
        await this.adm(name).connect(name);
        return;
      case 'fail-frozen-io': {
        // Disk first: with neither disk nor peer, resume-io fails the held writes (EIO).
        const disk = deviceOf(facts.res)?.disk;
        if (disk !== 'Diskless' && disk !== 'Failed') await this.adm(name).forceDetach(name);
        await this.adm(name).resumeIo(name);
        this.d.log.warn(
          { volume: name },
          'deleting a Primary frozen by fencing: its held writes failed (EIO), none acknowledged',
        );
        await this.settle((s) => s[name]?.suspended === 'no');
        return;
      }
      case 'promote':
        await this.adm(name).primary(name);
        await this.settle((s) => s[name]?.role === 'Primary');
        return;
      case 'mount':
        await this.mount(name, record);
        return;
      case 'grow-fs':
        if (spec.filesystem === 'xfs') await runner.run('xfs_growfs', [facts.mount?.path ?? '']);
        else await runner.run('resize2fs', [drbdDevice(spec.drbd.minor)]);
        await this.save({ ...record, fsGrownTo: spec.sizeBytes });
        return;
      case 'unmount':
        if (facts.mount) await runner.run('umount', [facts.mount.path]);
        return;
      case 'demote':
        if (!(await this.d.files.present(name))) {
          // No `.res` left (a delete after /etc was lost): drbdsetup needs none. 8.4's
          // drbdsetup addresses a device by minor, 9's by resource.
          const target = this.d.generation === '8.4' ? String(spec.drbd.minor) : name;
          await runner.run('drbdsetup', ['secondary', target]);
        } else await this.adm(name).secondary(name);
        await this.settle((s) => s[name]?.role !== 'Primary');
        return;
      case 'down':
        // drbdsetup, not drbdadm: it needs no config file, so a delete finishes even
        // when the `.res` is already gone.
        await runner.run('drbdsetup', ['down', name]);
        await this.settle((s) => s[name] === undefined);
        return;
      case 'remove-lv':
        // DRBD's metadata goes first, so the extents never come back with it.
        if (facts.lv) await this.zeroEnds(name);
        await lvm.removeLv({ vg: config.vg, name });
        return;
      case 'remove-config':
        await this.d.files.remove(name);
        return;
      case 'forget':
        await this.d.store.remove(name);
        return;
    }
  }

  private save(record: VolumeRecord): Promise<void> {
    return this.d.save(record);
  }

  private async zeroEnds(name: string): Promise<void> {
    const dev = lvPath(this.d.config, name);
    // The device's own size, not a report's: the end is where DRBD's metadata would be.
    const size = (
      await this.d.runner.run('blockdev', ['--getsize64', dev], { readOnly: true })
    ).stdout.trim();
    if (!/^[0-9]{1,20}$/.test(size))
      throw new Error(`blockdev --getsize64 ${dev} said ${JSON.stringify(size)}`);
    const totalMiB = BigInt(size) / MiB;
    const n = totalMiB < WIPE_MIB ? totalMiB : WIPE_MIB;
    if (n === 0n) return;
    const base = [
      `if=/dev/zero`,
      `of=${dev}`,
      'bs=1M',
      `count=${n}`,
      'oflag=direct',
      'conv=notrunc',
      'status=none',
    ];
    await this.d.runner.run('dd', base);
    await this.d.runner.run('dd', [...base, `seek=${totalMiB - n}`]);
  }

  /**
   * create-md only where drbdmeta finds no valid metadata; any other answer (metadata
   * found, unclean, unreadable) leaves the disk alone. Force is used only after that
   * check, to skip drbdadm's question about a disk it has just been told is empty.
   */
  private async ensureMetadata(name: string): Promise<void> {
    const r = await this.d.runner.run('drbdadm', ['-c', this.d.files.wrapperPath(name), 'dump-md', name], {
      reject: false,
      readOnly: true,
    });
    if (r.exitCode === 0) return;
    const said = `${r.stderr}\n${r.stdout}`;
    if (/No valid meta.?data found/i.test(said)) {
      await this.adm(name).createMd(name, { force: true });
      return;
    }
    // A node that crashed while Primary left its activity log unapplied: the metadata is
    // there (never create-md); drbdmeta wants the log applied before it reads it. Seen
    // in the lab: the crashed Primary's node never came back as a replica without this.
    if (/unclean.*apply-al/is.test(said)) {
      this.d.log.warn(
        { volume: name },
        'DRBD metadata unclean (crashed while Primary): applying the activity log',
      );
      await this.adm(name).applyAl(name);
      return;
    }
    throw new Error(
      `dump-md exited ${r.exitCode}, cannot tell whether DRBD metadata exists; create-md refused: ${r.stderr.trim().slice(0, 300)}`,
    );
  }

  /**
   * Both sides connected, Inconsistent, and DRBD chose no resync: both were just created
   * (DRBD compared the generation ids on connect; two fresh disks give "no sync"). The
   * local current id must still be the just-created value before anything is skipped:
   * a thin volume is all zeroes on both sides, so it is marked in sync; a thick one gets
   * its full initial sync from this side.
   */
  private async initialSync(name: string, thin: boolean): Promise<void> {
    const target = this.d.generation === '9' ? `${name}/0` : name;
    const gi = await this.d.runner.run('drbdadm', ['-c', this.d.files.wrapperPath(name), 'get-gi', target], {
      readOnly: true,
    });
    const current = gi.stdout.trim().split(':')[0] ?? '';
    if (!/^0*4$/.test(current))
      throw new Error(
        `current generation id ${current || '(none)'} is not the just-created one: initial sync left to DRBD`,
      );
    if (thin) {
      await this.adm(name).newCurrentUuidClearBitmap(name);
      await this.settle((s) => deviceOf(s[name] ?? null)?.disk === 'UpToDate');
    } else {
      await this.adm(name).primary(name, { force: true });
      await this.settle((s) => s[name]?.role === 'Primary');
    }
  }

  /**
   * `drbdadm resize` grows to the smaller of both backing disks: done when the device
   * reached our LV. The size is read from sysfs (events2 does not report a size change the
   * peer started; a DRBD 8.4 Secondary cannot be opened by blockdev). When the peer ran
   * its resize first the device has grown already and no command is needed; DRBD 8.4
   * refuses a resize during a resync, so then the step only waits. A thin LV's new
   * space reads as zeroes on both sides, so it joins without a resync (`--assume-clean`);
   * a thick LV's new extents hold old data and are synced.
   */
  private async growDrbd(name: string, record: VolumeRecord, facts: VolumeFacts): Promise<void> {
    const grown = async (): Promise<boolean> => {
      const lvBytes = Number(facts.lv?.sizeBytes ?? 0n);
      // Internal metadata: a bitmap bit per 4 KiB plus superblock and activity log.
      const margin = 1024 * 1024 + Math.ceil(lvBytes / 32768) * 2;
      const sectors = await this.d.readFile(`/sys/block/drbd${record.spec.drbd.minor}/size`);
      return Number(sectors.trim()) * 512 >= lvBytes - margin;
    };
    const done = () => this.save({ ...record, drbdGrownTo: record.spec.sizeBytes });
    if (await grown()) return done();
    if (peerDeviceOf(facts.res)?.replication !== 'Established')
      throw new RetrySoonError('a resync is running: DRBD is resized after it');
    await this.d.runner.run('drbdadm', [
      '-c',
      this.d.files.wrapperPath(name),
      ...(record.spec.thin ? ['--', '--assume-clean'] : []),
      'resize',
      name,
    ]);
    // The peer may be growing its LV right now (the controller asks both at once).
    const until = Date.now() + (this.d.growWaitMs ?? 5000);
    for (;;) {
      if (await grown()) return done();
      if (Date.now() >= until) break;
      await sleep(250);
    }
    throw new RetrySoonError('DRBD not grown yet: the peer has not grown its LV');
  }

  /**
   * Releases a Primary frozen by fencing, only on the controller's allow. The controller
   * allows only once the peer is Outdated for the current epoch (its daemon ran `outdate`)
   * or dead and recorded outdated, the same facts that make the handler exit 4 or 7.
   * On 8.4 `resume-io` then starts a new current data generation, so the peer comes back as
   * a sync target; nothing on this node can mark the peer's disk itself (`outdate` is
   * local only), so the controller's record is what keeps the peer from being promoted.
   */
  private async resumeIo(name: string, record: VolumeRecord): Promise<void> {
    const peer = record.spec.peer?.node;
    if (!peer) throw new FrozenError('I/O frozen and the spec names no peer to ask about');
    const answer = await this.d.fence.askController(name, peer);
    if (!answer.allow) throw new FrozenError(`I/O frozen: the controller says ${answer.reason}`);
    this.d.log.warn({ volume: name, peer, reason: answer.reason }, 'controller allowed: resuming I/O');
    await this.adm(name).resumeIo(name);
    await this.settle((s) => s[name]?.suspended === 'no');
  }

  private async mount(name: string, record: VolumeRecord): Promise<void> {
    const spec = record.spec;
    if (!spec.filesystem || !spec.mountPoint) return;
    const dev = drbdDevice(spec.drbd.minor);
    const probe = await this.d.runner.run('blkid', ['-p', '-o', 'value', '-s', 'TYPE', dev], {
      reject: false,
      readOnly: true,
    });
    if (probe.exitCode === 0) {
      const found = probe.stdout.trim();
      if (found !== spec.filesystem)
        throw new Error(`${dev} holds ${found || 'an unknown signature'}, not ${spec.filesystem}`);
    } else if (probe.exitCode === 2) {
      // blkid -p exits 2 when it finds no signature at all: the first use of this volume.
      if (spec.filesystem === 'ext4') await this.d.runner.run('mkfs.ext4', ['-q', '-E', 'nodiscard', dev]);
      else await this.d.runner.run('mkfs.xfs', ['-q', '-K', dev]);
      await this.save({ ...record, fsGrownTo: spec.sizeBytes });
    } else {
      throw new Error(`blkid ${dev} exited ${probe.exitCode}: ${probe.stderr.trim()}`);
    }
    await this.d.runner.run('mkdir', ['-p', spec.mountPoint]);
    await this.d.runner.run('mount', ['-t', spec.filesystem, dev, spec.mountPoint]);
    this.d.log.info({ volume: name, mountPoint: spec.mountPoint }, 'mounted');
  }

  private async settle(done: (s: DrbdState) => boolean): Promise<void> {
    await this.d.stream.waitFor(done, { timeoutMs: this.d.settleMs ?? SETTLE_MS }).catch(() => undefined);
  }
}
