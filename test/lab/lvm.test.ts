import { describe, expect, it } from 'vitest';
import type { CommandRunner, RunOptions } from '../../common/runner.js';
import {
  Lvm,
  LvmAlreadyExistsError,
  LvmInsufficientSpaceError,
  LvmNotFoundError,
  LvmRefusedError,
} from '../../lvm/index.js';
import { useLab } from './helpers/lab.js';

// The LVM adapter against real LVM 2.03.16 and device-mapper in a lab guest. The tests run
// in order and build on each other: one VG on the guest's 1 GiB data disk.

const MiB = 1024n * 1024n;
const DISK = '/dev/disk/by-id/virtio-xlss-data';
const VG = 'xlss';

const { runner, sh } = useLab('lvm', { nodes: 1, disk: '1GiB' });

/** Records every command the adapter runs, so "did nothing" is checked, not assumed. */
class RecordingRunner implements CommandRunner {
  readonly commands: string[] = [];
  constructor(private readonly inner: CommandRunner) {}
  run(command: string, args: readonly string[], options?: RunOptions) {
    this.commands.push(command);
    return this.inner.run(command, args, options);
  }
  stream(...a: Parameters<CommandRunner['stream']>) {
    return this.inner.stream(...a);
  }
  changes(): string[] {
    return this.commands.filter((c) => !['vgs', 'lvs', 'pvs', 'realpath'].includes(c));
  }
}

let rec: RecordingRunner;
let lvm: Lvm;
/** The adapter's view checked against LVM's own, read without the adapter. */
const lvField = async (lv: string, field: string) =>
  (await sh('node1', `lvs --noheadings --units b --nosuffix -o ${field} ${VG}/${lv}`)).trim();
const ddInto = (lv: string) =>
  sh('node1', `dd if=/dev/urandom of=/dev/${VG}/${lv} bs=1M count=8 oflag=direct 2>/dev/null`);

