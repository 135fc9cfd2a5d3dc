import { FakeRunner } from '../../common/fake-runner.js';
import type { RunOptions, RunResult } from '../../common/runner.js';
import { CommandError } from '../../common/runner.js';
import type { VolumeSpec, VolumeStatus } from '../api/schemas.js';
import type { BackupServiceDeps } from './service.js';

// Test doubles for the backup service: a tiny in-memory LVM answering the report and
// snapshot commands `lvm/` runs (real parsing, real argument building), and an engine.

interface FakeLv {
  name: string;
  attr: string;
  sizeBytes: number;
  tags: string[];
  pool: string;
  origin: string;
  active: boolean;
}

export class FakeLvmRunner extends FakeRunner {
  readonly lvs = new Map<string, FakeLv>();
  vgFreeBytes = 1024 * 1024 * 1024;
  /** Thin snapshots come up inactive unless activated (as with LVM's skip-activation flag). */
  thinSnapshotsActive = false;
  /** A snapshot of the origin LV named here waits for the promise (holds a backup mid-way). */
  readonly holdSnapshotOf = new Map<string, Promise<void>>();

  constructor(readonly vg: string) {
    super();
  }

  addLv(lv: Partial<FakeLv> & { name: string; sizeBytes: number; thin: boolean }): void {
    this.lvs.set(lv.name, {
      name: lv.name,
      attr: lv.thin ? 'Vwi-aotz--' : '-wi-ao----',
      sizeBytes: lv.sizeBytes,
      tags: lv.tags ?? ['xlss'],
      pool: lv.thin ? 'pool' : '',
      origin: lv.origin ?? '',
      active: true,
    });
  }

  override async run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const origin = args[args.length - 1]?.split('/')[1] ?? '';
    if (command === 'lvcreate') await this.holdSnapshotOf.get(origin);
    const handled = this.lvm(command, args);
    if (handled === null) return super.run(command, args, options);
    this.calls.push({ command, args: [...args], options });
    if (handled.exitCode !== 0 && options.reject !== false)
      throw new CommandError({
        command,
        args,
        exitCode: handled.exitCode,
        stderr: handled.stderr,
        stdout: handled.stdout,
      });
    return { command, args, durationMs: 0, ...handled };
  }

  private lvm(command: string, args: readonly string[]) {
    const ok = (stdout = '') => ({ stdout, stderr: '', exitCode: 0 });
    const last = args[args.length - 1] ?? '';
    if (command === 'vgs') return ok(report('vg', [this.vgRow()]));
    if (command === 'lvs') {
      if (last === this.vg)
        return ok(
          report(
            'lv',
            [...this.lvs.values()].map((l) => this.lvRow(l)),
          ),
        );
      const lv = this.lvs.get(last.split('/')[1] ?? '');
      if (lv) return ok(report('lv', [this.lvRow(lv)]));
      return { stdout: report('lv', []), stderr: `  Failed to find logical volume "${last}"\n`, exitCode: 5 };
    }
    if (command === 'lvcreate' && args.includes('--snapshot')) {
      const name = args[args.indexOf('--name') + 1] as string;
      const origin = this.lvs.get(last.split('/')[1] ?? '');
      if (!origin)
        return {
          stdout: '',
          stderr: `  Snapshot origin LV ${last} not found in Volume group ${this.vg}.\n`,
          exitCode: 5,
        };
      const thin = origin.attr.startsWith('V');
      if (!thin) origin.attr = 'owi-aos---';
      this.lvs.set(name, {
        name,
        attr: thin ? (this.thinSnapshotsActive ? 'Vwi-a-tz-k' : 'Vwi---tz-k') : 'swi-a-s---',
        sizeBytes: thin
          ? origin.sizeBytes
          : Number(String(args[args.indexOf('--size') + 1]).replace(/b$/i, '')),
        tags: args.flatMap((a, i) => (args[i - 1] === '--addtag' ? [a] : [])),
        pool: thin ? origin.pool : '',
        origin: origin.name,
        active: thin ? this.thinSnapshotsActive : true,
      });
      return ok();
    }
    if (command === 'lvchange' && args.includes('--activate')) {
      const lv = this.lvs.get(last.split('/')[1] ?? '');
      if (lv) {
        lv.active = true;
        lv.attr = `${lv.attr.slice(0, 4)}a${lv.attr.slice(5)}`;
      }
      return ok();
    }
    if (command === 'lvremove') {
      const name = last.split('/')[1] ?? '';
      const lv = this.lvs.get(name);
      this.lvs.delete(name);
      const origin = lv && this.lvs.get(lv.origin);
      if (
        origin &&
        origin.attr === 'owi-aos---' &&
        ![...this.lvs.values()].some((l) => l.origin === origin.name)
      )
        origin.attr = '-wi-ao----';
      return ok();
    }
    return null;
  }

  private vgRow() {
    return {
      vg_uuid: 'uuid-vg',
      vg_name: this.vg,
      vg_attr: 'wz--n-',
      vg_size: String(8 * 1024 * 1024 * 1024),
      vg_free: String(this.vgFreeBytes),
      vg_extent_size: String(4 * 1024 * 1024),
      vg_extent_count: '2048',
      vg_free_count: String(Math.floor(this.vgFreeBytes / (4 * 1024 * 1024))),
      pv_count: '1',
      lv_count: String(this.lvs.size),
      snap_count: '0',
      vg_tags: 'xlss',
    };
  }

  private lvRow(lv: FakeLv) {
    const origin = this.lvs.get(lv.origin);
    return {
      lv_uuid: `uuid-${lv.name}`,
      lv_name: lv.name,
      vg_name: this.vg,
      lv_path: `/dev/${this.vg}/${lv.name}`,
      lv_attr: lv.attr,
      lv_size: String(lv.sizeBytes),
      lv_tags: lv.tags.join(','),
      pool_lv: lv.pool,
      origin: lv.origin,
      origin_size: origin ? String(origin.sizeBytes) : '',
      data_percent: lv.pool && lv.active ? '1.00' : '',
      snap_percent: lv.attr.startsWith('s') ? '0.00' : '',
      metadata_percent: '',
      lv_active: lv.active ? 'active' : '',
    };
  }
}

