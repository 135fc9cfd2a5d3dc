import { describe, expect, it } from 'vitest';
import { inProject } from '../../common/paths.js';
import type { VolumeSpec, VolumeStatus } from '../../daemon/api/schemas.js';
import { useLab } from './helpers/lab.js';

// The volume engine for real in two guests (DRBD 8.4, LVM thin), each engine started by
// test/lab/helpers/engine-run.js inside its guest; nothing but the engine changes LVM
// or DRBD from here on.
const { lab, sh } = useLab('dc-engine', { nodes: 2, disk: '1GiB' });
const NODES = ['node1', 'node2'] as const;
type Node = (typeof NODES)[number];
const MiB = 1024 * 1024;
const RUN = inProject('dist', 'test', 'lab', 'helpers', 'engine-run.js');
const other = (n: Node): Node => (n === 'node1' ? 'node2' : 'node1');
const say = (s: string) => process.stderr.write(`[lab dc-engine] ${s}\n`);

function ip(n: string): string {
  const node = lab()
    .state()
    .nodes.find((x) => x.name === n);
  if (!node) throw new Error(`no ${n}`);
  return node.ip;
}

function spec(n: Node, minor: number, overrides: Partial<VolumeSpec> = {}): VolumeSpec {
  return {
    sizeBytes: 128 * MiB,
    thin: true,
    peer: { node: other(n), address: ip(other(n)) },
    drbd: { minor, port: 7800 + minor, secret: 'bGFiLXNlY3JldC0wMDAx' },
    role: n === 'node1' ? 'primary' : 'secondary',
    epoch: 1,
    filesystem: 'ext4',
    mountPoint: `/mnt/vol${minor}`,
    backup: null,
    ...overrides,
  };
}

interface RunOut {
  reached: boolean;
  results: Record<string, string>;
  statuses: VolumeStatus[];
  commands: string[];
  fatal?: string;
}

function runArgs(n: Node, ops: unknown[], until: Record<string, string>, extra: object = {}): string {
  return JSON.stringify({ node: n, address: ip(n), ops, until, timeoutS: 150, ...extra });
}

/** One engine run in a guest: start, operate, reconcile until `until`, stop. */
async function engineRun(n: Node, ops: unknown[], until: Record<string, string>): Promise<RunOut> {
  const t0 = performance.now();
  const out = await sh(n, `node ${RUN} '${runArgs(n, ops, until)}' 2>>/var/lib/xlss/engine.log; true`);
  const line = out.split('\n').find((l) => l.startsWith('engine-run: '));
  if (!line) throw new Error(`${n}: engine-run printed no result: ${out.slice(-500)}`);
  const r = JSON.parse(line.slice('engine-run: '.length)) as RunOut;
  say(
    `${n}: ${JSON.stringify(ops.map((o) => (o as { op: string }).op))} → ${JSON.stringify(r.statuses?.map((s) => [s.name, s.state, s.error]))} in ${((performance.now() - t0) / 1000).toFixed(1)} s; results ${JSON.stringify(r.results)}`,
  );
  if (!r.reached) {
    const logTail = await sh(n, 'tail -n 30 /var/lib/xlss/engine.log');
    throw new Error(`${n}: not converged: ${JSON.stringify(r).slice(0, 2000)}\n${logTail}`);
  }
  return r;
}

const statusOf = (r: RunOut, name: string) => r.statuses.find((s) => s.name === name);

