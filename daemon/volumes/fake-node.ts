import { readFileSync } from 'node:fs';
import {
  CommandError,
  type CommandRunner,
  type LineStream,
  type RunOptions,
  type RunResult,
} from '../../common/runner.js';
import { LV_FIELDS, VG_FIELDS } from '../../lvm/index.js';

/**
 * An in-memory node for unit tests and the steady-pass count: LVs, DRBD metadata, DRBD
 * resources with a simulated peer, filesystems and mounts, behind the CommandRunner
 * interface, answering with the same text formats as the real tools (LVM JSON reports,
 * events2 lines, drbdadm's messages). It also records safety violations, e.g. create-md
 * on a disk that holds metadata, so tests can assert none happened.
 */
export interface FakeLv {
  name: string;
  sizeBytes: bigint;
  thin: boolean;
  tags: string[];
  /** Raw lv_attr override (an odd row). */
  attr?: string;
  hasMd: boolean;
  /** The node lost power while this disk's resource was Primary: drbdmeta wants apply-al. */
  alUnclean?: boolean;
  /** Current DRBD generation id (hex) when hasMd. */
  gi: string;
  fs: string | null;
}

export interface FakeResource {
  name: string;
  minor: number;
  role: 'Primary' | 'Secondary';
  disk: string;
  connection: string;
  peerRole: string;
  peerDisk: string;
  replication: string;
  sizeKiB: number;
  done?: number;
  /** events2's `suspended` (`fencing` while a fence-peer question is open). */
  suspended?: string;
  /** The kernel's fencing policy: the `.res` says resource-and-stonith; `disk-options` changes it. */
  fencing?: string;
}

export interface RecordedCommand {
  command: string;
  args: readonly string[];
}

const EXTENT = 4n * 1024n * 1024n;
const JUST_CREATED = '0000000000000004';

/** Thrown by every call after the node "died" (see {@link FakeNode.crashAfter}). */
export class FakeCrash extends Error {}

export class FakeNode implements CommandRunner {
  readonly calls: RecordedCommand[] = [];
  readonly lvs = new Map<string, FakeLv>();
  readonly resources = new Map<string, FakeResource>();
  readonly mounts = new Map<string, { path: string; fstype: string }>();
  readonly violations: string[] = [];
  /** Resources whose writes held by fencing were failed (resume-io without disk or peer). */
  readonly failedHeldWrites: string[] = [];
  /** The simulated peer: present and fresh (just-created metadata), or absent. */
  peer: 'fresh' | 'absent' = 'fresh';
  /** Primary --force on a thick volume leaves a resync running until finishSync(). */
  holdSync = false;
  /** The peer's LV size, when it lags behind (resize tests). */
  peerLvBytes: bigint | null = null;
  /** After this many change commands every call throws FakeCrash. */
  crashAfter = Number.POSITIVE_INFINITY;
  /** While set, every LVM report (lvs, vgs) waits for it: a report that takes seconds. */
  lvmGate: Promise<void> | null = null;
  private changes = 0;
  private giCounter = 0x1000;
  private listeners = new Set<(lines: string[]) => void>();

  constructor(
    readonly vg = 'xlss',
    readonly pool = 'pool',
    readonly vgBytes = 1024n * 1024n * 1024n * 1024n,
  ) {}

  // ---- CommandRunner ----------------------------------------------------------------------

