/**
 * Run INSIDE a lab guest (as root), from the host's checkout over 9p:
 *   node dist/test/lab/helpers/backup-on-thin-lv.js
 * Exercises the backup service's real path on one node without DRBD: LVM snapshots
 * (thin and COW), the gzip stream with its sha256, the manifest, retention, the stale
 * snapshot cleanup, and a restore onto a fresh thin LV, whose bytes are then hashed
 * independently. The device of a "volume" is its LV itself; the last MiB of each LV
 * stands for DRBD's metadata and holds 0xaa, which must not reach the image. The lab's
 * state disk (the target) is about 50 MiB, so each LV holds 6 MiB of random data, then zeros.
 * Prints one line per step; exits non-zero on the first broken expectation.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, rm } from 'node:fs/promises';
import { Registry } from 'prom-client';
import { createLogger } from '../../../common/log.js';
import { ExecaRunner } from '../../../common/runner.js';
import type { Job, VolumeSpec, VolumeStatus } from '../../../daemon/api/schemas.js';
import { createBackupService } from '../../../daemon/backup/index.js';
import { Lvm } from '../../../lvm/index.js';

const MiB = 1024 * 1024;
const VG = 'xlss';
const DISK = '/dev/disk/by-id/virtio-xlss-data';
const TARGET = '/var/lib/xlss/backup-target';
const STATE = '/var/lib/xlss/backup-state';
const LV_BYTES = 64 * MiB;
const USABLE = LV_BYTES - MiB;

const log = createLogger({ level: process.env.XLSS_LOG_LEVEL ?? 'warn' });
const runner = new ExecaRunner({ logger: log });
const lvm = new Lvm({ runner, logger: log });
const t0 = performance.now();
const say = (msg: string) => console.log(`[${((performance.now() - t0) / 1000).toFixed(1)}s] ${msg}`);
function check(ok: boolean, what: string): void {
  if (!ok) {
    console.log(`FAIL: ${what}`);
    process.exit(1);
  }
  say(`ok: ${what}`);
}

async function hashDevice(path: string, bytes: number): Promise<string> {
  const fh = await open(path, 'r');
  const h = createHash('sha256');
  const buf = Buffer.alloc(MiB);
  for (let off = 0; off < bytes; off += MiB) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(MiB, bytes - off), off);
    h.update(buf.subarray(0, bytesRead));
  }
  await fh.close();
  return h.digest('hex');
}

async function fill(path: string, data: Buffer, tail: Buffer): Promise<void> {
  const fh = await open(path, 'r+');
  await fh.write(data, 0, data.length, 0);
  await fh.write(tail, 0, tail.length, LV_BYTES - tail.length);
  await fh.sync();
  await fh.close();
}

const statuses = new Map<string, VolumeStatus>();
function volume(name: string, thin: boolean, backup: VolumeSpec['backup']): void {
  statuses.set(name, {
    name,
    spec: {
      sizeBytes: USABLE,
      thin,
      peer: null,
      drbd: { minor: 0, port: 7000, secret: 'labsecretlabsecret' },
      role: 'primary',
      epoch: 1,
      filesystem: null,
      mountPoint: null,
      backup,
    },
    state: 'ready',
    error: null,
    observed: {
      lv: { path: `/dev/${VG}/${name}`, sizeBytes: LV_BYTES, thin },
      drbd: {
        minor: 0,
        role: 'Primary',
        disk: 'UpToDate',
        suspended: false,
        connection: 'StandAlone',
        peerRole: 'Unknown',
        peerDisk: 'DUnknown',
        replication: 'Off',
        outOfSyncBytes: 0,
        syncPercent: null,
        splitBrain: false,
      },
      mount: null,
    },
    epoch: 1,
    lastBackupAt: null,
    progress: null,
  });
}

async function watch(svc: ReturnType<typeof createBackupService>, job: Job): Promise<Job> {
  const seen: number[] = [];
  for (;;) {
    const j = svc.job(job.id) as Job;
    if (seen.at(-1) !== j.percent) seen.push(j.percent);
    if (j.state !== 'running') {
      say(
        `${j.kind} ${j.volume} ${j.state}${j.error ? `: ${j.error}` : ''}; percent seen: ${seen.join(' ')}`,
      );
      return j;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main(): Promise<void> {
  await runner.run('modprobe', ['dm-snapshot']);
  await runner.run('modprobe', ['dm-thin-pool']);
  // Both are this script's own: a rerun starts from nothing.
  await rm(TARGET, { recursive: true, force: true });
  await rm(STATE, { recursive: true, force: true });
  await mkdir(TARGET, { recursive: true });
  await lvm.createVg(VG, [DISK]);
  await lvm.createThinPool({ vg: VG, name: 'pool', sizeBytes: BigInt(384 * MiB) });
  for (const name of ['vol1', 'vol2'])
    await lvm.createThinLv({ vg: VG, name, pool: 'pool', virtualSizeBytes: BigInt(LV_BYTES) });
  await lvm.createThickLv({ vg: VG, name: 'vol3', sizeBytes: BigInt(LV_BYTES) });
  const tail = Buffer.alloc(MiB, 0xaa);
  const data1 = Buffer.concat([randomBytes(6 * MiB), Buffer.alloc(USABLE - 6 * MiB)]);
  const data3 = Buffer.concat([Buffer.alloc(USABLE - 6 * MiB), randomBytes(6 * MiB)]);
  await fill(`/dev/${VG}/vol1`, data1, tail);
  await fill(`/dev/${VG}/vol3`, data3, tail);
  const sha1 = createHash('sha256').update(data1).digest('hex');
  say(`LVs ready: vol1 thin, vol2 thin (fresh), vol3 thick; ${USABLE} usable bytes each`);

  // A crash leftover: a backup snapshot of vol1 that no run will drop.
  await lvm.createThinSnapshot({ vg: VG, origin: 'vol1', name: 'xlssbk_vol1' });

  const policy = { intervalSeconds: 3600, retain: 2, target: TARGET };
  volume('vol1', true, policy);
  volume('vol2', true, null);
  volume('vol3', false, policy);
  const registry = new Registry();
  const svc = createBackupService({
    volumes: {
      get: async (n) => statuses.get(n) ?? null,
      list: async () => [...statuses.values()],
      devicePath: (n) => (statuses.has(n) ? `/dev/${VG}/${n}` : null),
    },
    lvm,
    runner,
    log,
    registry,
    config: { vg: VG, stateDir: STATE, nodeName: 'node1' },
    pollMs: 3_600_000,
  });

  await svc.start();
  const names = (await lvm.listLvs(VG)).map((l) => l.name);
  check(!names.includes('xlssbk_vol1'), `start() removed the stale snapshot (LVs: ${names.join(' ')})`);
  // The queue's first pass backs up both volumes (never run before); start()'s own loop
  // may have begun it already, and one backup at a time per volume keeps them single.
  await svc.tick();
  await svc.idle();
  await svc.stop();
  const lastOf = async (v: string) => (await svc.list(v, TARGET))[0];
  const m1 = await lastOf('vol1');
  const m3 = await lastOf('vol3');
  say(`manifest vol1: ${JSON.stringify(m1)}`);
  say(`manifest vol3: ${JSON.stringify(m3)}`);
  check(m1?.sha256 === sha1, 'vol1 image sha256 = sha256 of the data written (not the 0xaa tail)');
  check(
    m3?.sha256 === createHash('sha256').update(data3).digest('hex'),
    'vol3 (thick, COW snapshot) sha256 matches',
  );
  check(m1?.sizeBytes === USABLE, `image holds exactly the usable ${USABLE} bytes`);
  const after = (await lvm.listLvs(VG)).map((l) => l.name);
  check(!after.some((n) => n.startsWith('xlssbk_')), `snapshots dropped (LVs: ${after.join(' ')})`);

  const again = await watch(svc, await svc.runNow('vol1'));
  check(again.state === 'done', 'a second backup of vol1 (run now)');
  const third = await watch(svc, await svc.runNow('vol1'));
  check(third.state === 'done', 'a third backup of vol1');
  const kept = (await svc.list('vol1', TARGET)).map((m) => m.id);
  check(
    kept.length === 2 && kept[0] === third.backupId && !kept.includes(m1?.id as string),
    `retention kept the newest 2 of 3 (${kept.join(' ')})`,
  );

  const newest = kept[0] as string;
  const restore = await watch(svc, await svc.restore('vol2', { backupId: newest, target: TARGET }));
  check(restore.state === 'done', `restore of vol1's newest backup ${newest} into fresh vol2`);
  const got = await hashDevice(`/dev/${VG}/vol2`, USABLE);
  check(got === sha1, `vol2 read back independently: sha256 ${got.slice(0, 16)}… = the source's`);
  try {
    await svc.restore('vol2', { backupId: newest, target: TARGET });
    check(false, 'a second restore into vol2 is refused');
  } catch (err) {
    check(
      (err as Error).name === 'ConflictError',
      `a second restore into vol2 is refused: ${(err as Error).message}`,
    );
  }
  const metrics = (await registry.metrics())
    .split('\n')
    .filter((l) => /^xlss_daemon_backup_(last|fail|written)/.test(l));
  say(`metrics:\n  ${metrics.join('\n  ')}`);
  say('done');
}

main().catch((err: unknown) => {
  console.log(`FAIL: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
