import { describe, expect, it } from 'vitest';
import type { BackupManifest } from '../../controller/api/schemas.js';
import { useCluster, waitFor } from './helpers/cluster.js';
import { labControllerEnv, STORY_NODE_TIMEOUT, storyCli } from './helpers/story-cli.js';

// Both replicas of a volume lost, with a backup policy: the controller restores the
// newest backup onto a new pair of healthy nodes by itself (DRBD 8.4 needs two), the
// Secondary getting every restored block through DRBD. Five nodes: it does so only while it sees
// a majority of the cluster (it cannot tell two dead nodes from its own isolation from
// them, and a restore beside a live Primary would make two), so in a 3- or 4-node
// cluster losing both replica nodes leaves it holding, as it should.
labControllerEnv({ XLSS_CONTROLLER_NODE_TIMEOUT: STORY_NODE_TIMEOUT });
const c = useCluster('lt-restore', { nodes: 5, disk: '1GiB' });
const { show, eventsOf, lastEventId, makeVolume } = storyCli(c);
const say = (line: string) => process.stderr.write(`[lt-restore] ${line}\n`);

describe('restore from backup when both replicas are gone', () => {
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

    // A replicated volume, not a lone copy: the other new node is its connected, UpToDate
    // Secondary (the controller's view and DRBD's own), holding the same blocks.
    const peer = v.replicas.map((r) => r.node).find((n) => n !== target && ![primary, secondary].includes(n));
    expect(peer, JSON.stringify(v.replicas)).toBeDefined();
    const pair = await waitFor(
      `lt4's Secondary on ${peer} UpToDate and connected`,
      async () => {
        const now = await show('lt4');
        const r = now.replicas.find((x) => x.node === peer);
        return r?.role === 'Secondary' && r.disk === 'UpToDate' && r.connection === 'Connected'
          ? now
          : undefined;
      },
      120_000,
      1000,
    );
    expect(pair.primary).toBe(target);
    const drbd = await c.sh(peer as string, 'cat /proc/drbd');
    expect(drbd).toMatch(new RegExp(`${v.minor}: cs:Connected ro:Secondary/Primary ds:UpToDate/UpToDate`));
    const bytes = Number((await c.sh(target, `blockdev --getsize64 /dev/drbd${v.minor}`)).trim());
    // Direct reads (a block device's page cache can be stale beside DRBD's own I/O), with
    // the filesystem frozen so nothing writes between the two reads.
    const read = (dev: string) =>
      `dd if=${dev} bs=1M count=${bytes} iflag=direct,count_bytes status=none | sha256sum`;
    await c.sh(target, 'fsfreeze -f /mnt/lt4');
    let sums: string[];
    try {
      sums = [
        (await c.sh(target, read(`/dev/drbd${v.minor}`))).split(' ')[0] as string,
        (await c.sh(peer as string, read('/dev/xlss/lt4'))).split(' ')[0] as string,
      ];
    } finally {
      await c.sh(target, 'fsfreeze -u /mnt/lt4');
    }
    expect(sums[1]).toBe(sums[0]);
    say(`new pair ${target} (Primary) + ${peer} (Secondary, UpToDate): device sha256 ${sums[0]}`);
  }, 900_000);
});
