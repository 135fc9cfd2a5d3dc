import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ConfigFileIo,
  type ConnectionInfo,
  DrbdAdm,
  DrbdEventStream,
  DrbdNoUpToDateDataError,
  DrbdPeerPrimaryError,
  type DrbdState,
  type Events2Event,
  type PeerDeviceState,
  parseStatus,
  type ResourceSpec,
  writeResourceFile,
} from '../../drbd/index.js';
import { useLab } from './helpers/lab.js';

// Real DRBD 8.4.11 in two qemu guests, driven only through the adapter: the .res file,
// every drbdadm verb and the events2 stream run on the guests through their runners.
const { lab, runner, sh, crash } = useLab('drbd', { nodes: 2, disk: '1GiB' });

const NODES = ['node1', 'node2'] as const;
type Node = (typeof NODES)[number];
const MiB = 1024 * 1024;
const DEVICE_KIB = 131032; // 128 MiB LV minus DRBD's internal metadata
const WAIT = { timeoutMs: 60_000 };

const spec: ResourceSpec = {
  name: 'r0',
  protocol: 'C',
  port: 7789,
  volumes: [{ volume: 0, minor: 0 }],
  nodes: [
    { hostname: 'node1', address: '10.77.0.11', disks: ['/dev/xlss/r0'] },
    { hostname: 'node2', address: '10.77.0.12', disks: ['/dev/xlss/r0'] },
  ],
  net: { 'ping-int': 1, 'ping-timeout': 5, timeout: 10, 'connect-int': 1 },
  disk: { 'on-io-error': 'detach', 'resync-rate': '100M' },
};

/** The .res file goes through the guest's runner, without a shell. */
const guestIo = (node: Node): ConfigFileIo => ({
  async read(path) {
    const r = await runner(node).run('cat', [path], { reject: false, readOnly: true });
    return r.exitCode === 0 ? r.stdout : undefined;
  },
  async write(path, content) {
    await runner(node).run('tee', [path], { input: content });
  },
});

const adm = (node: Node) => new DrbdAdm({ runner: runner(node), generation: '8.4' });
const peerOf = (s: DrbdState): ConnectionInfo | undefined => Object.values(s.r0?.connections ?? {})[0];
const peerDevOf = (s: DrbdState): PeerDeviceState | undefined => peerOf(s)?.peerDevices[0];
const diskOf = (s: DrbdState) => s.r0?.devices[0]?.disk;
const inSync = (s: DrbdState) =>
  diskOf(s) === 'UpToDate' &&
  peerOf(s)?.connection === 'Connected' &&
  peerDevOf(s)?.replication === 'Established' &&
  peerDevOf(s)?.peerDisk === 'UpToDate';

/** Writes `mib` MiB of random data at `atMib` on the Primary, O_DIRECT; returns their md5. */
async function writePattern(node: Node, atMib: number, mib: number): Promise<string> {
  const out = await sh(
    node,
    `head -c ${mib * MiB} /dev/urandom > /tmp/pattern && ` +
      `dd if=/tmp/pattern of=/dev/drbd0 bs=1M seek=${atMib} oflag=direct status=none && ` +
      'md5sum < /tmp/pattern',
  );
  return out.split(' ')[0] as string;
}

async function md5Of(node: Node, device: string, atMib: number, mib: number): Promise<string> {
  const out = await sh(
    node,
    `dd if=${device} bs=1M skip=${atMib} count=${mib} iflag=direct status=none | md5sum`,
  );
  return out.split(' ')[0] as string;
}

async function statusOf(node: Node) {
  const r = await runner(node).run('drbdsetup', ['status', 'r0', '--verbose', '--statistics']);
  const [res] = parseStatus(r.stdout);
  if (!res) throw new Error(`${node}: no r0 in drbdsetup status`);
  return res;
}

