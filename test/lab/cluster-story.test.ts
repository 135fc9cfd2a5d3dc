import { describe, expect, it } from 'vitest';
import type { BackupManifest, EventView, NodeView, VolumeView } from '../../controller/api/schemas.js';
import {
  countLost,
  type RecordWriter,
  startFollowWriter,
  startWriter,
} from '../../vagrant/lab/failover-scenario.js';
import { useCluster, waitFor } from './helpers/cluster.js';
import { procDrbd, sampleRoles, volumeHashes, watchAckGaps } from './helpers/story.js';

// The rest of the controller's story (issue 8), on one lab, through the real CLI: a
// Primary cut from its peer only, a Secondary's short absence, a drain, and the loss of
// both replicas with a backup. Five nodes, because the controller restores from a backup
// only while it sees a majority of the cluster: losing both replica nodes of a 3-node
// (or 4-node) cluster leaves it a minority, and it rightly holds (it cannot tell their
// death from its own isolation). Cases build on the lab, not on each other's volumes.
const c = useCluster('lt-story', { nodes: 5, disk: '1GiB' });
const say = (line: string) => process.stderr.write(`[lt-story] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function show(name: string): Promise<VolumeView> {
  return JSON.parse(await c.xlssOk(['volume', 'show', name, '--output', 'json'])) as VolumeView;
}

async function nodes(): Promise<NodeView[]> {
  return JSON.parse(await c.xlssOk(['node', 'list', '--output', 'json'])) as NodeView[];
}

async function eventsOf(name: string, since: number): Promise<EventView[]> {
  const all = JSON.parse(await c.xlssOk(['events', '--volume', name, '--output', 'json'])) as EventView[];
  return all.filter((e) => e.id > since);
}

async function lastEventId(): Promise<number> {
  const all = JSON.parse(await c.xlssOk(['events', '--limit', '1', '--output', 'json'])) as EventView[];
  return all.at(-1)?.id ?? 0;
}

const healthy = (v: VolumeView) =>
  v.phase === 'ready' &&
  v.primary !== null &&
  v.replicas.length === 2 &&
  v.replicas.every((r) => r.disk === 'UpToDate' && r.connection === 'Connected');

async function waitHealthy(name: string, timeoutMs = 300_000): Promise<VolumeView> {
  return waitFor(
    `${name} ready, both replicas UpToDate and connected`,
    async () => {
      const v = await show(name);
      return healthy(v) ? v : undefined;
    },
    timeoutMs,
    1000,
  );
}

/** `xlss volume create` (waits until ready), then the pair as the controller shows it. */
async function makeVolume(
  name: string,
  extra: string[] = [],
): Promise<{ v: VolumeView; primary: string; secondary: string }> {
  // Placement takes online nodes only; on a loaded host a node may have missed a poll.
  await waitFor(
    'every node online',
    async () => (await nodes()).every((n) => n.health === 'online'),
    120_000,
  );
  const args = ['volume', 'create', name, '--size', '64MiB', '--mount', `/mnt/${name}`, '--timeout', '10m'];
  const r = await c.xlss([...args, ...extra], { timeoutMs: 660_000 });
  expect(r.exitCode, r.stderr).toBe(0);
  const v = await waitHealthy(name);
  const primary = v.primary as string;
  const secondary = v.replicas.map((x) => x.node).find((n) => n !== primary) as string;
  return { v, primary, secondary };
}

async function acks(w: RecordWriter, atLeast: number, what: string, timeoutMs = 120_000): Promise<void> {
  await waitFor(what, async () => w.acked.length >= atLeast, timeoutMs, 200);
}

describe('the controller in the lab: partitions, returns, drain, restore', () => {
  it('Primary cut from its peer only: no failover, never two Primaries, I/O resumes once the peer is outdated, nothing lost, bitmap resync', async () => {
    const { v, primary, secondary } = await makeVolume('lt1');
    const since = await lastEventId();
    const writer = await startWriter(c.runner(primary), '/mnt/lt1/records');
    await acks(writer, 20, '20 acknowledged writes before the cut');
    const roles = sampleRoles(c, [primary, secondary], v.minor);

    await c.lab().partitionPair(primary, secondary);
    const cutAt = Date.now();
    const atCut = writer.acked.length;
    // The cut did something: the peer lost the connection and the controller, answering
    // the Primary's fence-peer call, had its daemon outdate the disk.
    const peer = await waitFor(
      `${secondary} disconnected and Outdated`,
      async () => {
        const p = await procDrbd(c, secondary, v.minor);
        return p && p.cs !== 'Connected' && p.disk === 'Outdated' ? p : undefined;
      },
      60_000,
    );
    // Frozen I/O resumed: writes are acknowledged again while the cut lasts.
    await acks(writer, atCut + 15, 'writes acknowledged again during the cut', 90_000);
    const resumedS = (Date.now() - cutAt) / 1000;
    const during = await show('lt1');
    // Long enough for the controller to have failed over if it were going to (node timeout 10 s).
    await sleep(Math.max(0, 15_000 - (Date.now() - cutAt)));
    const own = await procDrbd(c, primary, v.minor);
    const afterWait = await show('lt1');
    await c.lab().healPair(primary, secondary);
    const healedAt = Date.now();

    const ready = await waitHealthy('lt1');
    const syncedS = (Date.now() - healedAt) / 1000;
    await roles.stop();
    await writer.stop();
    const acked = [...writer.acked];
    const { lost } = await countLost(c.runner(primary), '/mnt/lt1/records', acked);
    const hashes = await volumeHashes(c, ready, primary, secondary);
    const events = await eventsOf('lt1', since);
    const resync = events.find((e) => e.type === 'replica.resync' && e.node === secondary);
    for (const e of events) say(`  lt1 ${e.at} ${e.type} ${e.node ?? '-'} ${e.message}`);
    say(
      `pair cut: ${acked.length} acknowledged (${acked.length - atCut} after the cut), lost ${lost}; I/O resumed ${resumedS.toFixed(1)} s after the cut; ` +
        `out of sync on ${primary} before the heal ${own?.oosBytes ?? '?'} of ${hashes.bytes} bytes; UpToDate again ${syncedS.toFixed(1)} s after the heal; ${roles.samples.length} role samples`,
    );

    expect(peer.peerRole).toBe('Unknown');
    expect(own?.role).toBe('Primary');
    expect(own?.cs).not.toBe('Connected');
    for (const view of [during, afterWait, ready]) {
      expect(view.primary).toBe(primary);
      expect(view.epoch).toBe(v.epoch);
    }
    expect(during.replicas.find((r) => r.node === secondary)?.outdated).toBe(true);
    expect(events.some((e) => e.type === 'fence.allowed' && e.node === primary)).toBe(true);
    expect(events.filter((e) => e.type.startsWith('failover.') || e.type === 'replica.placing')).toEqual([]);
    // Roles sampled on both nodes throughout the cut: never two Primaries, and the
    // sampler did see the Primary (it would notice a failed read as 'none').
    const cutSamples = roles.samples.filter((s) => s.at >= cutAt && s.at <= healedAt);
    expect(cutSamples.length).toBeGreaterThanOrEqual(5);
    for (const s of roles.samples)
      expect(
        Object.values(s.roles).filter((r) => r === 'Primary'),
        JSON.stringify(s),
      ).toHaveLength(1);
    expect(
      cutSamples.every((s) => s.roles[primary] === 'Primary' && s.roles[secondary] === 'Secondary'),
    ).toBe(true);
    expect(lost).toBe(0);
    // The writes of the cut went into the bitmap, and only they came back over the link.
    expect(own?.oosBytes ?? 0).toBeGreaterThan(0);
    expect(own?.oosBytes ?? Number.POSITIVE_INFINITY).toBeLessThan(hashes.bytes / 8);
    if (resync) expect(Number(/resyncing (\d+) of/.exec(resync.message)?.[1])).toBeLessThan(hashes.bytes / 8);
    expect(hashes.secondary).toBe(hashes.primary);
  }, 900_000);

  it('a Secondary back after a short absence is still the replica: no re-replication, it resyncs what changed, and holds every acknowledged write', async () => {
    const { v, primary, secondary } = await makeVolume('lt2');
    const since = await lastEventId();
    const writer = await startWriter(c.runner(primary), '/mnt/lt2/records');
    await acks(writer, 20, '20 acknowledged writes before the absence');
    const gaps = watchAckGaps(() => writer.acked.length);

    // Cut from everything (peer, controller, other nodes) for less than the node timeout (10 s).
    await c.lab().partition(secondary);
    const cutAt = Date.now();
    const atCut = writer.acked.length;
    const gone = await waitFor(
      `${secondary} sees its peer gone`,
      async () => {
        const p = await procDrbd(c, secondary, v.minor);
        return p && p.cs !== 'Connected' ? p : undefined;
      },
      30_000,
      250,
    );
    let oosSeen = 0;
    while (Date.now() - cutAt < 6_000) {
      oosSeen = Math.max(oosSeen, (await procDrbd(c, primary, v.minor))?.oosBytes ?? 0);
      await sleep(300);
    }
    const atHeal = writer.acked.length;
    await c.lab().heal(secondary);
    const absentS = (Date.now() - cutAt) / 1000;
    await acks(writer, atHeal + 15, 'writes acknowledged after the return', 120_000);
    const ready = await waitHealthy('lt2');
    await writer.stop();
    gaps.stop();
    const acked = [...writer.acked];
    const hashes = await volumeHashes(c, ready, primary, secondary);
    const events = await eventsOf('lt2', since);
    for (const e of events) say(`  lt2 ${e.at} ${e.type} ${e.node ?? '-'} ${e.message}`);
    const resync = events.find((e) => e.type === 'replica.resync' && e.node === secondary);
    const resyncBytes = resync ? Number(/resyncing (\d+) of/.exec(resync.message)?.[1]) : oosSeen;
    const nodeEvents = JSON.parse(await c.xlssOk(['events', '--output', 'json'])) as EventView[];
    say(
      `short absence of ${secondary}: ${absentS.toFixed(1)} s; acknowledged during it ${atHeal - atCut}, longest pause between acknowledgements ${(gaps.longestMs() / 1000).toFixed(1)} s; ` +
        `resynced ${resyncBytes} bytes (${resync ? 'replica.resync event' : 'out of sync seen on the Primary'}) of ${hashes.bytes}; ${acked.length} acknowledged in all`,
    );

    expect(gone.role).toBe('Secondary');
    // Still the same two replicas at the same epoch: the absence cost no re-replication.
    expect(ready.primary).toBe(primary);
    expect(ready.epoch).toBe(v.epoch);
    expect(ready.replicas.map((r) => r.node).sort()).toEqual([primary, secondary].sort());
    expect(
      events.filter((e) => ['replica.placing', 'replica.outdated', 'replica.cleaned-up'].includes(e.type)),
    ).toEqual([]);
    expect(nodeEvents.some((e) => e.id > since && e.type === 'node.offline' && e.node === secondary)).toBe(
      false,
    );
    expect(resyncBytes).toBeLessThan(hashes.bytes / 8);
    expect(acked.length).toBeGreaterThan(atHeal + 10);
    const { lost } = await countLost(c.runner(primary), '/mnt/lt2/records', acked);
    expect(lost).toBe(0);
    // Every acknowledged write, those of the absence included, is on the returned node.
    expect(hashes.secondary).toBe(hashes.primary);
  }, 900_000);

  it('xlss node drain moves the Primary and the replica off the node; writes go on and none is lost', async () => {
    // The Primary on a node holding nothing else, so the drain moves this volume only.
    const empty = (await nodes()).find((n) => n.volumes === 0 && !n.draining)?.name;
    expect(empty, 'a node with no volume').toBeDefined();
    const { v, primary, secondary } = await makeVolume('lt3', ['--on', empty as string]);
    expect(primary).toBe(empty);
    await c.sh(primary, 'touch /mnt/lt3/records && sync');
    // One writer per replica node, numbered apart: each writes only while the volume is
    // mounted on its node, so the records follow the Primary.
    const onPrimary = await startFollowWriter(c.runner(primary), '/mnt/lt3', 'records', 0);
    const onSecondary = await startFollowWriter(c.runner(secondary), '/mnt/lt3', 'records', 5000);
    await acks(onPrimary, 20, '20 acknowledged writes on the Primary');
    expect(onSecondary.acked).toEqual([]);
    const gaps = watchAckGaps(() => onPrimary.acked.length + onSecondary.acked.length);
    const since = await lastEventId();

    const startedAt = Date.now();
    const drained = await c.xlss(['node', 'drain', primary, '--wait', '--timeout', '10m'], {
      timeoutMs: 660_000,
    });
    const drainS = (Date.now() - startedAt) / 1000;
    expect(drained.exitCode, drained.stderr).toBe(0);
    await acks(onSecondary, 10, `writes acknowledged on ${secondary} after the drain`);
    const ready = await waitHealthy('lt3');
    gaps.stop();
    await onPrimary.stop();
    await onSecondary.stop();
    const acked = [...onPrimary.acked, ...onSecondary.acked].sort((a, b) => a - b);
    const { lost } = await countLost(c.runner(secondary), '/mnt/lt3/records', acked);
    const third = ready.replicas.map((r) => r.node).find((n) => n !== secondary) as string;
    const events = await eventsOf('lt3', since);
    for (const e of events) say(`  lt3 ${e.at} ${e.type} ${e.node ?? '-'} ${e.message}`);
    const node = JSON.parse(await c.xlssOk(['node', 'show', primary, '--output', 'json'])) as NodeView;
    say(
      `drain of ${primary}: ${drainS.toFixed(1)} s; Primary now ${ready.primary}, new replica ${third}; acknowledged ${onPrimary.acked.length} on ${primary} + ${onSecondary.acked.length} on ${secondary}, lost ${lost}; longest pause ${(gaps.longestMs() / 1000).toFixed(1)} s`,
    );

    expect(ready.primary).toBe(secondary);
    expect(ready.epoch).toBeGreaterThan(v.epoch);
    expect(third).not.toBe(primary);
    expect(ready.replicas.map((r) => r.node)).not.toContain(primary);
    expect(node.draining).toBe(true);
    expect(node.volumes).toBe(0);
    expect(lost).toBe(0);
    const types = events.map((e) => e.type);
    for (const t of [
      'failover.planned',
      'failover.promoted',
      'replica.placing',
      'replica.added',
      'node.drain-progress',
    ])
      expect(types, t).toContain(t);
    expect(events.find((e) => e.type === 'failover.promoted')?.node).toBe(secondary);
    expect(events.find((e) => e.type === 'replica.added')?.node).toBe(third);
    expect(types).not.toContain('node.drain-failed');
    // The drained node gives its copy up once the new replica is in.
    await waitFor(
      `lt3 gone from ${primary}`,
      async () => !/\blt3\b/.test(await c.sh(primary, 'lvs --noheadings -o lv_name xlss')),
      180_000,
      2000,
    );
  }, 900_000);

  it('both replicas lost: the controller restores the newest backup onto a healthy node and says so', async () => {
    const { primary, secondary } = await makeVolume('lt4', [
      '--backup-every',
      '1h',
      '--backup-target',
      '/srv/xlss-backups',
    ]);
    await c.sh(primary, 'head -c 4194304 /dev/urandom > /mnt/lt4/data && sync');
    const sha = (await c.sh(primary, 'sha256sum /mnt/lt4/data')).split(' ')[0];
    const backedUp = await c.xlss(['backup', 'run', 'lt4', '--timeout', '5m'], { timeoutMs: 360_000 });
    expect(backedUp.exitCode, backedUp.stderr).toBe(0);
    const backups = JSON.parse(
      await c.xlssOk(['backup', 'list', 'lt4', '--output', 'json']),
    ) as BackupManifest[];
    const newest = [...backups].sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
    expect(newest).toBeDefined();
    // Written after the backup: the restored volume must not have it (it comes from the
    // backup, not from a replica).
    await c.sh(primary, 'echo after > /mnt/lt4/after-backup && sync');
    const since = await lastEventId();

    await c.crash(primary);
    await c.crash(secondary);
    const crashedAt = Date.now();
    const done = await waitFor(
      'restore.done',
      async () => (await eventsOf('lt4', since)).find((e) => e.type === 'restore.done'),
      420_000,
      2000,
    );
    const restoredS = (Date.now() - crashedAt) / 1000;
    const v = await show('lt4');
    const table = await c.xlssOk(['volume', 'show', 'lt4']);
    const events = await eventsOf('lt4', since);
    for (const e of events) say(`  lt4 ${e.at} ${e.type} ${e.node ?? '-'} ${e.message}`);
    const target = v.primary as string;
    say(
      `both replicas lost: restored backup ${newest?.id} onto ${target} ${restoredS.toFixed(1)} s after the crashes`,
    );

    expect([primary, secondary]).not.toContain(target);
    expect(done.node).toBe(target);
    expect(done.message).toContain(newest?.id as string);
    const types = events.map((e) => e.type);
    expect(types).toContain('volume.lost');
    expect(types.indexOf('restore.started')).toBeGreaterThan(types.indexOf('volume.lost'));
    expect(v.message ?? '').toMatch(/restored from backup/);
    expect(table).toMatch(/restored from backup/);
    const restoredSha = await waitFor(
      `lt4 mounted on ${target}`,
      async () => {
        const out = await c.sh(
          target,
          'grep -q " /mnt/lt4 " /proc/mounts && sha256sum /mnt/lt4/data || true',
        );
        return out.trim() ? out.split(' ')[0] : undefined;
      },
      120_000,
      1000,
    );
    expect(restoredSha).toBe(sha);
    expect((await c.sh(target, 'test -e /mnt/lt4/after-backup && echo present || echo absent')).trim()).toBe(
      'absent',
    );
  }, 900_000);
});