  async run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    this.calls.push({ command, args: [...args] });
    if (this.changes >= this.crashAfter)
      throw new FakeCrash(`node crashed before ${command} ${args.join(' ')}`);
    if (!options.readOnly && !READ_ONLY.has(command)) this.changes++;
    if ((command === 'lvs' || command === 'vgs') && this.lvmGate) await this.lvmGate;
    const [exitCode, stdout, stderr] = this.answer(command, args);
    if (exitCode !== 0 && options.reject !== false)
      throw new CommandError({ command, args, exitCode, stdout, stderr });
    return { command, args, stdout, stderr, exitCode, durationMs: 0 };
  }

  stream(command: string, args: readonly string[]): LineStream {
    this.calls.push({ command, args: [...args] });
    const queue: string[] = [...this.dump(), 'exists -'];
    let wake: (() => void) | undefined;
    let stopped = false;
    let resolveExit: (code: number) => void = () => {};
    const exited = new Promise<number>((r) => {
      resolveExit = r;
    });
    const listener = (lines: string[]) => {
      queue.push(...lines);
      wake?.();
    };
    this.listeners.add(listener);
    const listeners = this.listeners;
    async function* lines(): AsyncGenerator<string> {
      while (!stopped) {
        const line = queue.shift();
        if (line !== undefined) {
          yield line;
          continue;
        }
        await new Promise<void>((r) => {
          wake = r;
        });
        wake = undefined;
      }
    }
    return {
      lines: lines(),
      exited,
      stop: () => {
        stopped = true;
        listeners.delete(listener);
        wake?.();
        resolveExit(-1);
      },
    };
  }

  /** The argument lists of every call to `command`, in order. */
  argsOf(command: string): string[][] {
    return this.calls.filter((c) => c.command === command).map((c) => [...c.args]);
  }

  /** Number of calls whose command is one of `commands` (all when none given). */
  count(...commands: string[]): number {
    return this.calls.filter((c) => commands.length === 0 || commands.includes(c.command)).length;
  }

  /** `/sys/block/drbdN/size`: the device size in 512-byte sectors. */
  async sysFile(path: string): Promise<string> {
    const minor = /^\/sys\/block\/drbd(\d+)\/size$/.exec(path)?.[1];
    const r = [...this.resources.values()].find((x) => String(x.minor) === minor);
    if (!r) throw new Error(`ENOENT: ${path}`);
    return `${r.sizeKiB * 2}\n`;
  }

  mountsText(): string {
    const lines = ['proc /proc proc rw 0 0', '/dev/vda1 / ext4 rw 0 0'];
    for (const [dev, m] of this.mounts)
      lines.push(`${dev} ${m.path.replace(/ /g, '\\040')} ${m.fstype} rw 0 0`);
    return `${lines.join('\n')}\n`;
  }

  /** Ends a held resync: both sides UpToDate. */
  /**
   * A power cut: DRBD and the mounts are gone, the LVs stay; a disk whose resource was
   * Primary keeps an unapplied activity log, as drbdmeta reports it after a real crash.
   */
  powerCut(): void {
    for (const res of this.resources.values()) {
      const lv = this.lvs.get(res.name);
      if (lv && res.role === 'Primary') lv.alUnclean = true;
    }
    this.resources.clear();
    this.mounts.clear();
  }

  finishSync(name: string): void {
    const r = this.resources.get(name);
    if (!r) return;
    Object.assign(r, { disk: 'UpToDate', peerDisk: 'UpToDate', replication: 'Established' });
    delete r.done;
    this.emit(r);
  }

  /** Changes a resource's state as the kernel would, with the events2 lines. */
  patch(name: string, change: Partial<FakeResource>): void {
    const r = this.resources.get(name);
    if (!r) throw new Error(`FakeNode: no resource ${name}`);
    Object.assign(r, change);
    this.emit(r);
  }

  /**
   * The lagging peer grew its LV and ran its resize: the device here grows with no
   * events2 line, as DRBD 8.4 shows it.
   */
  peerGrew(name: string): void {
    this.peerLvBytes = null;
    const r = this.resources.get(name);
    const lv = this.lvs.get(name);
    if (r && lv) r.sizeKiB = Number(lv.sizeBytes / 1024n) - 40;
  }

  /** The peer goes away (its node died) or comes back. */
  setPeerConnected(name: string, connected: boolean): void {
    const r = this.resources.get(name);
    if (!r) return;
    if (connected)
      Object.assign(r, {
        connection: 'Connected',
        peerRole: 'Secondary',
        peerDisk: 'UpToDate',
        replication: 'Established',
      });
    else
      Object.assign(r, {
        connection: 'Connecting',
        peerRole: 'Unknown',
        peerDisk: 'DUnknown',
        replication: 'Off',
      });
    this.emit(r);
  }

  /** A DRBD handler call (status undefined) or its response, as events2 reports them. */
  helper(name: string, helper: string, status?: number): void {
    const kind = status === undefined ? 'call' : 'response';
    const tail = status === undefined ? '' : ` status:${status}`;
    this.broadcast([
      `${kind} helper name:${name} peer-node-id:1 conn-name:peer volume:0 minor:0 helper:${helper}${tail}`,
    ]);
  }

  // ---- answers ------------------------------------------------------------------------

  private answer(command: string, args: readonly string[]): [number, string, string] {
    switch (command) {
      case 'lvs':
        return this.lvsReport(args[args.length - 1] ?? '');
      case 'vgs':
        return [0, this.vgsReport(), ''];
      case 'lvcreate':
        return this.lvcreate(args);
      case 'lvextend': {
        const lv = this.lvs.get(String(args[args.length - 1]).split('/')[1] ?? '');
        if (!lv) return [5, '', 'Failed to find logical volume'];
        lv.sizeBytes = roundUp(BigInt(String(args[args.indexOf('--size') + 1]).replace(/b$/, '')));
        return [0, '', ''];
      }
      case 'lvremove': {
        const name = String(args[args.length - 1]).split('/')[1] ?? '';
        if (!this.lvs.delete(name)) return [5, '', `Failed to find logical volume "${this.vg}/${name}"`];
        return [0, '', ''];
      }
      case 'dd':
        return this.dd(args);
      case 'blockdev': {
        const lv = this.lvs.get(
          String(args[args.length - 1])
            .split('/')
            .pop() ?? '',
        );
        return lv ? [0, `${lv.sizeBytes}\n`, ''] : [1, '', 'blockdev: cannot open device'];
      }
      case 'drbdadm':
        return this.drbdadm(args);
      case 'drbdsetup':
        return this.drbdsetup(args);
      case 'blkid': {
        const lv = this.lvOfDevice(String(args[args.length - 1]));
        return lv?.fs ? [0, `${lv.fs}\n`, ''] : [2, '', ''];
      }
      case 'mkfs.ext4':
      case 'mkfs.xfs': {
        const lv = this.lvOfDevice(String(args[args.length - 1]));
        if (!lv) return [1, '', 'no such device'];
        lv.fs = command.slice(5);
        return [0, '', ''];
      }
      case 'mkdir':
      case 'systemctl':
      case 'resize2fs':
      case 'xfs_growfs':
        return [0, '', ''];
      case 'mount': {
        const [, fstype, dev, path] = args;
        this.mounts.set(String(dev), { path: String(path), fstype: String(fstype) });
        return [0, '', ''];
      }
      case 'umount': {
        for (const [dev, m] of this.mounts) {
          if (m.path !== args[0]) continue;
          const frozen = [...this.resources.values()].find(
            (r) => `/dev/drbd${r.minor}` === dev && (r.suspended ?? 'no') !== 'no',
          );
          if (frozen) this.violations.push(`umount of ${dev} with I/O frozen (hangs on a real node)`);
          this.mounts.delete(dev);
        }
        return [0, '', ''];
      }
      default:
        throw new Error(`FakeNode: unexpected command ${command} ${args.join(' ')}`);
    }
  }

  private lvsReport(target: string): [number, string, string] {
    const [, only] = target.split('/');
    const rows: Record<string, string>[] = [
      lvRow(
        LV_FIELDS,
        { lv_name: this.pool, lv_attr: 'twi-aotz--', lv_size: String(this.vgBytes / 2n), lv_tags: 'xlss' },
        this.vg,
      ),
    ];
    for (const lv of this.lvs.values()) {
      rows.push(
        lvRow(
          LV_FIELDS,
          {
            lv_name: lv.name,
            lv_path: `/dev/${this.vg}/${lv.name}`,
            lv_attr: lv.attr ?? (lv.thin ? 'Vwi-a-tz--' : '-wi-a-----'),
            lv_size: String(lv.sizeBytes),
            lv_tags: lv.tags.join(','),
            pool_lv: lv.thin ? this.pool : '',
          },
          this.vg,
        ),
      );
    }
    const picked = only ? rows.filter((r) => r.lv_name === only) : rows;
    if (only && picked.length === 0) return [5, '', `Failed to find logical volume "${target}"`];
    return [0, JSON.stringify({ report: [{ lv: picked }] }), ''];
  }

  private vgsReport(): string {
    let used = 0n;
    for (const lv of this.lvs.values()) if (!lv.thin) used += lv.sizeBytes;
    const row: Record<string, string> = {};
    for (const f of VG_FIELDS) row[f] = '';
    Object.assign(row, {
      vg_uuid: 'vg-uuid',
      vg_name: this.vg,
      vg_attr: 'wz--n-',
      vg_size: String(this.vgBytes),
      vg_free: String(this.vgBytes / 2n - used),
      vg_extent_size: String(EXTENT),
      vg_extent_count: String(this.vgBytes / EXTENT),
      vg_free_count: String((this.vgBytes / 2n - used) / EXTENT),
      pv_count: '1',
      lv_count: String(this.lvs.size + 1),
      snap_count: '0',
      vg_tags: 'xlss',
    });
    return JSON.stringify({ report: [{ vg: [row] }] });
  }

  private lvcreate(args: readonly string[]): [number, string, string] {
    const val = (flag: string) => {
      const i = args.indexOf(flag);
      return i >= 0 ? String(args[i + 1]) : undefined;
    };
    const name = val('--name') ?? '';
    if (this.lvs.has(name))
      return [5, '', `Logical Volume "${name}" already exists in volume group "${this.vg}"`];
    const thin = val('--thinpool') !== undefined;
    const size = roundUp(BigInt((val('--virtualsize') ?? val('--size') ?? '0').replace(/b$/, '')));
    const tags = args.flatMap((a, i) => (args[i - 1] === '--addtag' ? [a] : []));
    // A thick LV may land on extents a removed one used: an old filesystem at the start
    // and old DRBD metadata at the end. A thin LV reads zeroes.
    this.lvs.set(
      name,
      thin
        ? { name, sizeBytes: size, thin, tags, hasMd: false, gi: '', fs: null }
        : { name, sizeBytes: size, thin, tags, hasMd: true, gi: '00000000DEADBEEF', fs: 'ext4' },
    );
    return [0, '', ''];
  }

  private dd(args: readonly string[]): [number, string, string] {
    const of = args.find((a) => a.startsWith('of='))?.slice(3) ?? '';
    const lv = this.lvs.get(of.split('/').pop() ?? '');
    if (!lv) return [1, '', `dd: failed to open '${of}'`];
    if (this.resources.has(lv.name)) this.violations.push(`dd on ${lv.name} while its DRBD resource is up`);
    const seek = args.find((a) => a.startsWith('seek='));
    const count = Number(args.find((a) => a.startsWith('count='))?.slice(6) ?? 0);
    if (!seek) lv.fs = null;
    // DRBD's internal metadata sits in the last MiB: only zeroes up to the very end reach it.
    else if ((Number(seek.slice(5)) + count) * 1024 * 1024 === Number(lv.sizeBytes)) lv.hasMd = false;
    return [0, '', ''];
  }

  private drbdadm(all: readonly string[]): [number, string, string] {
    let args = [...all];
    let config: string | undefined;
    if (args[0] === '-c') {
      config = args[1];
      args = args.slice(2);
    }
    // `drbdadm -- --opt verb res`: options after `--` go to drbdsetup.
    const passed: string[] = [];
    if (args[0] === '--') {
      args = args.slice(1);
      while (args[0]?.startsWith('--')) passed.push(args.shift() as string);
    }
    const clearBitmap = passed.includes('--clear-bitmap');
    const verb = args[0] ?? '';
    const force = args.includes('--force');
    const target = String(args[args.length - 1]);
    const name = target.split('/')[0] ?? '';
    const lv = this.lvs.get(name);
    const res = this.resources.get(name);
    if (verb !== 'dump' && config !== undefined && !this.configDefines(config, name))
      return [10, '', `'${name}' not defined in your config (for this host).`];
    switch (verb) {
      case 'dump':
        return config && this.configDefines(config, name)
          ? [0, `resource ${name} {}\n`, '']
          : [10, '', 'parse error'];
      case 'dump-md':
        if (res) return [20, '', `Device '${res.minor}' is configured!`];
        if (!lv) return [20, '', 'open(/dev/xlss/x) failed: No such file or directory'];
        if (lv.hasMd && lv.alUnclean) return [1, '', 'Found meta data is "unclean", please apply-al first'];
        return lv.hasMd
          ? [0, `version "v08"\nla-size-sect ${lv.sizeBytes / 512n};\n`, '']
          : [255, '', 'No valid meta data found'];
      case 'apply-al':
        if (res) return [20, '', `Device '${res.minor}' is configured!`];
        if (!lv?.hasMd) return [255, '', 'No valid meta data found'];
        lv.alUnclean = false;
        return [0, '', ''];
      case 'create-md':
        if (!lv) return [20, '', 'no such device'];
        if (lv.hasMd)
          this.violations.push(`create-md${force ? ' --force' : ''} on ${name}, which has metadata`);
        lv.hasMd = true;
        lv.gi = JUST_CREATED;
        return [0, 'New drbd meta data block successfully created.\n', ''];
      case 'up':
        if (res) return [10, '', `${name}: Failure: (161) Minor or volume exists already (delete it first)`];
        if (!lv?.hasMd) return [10, '', 'No valid meta data found'];
        this.bringUp(name, lv);
        return [0, '', ''];
      case 'adjust':
        if (!res && lv?.hasMd) this.bringUp(name, lv);
        if (res) res.fencing = 'resource-and-stonith';
        return [0, '', ''];
      case 'get-gi':
        if (!lv?.hasMd) return [10, '', 'No valid meta data found'];
        return [0, `${lv.gi}:0000000000000000:0000000000000000:0000000000000000:0:0:0:0:0:0:0:0:0:0\n`, ''];
      case 'new-current-uuid':
        if (!res || !lv) return [10, '', `${name}: No such resource`];
        if (!clearBitmap) return [1, '', 'fake: only --clear-bitmap'];
        if (lv.gi !== JUST_CREATED)
          this.violations.push(`clear-bitmap on ${name}, which is not just created`);
        lv.gi = this.nextGi();
        Object.assign(res, {
          disk: 'UpToDate',
          peerDisk: res.connection === 'Connected' ? 'UpToDate' : res.peerDisk,
        });
        this.emit(res);
        return [0, '', ''];
      case 'primary':
        if (!res || !lv) return [10, '', `${name}: No such resource`];
        if (res.peerRole === 'Primary')
          return [11, '', `${name}: State change failed: (-1) Multiple primaries not allowed by config`];
        if (res.disk !== 'UpToDate' && !force)
          return [11, '', `${name}: State change failed: (-2) Need access to UpToDate data`];
        if (force && res.disk !== 'UpToDate') {
          if (lv.gi !== JUST_CREATED)
            this.violations.push(`primary --force on ${name} with disk ${res.disk}`);
          lv.gi = this.nextGi();
          res.disk = 'UpToDate';
          if (res.connection === 'Connected') {
            Object.assign(
              res,
              this.holdSync ? { replication: 'SyncSource', done: 42.5 } : { peerDisk: 'UpToDate' },
            );
          }
        }
        res.role = 'Primary';
        this.emit(res);
        return [0, '', ''];
      case 'secondary':
        return this.secondary(res, name);
      case 'resize': {
        if (!res || !lv) return [10, '', `${name}: No such resource`];
        const smaller =
          this.peerLvBytes !== null && this.peerLvBytes < lv.sizeBytes ? this.peerLvBytes : lv.sizeBytes;
        res.sizeKiB = Number(smaller / 1024n) - 40;
        this.emit(res);
        return [0, '', ''];
      }
      case 'resume-io':
        if (!res) return [10, '', `${name}: No such resource`];
        // With neither a disk nor a connected peer the held writes fail; else they complete.
        if (
          res.suspended !== 'no' &&
          (res.disk === 'Diskless' || res.disk === 'Failed') &&
          res.connection !== 'Connected'
        )
          this.failedHeldWrites.push(name);
        res.suspended = 'no';
        this.emit(res);
        return [0, '', ''];
      case 'connect':
        if (!res) return [10, '', `${name}: No such resource`];
        if (res.connection === 'StandAlone') res.connection = 'Connecting';
        this.emit(res);
        return [0, '', ''];
      case 'detach':
        if (!res) return [10, '', `${name}: No such resource`];
        res.disk = 'Diskless';
        this.emit(res);
        return [0, '', ''];
      case 'outdate':
        if (!res) return [10, '', `${name}: No such resource`];
        if (res.role === 'Primary')
          return [
            17,
            '',
            `${name}: State change failed: (-7) Refusing to be Primary while peer is not outdated`,
          ];
        res.disk = 'Outdated';
        this.emit(res);
        return [0, '', ''];
      default:
        throw new Error(`FakeNode: unexpected drbdadm ${all.join(' ')}`);
    }
  }

  private drbdsetup(args: readonly string[]): [number, string, string] {
    const [verb, name = ''] = args;
    const res = this.resources.get(name);
    if (verb === 'secondary')
      return this.secondary(
        [...this.resources.values()].find((x) => String(x.minor) === name),
        name,
      );
    if (verb === 'status')
      return res ? [0, `${name} role:${res.role}\n`, ''] : [10, '', `${name}: No such resource`];
    if (verb === 'disk-options') {
      // 8.4: `drbdsetup disk-options MINOR --fencing=POLICY`.
      const byMinor = [...this.resources.values()].find((x) => String(x.minor) === name);
      const policy = args.find((a) => a.startsWith('--fencing='))?.slice('--fencing='.length);
      if (!byMinor) return [10, '', `${name}: No such minor`];
      if (policy) byMinor.fencing = policy;
      return [0, '', ''];
    }
    if (verb === 'down') {
      if (!res) return [10, '', `${name}: No such resource`];
      if (this.mounts.has(`/dev/drbd${res.minor}`))
        return [11, '', `${name}: State change failed: (-12) Device is held open by someone`];
      this.resources.delete(name);
      this.broadcast([`destroy resource name:${name}`]);
      return [0, '', ''];
    }
    throw new Error(`FakeNode: unexpected drbdsetup ${args.join(' ')}`);
  }

  private secondary(res: FakeResource | undefined, name: string): [number, string, string] {
    if (!res) return [10, '', `${name}: No such resource`];
    if (this.mounts.has(`/dev/drbd${res.minor}`))
      return [11, '', `${name}: State change failed: (-12) Device is held open by someone`];
    res.role = 'Secondary';
    this.emit(res);
    return [0, '', ''];
  }

  private bringUp(name: string, lv: FakeLv): void {
    const minor = this.minorOf(name);
    const fresh = lv.gi === JUST_CREATED;
    const connected = this.peer === 'fresh';
    const res: FakeResource = {
      name,
      minor,
      role: 'Secondary',
      disk: fresh ? 'Inconsistent' : 'UpToDate',
      connection: connected ? 'Connected' : 'Connecting',
      peerRole: connected ? 'Secondary' : 'Unknown',
      peerDisk: connected ? (fresh ? 'Inconsistent' : 'UpToDate') : 'DUnknown',
      replication: connected ? 'Established' : 'Off',
      sizeKiB: Number(lv.sizeBytes / 1024n) - 40,
      fencing: 'resource-and-stonith',
    };
    this.resources.set(name, res);
    this.emit(res);
  }

  /** Minors come from the config file the engine wrote (`device /dev/drbdN`). */
  private minorFiles = new Map<string, number>();
  private minorOf(name: string): number {
    return this.minorFiles.get(name) ?? 0;
  }

  private configDefines(wrapper: string, name: string): boolean {
    try {
      const include = /include "([^"]+)"/.exec(readFileSync(wrapper, 'utf8'))?.[1];
      if (!include) return false;
      const text = readFileSync(include, 'utf8');
      const minor = /device \/dev\/drbd(\d+)/.exec(text)?.[1];
      if (minor !== undefined) this.minorFiles.set(name, Number(minor));
      return text.includes(`resource ${name} {`);
    } catch {
      return false;
    }
  }

  private lvOfDevice(dev: string): FakeLv | undefined {
    for (const r of this.resources.values()) if (`/dev/drbd${r.minor}` === dev) return this.lvs.get(r.name);
    return undefined;
  }

  private nextGi(): string {
    this.giCounter += 2;
    return this.giCounter.toString(16).toUpperCase().padStart(16, '0');
  }

  private dump(): string[] {
    return [...this.resources.values()].flatMap((r) => resourceLines('exists', r));
  }

  private emit(r: FakeResource): void {
    this.broadcast(resourceLines('change', r));
  }

  private broadcast(lines: string[]): void {
    for (const l of this.listeners) l(lines);
  }
}

const READ_ONLY = new Set(['lvs', 'vgs', 'blkid', 'blockdev']);

function resourceLines(kind: string, r: FakeResource): string[] {
  const done = r.done !== undefined ? ` done:${r.done}` : '';
  return [
    `${kind} resource name:${r.name} role:${r.role} suspended:${r.suspended ?? 'no'}`,
    `${kind} connection name:${r.name} peer-node-id:1 conn-name:peer connection:${r.connection} role:${r.peerRole}`,
    `${kind} device name:${r.name} volume:0 minor:${r.minor} disk:${r.disk} size:${r.sizeKiB}`,
    `${kind} peer-device name:${r.name} peer-node-id:1 conn-name:peer volume:0 replication:${r.replication} peer-disk:${r.peerDisk} out-of-sync:0${done}`,
  ];
}

function lvRow(
  fields: readonly string[],
  values: Record<string, string>,
  vg: string,
): Record<string, string> {
  const row: Record<string, string> = {};
  for (const f of fields) row[f] = '';
  return { ...row, lv_uuid: `uuid-${values.lv_name}`, vg_name: vg, lv_active: 'active', ...values };
}

function roundUp(b: bigint): bigint {
  return ((b + EXTENT - 1n) / EXTENT) * EXTENT;
}
