import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, ValidationError } from '../../common/errors.js';
import { silentLogger } from '../../common/log.js';
import { Lvm } from '../../lvm/lvm.js';
import type { BackupPolicy, Job } from '../api/schemas.js';
import { FakeLvmRunner, FakeVolumes } from './fakes.test-helpers.js';
import { createBackupService } from './service.js';

const MiB = 1024 * 1024;
const SIZE = 12 * MiB;
const T0 = Date.parse('2026-11-30T12:00:00.000Z');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let dir: string;
let target: string;
let clock: number;
let data: Buffer;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xlss-backup-'));
  target = join(dir, 'target');
  clock = T0;
  data = randomBytes(SIZE);
  // The LV: the volume's 12 MiB, then 1 MiB standing for DRBD's metadata at its end.
  await writeFile(join(dir, 'vol1.lv'), Buffer.concat([data, Buffer.alloc(MiB, 0xaa)]));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function setup(opts: { thin?: boolean; retain?: number; snapshotFile?: string } = {}) {
  const runner = new FakeLvmRunner('xlss');
  runner.addLv({ name: 'vol1', sizeBytes: SIZE + MiB, thin: opts.thin ?? true });
  const volumes = new FakeVolumes();
  const policy: BackupPolicy = { intervalSeconds: 3600, retain: opts.retain ?? 3, target };
  volumes.set('vol1', { thin: opts.thin ?? true, spec: { sizeBytes: SIZE, backup: policy } });
  const registry = new Registry();
  const svc = createBackupService({
    volumes,
    lvm: new Lvm({ runner }),
    runner,
    log: silentLogger,
    registry,
    config: { vg: 'xlss', stateDir: join(dir, 'state'), nodeName: 'node1' },
    now: () => clock,
    // The snapshot's device is the LV's file (what a snapshot reads is the origin's data).
    lvDevice: (_vg, lv) => opts.snapshotFile ?? join(dir, `${lv.replace('xlssbk_', '')}.lv`),
  });
  return { svc, runner, volumes, registry };
}

async function finished(svc: ReturnType<typeof setup>['svc'], job: Job): Promise<Job> {
  await svc.idle();
  const j = svc.job(job.id);
  if (!j) throw new Error('job vanished');
  return j;
}

async function newDevice(name: string, content: Buffer, volumes: FakeVolumes, extra: object = {}) {
  const path = join(dir, `${name}.dev`);
  await writeFile(path, content);
  volumes.set(name, { device: path, spec: { sizeBytes: content.length }, ...extra });
  return path;
}

