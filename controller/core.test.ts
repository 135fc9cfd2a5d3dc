import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { NoSpaceError } from '../common/errors.js';
import { silentLogger } from '../common/log.js';
import type { VolumeCreate } from './api/schemas.js';
import { type ControllerCoreHandle, createControllerCore } from './core.js';
import { FakeCluster } from './testing/fake-daemon.js';

const GiB = 1024 ** 3;
const dirs: string[] = [];

beforeEach(() => {
  // The loop's own timer stays idle: each test drives heartbeats with tick() and the clock.
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
});
afterEach(() => {
  vi.useRealTimers();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface Harness {
  cluster: FakeCluster;
  core: ControllerCoreHandle;
  registry: Registry;
  clock: { now: number };
  dbPath: string;
  /** Advances the controller's clock and runs one heartbeat round. */
  after(ms: number): Promise<void>;
  /** A new controller process on the same state file and cluster. */
  restartController(): Promise<ControllerCoreHandle>;
}

async function harness(
  nodes: Array<string | { name: string; vgBytes?: number; zone?: string }>,
  extra: { replaceAfterMs?: number; drainRetryMs?: number } = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'xlss-core-'));
  dirs.push(dir);
  const cluster = new FakeCluster();
  const specs = nodes.map((n) => (typeof n === 'string' ? { name: n } : n));
  for (const n of specs) cluster.addNode(n.name, { vgBytes: n.vgBytes, zone: n.zone ?? null });
  const clock = { now: 1_700_000_000_000 };
  const dbPath = join(dir, 'state.db');
  const make = () => {
    const registry = new Registry();
    const core = createControllerCore({
      config: {
        databasePath: dbPath,
        heartbeatIntervalMs: 1000,
        nodeTimeoutMs: 5000,
        minorRange: { first: 100, last: 199 },
        portRange: { first: 7800, last: 7899 },
        nodes: specs.map((n) => ({
          name: n.name,
          url: `http://${n.name}:7680`,
          tokenFile: '/etc/xlss/token',
        })),
        defaultBackupTarget: null,
        ...extra,
      },
      log: silentLogger,
      registry,
      daemonClient: cluster.factory,
      now: () => clock.now,
    });
    cluster.fenceRelay = (ask) => core.fence(ask);
    return { core, registry };
  };
  const first = make();
  const h: Harness = {
    cluster,
    core: first.core,
    registry: first.registry,
    clock,
    dbPath,
    async after(ms) {
      clock.now += ms;
      await h.core.tick();
    },
    async restartController() {
      const next = make();
      h.core = next.core;
      h.registry = next.registry;
      await next.core.start();
      return next.core;
    },
  };
  await h.core.start();
  return h;
}

const vol = (name: string, extra: Partial<VolumeCreate> = {}): VolumeCreate => ({
  name,
  sizeBytes: GiB,
  filesystem: 'ext4',
  mountPoint: `/mnt/${name}`,
  ...extra,
});

async function eventTypes(core: ControllerCoreHandle, volume: string): Promise<string[]> {
  return (await core.events({ volume })).map((e) => e.type);
}