describe('DRBD 8.4 adapter on real guests', () => {
  const streams = {} as Record<Node, DrbdEventStream>;
  /** Every live peer-device event per node, to read the resync sizes DRBD announced. */
  const seen: Record<Node, Events2Event[]> = { node1: [], node2: [] };
  const timings: Record<string, number> = {};
  const resyncSizesKiB = (node: Node) =>
    seen[node].flatMap((e) =>
      e.object === 'peer-device' &&
      (e.replication === 'SyncSource' || e.replication === 'SyncTarget') &&
      e.outOfSyncKiB !== undefined
        ? [e.outOfSyncKiB]
        : [],
    );

  beforeAll(async () => {
    for (const node of NODES) {
      // Short back-off: the node1 stream must come back soon after node1 reboots.
      const s = new DrbdEventStream({ runner: runner(node), minBackoffMs: 500, maxBackoffMs: 2000 });
      s.on('change', (_state, e) => seen[node].push(e));
      s.start();
      streams[node] = s;
    }
    await Promise.all(
      NODES.map(async (node) => {
        await sh(
          node,
          'pvcreate -q /dev/disk/by-id/virtio-xlss-data && vgcreate -q xlss /dev/disk/by-id/virtio-xlss-data && ' +
            'lvcreate -q -y -Wy -Zy -n r0 -L 128m xlss',
        );
        await writeResourceFile(spec, '8.4', { io: guestIo(node) });
        await streams[node].waitFor(() => true, WAIT);
      }),
    );
  });

  afterAll(async () => {
    await Promise.all(NODES.map((n) => streams[n]?.stop()));
    process.stderr.write(`[lab drbd] timings: ${JSON.stringify(timings)}\n`);
  });

  it('creates metadata, comes up, connects and runs a full initial sync to UpToDate/UpToDate', async () => {
    await Promise.all(NODES.map((n) => adm(n).createMd('r0', { force: true })));
    await Promise.all(NODES.map((n) => adm(n).up('r0')));
    for (const n of NODES) {
      // 8.4 reports the connection Connected a moment before the peer device is Established.
      const s = await streams[n].waitFor((st) => peerDevOf(st)?.replication === 'Established', WAIT);
      expect(peerOf(s)?.connection).toBe('Connected');
      expect(diskOf(s)).toBe('Inconsistent');
      expect(peerDevOf(s)).toMatchObject({ peerDisk: 'Inconsistent', outOfSyncKiB: DEVICE_KIB });
    }
    // Both sides connected and Inconsistent: DRBD refuses a normal promotion.
    await expect(adm('node1').primary('r0')).rejects.toThrow(DrbdNoUpToDateDataError);
    // up again is idempotent (real 8.4: drbdmeta says the device is configured; we adjust).
    expect(await adm('node2').up('r0')).toEqual({ changed: false });

    const t0 = performance.now();
    await adm('node1').primary('r0', { force: true });
    await streams.node2.waitFor((s) => peerOf(s)?.peerRole === 'Primary', WAIT);
    await Promise.all(NODES.map((n) => streams[n].waitFor(inSync, WAIT)));
    timings.initialSyncS = (performance.now() - t0) / 1000;
    timings.initialSyncMiBps = DEVICE_KIB / 1024 / timings.initialSyncS;
    expect(streams.node1.snapshot()?.r0?.role).toBe('Primary');
    expect(streams.node2.snapshot()?.r0?.role).toBe('Secondary');
    // The whole device was resynced, as announced when the sync started.
    expect(resyncSizesKiB('node1')).toContain(DEVICE_KIB);
    expect(await adm('node1').waitConnect('r0', { timeoutMs: 10_000 })).toEqual({ changed: false });
  });

  it('refuses a second Primary with a typed error', async () => {
    await expect(adm('node2').primary('r0')).rejects.toThrow(DrbdPeerPrimaryError);
  });

  let failoverSum = '';
  it('keeps data written on the Primary readable on the peer after the Primary crashes', async () => {
    failoverSum = await writePattern('node1', 0, 4);
    const t0 = performance.now();
    await crash('node1');
    await streams.node2.waitFor((s) => peerOf(s)?.connection !== 'Connected', WAIT);
    timings.peerLossSeenS = (performance.now() - t0) / 1000;
    expect(peerOf(streams.node2.snapshot() ?? {})?.peerRole).toBe('Unknown');
    await adm('node2').primary('r0');
    await streams.node2.waitFor((s) => s.r0?.role === 'Primary', WAIT);
    timings.crashToPrimaryS = (performance.now() - t0) / 1000;
    expect(await md5Of('node2', '/dev/drbd0', 0, 4)).toBe(failoverSum);
  });

  it('brings the crashed node back as Secondary and resyncs it', async () => {
    const before = resyncSizesKiB('node2').length;
    const t0 = performance.now();
    await lab().start('node1');
    timings.rebootS = (performance.now() - t0) / 1000;
    // /etc is a tmpfs on the guests: the .res file is gone after the crash.
    await sh('node1', 'vgchange -q -ay xlss >/dev/null');
    expect(await writeResourceFile(spec, '8.4', { io: guestIo('node1') })).toMatchObject({ changed: true });
    await streams.node1.waitFor(() => true, WAIT); // the supervised stream restarted on its own
    expect(streams.node1.starts).toBeGreaterThan(1);
    expect(await adm('node1').up('r0')).toEqual({ changed: true });
    const t1 = performance.now();
    await Promise.all(NODES.map((n) => streams[n].waitFor(inSync, WAIT)));
    timings.reconnectAndResyncS = (performance.now() - t1) / 1000;
    expect(streams.node1.snapshot()?.r0?.role).toBe('Secondary');
    expect(streams.node2.snapshot()?.r0?.role).toBe('Primary');
    // Only the activity log's extents are resynced, not the device.
    const sizes = resyncSizesKiB('node2').slice(before);
    expect(sizes.length).toBeGreaterThan(0);
    expect(Math.max(...sizes)).toBeLessThan(DEVICE_KIB / 4);
    expect(await md5Of('node1', '/dev/xlss/r0', 0, 4)).toBe(failoverSum);
  });

  it('after a partition resyncs only the blocks written meanwhile', async () => {
    const before = resyncSizesKiB('node2').length;
    await lab().partition('node1');
    await streams.node2.waitFor((s) => peerOf(s)?.connection !== 'Connected', WAIT);
    const sum = await writePattern('node2', 40, 4);
    const st = await statusOf('node2');
    const oos = Object.values(st.connections)[0]?.peerDevices[0]?.outOfSyncKiB;
    timings.outOfSyncDuringPartitionKiB = oos ?? -1;
    expect(oos).toBeGreaterThanOrEqual(4096);
    expect(oos).toBeLessThanOrEqual(8192);

    const t0 = performance.now();
    await lab().heal('node1');
    await Promise.all(NODES.map((n) => streams[n].waitFor(inSync, WAIT)));
    timings.healToInSyncS = (performance.now() - t0) / 1000;
    const sizes = resyncSizesKiB('node2').slice(before);
    expect(sizes.length).toBeGreaterThan(0);
    timings.partitionResyncKiB = Math.max(...sizes);
    expect(Math.max(...sizes)).toBeGreaterThanOrEqual(4096);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(8192);
    expect(await md5Of('node1', '/dev/xlss/r0', 40, 4)).toBe(sum);
  });

  it('detaches a failing disk under the Primary and keeps serving I/O from the peer', async () => {
    await lab().diskFail('node2');
    // The first write after the failure hits the dead disk: DRBD detaches and completes it on the peer.
    const sum = await writePattern('node2', 60, 2);
    const s = await streams.node2.waitFor((st) => diskOf(st) === 'Diskless', WAIT);
    expect(s.r0?.role).toBe('Primary');
    expect(seen.node2.some((e) => e.object === 'device' && e.disk === 'Failed')).toBe(true);
    await streams.node1.waitFor((st) => peerDevOf(st)?.peerDisk === 'Diskless', WAIT);
    expect(diskOf(streams.node1.snapshot() ?? {})).toBe('UpToDate');
    // Reads through the Diskless Primary come from the peer; the data is on the peer's disk.
    expect(await md5Of('node2', '/dev/drbd0', 60, 2)).toBe(sum);
    expect(await md5Of('node1', '/dev/xlss/r0', 60, 2)).toBe(sum);
    expect(await md5Of('node2', '/dev/drbd0', 0, 4)).toBe(failoverSum);
    expect((await statusOf('node2')).devices[0]?.disk).toBe('Diskless');
  });
});