describe('Lvm on real LVM', () => {
  it('creates a tagged VG on the data disk; again by the same by-id path is a no-op', async () => {
    rec = new RecordingRunner(runner('node1'));
    lvm = new Lvm({ runner: rec });
    const vg = await lvm.createVg(VG, [DISK]);
    expect(vg).toMatchObject({ name: VG, pvCount: 1, tags: ['xlss'], extentBytes: 4n * MiB });
    expect(vg.sizeBytes).toBeGreaterThan(1000n * MiB);
    rec.commands.length = 0;
    expect((await lvm.createVg(VG, [DISK])).uuid).toBe(vg.uuid);
    expect(rec.changes()).toEqual([]);
  });

  it('creates a thick LV rounded to extents; an identical re-create runs no lvcreate', async () => {
    const lv = await lvm.createThickLv({
      vg: VG,
      name: 'vol1',
      sizeBytes: 20n * MiB + 1n,
      tags: ['xlss:vol=vol1'],
    });
    expect(lv).toMatchObject({ sizeBytes: 24n * MiB, path: '/dev/xlss/vol1', active: true });
    expect(lv.attr.volumeType).toBe('plain');
    expect(await lvField('vol1', 'lv_size')).toBe(String(24n * MiB));
    expect(await lvField('vol1', 'lv_tags')).toBe('xlss,xlss:vol=vol1');
    rec.commands.length = 0;
    const again = await lvm.createThickLv({
      vg: VG,
      name: 'vol1',
      sizeBytes: 24n * MiB,
      tags: ['xlss:vol=vol1'],
    });
    expect(again.uuid).toBe(lv.uuid);
    expect(rec.changes()).toEqual([]);
    await expect(lvm.createThickLv({ vg: VG, name: 'vol1', sizeBytes: 32n * MiB })).rejects.toBeInstanceOf(
      LvmAlreadyExistsError,
    );
  });

  it('extends; extending to the same size runs nothing', async () => {
    expect((await lvm.extendLv({ vg: VG, name: 'vol1', sizeBytes: 30n * MiB })).sizeBytes).toBe(32n * MiB);
    expect(await lvField('vol1', 'lv_size')).toBe(String(32n * MiB));
    rec.commands.length = 0;
    expect((await lvm.extendLv({ vg: VG, name: 'vol1', sizeBytes: 32n * MiB })).sizeBytes).toBe(32n * MiB);
    expect(rec.changes()).toEqual([]);
    expect(await lvField('vol1', 'lv_size')).toBe(String(32n * MiB));
  });

  it('tags; an LV made by hand without the owner tag is refused and left alone', async () => {
    await lvm.addTags({ vg: VG, name: 'vol1', tags: ['backup/daily'] });
    expect(await lvField('vol1', 'lv_tags')).toBe('backup/daily,xlss,xlss:vol=vol1');
    await sh('node1', `lvcreate -y -n handmade -L 4m ${VG} >/dev/null`);
    await expect(lvm.removeLv({ vg: VG, name: 'handmade' })).rejects.toBeInstanceOf(LvmRefusedError);
    expect(await lvField('handmade', 'lv_name')).toBe('handmade');
  });

  it('creates a thin pool and a thin LV in it', async () => {
    const pool = await lvm.createThinPool({ vg: VG, name: 'pool', sizeBytes: 128n * MiB });
    expect(pool).toMatchObject({ sizeBytes: 128n * MiB, path: null, dataPercent: 0, active: true });
    expect(pool.attr.volumeType).toBe('thin-pool');
    const thin = await lvm.createThinLv({
      vg: VG,
      name: 'thin1',
      pool: 'pool',
      virtualSizeBytes: 256n * MiB,
    });
    expect(thin).toMatchObject({ pool: 'pool', origin: null, sizeBytes: 256n * MiB, dataPercent: 0 });
    expect(await lvField('thin1', 'lv_attr')).toMatch(/^Vwi-a/);
  });

  it('a COW snapshot shows the real share of its store used by writes into the origin', async () => {
    const snap = await lvm.createSnapshot({
      vg: VG,
      origin: 'vol1',
      name: 'vol1-snap',
      sizeBytes: 16n * MiB,
    });
    expect(snap).toMatchObject({ origin: 'vol1', sizeBytes: 16n * MiB });
    expect(await lvm.snapshotUsage({ vg: VG, name: 'vol1-snap' })).toEqual({ kind: 'cow', percent: 0 });
    await ddInto('vol1');
    const used = await lvm.snapshotUsage({ vg: VG, name: 'vol1-snap' });
    expect(used.kind).toBe('cow');
    // 8 MiB of changed origin blocks in a 16 MiB store, plus LVM's own exception metadata.
    expect(used.percent).toBeGreaterThan(49);
    expect(used.percent).toBeLessThan(55);
  });

  it('a thin snapshot is active at once and maps what the origin held when taken', async () => {
    await ddInto('thin1');
    const snap = await lvm.createThinSnapshot({ vg: VG, origin: 'thin1', name: 'thin1-snap' });
    expect(snap).toMatchObject({ origin: 'thin1', pool: 'pool', active: true });
    expect(snap.attr.skipActivation).toBe(true);
    // 8 MiB of a 256 MiB thin volume, shared with the origin.
    expect(await lvm.snapshotUsage({ vg: VG, name: 'thin1-snap' })).toEqual({ kind: 'thin', percent: 3.12 });
    const poolBefore = (await lvm.findLv(VG, 'pool'))?.dataPercent ?? 0;
    await ddInto('thin1');
    // The origin's overwrite gets new blocks; the snapshot keeps the old ones.
    expect(await lvm.snapshotUsage({ vg: VG, name: 'thin1-snap' })).toEqual({ kind: 'thin', percent: 3.12 });
    expect((await lvm.findLv(VG, 'pool'))?.dataPercent).toBeGreaterThan(poolBefore + 5);
  });

  it('renames; renaming again once done is success', async () => {
    const renamed = await lvm.renameLv({ vg: VG, from: 'thin1-snap', to: 'thin1-backup' });
    expect(renamed).toMatchObject({ name: 'thin1-backup', origin: 'thin1' });
    expect(await lvm.findLv(VG, 'thin1-snap')).toBeNull();
    rec.commands.length = 0;
    expect((await lvm.renameLv({ vg: VG, from: 'thin1-snap', to: 'thin1-backup' })).uuid).toBe(renamed.uuid);
    expect(rec.changes()).toEqual([]);
  });

  it('removes; removing again succeeds and runs no lvremove', async () => {
    await expect(lvm.removeLv({ vg: VG, name: 'vol1' })).rejects.toThrow(/has dependent LVs: vol1-snap/);
    await lvm.removeSnapshot({ vg: VG, name: 'vol1-snap' });
    await lvm.removeLv({ vg: VG, name: 'vol1' });
    expect(await lvm.findLv(VG, 'vol1')).toBeNull();
    await expect(sh('node1', `lvs ${VG}/vol1`)).rejects.toThrow(/Failed to find logical volume/);
    rec.commands.length = 0;
    await lvm.removeLv({ vg: VG, name: 'vol1' });
    expect(rec.changes()).toEqual([]);
  });

  it('an LV larger than the VG is LvmInsufficientSpaceError', async () => {
    const err = await lvm.createThickLv({ vg: VG, name: 'huge', sizeBytes: 2048n * MiB }).catch((e) => e);
    expect(err).toBeInstanceOf(LvmInsufficientSpaceError);
    expect(err.stderr).toMatch(/insufficient free space/);
    expect(await lvm.findLv(VG, 'huge')).toBeNull();
  });

  it('missing VG, LV, pool and origin are typed not-found errors', async () => {
    await expect(lvm.getVg('nosuchvg')).rejects.toMatchObject({ kind: 'vg', object: 'nosuchvg' });
    await expect(lvm.findLv('nosuchvg', 'x')).rejects.toBeInstanceOf(LvmNotFoundError);
    expect(await lvm.findLv(VG, 'nosuch')).toBeNull();
    await expect(lvm.extendLv({ vg: VG, name: 'nosuch', sizeBytes: 8n * MiB })).rejects.toMatchObject({
      kind: 'lv',
    });
    await expect(
      lvm.createThinLv({ vg: VG, name: 't2', pool: 'nopool', virtualSizeBytes: 8n * MiB }),
    ).rejects.toMatchObject({ kind: 'pool', object: 'xlss/nopool', exitCode: 5 });
  });
});