describe('controller core against fake daemons', () => {
  it('creates, fails over a crashed Primary with a timeline, re-replicates, then cleans up the returning node', async () => {
    const h = await harness(['n1', 'n2', 'n3']);
    const { volume, created } = await h.core.createVolume(
      vol('vol1', { workloadUnit: 'pg.service', preferredNode: 'n2' }),
    );
    expect(created).toBe(true);
    expect(volume.phase).toBe('ready');
    expect(volume.primary).toBe('n2');
    expect(volume.schedulingHint[0]).toBe('n2');
    const secondary = volume.schedulingHint[1] as string;
    const third = ['n1', 'n3'].find((n) => n !== secondary) as string;
    expect(h.cluster.volume('n2', 'vol1')?.role).toBe('Primary');
    expect(h.cluster.volume(secondary, 'vol1')?.role).toBe('Secondary');
    // Same request again: nothing new.
    expect(
      (await h.core.createVolume(vol('vol1', { workloadUnit: 'pg.service', preferredNode: 'n2' }))).created,
    ).toBe(false);

    const acked = [1, 2, 3].map(() => h.cluster.write('n2', 'vol1')).filter((w) => w.result === 'acked');
    expect(acked).toHaveLength(3);
    await h.after(1000); // a heartbeat with the pair connected

    await h.cluster.crash('n2');
    await h.after(1000);
    expect((await h.core.getNode('n2'))?.health).toBe('online'); // one late answer is forgiven
    expect((await h.core.getVolume('vol1'))?.primary).toBe('n2'); // not yet: it may come back

    // Second missed poll (suspect), and the survivor reports its DRBD connection lost: two
    // views agree, so the failover does not wait for the node timeout (5 s here).
    await h.after(1000);
    expect((await h.core.getNode('n2'))?.health).toBe('suspect');
    const after = await h.core.getVolume('vol1');
    expect(after?.primary).toBe(secondary);
    expect(after?.epoch).toBe(2);
    const survivor = h.cluster.volume(secondary, 'vol1');
    expect(survivor?.role).toBe('Primary');
    expect(survivor?.mounted).toBe(true);
    expect(survivor?.unitStarted).toBe('pg.service');
    expect(survivor?.epoch).toBe(2);
    // Every acknowledged write is on the survivor.
    for (const w of acked) expect(survivor?.writes).toContain(w.seq);

    const events = await h.core.events({ volume: 'vol1' });
    const timeline = [
      'failover.detected',
      'failover.fenced',
      'failover.promoted',
      'failover.mounted',
      'failover.workload-started',
      'replica.added',
    ].map((type) => events.find((e) => e.type === type));
    expect(timeline.every((e) => e !== undefined)).toBe(true);
    const ids = timeline.map((e) => e?.id ?? 0);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    expect(timeline[0]?.at).toBe(new Date(h.clock.now).toISOString());

    // Re-replication to the third node, which syncs the whole volume.
    expect(h.cluster.volume(third, 'vol1')?.spec.peer?.node).toBe(secondary);
    expect(h.cluster.volume(secondary, 'vol1')?.spec.peer?.node).toBe(third);
    expect(events.find((e) => e.type === 'replica.added')?.node).toBe(third);
    const during = h.cluster.write(secondary, 'vol1');
    expect(during.result).toBe('acked');
    await h.after(1000);
    expect((await h.core.getVolume('vol1'))?.phase).toBe('resyncing');
    const fullSync = (await h.core.events({ volume: 'vol1' })).find((e) => e.type === 'replica.resync');
    expect(fullSync?.node).toBe(third);
    expect(fullSync?.message).toMatch(/^full sync: /);
    await h.after(1000);
    await h.after(1000);
    const healed = await h.core.getVolume('vol1');
    expect(healed?.phase).toBe('ready');
    expect(healed?.replicas.map((r) => r.node).sort()).toEqual([secondary, third].sort());
    expect(healed?.replicas.every((r) => !r.outdated)).toBe(true);
    expect(h.cluster.volume(third, 'vol1')?.writes).toEqual(
      expect.arrayContaining([...acked.map((w) => w.seq), during.seq]),
    );

    // The old node returns: no longer a replica, so it is cleaned up (and never Primary).
    await h.cluster.restart('n2');
    await h.after(1000);
    expect(h.cluster.volume('n2', 'vol1')).toBeUndefined();
    expect(await eventTypes(h.core, 'vol1')).toContain('replica.cleaned-up');
    expect(
      h.core.store
        .listReplicas('vol1')
        .map((r) => r.node)
        .sort(),
    ).toEqual([secondary, third].sort());
    expect(h.core.store.listAllocations()).toHaveLength(1);

    const metrics = await h.registry.metrics();
    expect(metrics).toContain('xlss_controller_failovers_total{kind="automatic"} 1');
    expect(metrics).toMatch(/xlss_controller_failover_duration_seconds_count\{kind="automatic"\} 1/);
    expect(metrics).toContain('xlss_controller_volumes{phase="ready"} 1');
    expect(metrics).toContain('xlss_controller_nodes{health="online"} 3');
    await h.core.stop();
  });

  it('without a third node the old Primary rejoins as Secondary and resyncs only what changed', async () => {
    const h = await harness(['n1', 'n2']);
    await h.core.createVolume(vol('vol1', { preferredNode: 'n1' }));
    await h.cluster.crash('n1');
    await h.after(6000);
    expect((await h.core.getVolume('vol1'))?.primary).toBe('n2');
    expect(await eventTypes(h.core, 'vol1')).toContain('replica.re-replication-blocked');
    for (let i = 0; i < 5; i++) expect(h.cluster.write('n2', 'vol1', 8192).result).toBe('acked');

    await h.cluster.restart('n1');
    await h.after(1000); // n1 online again, told to be Secondary at epoch 2
    expect(h.cluster.volume('n1', 'vol1')?.spec).toMatchObject({ role: 'secondary', epoch: 2 });
    await h.after(1000); // its poll shows the bitmap resync
    const resync = (await h.core.events({ volume: 'vol1' })).find((e) => e.type === 'replica.resync');
    expect(resync?.node).toBe('n1');
    expect(resync?.message).toContain(`resyncing ${5 * 8192} of ${GiB} bytes from the bitmap`);
    await h.after(1000);
    await h.after(1000);
    const v = await h.core.getVolume('vol1');
    expect(v?.phase).toBe('ready');
    expect(v?.replicas.find((r) => r.node === 'n1')?.outdated).toBe(false);
    expect(h.cluster.volume('n1', 'vol1')?.role).toBe('Secondary');
    await h.core.stop();
  });

  it('a node that comes back as Primary by itself causes a split brain that is shown, not hidden', async () => {
    const h = await harness(['n1', 'n2']);
    await h.core.createVolume(vol('vol1', { preferredNode: 'n1' }));
    await h.cluster.crash('n1');
    await h.after(6000);
    h.cluster.write('n2', 'vol1');
    await h.cluster.restart('n1', { asPrimary: ['vol1'] });
    await h.after(1000);
    const v = await h.core.getVolume('vol1');
    expect(v?.phase).toBe('split-brain');
    expect(await eventTypes(h.core, 'vol1')).toContain('split-brain');
    expect(await h.registry.metrics()).toContain('xlss_controller_split_brain_volumes 1');
    // Another round keeps it loud and does not "repair" it behind the operator's back.
    await h.after(1000);
    expect((await h.core.getVolume('vol1'))?.phase).toBe('split-brain');
    await h.core.stop();
  });

  it('a Primary node back after one missed heartbeat is not failed over, and gets its role back', async () => {
    const h = await harness(['n1', 'n2', 'n3']);
    await h.core.createVolume(vol('vol1', { preferredNode: 'n1' }));
    await h.cluster.crash('n1');
    await h.after(1000);
    await h.cluster.restart('n1');
    await h.after(1000);
    await h.after(6000);
    const v = await h.core.getVolume('vol1');
    expect(v?.primary).toBe('n1');
    expect(v?.epoch).toBe(1);
    expect(h.cluster.volume('n1', 'vol1')?.role).toBe('Primary');
    expect(h.cluster.volume('n2', 'vol1')?.role).toBe('Secondary');
    const types = await eventTypes(h.core, 'vol1');
    expect(types).toContain('volume.repromoted');
    expect(types).not.toContain('failover.detected');
    await h.core.stop();
  });

  it('does not fail over when only the controller is cut off from the Primary', async () => {
    const h = await harness(['n1', 'n2', 'n3']);
    await h.core.createVolume(vol('vol1', { preferredNode: 'n1' }));
    h.cluster.hideFromController('n1');
    await h.after(6000);
    await h.after(6000);
    expect((await h.core.getNode('n1'))?.health).toBe('offline');
    const v = await h.core.getVolume('vol1');
    expect(v?.primary).toBe('n1');
    expect(v?.epoch).toBe(1);
    expect(h.cluster.calls.filter((c) => c.method === 'promote')).toEqual([]);
    // Exactly one Primary, and it still acknowledges writes (its peer is connected).
    const primaries = ['n1', 'n2', 'n3'].filter((n) => h.cluster.volume(n, 'vol1')?.role === 'Primary');
    expect(primaries).toEqual(['n1']);
    expect(h.cluster.write('n1', 'vol1').result).toBe('acked');
    // The operator sees why, once for this outage, not once per tick.
    const held = (await h.core.events({ volume: 'vol1' })).filter((e) => e.type === 'failover.held');
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({ node: 'n1' });
    expect(held[0]?.message).toMatch(/^no failover from n1: n\d still sees n1 connected/);
    await h.core.stop();
  });

  it('a slow Primary whose link alone is cut asks fence-peer: alive, so no early failover while it is only suspect', async () => {
    const h = await harness(['n1', 'n2', 'n3']);
    await h.core.createVolume(vol('vol1', { preferredNode: 'n1' }));
    const secondary = (await h.core.getVolume('vol1'))?.schedulingHint[1] as string;
    await h.after(1000);
    // Its polls time out (suspect after two), and its replication link goes down: the
    // survivor reports the loss, which alone would be the early failover.
    // The peer's outdate, which the fence-peer answer waits for, hangs: the question is
    // asked and not answered yet, and the peer stays UpToDate (a failover candidate).
    h.cluster.hideFromController('n1');
    h.cluster.hangOnMutation(1, { applied: false });
    void h.cluster.cutLink('n1', secondary);
    await vi.waitUntil(() => h.cluster.fenceAsks.some((a) => a.node === 'n1'), {
      timeout: 2000,
      interval: 5,
    });
    await h.after(1000);
    await h.after(1000);
    await h.after(1000);
    expect((await h.core.getNode('n1'))?.health).toBe('suspect');
    expect(h.cluster.volume(secondary, 'vol1')?.disk).toBe('UpToDate');
    expect((await h.core.getVolume('vol1'))?.primary).toBe('n1');
    expect(h.cluster.calls.filter((c) => c.method === 'promote')).toEqual([]);
    await h.core.stop();
  });

  it('answers fence-peer calls: outdates a reachable peer, keeps the Primary frozen until a lost peer is confirmed', async () => {
    const h = await harness(['n1', 'n2']);
    await h.core.createVolume(vol('vol1', { preferredNode: 'n1' }));

    // Replication link cut, both nodes reachable: the controller outdates n2, then allows.
    await h.cluster.cutLink('n1', 'n2');
    const ask1 = h.cluster.fenceAsks.at(-1);
    expect(ask1).toMatchObject({ node: 'n1', peer: 'n2', epoch: 1, answer: { allow: true } });
    expect(ask1?.answer?.reason).toMatch(/^outdated/);
    expect(h.cluster.volume('n2', 'vol1')?.disk).toBe('Outdated');
    expect(h.core.store.listReplicas('vol1').find((r) => r.node === 'n2')?.outdatedAtEpoch).toBe(1);
    expect(h.cluster.write('n1', 'vol1').result).toBe('acked');
    await h.cluster.healLink('n1', 'n2');
    await h.after(1000);
    await h.after(1000);
    await h.after(1000);
    expect(h.core.store.listReplicas('vol1').find((r) => r.node === 'n2')?.outdatedAtEpoch).toBeNull();

    // A node that is not the Primary of record, or holds an old epoch, is told no.
    expect(await h.core.fence({ volume: 'vol1', node: 'n2', peer: 'n1', epoch: 1 })).toMatchObject({
      allow: false,
    });
    expect(await h.core.fence({ volume: 'vol1', node: 'n1', peer: 'n2', epoch: 0 })).toMatchObject({
      allow: false,
    });
    expect(await h.core.fence({ volume: 'nope', node: 'n1', peer: 'n2', epoch: 1 })).toMatchObject({
      allow: false,
    });

    // Peer crashes: not yet confirmed gone → no; the Primary stays frozen (negative control).
    await h.cluster.crash('n2');
    const ask2 = h.cluster.fenceAsks.at(-1);
    expect(ask2?.answer?.allow).toBe(false);
    expect(h.cluster.write('n1', 'vol1').result).toBe('frozen');
    await h.after(1000);
    await h.cluster.retryFence();
    expect(h.cluster.fenceAsks.at(-1)?.answer?.allow).toBe(false);
    expect(h.cluster.write('n1', 'vol1').result).toBe('frozen');
    // Offline by heartbeat and recorded outdated: yes, and I/O resumes.
    await h.after(5000);
    expect(h.core.store.listReplicas('vol1').find((r) => r.node === 'n2')?.outdatedAtEpoch).toBe(1);
    await h.cluster.retryFence();
    expect(h.cluster.fenceAsks.at(-1)?.answer?.allow).toBe(true);
    expect(h.cluster.write('n1', 'vol1').result).toBe('acked');
    const types = await eventTypes(h.core, 'vol1');
    expect(types).toContain('fence.allowed');
    expect(types).toContain('fence.denied');
    await h.core.stop();
  });

  for (const applied of [false, true]) {
    for (const step of [1, 2]) {
      it(`a controller killed at provisioning step ${step} (${applied ? 'after' : 'before'} the daemon acted) finishes on restart`, async () => {
        const h = await harness(['n1', 'n2']);
        h.cluster.hangOnMutation(step, { applied });
        const before = h.cluster.mutationCount();
        void h.core.createVolume(vol('vol1'));
        await vi.waitUntil(() => h.cluster.mutationCount() >= before + step, { timeout: 2000, interval: 5 });
        expect((await h.core.getVolume('vol1'))?.phase).toBe('creating');
        await h.core.stop(); // the process dies here
        const core = await h.restartController();
        const v = await core.getVolume('vol1');
        expect(v?.phase).toBe('ready');
        const roles = ['n1', 'n2'].map((n) => h.cluster.volume(n, 'vol1')?.role).sort();
        expect(roles).toEqual(['Primary', 'Secondary']);
        expect(core.store.listRunningOperations()).toEqual([]);
        expect(core.store.listAllocations()).toHaveLength(1);
        expect(await eventTypes(core, 'vol1')).toContain('volume.created');
        await core.stop();
      });
    }
  }

  for (const applied of [false, true]) {
    for (const step of [1, 2, 3, 4]) {
      it(`a controller killed at failover step ${step} (${applied ? 'after' : 'before'} the daemon acted) finishes on restart`, async () => {
        const h = await harness(['n1', 'n2', 'n3']);
        await h.core.createVolume(vol('vol1', { preferredNode: 'n1' }));
        const secondary = (await h.core.getVolume('vol1'))?.schedulingHint[1] as string;
        const third = ['n2', 'n3'].find((n) => n !== secondary) as string;
        const acked = h.cluster.write('n1', 'vol1');
        await h.cluster.crash('n1');
        await h.after(1000);
        // Steps: promote survivor, PUT survivor spec, PUT third node, PUT survivor's new peer.
        h.cluster.hangOnMutation(step, { applied });
        const before = h.cluster.mutationCount();
        h.clock.now += 5000;
        void h.core.tick();
        await vi.waitUntil(() => h.cluster.mutationCount() >= before + step, { timeout: 2000, interval: 5 });
        // Killed: the old process just stops existing (its loop is stuck on the daemon call).
        const core = await h.restartController();
        for (let i = 0; i < 8; i++) await h.after(1000);
        const v = await core.getVolume('vol1');
        expect(v?.primary).toBe(secondary);
        expect(v?.epoch).toBe(2);
        expect(v?.phase).toBe('ready');
        expect(v?.replicas.map((r) => r.node).sort()).toEqual([secondary, third].sort());
        expect(h.cluster.volume(secondary, 'vol1')?.role).toBe('Primary');
        expect(h.cluster.volume(third, 'vol1')?.role).toBe('Secondary');
        expect(h.cluster.volume(third, 'vol1')?.writes).toContain(acked.seq);
        expect(core.store.listRunningOperations()).toEqual([]);
        expect((await eventTypes(core, 'vol1')).filter((t) => t === 'failover.detected')).toHaveLength(1);
        await core.stop();
      });
    }
  }

  it('a create resumed after a kill rolls back when a daemon refuses, and frees the minor and port', async () => {
    const h = await harness(['n1', 'n2']);
    h.cluster.hangOnMutation(1, { applied: true });
    void h.core.createVolume(vol('vol1', { preferredNode: 'n1' }));
    await vi.waitUntil(() => h.cluster.mutationCount() >= 1, { timeout: 2000, interval: 5 });
    await h.core.stop();
    // While the controller was down, n1's disk filled up.
    const n1 = h.cluster.nodes.get('n1');
    if (n1) n1.vgBytes = GiB / 2;
    const core = await h.restartController();
    expect(await core.getVolume('vol1')).toBeNull();
    expect(h.cluster.volume('n2', 'vol1')).toBeUndefined();
    expect(core.store.listAllocations()).toEqual([]);
    expect(core.store.listReservations()).toEqual([]);
    expect(await eventTypes(core, 'vol1')).toEqual(
      expect.arrayContaining(['volume.create-failed', 'volume.deleted']),
    );
    await core.stop();
  });

  it('a delete without force that the Primary refuses leaves the volume whole (the Secondary is not deleted first)', async () => {
    const h = await harness(['n1', 'n2']);
    await h.core.createVolume(vol('vol1', { preferredNode: 'n2' }));
    const before = await h.core.getVolume('vol1');
    expect(before?.primary).toBe('n2');
    await expect(h.core.deleteVolume('vol1', { force: false })).rejects.toThrow(/Primary/);
    expect(h.cluster.volume('n1', 'vol1')).toBeDefined();
    expect(h.cluster.volume('n2', 'vol1')).toBeDefined();
    expect((await h.core.getVolume('vol1'))?.replicas.map((r) => r.node).sort()).toEqual(['n1', 'n2']);
    await h.core.deleteVolume('vol1', { force: true });
    expect(await h.core.getVolume('vol1')).toBeNull();
    await h.core.stop();
  });

  it('a delete without force of a volume not in use (nothing mounted) demotes its Primary, then deletes it', async () => {
    const h = await harness(['n1', 'n2']);
    await h.core.createVolume(vol('vol1', { preferredNode: 'n2', filesystem: null, mountPoint: null }));
    await h.after(1000); // a heartbeat: the controller has seen the Primary unmounted
    await h.core.deleteVolume('vol1', { force: false });
    expect(await h.core.getVolume('vol1')).toBeNull();
    const calls = h.cluster.calls.filter(
      (c) => c.node === 'n2' && ['demote', 'deleteVolume'].includes(c.method),
    );
    expect(calls.map((c) => c.method)).toEqual(['demote', 'deleteVolume']);
    await h.core.stop();
  });

  it("keeps a deleted volume's minor and port until every daemon confirmed deletion", async () => {
    const h = await harness(['n1', 'n2']);
    await h.core.createVolume(vol('vol1'));
    await h.cluster.crash('n2');
    await h.core.deleteVolume('vol1', { force: true });
    expect((await h.core.getVolume('vol1'))?.phase).toBe('deleting');
    expect(h.core.store.listAllocations()).toHaveLength(1);
    await h.after(1000);
    expect(h.core.store.listAllocations()).toHaveLength(1);
    await h.cluster.restart('n2');
    await h.after(1000);
    expect(await h.core.getVolume('vol1')).toBeNull();
    expect(h.cluster.volume('n2', 'vol1')).toBeUndefined();
    expect(h.core.store.listAllocations()).toEqual([]);
    // Deleting again: not found; deleting a volume its daemon already lost is fine (404 = gone).
    await expect(h.core.deleteVolume('vol1', { force: true })).rejects.toThrow(/not found/);
    await h.core.stop();
  });

  it('resizes on every replica, refuses to shrink or to grow past free space', async () => {
    const h = await harness([
      { name: 'n1', vgBytes: 10 * GiB },
      { name: 'n2', vgBytes: 10 * GiB },
    ]);
    await h.core.createVolume(vol('vol1'));
    const grown = await h.core.resizeVolume('vol1', 2 * GiB);
    expect(grown.sizeBytes).toBe(2 * GiB);
    for (const n of ['n1', 'n2']) expect(h.cluster.volume(n, 'vol1')?.spec.sizeBytes).toBe(2 * GiB);
    await expect(h.core.resizeVolume('vol1', GiB)).rejects.toThrow(/sizeBytes: cannot shrink/);
    await h.after(1000);
    await expect(h.core.resizeVolume('vol1', 20 * GiB)).rejects.toThrow(NoSpaceError);
    expect((await h.core.getVolume('vol1'))?.sizeBytes).toBe(2 * GiB);
    expect(await eventTypes(h.core, 'vol1')).toContain('volume.resized');
    await h.core.stop();
  });

  it('many creates at once never over-commit a node; refusals say why', async () => {
    const h = await harness([
      { name: 'n1', vgBytes: 10 * GiB },
      { name: 'n2', vgBytes: 10 * GiB },
      { name: 'n3', vgBytes: 10 * GiB },
    ]);
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => h.core.createVolume(vol(`v${i}`, { sizeBytes: 2 * GiB }))),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(7);
    // DRBD secrets are hex: drbdadm refuses one that starts with "-".
    for (const v of h.core.store.listVolumes()) expect(v.secret).toMatch(/^[0-9a-f]{48}$/);
    for (const r of refused) {
      expect(r.reason).toBeInstanceOf(NoSpaceError);
      expect(String(r.reason.message)).toMatch(/no (first|second) node with 2 GiB free/);
    }
    for (const n of ['n1', 'n2', 'n3']) {
      let used = 0;
      for (let i = 0; i < 12; i++) used += h.cluster.volume(n, `v${i}`)?.spec.sizeBytes ?? 0;
      expect(used).toBeLessThanOrEqual(10 * GiB);
    }
    const minors = h.core.store.listAllocations().map((a) => a.minor);
    expect(new Set(minors).size).toBe(7);
    await h.core.stop();
  });

  it('planned failover switches the Primary without loss; drain moves everything off a node', async () => {
    const h = await harness(['n1', 'n2', 'n3']);
    await h.core.createVolume(vol('a', { preferredNode: 'n1' }));
    await h.core.createVolume(vol('b', { preferredNode: 'n2' }));
    const w = h.cluster.write('n1', 'a');
    const before = (await h.core.getVolume('a'))?.schedulingHint[1] as string;
    const switched = await h.core.failover('a');
    expect(switched.primary).toBe(before);
    expect(switched.epoch).toBe(2);
    expect(h.cluster.volume('n1', 'a')?.role).toBe('Secondary');
    expect(h.cluster.volume(before, 'a')?.writes).toContain(w.seq);

    const drained = h.core.store.listReplicas().filter((r) => r.node === 'n2').length;
    expect(drained).toBeGreaterThan(0);
    await h.core.drainNode('n2');
    await h.core.settled();
    await h.after(1000);
    await h.after(1000);
    expect(h.core.store.listReplicas().filter((r) => r.node === 'n2')).toEqual([]);
    expect(h.cluster.nodes.get('n2')?.volumes.size).toBe(0);
    for (const name of ['a', 'b']) expect((await h.core.getVolume(name))?.primary).not.toBe('n2');
    expect((await h.core.getNode('n2'))?.draining).toBe(true);
    await h.core.stop();
  });

  it('with replaceAfter, a Secondary back in time is still the replica and resyncs only what changed; one that stays away is replaced', async () => {
    const h = await harness(['n1', 'n2', 'n3'], { replaceAfterMs: 60_000 });
    await h.core.createVolume(vol('vol1', { preferredNode: 'n1' }));
    const secondary = (await h.core.getVolume('vol1'))?.schedulingHint[1] as string;
    await h.cluster.crash(secondary);
    await h.after(6000); // offline: recorded outdated, so the Primary's fence-peer call is allowed
    await h.cluster.retryFence();
    for (let i = 0; i < 5; i++) expect(h.cluster.write('n1', 'vol1', 8192).result).toBe('acked');
    await h.after(30_000);
    let types = await eventTypes(h.core, 'vol1');
    expect(types).toEqual(expect.arrayContaining(['replica.outdated', 'replica.replace-pending']));
    expect(types).not.toContain('replica.placing');
    expect(types.filter((t) => t === 'replica.replace-pending')).toHaveLength(1);

    await h.cluster.restart(secondary);
    await h.after(1000);
    await h.after(1000);
    const resync = (await h.core.events({ volume: 'vol1' })).find((e) => e.type === 'replica.resync');
    expect(resync?.node).toBe(secondary);
    expect(resync?.message).toContain(`resyncing ${5 * 8192} of ${GiB} bytes`);
    await h.after(1000);
    await h.after(1000);
    const v = await h.core.getVolume('vol1');
    expect(v?.phase).toBe('ready');
    expect(v?.replicas.map((r) => r.node).sort()).toEqual(['n1', secondary].sort());
    expect(v?.replicas.find((r) => r.node === secondary)?.outdated).toBe(false);

    // The same absence, but longer than replaceAfter: a new replica on the third node.
    await h.cluster.crash(secondary);
    await h.after(6000);
    expect(await eventTypes(h.core, 'vol1')).not.toContain('replica.placing');
    await h.after(60_000);
    types = await eventTypes(h.core, 'vol1');
    expect(types).toContain('replica.placing');
    expect(types.filter((t) => t === 'replica.replace-pending')).toHaveLength(2);
    await h.core.stop();
  });

  it('a planned failover asks for the demote again while the mount is busy; past its tries the Primary stays', async () => {
    const h = await harness(['n1', 'n2']);
    await h.core.createVolume(vol('a', { preferredNode: 'n1' }));
    h.cluster.busyMount('n1', 'a', 2);
    expect((await h.core.failover('a')).primary).toBe('n2');
    expect(h.cluster.calls.filter((c) => c.node === 'n1' && c.method === 'demote')).toHaveLength(3);
    h.cluster.busyMount('n2', 'a', 99);
    await expect(h.core.failover('a')).rejects.toThrow(/target is busy/);
    const v = await h.core.getVolume('a');
    expect(v?.primary).toBe('n2');
    expect(h.cluster.volume('n2', 'a')?.role).toBe('Primary');
    await h.core.stop();
  }, 20_000);

  it('a drain that cannot move a volume says so (node.drain-incomplete, why, no node.drained); resumed by a restarted controller once it can', async () => {
    const h = await harness(['n1', 'n2'], { drainRetryMs: 10 });
    await h.core.createVolume(vol('a', { preferredNode: 'n1' }));
    await h.core.drainNode('n1');
    await h.core.settled();
    let types = (await h.core.events({})).map((e) => e.type);
    expect(types).toContain('node.drain-incomplete');
    expect(types).not.toContain('node.drained');
    expect(types.filter((t) => t === 'node.drain-failed')).toHaveLength(3);
    let node = await h.core.getNode('n1');
    expect(node?.drain?.state).toBe('incomplete');
    // Placement's refusal is the reason given: no third node to hold the copy.
    expect(node?.drain?.message).toMatch(/^1 volume\(s\) still on n1: a \(no .*schedulable node\)/);
    expect(node?.volumes).toBe(1);
    // The Primary moved on the first pass; only the replica could not.
    expect((await h.core.getVolume('a'))?.primary).toBe('n2');

    h.cluster.addNode('n3');
    await h.core.addNode({ name: 'n3', url: 'http://n3:7680', tokenFile: '/etc/xlss/token' });
    await h.after(1000);
    // A controller restarted while n1 is still marked draining takes the drain up again.
    await h.core.stop();
    await h.restartController();
    await h.core.settled();
    types = (await h.core.events({})).map((e) => e.type);
    expect(types).toContain('node.drained');
    node = await h.core.getNode('n1');
    expect(node?.drain?.state).toBe('done');
    expect(node?.volumes).toBe(0);
    await h.core.stop();
  });

  it('a drain tries a volume it could not move again on its next pass', async () => {
    const h = await harness(['n1', 'n2', 'n3'], { drainRetryMs: 10 });
    await h.core.createVolume(vol('a', { preferredNode: 'n1' }));
    // Busy past the switchover's 5 demote tries: the first pass fails, the second moves it.
    h.cluster.busyMount('n1', 'a', 5);
    await h.core.drainNode('n1');
    await h.core.settled();
    const events = await h.core.events({});
    const types = events.map((e) => e.type);
    expect(types.filter((t) => t === 'node.drain-failed')).toHaveLength(1);
    expect(events.find((e) => e.type === 'node.drain-failed')?.message).toMatch(/pass 1 of 3: .*busy/);
    expect(types).toContain('node.drained');
    expect((await h.core.getNode('n1'))?.volumes).toBe(0);
    expect((await h.core.getVolume('a'))?.primary).not.toBe('n1');
    await h.core.stop();
  }, 20_000);

  /** A volume with a backup on n1 and its Secondary, a write after the backup, both nodes crashed. */
  async function loseBothAfterBackup(h: Harness) {
    const backup = { intervalSeconds: 3600, retain: 3, target: '/srv/backups' };
    await h.core.createVolume(vol('vol1', { preferredNode: 'n1', backup, workloadUnit: 'app.service' }));
    const secondary = (await h.core.getVolume('vol1'))?.schedulingHint[1] as string;
    const saved = h.cluster.write('n1', 'vol1');
    await h.core.runBackup('vol1');
    const since = h.cluster.write('n1', 'vol1'); // after the backup: gone with both replicas
    expect([saved.result, since.result]).toEqual(['acked', 'acked']);
    await h.cluster.crash('n1');
    await h.cluster.crash(secondary);
    return {
      lost: ['n1', secondary],
      saved: saved.seq,
      since: since.seq,
      backupId: h.cluster.backups[0]?.id,
    };
  }

  /** The new pair, Primary first; checks it holds the backup's data and nothing written since. */
  function expectRestoredPair(
    h: Harness,
    core: ControllerCoreHandle,
    lost: string[],
    saved: number,
    since: number,
  ) {
    const active = core.store.listReplicas('vol1').filter((r) => !r.removing);
    const primary = core.store.getVolume('vol1')?.primary as string;
    const secondary = active.find((r) => r.node !== primary)?.node as string;
    expect(active).toHaveLength(2);
    expect(lost).not.toContain(primary);
    expect(lost).not.toContain(secondary);
    expect(
      core.store
        .listReplicas('vol1')
        .filter((r) => r.removing)
        .map((r) => r.node)
        .sort(),
    ).toEqual([...lost].sort());
    const a = h.cluster.volume(primary, 'vol1');
    const b = h.cluster.volume(secondary, 'vol1');
    expect([a?.role, a?.mounted, a?.unitStarted]).toEqual(['Primary', true, 'app.service']);
    expect(a?.writes).toEqual([saved]);
    // Replicated, not a lone copy: the Secondary got the restored blocks through DRBD.
    expect([b?.role, b?.disk, b?.spec.peer?.node]).toEqual(['Secondary', 'UpToDate', primary]);
    expect(b?.writes).toEqual([saved]);
    expect(a?.writes).not.toContain(since);
    return { primary, secondary };
  }

  it('both replicas lost: restores the newest backup onto a new pair (Primary unmounted, restore, then mount) and says so', async () => {
    const h = await harness(['n1', 'n2', 'n3', 'n4', 'n5']);
    const { lost, saved, since, backupId } = await loseBothAfterBackup(h);
    const callsBefore = h.cluster.calls.length;
    h.cluster.convergeOnPoll = true; // a real daemon promotes after its PUT has answered
    await h.after(6000);
    let v = await h.core.getVolume('vol1');
    expect(v?.phase).toBe('lost');
    const primary = v?.primary as string;
    expect(lost).not.toContain(primary);
    expect(v?.epoch).toBe(2);
    // Not Primary yet: the controller waits (no sleep) and asks nothing of it meanwhile.
    expect(h.cluster.volume(primary, 'vol1')?.role).toBe('Secondary');
    expect(v?.message).toMatch(new RegExp(`restore waits for ${primary} to become Primary`));
    expect(h.cluster.calls.slice(callsBefore).some((c) => c.method === 'restore')).toBe(false);

    await h.after(1000);
    const pair = expectRestoredPair(h, h.core, lost, saved, since);
    expect(pair.primary).toBe(primary);
    const order = h.cluster.calls
      .slice(callsBefore)
      .filter((c) => c.volume === 'vol1' && ['putVolume', 'restore', 'promote'].includes(c.method))
      .map((c) =>
        [
          c.node,
          c.method,
          c.spec?.role,
          c.spec?.peer?.node,
          c.spec?.filesystem,
          c.spec?.mountPoint,
          c.spec?.backup?.target,
        ]
          .filter((x) => x != null)
          .join(' '),
      );
    expect(order).toEqual([
      `${pair.secondary} putVolume secondary ${primary} ext4 /mnt/vol1 /srv/backups`,
      // No filesystem, no mount point, no backup policy: nothing made or mounted before the restore.
      `${primary} putVolume primary ${pair.secondary}`,
      `${primary} restore`,
      `${primary} putVolume primary ${pair.secondary} ext4 /mnt/vol1 /srv/backups`,
      `${primary} promote`,
    ]);
    const events = await h.core.events({ volume: 'vol1' });
    const types = events.map((e) => e.type);
    const at = (t: string) => types.indexOf(t);
    expect(at('volume.lost')).toBeGreaterThanOrEqual(0);
    expect(at('restore.started')).toBeGreaterThan(at('volume.lost'));
    expect(at('restore.copying')).toBeGreaterThan(at('restore.started'));
    expect(at('restore.mounted')).toBeGreaterThan(at('restore.copying'));
    expect(at('restore.done')).toBeGreaterThan(at('restore.mounted'));
    const started = events[at('restore.started')]?.message ?? '';
    for (const word of [
      backupId as string,
      h.cluster.backups[0]?.createdAt as string,
      primary,
      pair.secondary,
    ])
      expect(started).toContain(word);
    const notice = `restored from backup ${backupId}; data since that backup is lost`;
    v = await h.core.getVolume('vol1');
    expect(v?.message).toBe(notice);

    // Healthy again, and it still says what was lost.
    await h.after(1000);
    v = await h.core.getVolume('vol1');
    expect([v?.phase, v?.message]).toEqual(['ready', notice]);
    // A lost node that comes back is cleaned up, not taken back.
    await h.cluster.restart('n1');
    await h.after(1000);
    await h.after(1000);
    expect(h.cluster.volume('n1', 'vol1')).toBeUndefined();
    expect(h.core.store.listReplicas('vol1').map((r) => r.node)).not.toContain('n1');
    await h.core.stop();
  });

  // Mutations: Secondary PUT, bare Primary PUT, restore, full Primary PUT, promote.
  for (const applied of [false, true]) {
    for (const step of [1, 2, 3, 4, 5]) {
      it(`a controller killed at restore step ${step} (${applied ? 'after' : 'before'} the daemon acted) finishes on restart`, async () => {
        const h = await harness(['n1', 'n2', 'n3', 'n4', 'n5']);
        const { lost, saved, since, backupId } = await loseBothAfterBackup(h);
        h.cluster.hangOnMutation(step, { applied });
        const before = h.cluster.mutationCount();
        h.clock.now += 6000;
        void h.core.tick();
        await vi.waitUntil(() => h.cluster.mutationCount() >= before + step, { timeout: 2000, interval: 5 });
        const core = await h.restartController();
        for (let i = 0; i < 3; i++) await h.after(1000);
        expectRestoredPair(h, core, lost, saved, since);
        const v = await core.getVolume('vol1');
        expect([v?.phase, v?.message]).toEqual([
          'ready',
          `restored from backup ${backupId}; data since that backup is lost`,
        ]);
        expect(core.store.listRunningOperations()).toEqual([]);
        const types = await eventTypes(core, 'vol1');
        expect(types.filter((t) => t === 'restore.started')).toHaveLength(1);
        expect(types.filter((t) => t === 'restore.done')).toHaveLength(1);
        expect(types).not.toContain('restore.failed');
        await core.stop();
      });
    }
  }

  it('the survivor dies too while the failover to it is in flight: the failover is abandoned, then the backup restored', async () => {
    const h = await harness(['n1', 'n2', 'n3', 'n4', 'n5']);
    const backup = { intervalSeconds: 3600, retain: 3, target: '/srv/backups' };
    await h.core.createVolume(vol('vol1', { preferredNode: 'n1', backup }));
    const secondary = (await h.core.getVolume('vol1'))?.schedulingHint[1] as string;
    const saved = h.cluster.write('n1', 'vol1');
    await h.core.runBackup('vol1');
    await h.after(1000); // a heartbeat with the pair connected
    await h.cluster.crash('n1');
    await h.after(1000);
    // The survivor's promote never answers: it crashed as the controller promoted it.
    h.cluster.hangOnMutation(1, { applied: false });
    const before = h.cluster.mutationCount();
    h.clock.now += 1000;
    void h.core.tick();
    await vi.waitUntil(() => h.cluster.mutationCount() >= before + 1, { timeout: 2000, interval: 5 });
    await h.cluster.crash(secondary);
    const core = await h.restartController();
    expect((await core.getVolume('vol1'))?.phase).toBe('failing-over');
    await h.after(1000);
    expect((await core.getVolume('vol1'))?.phase).toBe('failing-over'); // not yet offline: waits
    for (let i = 0; i < 8; i++) await h.after(1000);
    const types = await eventTypes(core, 'vol1');
    const at = (t: string) => types.indexOf(t);
    expect(at('failover.abandoned')).toBeGreaterThan(at('failover.detected'));
    expect(at('volume.lost')).toBeGreaterThan(at('failover.abandoned'));
    expect(at('restore.done')).toBeGreaterThan(at('volume.lost'));
    const v = core.store.getVolume('vol1');
    expect(['n1', secondary]).not.toContain(v?.primary);
    expect(h.cluster.volume(v?.primary as string, 'vol1')?.writes).toEqual([saved.seq]);
    await core.stop();
  });

  it('both replicas lost but only one healthy node can take the volume: restore.blocked, nothing put on one node', async () => {
    const small = GiB / 2;
    const h = await harness([
      'n1',
      'n2',
      'n3',
      { name: 'n4', vgBytes: small },
      { name: 'n5', vgBytes: small },
    ]);
    const { lost } = await loseBothAfterBackup(h);
    const callsBefore = h.cluster.calls.length;
    await h.after(6000);
    await h.after(1000);
    const events = await h.core.events({ volume: 'vol1' });
    const blocked = events.filter((e) => e.type === 'restore.blocked');
    expect(blocked).toHaveLength(1); // said once, not every tick
    expect(blocked[0]?.message).toMatch(/no second node|n4|n5/);
    expect(events.map((e) => e.type)).not.toContain('restore.started');
    expect(h.cluster.calls.slice(callsBefore).filter((c) => c.method === 'putVolume')).toEqual([]);
    const v = await h.core.getVolume('vol1');
    expect(v?.phase).toBe('lost');
    expect(
      h.core.store
        .listReplicas('vol1')
        .map((r) => r.node)
        .sort(),
    ).toEqual([...lost].sort());
    await h.core.stop();
  });
});
