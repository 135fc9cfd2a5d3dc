import { describe, expect, it } from 'vitest';
import { HttpDaemonClient } from '../../controller/daemon-http.js';
import type { VolumeSpec, VolumeStatus } from '../../daemon/api/schemas.js';
import { clusterFiles, DAEMON_PORT, daemonUrl } from '../../vagrant/lab/cluster-config.js';
import { findNode } from '../../vagrant/lab/state.js';
import { useCluster, waitFor } from './helpers/cluster.js';

// The node daemons for real, driven over TCP (a lab forward to NODE:7680) the way the
// controller drives them: specs with each other as peer, minors and ports (60+, 7960+)
// outside the controller's ranges, so the controller never places anything here.
// Everything is checked on the guests themselves too (lvs, drbdsetup, /proc/mounts).
const c = useCluster('dl-daemon', { nodes: 2 });
const NODES = ['node1', 'node2'] as const;
type Node = (typeof NODES)[number];
const MiB = 1024 * 1024;
const BACKUPS = '/srv/xlss-backups';
const other = (n: Node): Node => (n === 'node1' ? 'node2' : 'node1');
const say = (s: string) => process.stderr.write(`[lab dl-daemon] ${s}\n`);
const secs = (t0: number) => ((performance.now() - t0) / 1000).toFixed(1);

function ip(n: string): string {
  const node = c
    .lab()
    .state()
    .nodes.find((x) => x.name === n);
  if (!node) throw new Error(`no ${n}`);
  return node.ip;
}

function spec(n: Node, minor: number, primary: Node, overrides: Partial<VolumeSpec> = {}): VolumeSpec {
  return {
    sizeBytes: 128 * MiB,
    thin: true,
    peer: { node: other(n), address: ip(other(n)) },
    drbd: { minor, port: 7900 + minor, secret: 'ZGwtZGFlbW9uLWxhYi1zZWNyZXQ' },
    role: n === primary ? 'primary' : 'secondary',
    epoch: 1,
    filesystem: 'ext4',
    mountPoint: n === primary ? `/mnt/v${minor}` : null,
    backup: null,
    ...overrides,
  };
}

/**
 * A node's daemon over TCP (lab forward), like c.daemon() but with a deadline that fits
 * calls which reconcile before they answer (delete, resize) in a loaded TCG guest.
 */
async function daemon(n: Node): Promise<HttpDaemonClient> {
  const lab = c.lab();
  const socketPath = await lab.forward(n, DAEMON_PORT);
  const endpoint = { name: n, url: daemonUrl(findNode(lab.state(), n)), socketPath };
  return new HttpDaemonClient(
    { ...endpoint, tokenFile: clusterFiles(lab.dir).nodeToken(n) },
    { timeoutMs: 600_000 },
  );
}

async function status(n: Node, name: string): Promise<VolumeStatus | null> {
  return (await daemon(n)).getVolume(name);
}

/** Waits until every node reports the volume in `state`; returns the statuses. */
async function until(name: string, state: string, timeoutMs: number): Promise<Record<Node, VolumeStatus>> {
  const out = {} as Record<Node, VolumeStatus>;
  for (const n of NODES)
    out[n] = await waitFor(
      `${name} ${state} on ${n}`,
      async () => {
        const s = await status(n, name);
        return s?.state === state ? s : false;
      },
      timeoutMs,
      1000,
    );
  return out;
}

/** PUTs the volume on both daemons at once (as the controller does). */
async function putBoth(name: string, minor: number, primary: Node, o: Partial<VolumeSpec> = {}) {
  await Promise.all(NODES.map(async (n) => (await daemon(n)).putVolume(name, spec(n, minor, primary, o))));
}

async function leftovers(n: Node, name: string): Promise<string> {
  return c.sh(
    n,
    `lvs --noheadings -o lv_name xlss | grep -w ${name}; drbdsetup status ${name} 2>/dev/null | head -1; ls /etc/drbd.d /var/lib/xlss/volumes /var/lib/xlss/drbd 2>/dev/null | grep -w ${name}; grep -w ${name} /proc/mounts; true`,
  );
}

/** Deletes on the Primary's side first (forced: it is mounted), then on the other. */
async function deleteBoth(name: string, primary: Node): Promise<number> {
  const t0 = performance.now();
  await (await daemon(primary)).deleteVolume(name, { force: true });
  await (await daemon(other(primary))).deleteVolume(name, { force: false });
  const took = (performance.now() - t0) / 1000;
  for (const n of NODES) expect(await leftovers(n, name), `${name} left on ${n}`).toBe('');
  return took;
}