describe('daemon volume engine on real LVM + DRBD 8.4', () => {
  it('sets up the VG and thin pool; the LVM filter keeps DRBD and xlss LVs out of scans', async () => {
    await Promise.all(
      NODES.map((n) =>
        sh(
          n,
          'pvcreate -q /dev/disk/by-id/virtio-xlss-data && vgcreate -q xlss /dev/disk/by-id/virtio-xlss-data && lvcreate -q -y --type thin-pool -L 600m -n pool xlss',
        ),
      ),
    );
    const filter = await sh('node1', 'lvmconfig devices/global_filter');
    say(`lvm filter: ${filter.trim()}`);
    expect(filter).toContain('r|^/dev/drbd|');
    expect(filter).toContain('r|^/dev/mapper/xlss-|');
  }, 120_000);

  it('provisions a replicated thin volume on both nodes: both UpToDate without an initial sync, node1 Primary with ext4 mounted', async () => {
    const t0 = performance.now();
    const [r1, r2] = await Promise.all(
      NODES.map((n) => engineRun(n, [{ op: 'put', name: 'vol1', spec: spec(n, 1) }], { vol1: 'ready' })),
    );
    say(
      `provisioned vol1 in ${((performance.now() - t0) / 1000).toFixed(1)} s (both engines incl. start-up)`,
    );
    say(`node1 commands: ${r1?.commands.join(' ')}`);
    expect(statusOf(r1 as RunOut, 'vol1')?.observed).toMatchObject({
      drbd: { role: 'Primary', disk: 'UpToDate', peerDisk: 'UpToDate', connection: 'Connected' },
      mount: { path: '/mnt/vol1', fstype: 'ext4' },
    });
    expect(statusOf(r2 as RunOut, 'vol1')?.observed).toMatchObject({
      drbd: { role: 'Secondary', disk: 'UpToDate' },
      mount: null,
    });
    // No initial sync: DRBD never started a resync for vol1 on either node.
    for (const n of NODES) {
      const resyncs = await sh(n, "dmesg | grep -E 'vol1.*(Began resync|Resync done)' || true");
      expect(resyncs.trim()).toBe('');
    }
    const md5 = await sh(
      'node1',
      'head -c 4194304 /dev/urandom > /mnt/vol1/data && sync && md5sum < /mnt/vol1/data',
    );
    expect(md5).toMatch(/^[0-9a-f]{32}/);
    await sh('node1', `echo ${md5.split(' ')[0]} > /tmp/vol1.md5`);
  }, 400_000);

  it('kill -9 of the engine mid-provision: a restart converges with no orphan LV, no duplicate resource, no half-written config', async () => {
    // Long-lived engines in the background, killed once the LV exists on node1.
    await Promise.all(
      NODES.map((n) =>
        sh(
          n,
          `setsid nohup node ${RUN} '${runArgs(n, [{ op: 'put', name: 'vol2', spec: spec(n, 2) }], { vol2: 'ready' }, { hold: true })}' >/tmp/bg.out 2>>/var/lib/xlss/engine.log & echo $! > /tmp/engine.pid`,
        ),
      ),
    );
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      if ((await sh('node1', 'lvs --noheadings -o lv_name xlss/vol2 2>/dev/null || true')).trim() === 'vol2')
        break;
      await new Promise((r) => setTimeout(r, 300));
    }
    await Promise.all(
      NODES.map((n) =>
        sh(n, 'kill -9 $(cat /tmp/engine.pid); sleep 0.2; ps -o pid= -p $(cat /tmp/engine.pid) || true'),
      ),
    );
    const before = await sh(
      'node1',
      'lvs --noheadings -o lv_name xlss; drbdsetup status vol2 2>&1 | head -1; ls -a /etc/drbd.d',
    );
    say(`killed both engines mid-provision; node1 then had: ${before.replace(/\s+/g, ' ')}`);
    const [r1] = await Promise.all(
      NODES.map((n) => engineRun(n, [{ op: 'put', name: 'vol2', spec: spec(n, 2) }], { vol2: 'ready' })),
    );
    expect(statusOf(r1 as RunOut, 'vol2')?.observed.drbd).toMatchObject({
      role: 'Primary',
      disk: 'UpToDate',
      peerDisk: 'UpToDate',
    });
    for (const n of NODES) {
      const lvs = (await sh(n, 'lvs --noheadings -o lv_name xlss'))
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
        .sort();
      expect(lvs).toEqual(['pool', 'vol1', 'vol2']);
      expect((await sh(n, 'drbdsetup status | grep -c "^vol2 "')).trim()).toBe('1');
      expect((await sh(n, 'ls -a /etc/drbd.d')).split(/\s+/).filter((f) => f.startsWith('.xlss'))).toEqual(
        [],
      );
      await sh(n, 'drbdadm -c /var/lib/xlss/drbd/vol2.conf dump vol2 >/dev/null');
    }
  }, 500_000);

  it('resizes online: LV, DRBD, then ext4 grow on the Primary with the data intact', async () => {
    const [r1] = await Promise.all(
      NODES.map((n) =>
        engineRun(n, [{ op: 'resize', name: 'vol1', sizeBytes: 256 * MiB }], { vol1: 'ready' }),
      ),
    );
    expect(statusOf(r1 as RunOut, 'vol1')?.observed.lv?.sizeBytes).toBe(256 * MiB);
    const df = await sh('node1', 'df -B1 --output=size /mnt/vol1 | tail -1');
    say(`ext4 size after resize: ${df.trim()} bytes`);
    expect(Number(df.trim())).toBeGreaterThan(200 * MiB);
    const md5 = await sh('node1', 'md5sum < /mnt/vol1/data');
    expect(md5.split(' ')[0]).toBe((await sh('node1', 'cat /tmp/vol1.md5')).trim());
  }, 400_000);

  it('delete refuses a mounted Primary without force, then leaves nothing behind', async () => {
    const refused = await engineRun('node1', [{ op: 'delete', name: 'vol1', force: false }], {
      vol1: 'ready',
    });
    expect(refused.results['delete vol1']).toMatch(/^ECONFLICT: .*mounted/);
    // The Primary side first (unmount, secondary, down), then the other.
    await engineRun(
      'node1',
      [
        { op: 'delete', name: 'vol1', force: true },
        { op: 'delete', name: 'vol2', force: true },
      ],
      { vol1: 'gone', vol2: 'gone' },
    );
    await engineRun(
      'node2',
      [
        { op: 'delete', name: 'vol1', force: false },
        { op: 'delete', name: 'vol2', force: false },
      ],
      { vol1: 'gone', vol2: 'gone' },
    );
    for (const n of NODES) {
      const left = await sh(
        n,
        'lvs --noheadings -o lv_name xlss; drbdsetup status; ls -a /etc/drbd.d /var/lib/xlss/volumes; grep -c drbd /proc/mounts || true',
      );
      say(`${n} after delete: ${left.replace(/\s+/g, ' ')}`);
      expect(left).not.toMatch(/vol1|vol2/);
    }
  }, 600_000);
});
