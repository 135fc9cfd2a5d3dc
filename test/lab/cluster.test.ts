import { describe, expect, it } from 'vitest';
import type { NodeView, VolumeView } from '../../controller/api/schemas.js';
import { useCluster, waitFor } from './helpers/cluster.js';

// `xlss lab up` makes a cluster: a daemon in every guest, the controller on the host side,
// every node registered. Proven end to end through the real CLI binary and checked on the
// guests themselves (drbdadm, /proc/drbd, mount, lvs), not only through the controller.
const c = useCluster('cl-cluster', { nodes: 3 });

const MiB = 1024 * 1024;

async function drbdRole(node: string, volume: string): Promise<string> {
  return (await c.sh(node, `drbdadm role ${volume} 2>&1 || true`)).trim();
}

describe('the lab as a cluster', () => {
  it('has three daemons online at the controller, as xlss node list shows', async () => {
    // Up returned once all were online; under heavy host load a poll may be missed since.
    const nodes = await waitFor(
      'three nodes online',
      async () => {
        const list = JSON.parse(await c.xlssOk(['node', 'list', '--output', 'json'])) as NodeView[];
        return list.every((n) => n.health === 'online') ? list : undefined;
      },
      30_000,
    );
    expect(nodes.map((n) => [n.name, n.health])).toEqual([
      ['node1', 'online'],
      ['node2', 'online'],
      ['node3', 'online'],
    ]);
    // The facts come from the daemons: each node's thin pool/VG on its 1 GiB data disk.
    for (const n of nodes) expect(n.capacityBytes).toBeGreaterThan(500 * MiB);
    const table = await c.xlssOk(['node', 'list']);
    expect(table).toMatch(/^NAME\s+HEALTH/);
    for (const n of ['node1', 'node2', 'node3'])
      expect(table).toMatch(new RegExp(`^${n}\\s+(online|suspect)`, 'm'));
    // The lab's status shows the same health and the controller service.
    const status = await c.lab().status();
    expect(status.map((s) => s.daemon)).toEqual([
      expect.stringMatching(/online|suspect/),
      expect.stringMatching(/online|suspect/),
      expect.stringMatching(/online|suspect/),
    ]);
    expect(
      c
        .lab()
        .services()
        .find((s) => s.name === 'controller')?.running,
    ).toBe(true);
  });

  it('creates a replicated ext4 volume: one Primary with it mounted, one UpToDate Secondary', async () => {
    // Placement takes online nodes only; on a loaded host a node may have missed a poll.
    await waitFor(
      'every node online before placing',
      async () => (await c.controller().listNodes()).every((n) => n.health === 'online'),
      60_000,
    );
    const created = await c.xlss(
      ['volume', 'create', 'v1', '--size', '256MiB', '--fs', 'ext4', '--mount', '/mnt/v1'],
      { timeoutMs: 240_000 },
    );
    expect(created.exitCode, created.stderr).toBe(0);
    const v = await waitFor(
      'v1 ready with an UpToDate Secondary',
      async () => {
        const view = JSON.parse(await c.xlssOk(['volume', 'show', 'v1', '--output', 'json'])) as VolumeView;
        const ok =
          view.phase === 'ready' &&
          view.primary !== null &&
          view.replicas.length === 2 &&
          view.replicas.every((r) => r.disk === 'UpToDate');
        return ok ? view : undefined;
      },
      120_000,
    );
    expect(v.sizeBytes).toBeGreaterThanOrEqual(256 * MiB);
    expect(v.filesystem).toBe('ext4');
    expect(v.mountPoint).toBe('/mnt/v1');
    const primary = v.primary as string;
    const secondary = v.replicas.map((r) => r.node).find((n) => n !== primary) as string;
    expect(secondary).toBeDefined();
    expect(v.schedulingHint[0]).toBe(primary);

    // On the guests themselves.
    expect(await drbdRole(primary, 'v1')).toMatch(/^Primary/);
    expect(await drbdRole(secondary, 'v1')).toMatch(/^Secondary/);
    expect(await c.sh(secondary, 'cat /proc/drbd')).toMatch(/ds:UpToDate\/UpToDate/);
    expect(await c.sh(primary, 'grep " /mnt/v1 " /proc/mounts')).toMatch(/^\/dev\/drbd\d+ \/mnt\/v1 ext4 /);
    const third = ['node1', 'node2', 'node3'].find((n) => n !== primary && n !== secondary) as string;
    expect(await c.sh(third, 'lvs --noheadings -o lv_name xlss')).not.toMatch(/v1/);

    // Data written on the Primary, through the filesystem, reaches the disk.
    await c.sh(primary, 'echo cluster-data > /mnt/v1/hello && sync');
    expect((await c.sh(primary, 'cat /mnt/v1/hello')).trim()).toBe('cluster-data');
  }, 600_000);

  it('deletes the volume: no LV and no DRBD resource left on either node', async () => {
    const v = JSON.parse(await c.xlssOk(['volume', 'show', 'v1', '--output', 'json'])) as VolumeView;
    const nodes = v.replicas.map((r) => r.node);
    const del = await c.xlss(['volume', 'delete', 'v1', '--yes'], { timeoutMs: 240_000 });
    expect(del.exitCode, del.stderr).toBe(0);
    await waitFor(
      'v1 gone from the controller',
      async () => (await c.xlss(['volume', 'show', 'v1'])).exitCode === 3,
      // Deletes run in the background; the engine's lab test saw 135-207 s under load.
      360_000,
      2_000,
    );
    for (const n of nodes) {
      await waitFor(
        `v1 gone from ${n}`,
        async () => {
          const lvs = await c.sh(n, 'lvs --noheadings -o lv_name xlss');
          const drbd = await c.sh(n, 'drbdsetup status v1 2>&1 || true');
          return !/\bv1\b/.test(lvs) && /No such resource|not defined|unknown resource/i.test(drbd);
        },
        90_000,
      );
      expect(await c.sh(n, 'grep -c " /mnt/v1 " /proc/mounts || true')).toMatch(/^0/);
    }
  }, 900_000);
});