describe('backup', () => {
  it('snapshots a thin LV, streams only the usable size gzipped with its sha256, writes the manifest, drops the snapshot', async () => {
    const { svc, runner, registry } = setup();
    const job = await svc.runNow('vol1');
    expect(job).toMatchObject({ kind: 'backup', volume: 'vol1', state: 'running' });
    const done = await finished(svc, job);
    expect(done).toMatchObject({ state: 'done', percent: 100, error: null });

    const [manifest] = await svc.list('vol1', target);
    expect(manifest).toMatchObject({
      id: job.backupId,
      volume: 'vol1',
      sizeBytes: SIZE,
      createdAt: new Date(T0).toISOString(),
      sourceNode: 'node1',
      sha256: sha(data),
      compression: 'gzip',
    });
    const image = await readFile(join(target, 'vol1', `${job.backupId}.img.gz`));
    expect(manifest?.compressedBytes).toBe(image.length);
    // Exactly the data area: the 0xaa "metadata" after it is not in the image.
    expect(gunzipSync(image).equals(data)).toBe(true);

    const lvcreate = runner.argsOf('lvcreate')[0];
    expect(lvcreate).toEqual(expect.arrayContaining(['--snapshot', '--name', 'xlssbk_vol1', 'xlss/vol1']));
    // Thin snapshots skip activation: the service activated it before reading.
    expect(runner.argsOf('lvchange')).toEqual([
      ['--activate', 'y', '--ignoreactivationskip', 'xlss/xlssbk_vol1'],
    ]);
    expect(runner.argsOf('lvremove')).toEqual([['--yes', 'xlss/xlssbk_vol1']]);
    expect([...runner.lvs.keys()]).toEqual(['vol1']);

    expect(svc.lastSuccess('vol1')).toBe(new Date(T0).toISOString());
    const metrics = await registry.metrics();
    expect(metrics).toContain(
      `xlss_daemon_backup_last_success_timestamp_seconds{volume="vol1"} ${T0 / 1000}`,
    );
    expect(metrics).toContain(`xlss_daemon_backup_written_bytes_total{volume="vol1"} ${image.length}`);
    expect(metrics).toContain('xlss_daemon_backup_duration_seconds_count{kind="backup",outcome="ok"} 1');
    // No temp file is left in the target.
    expect((await readdir(join(target, 'vol1'))).sort()).toEqual([
      `${job.backupId}.img.gz`,
      `${job.backupId}.json`,
    ]);
  });

  it('images only what the DRBD device holds: a device smaller than the spec (metadata at the LV end) bounds the image', async () => {
    const { svc, volumes } = setup();
    // The Primary's DRBD device: the spec's size less 40 KiB of DRBD's internal metadata.
    const usable = SIZE - 40 * 1024;
    const device = join(dir, 'drbd1.dev');
    await writeFile(device, data.subarray(0, usable));
    const st = await volumes.get('vol1');
    if (!st) throw new Error('no vol1');
    volumes.set('vol1', { spec: st.spec, device });
    const done = await finished(svc, await svc.runNow('vol1'));
    expect(done.state).toBe('done');
    const [manifest] = await svc.list('vol1', target);
    expect(manifest?.sizeBytes).toBe(usable);
    expect(manifest?.sha256).toBe(sha(data.subarray(0, usable)));
  });

  it('a thick LV gets a COW snapshot with a sized exception store; no room in the VG fails before reading', async () => {
    const ok = setup({ thin: false });
    expect((await finished(ok.svc, await ok.svc.runNow('vol1'))).state).toBe('done');
    const args = ok.runner.argsOf('lvcreate')[0] ?? [];
    expect(args[args.indexOf('--size') + 1]).toBe(`${64 * MiB}b`);
    expect(ok.runner.argsOf('lvchange')).toEqual([]);

    const full = setup({ thin: false });
    full.runner.vgFreeBytes = 16 * MiB;
    const failed = await finished(full.svc, await full.svc.runNow('vol1'));
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatch(/VG xlss has 16777216 bytes free/);
    expect(full.runner.argsOf('lvcreate')).toEqual([]);
    expect(await full.registry.metrics()).toContain('xlss_daemon_backup_failures_total{volume="vol1"} 1');
  });

  it('drops the snapshot when the backup fails, and leaves no manifest or temp file', async () => {
    const short = join(dir, 'short.lv');
    await writeFile(short, data.subarray(0, 3 * MiB));
    const { svc, runner } = setup({ snapshotFile: short });
    const failed = await finished(svc, await svc.runNow('vol1'));
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatch(/snapshot xlssbk_vol1 has 3145728 bytes/);
    expect(runner.argsOf('lvremove')).toEqual([['--yes', 'xlss/xlssbk_vol1']]);
    expect([...runner.lvs.keys()]).toEqual(['vol1']);
    expect(await readdir(join(target, 'vol1'))).toEqual([]);
    expect(await svc.list('vol1', target)).toEqual([]);
    expect(svc.lastSuccess('vol1')).toBeNull();
  });

  it('keeps the newest N backups and deletes the older images and manifests', async () => {
    const { svc } = setup({ retain: 2 });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const job = await finished(svc, await svc.runNow('vol1'));
      expect(job.state).toBe('done');
      ids.push(job.backupId as string);
      clock += 60_000;
    }
    const kept = (await svc.list('vol1', target)).map((m) => m.id);
    expect(kept).toEqual([ids[3], ids[2]]);
    expect((await readdir(join(target, 'vol1'))).sort()).toEqual(
      [`${ids[2]}.img.gz`, `${ids[2]}.json`, `${ids[3]}.img.gz`, `${ids[3]}.json`].sort(),
    );
  });

  it('cleans what a crash left: stale snapshots at start, own temp files and old orphan images before a backup', async () => {
    const { svc, runner } = setup();
    // A crash mid-backup: our snapshots of vol1 and of a deleted volume, plus one foreign snapshot.
    runner.addLv({ name: 'xlssbk_vol1', sizeBytes: SIZE, thin: true, origin: 'vol1' });
    runner.addLv({ name: 'xlssbk_gone', sizeBytes: SIZE, thin: true, origin: 'vol1' });
    runner.addLv({ name: 'xlssbk_theirs', sizeBytes: SIZE, thin: true, origin: 'vol1', tags: [] });
    const vdir = join(target, 'vol1');
    await mkdir(vdir, { recursive: true });
    const ownTemp = '.20261130T100000.000Z-node1.img.gz.node1.0123abcd.partial';
    const otherTemp = '.20261130T100000.000Z-node2.img.gz.node2.0123abcd.partial';
    const oldOrphan = '20261130T090000.000Z-node2.img.gz';
    const freshOrphan = '20261130T115900.000Z-node2.img.gz';
    for (const f of [ownTemp, otherTemp, oldOrphan, freshOrphan, 'notes.txt'])
      await writeFile(join(vdir, f), 'x');
    await utimes(join(vdir, oldOrphan), new Date(T0 - 3600_000), new Date(T0 - 3600_000));
    await utimes(join(vdir, freshOrphan), new Date(T0 - 60_000), new Date(T0 - 60_000));

    await svc.start();
    await svc.stop();
    expect([...runner.lvs.keys()].sort()).toEqual(['vol1', 'xlssbk_theirs']);

    const job = await finished(svc, await svc.runNow('vol1'));
    expect(job.state).toBe('done');
    expect((await readdir(vdir)).sort()).toEqual(
      [otherTemp, freshOrphan, 'notes.txt', `${job.backupId}.img.gz`, `${job.backupId}.json`].sort(),
    );
  });

  it('one backup at a time per volume: a second run-now returns the running job', async () => {
    const { svc } = setup();
    const a = await svc.runNow('vol1');
    const b = await svc.runNow('vol1');
    expect(b.id).toBe(a.id);
    await svc.idle();
    expect((await svc.list('vol1', target)).length).toBe(1);
  });

  it('refuses bad names before any command, and volumes that are not Primary here', async () => {
    const { svc, runner, volumes } = setup();
    await expect(svc.runNow('../etc')).rejects.toBeInstanceOf(ValidationError);
    await expect(svc.runNow('Vol1')).rejects.toThrow(/volume/);
    await expect(svc.list('vol1', 'relative/dir')).rejects.toThrow(/target/);
    await expect(svc.list('vol1', '/srv/../etc')).rejects.toThrow(/target/);
    await expect(svc.restore('vol1', { backupId: '..', target })).rejects.toThrow(/backupId/);
    await expect(svc.restore('vol1', { backupId: '-rf', target })).rejects.toThrow(/backupId/);
    await expect(svc.runNow('nosuch')).rejects.toBeInstanceOf(NotFoundError);
    volumes.set('vol2', { role: 'Secondary', spec: { backup: { intervalSeconds: 600, retain: 1, target } } });
    await expect(svc.runNow('vol2')).rejects.toBeInstanceOf(ConflictError);
    expect(runner.calls).toEqual([]);
  });
});