describe('xlss daemon on two nodes, over TCP', () => {
  it('lifecycle: thin volume UpToDate on both without a sync, Primary with ext4, online resize, delete leaves nothing', async () => {
    let t0 = performance.now();
    await putBoth('v60', 60, 'node1');
    const ready = await until('v60', 'ready', 400_000);
    say(`provisioned v60 in ${secs(t0)} s`);
    expect(ready.node1.observed).toMatchObject({
      drbd: { role: 'Primary', disk: 'UpToDate', peerDisk: 'UpToDate', connection: 'Connected' },
      mount: { path: '/mnt/v60', fstype: 'ext4' },
    });
    expect(ready.node2.observed).toMatchObject({
      drbd: { role: 'Secondary', disk: 'UpToDate' },
      mount: null,
    });
    // Thin on both sides, both new: DRBD never resynced (generation ids compared first).
    for (const n of NODES)
      expect((await c.sh(n, "dmesg | grep -E 'v60.*(Began resync|Resync done)' || true")).trim()).toBe('');
    // The kernel runs the resource with the daemon's resync bounds (its config's defaults),
    // not DRBD's (c-min-rate 250k, c-fill-target 100s): drbdsetup shows non-defaults only.
    for (const n of NODES) {
      const shown = await c.sh(n, 'drbdsetup show v60');
      expect(shown).toMatch(/c-min-rate\s+10240k;/);
      expect(shown).toMatch(/c-fill-target\s+2048s;/);
    }
    const md5 = (
      await c.sh('node1', 'head -c 4194304 /dev/urandom > /mnt/v60/data && sync && md5sum < /mnt/v60/data')
    ).split(' ')[0];

    t0 = performance.now();
    await Promise.all(NODES.map(async (n) => (await daemon(n)).resize('v60', 256 * MiB)));
    await waitFor(
      'v60 ext4 grown on node1',
      async () => {
        const s = await status('node1', 'v60');
        return s?.state === 'ready' && s.observed.lv?.sizeBytes === 256 * MiB;
      },
      300_000,
      1000,
    );
    say(`resized v60 online in ${secs(t0)} s`);
    const df = Number((await c.sh('node1', 'df -B1 --output=size /mnt/v60 | tail -1')).trim());
    expect(df).toBeGreaterThan(200 * MiB);
    expect((await c.sh('node1', 'md5sum < /mnt/v60/data')).split(' ')[0]).toBe(md5);
    // The peer's device grew too (sectors of 512 bytes, minus DRBD's internal metadata).
    const peerSectors = Number((await c.sh('node2', 'cat /sys/block/drbd60/size')).trim());
    expect(peerSectors * 512).toBeGreaterThan(250 * MiB);

    const took = await deleteBoth('v60', 'node1');
    say(`deleted v60 on both in ${took.toFixed(1)} s`);
  }, 900_000);

  it('bad input is a 400 naming the field and runs nothing', async () => {
    const d = await daemon('node1');
    const bad = { ...spec('node1', 61, 'node1'), sizeBytes: -5 };
    await expect(d.putVolume('v61', bad)).rejects.toThrow(/sizeBytes.*HTTP 400|HTTP 400.*sizeBytes/s);
    const noPeerIp = spec('node1', 61, 'node1', { peer: { node: 'node2', address: '10.77.0.999' } });
    await expect(d.putVolume('v61', noPeerIp)).rejects.toThrow(/address.*HTTP 400/s);
    await expect(d.putVolume('Bad_Name', spec('node1', 61, 'node1'))).rejects.toThrow(/name.*HTTP 400/s);
    await expect(d.resize('v61', 256 * MiB)).rejects.toThrow(/HTTP 404/);
    expect(await d.getVolume('v61')).toBeNull();
    expect(await leftovers('node1', 'v61')).toBe('');
  });

  it('kill -9 of the daemon mid-provision: init respawns it and both nodes converge, no orphan or duplicate', async () => {
    const t0 = performance.now();
    await putBoth('v62', 62, 'node1');
    await waitFor(
      'the v62 LV on node1',
      async () =>
        (await c.sh('node1', 'lvs --noheadings -o lv_name xlss/v62 2>/dev/null || true')).trim() === 'v62',
      200_000,
      300,
    );
    const daemonPid = async () =>
      (
        await c.sh(
          'node1',
          'for p in $(pidof node); do grep -q xlss-daemon /proc/$p/cmdline && echo $p; done; true',
        )
      ).trim();
    const killed = await daemonPid();
    expect(killed).toMatch(/^\d+$/);
    await c.sh('node1', `kill -9 ${killed}`);
    say(`killed the daemon (pid ${killed}) on node1 once its LV existed`);
    await waitFor(
      'a new daemon on node1',
      async () => {
        const pid = await daemonPid();
        return pid !== '' && pid !== killed;
      },
      120_000,
    );
    const ready = await until('v62', 'ready', 400_000);
    say(`v62 converged ${secs(t0)} s after the PUT`);
    expect(ready.node1.observed.drbd).toMatchObject({
      role: 'Primary',
      disk: 'UpToDate',
      peerDisk: 'UpToDate',
    });
    for (const n of NODES) {
      expect((await c.sh(n, 'lvs --noheadings -o lv_name xlss | grep -cw v62')).trim()).toBe('1');
      expect((await c.sh(n, 'drbdsetup status | grep -c "^v62 "')).trim()).toBe('1');
      expect(
        (await c.sh(n, 'ls -a /etc/drbd.d /var/lib/xlss/drbd | grep -c "^\\.xlss" || true')).trim(),
      ).toBe('0');
    }
  }, 900_000);

  it('backup on node1, restore on node2 through the shared backups directory, checksum verified', async () => {
    // v62 (node1 Primary, ext4 mounted) gets data and a backup policy on the share.
    const policy = { intervalSeconds: 86_400, retain: 2, target: BACKUPS };
    await putBoth('v62', 62, 'node1', { backup: policy });
    await until('v62', 'ready', 400_000);
    const md5 = (
      await c.sh('node1', 'head -c 3145728 /dev/urandom > /mnt/v62/data && sync && md5sum < /mnt/v62/data')
    ).split(' ')[0];
    const d1 = await daemon('node1');
    let t0 = performance.now();
    const job = await d1.runBackup('v62');
    const done = await waitFor(
      'the v62 backup',
      async () => {
        const j = await d1.job(job.id);
        if (j?.state === 'failed') throw new Error(`backup failed: ${j.error}`);
        return j?.state === 'done' ? j : false;
      },
      300_000,
      1000,
    );
    say(`backup of v62 in ${secs(t0)} s: ${done.backupId}`);
    const backups = await d1.listBackups('v62', BACKUPS);
    const manifest = backups.find((b) => b.id === done.backupId);
    expect(manifest).toMatchObject({ volume: 'v62', sourceNode: 'node1' });
    // node2 sees the same file on its own mount of the share.
    expect((await c.sh('node2', `ls ${BACKUPS}/v62`)).length).toBeGreaterThan(0);

    // A new empty volume with node2 Primary, not mounted: the restore target. Larger than
    // v62: a backup's size is its LV's, DRBD's internal metadata included, so the device
    // of a volume of the same size is 40 KiB too small (the lab showed that 409).
    await putBoth('v63', 63, 'node2', { sizeBytes: 160 * MiB, mountPoint: null });
    await until('v63', 'ready', 400_000);
    const d2 = await daemon('node2');
    t0 = performance.now();
    const restore = await d2.restore('v63', { backupId: done.backupId as string, target: BACKUPS });
    const restored = await waitFor(
      'the v63 restore',
      async () => {
        const j = await d2.job(restore.id);
        if (j?.state === 'failed') throw new Error(`restore failed: ${j.error}`);
        return j?.state === 'done' ? j : false;
      },
      300_000,
      1000,
    );
    say(`restore into v63 on node2 in ${secs(t0)} s (checksum verified by the daemon: ${restored.state})`);
    // Independently: the restored filesystem holds the same file.
    const got = await c.sh(
      'node2',
      'mkdir -p /mnt/check && mount -o ro /dev/drbd63 /mnt/check && md5sum < /mnt/check/data; umount /mnt/check',
    );
    expect(got.split(' ')[0]).toBe(md5);
    await deleteBoth('v63', 'node2');
    await deleteBoth('v62', 'node1');
  }, 900_000);
});