function report(kind: 'lv' | 'vg', rows: object[]): string {
  return `  {\n      "report": [\n          {\n              "${kind}": [\n${rows
    .map((r) => `                  ${JSON.stringify(r)}`)
    .join(',\n')}\n              ]\n          }\n      ]\n  }\n`;
}

/** A VolumeEngine stand-in: statuses set by the test, devices mapped to files. */
export class FakeVolumes implements Pick<BackupServiceDeps['volumes'], 'get' | 'list' | 'devicePath'> {
  readonly statuses = new Map<string, VolumeStatus>();
  readonly devices = new Map<string, string>();

  set(
    name: string,
    opts: {
      spec?: Partial<VolumeSpec>;
      role?: string;
      lv?: string;
      thin?: boolean;
      device?: string;
      mounted?: boolean;
    },
  ): void {
    const spec: VolumeSpec = {
      sizeBytes: 8 * 1024 * 1024,
      thin: opts.thin ?? true,
      peer: null,
      drbd: { minor: 1, port: 7001, secret: 'abcdefghijklmnop' },
      role: 'primary',
      epoch: 1,
      filesystem: null,
      mountPoint: null,
      backup: null,
      ...opts.spec,
    };
    this.statuses.set(name, {
      name,
      spec,
      state: 'ready',
      error: null,
      observed: {
        lv: {
          path: `/dev/xlss/${opts.lv ?? name}`,
          sizeBytes: spec.sizeBytes + 1024 * 1024,
          thin: spec.thin,
        },
        drbd: {
          minor: 1,
          role: opts.role ?? 'Primary',
          disk: 'UpToDate',
          suspended: false,
          connection: 'Connected',
          peerRole: 'Secondary',
          peerDisk: 'UpToDate',
          replication: 'Established',
          outOfSyncBytes: 0,
          syncPercent: null,
          splitBrain: false,
        },
        mount: opts.mounted ? { path: '/mnt/x', fstype: 'ext4' } : null,
      },
      epoch: 1,
      lastBackupAt: null,
      progress: null,
    });
    if (opts.device) this.devices.set(name, opts.device);
  }

  async get(name: string) {
    return this.statuses.get(name) ?? null;
  }
  async list() {
    return [...this.statuses.values()];
  }
  devicePath(name: string) {
    return this.devices.get(name) ?? null;
  }
}