describe('restore', () => {
  async function backedUp() {
    const s = setup();
    const job = await finished(s.svc, await s.svc.runNow('vol1'));
    return { ...s, backupId: job.backupId as string };
  }

  it("streams the image onto a new volume's device, verifies the checksum, and touches nothing past the image", async () => {
    const { svc, volumes, backupId } = await backedUp();
    const dev = await newDevice('vol2', Buffer.alloc(16 * MiB), volumes);
    const job = await svc.restore('vol2', { backupId, target });
    expect(job).toMatchObject({ kind: 'restore', volume: 'vol2', backupId, state: 'running' });
    expect(await finished(svc, job)).toMatchObject({ state: 'done', percent: 100, error: null });
    const after = await readFile(dev);
    expect(after.subarray(0, SIZE).equals(data)).toBe(true);
    expect(after.subarray(SIZE).equals(Buffer.alloc(4 * MiB))).toBe(true);
    // It holds data now: a second restore into it is refused.
    await expect(svc.restore('vol2', { backupId, target })).rejects.toThrow(/vol2 is not empty/);
  });

  it('refuses a volume that holds data, a filesystem, is mounted, too small, not Primary, or an unknown backup', async () => {
    const { svc, volumes, backupId } = await backedUp();
    // Restoring a volume's backup onto the volume itself (it holds data) is refused.
    volumes.devices.set('vol1', join(dir, 'vol1.lv'));
    await expect(svc.restore('vol1', { backupId, target })).rejects.toThrow(
      /vol1 is not empty \(data at byte/,
    );
    const fs = Buffer.alloc(16 * MiB);
    fs.writeUInt16LE(0xef53, 1024 + 56); // ext4's superblock magic
    await newDevice('vol1', fs, volumes);
    await expect(svc.restore('vol1', { backupId, target })).rejects.toThrow(/data at byte 1080/);
    // Data in the middle only (no signature at the start) is found by the samples.
    const mid = Buffer.alloc(16 * MiB);
    mid.fill(7, 8 * MiB, 8 * MiB + 4096);
    await newDevice('vol1', mid, volumes);
    await expect(svc.restore('vol1', { backupId, target })).rejects.toThrow(ConflictError);
    await newDevice('vol1', Buffer.alloc(16 * MiB), volumes, { mounted: true });
    await expect(svc.restore('vol1', { backupId, target })).rejects.toThrow(/mounted/);
    await newDevice('vol1', Buffer.alloc(8 * MiB), volumes);
    await expect(svc.restore('vol1', { backupId, target })).rejects.toThrow(
      /has 8388608 bytes; backup .* needs 12582912/,
    );
    await newDevice('vol1', Buffer.alloc(16 * MiB), volumes, { role: 'Secondary' });
    await expect(svc.restore('vol1', { backupId, target })).rejects.toThrow(/must be Primary/);
    await newDevice('vol1', Buffer.alloc(16 * MiB), volumes);
    await expect(
      svc.restore('vol1', { backupId: '20200101T000000.000Z-node1', target }),
    ).rejects.toBeInstanceOf(NotFoundError);
    // Negative control: the same empty device is accepted.
    expect(await finished(svc, await svc.restore('vol1', { backupId, target }))).toMatchObject({
      state: 'done',
    });
  });

  it('a corrupted image fails the job loudly; the volume may then be restored into again', async () => {
    const { svc, volumes, backupId } = await backedUp();
    const imagePath = join(target, 'vol1', `${backupId}.img.gz`);
    const good = await readFile(imagePath);
    await newDevice('vol1', Buffer.alloc(16 * MiB), volumes);

    // Valid gzip of different data: only the sha256 can tell.
    const tampered = Buffer.from(data);
    tampered[5 * MiB] = (tampered[5 * MiB] as number) ^ 1;
    await writeFile(imagePath, gzipSync(tampered));
    const bad = await finished(svc, await svc.restore('vol1', { backupId, target }));
    expect(bad.state).toBe('failed');
    expect(bad.error).toMatch(/sha256 [0-9a-f]{64} does not match the manifest's/);

    // A flipped byte inside the compressed stream: gzip itself fails.
    const flipped = Buffer.from(good);
    flipped[Math.floor(good.length / 2)] = (flipped[Math.floor(good.length / 2)] as number) ^ 0xff;
    await writeFile(imagePath, flipped);
    const bad2 = await finished(svc, await svc.restore('vol1', { backupId, target }));
    expect(bad2.state).toBe('failed');

    // The device now holds a broken restore; it is still a restore target, and a good image lands.
    await writeFile(imagePath, good);
    const ok = await finished(svc, await svc.restore('vol1', { backupId, target }));
    expect(ok.state).toBe('done');
    expect((await readFile(join(dir, 'vol1.dev'))).subarray(0, SIZE).equals(data)).toBe(true);
    await expect(svc.restore('vol1', { backupId, target })).rejects.toThrow(/not empty/);
  });
});
