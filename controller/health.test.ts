import { describe, expect, it } from 'vitest';
import { HealthMonitor, healthOf } from './health.js';
import { FakeCluster } from './testing/fake-daemon.js';

/** One side of a 1 GiB thin pair with `peer` at `address`, no filesystem. */
const pairSpec = (role: 'primary' | 'secondary', peer: string, address: string) => ({
  sizeBytes: 1 << 30,
  thin: true,
  peer: { node: peer, address },
  drbd: { minor: 1, port: 7800, secret: 'aaaaaaaaaaaaaaaaaaaa' },
  role,
  epoch: 1,
  filesystem: null,
  mountPoint: null,
  backup: null,
});

describe('healthOf', () => {
  it.each([
    { lastOkAt: null, missedPolls: 0, now: 0, want: 'unknown' },
    { lastOkAt: 100, missedPolls: 0, now: 100, want: 'online' },
    { lastOkAt: 100, missedPolls: 1, now: 1100, want: 'online' },
    { lastOkAt: 100, missedPolls: 2, now: 2100, want: 'suspect' },
    { lastOkAt: 100, missedPolls: 3, now: 5099, want: 'suspect' },
    { lastOkAt: 100, missedPolls: 5, now: 5100, want: 'offline' },
    { lastOkAt: null, missedPolls: 5, now: 5000, want: 'offline' },
  ] as const)('$lastOkAt/$missedPolls at $now → $want', ({ lastOkAt, missedPolls, now, want }) => {
    expect(healthOf({ lastOkAt, missedPolls }, 0, now, 5000)).toBe(want);
  });
});

describe('HealthMonitor', () => {
  it('keeps the last view of a node, marks it suspect then offline, and online again after one good poll', async () => {
    const cluster = new FakeCluster().addNode('n1').addNode('n2');
    let now = 0;
    const monitor = new HealthMonitor({ heartbeatIntervalMs: 1000, nodeTimeoutMs: 3000, now: () => now });
    const client = cluster.client('n1');
    // A DRBD 8.4 volume needs its pair: the Secondary on n2 first, as the controller does.
    const spec = (role: 'primary' | 'secondary', peer: string) =>
      pairSpec(role, peer, cluster.nodes.get(peer)?.address ?? '');
    await cluster.client('n2').putVolume('v1', spec('secondary', 'n1'));
    await client.putVolume('v1', spec('primary', 'n2'));
    expect((await monitor.poll(client)).health).toBe('online');
    expect(monitor.get('n1')?.volumes.get('v1')?.observed.drbd?.role).toBe('Primary');
    // Facts are a separate, less frequent request; the first good poll waits for them.
    expect(monitor.factsDue('n1')).toBe(false);
    now = 5000;
    expect(monitor.factsDue('n1')).toBe(true);
    now = 0;
    expect(monitor.get('n1')?.facts?.vg.freeBytes).toBe(100 * 1024 ** 3 - (1 << 30));
    await cluster.crash('n1');
    now = 1000;
    expect((await monitor.poll(client)).health).toBe('online'); // one late answer is forgiven
    now = 2000;
    expect((await monitor.poll(client)).health).toBe('suspect');
    now = 3000;
    expect((await monitor.poll(client)).health).toBe('offline');
    expect(monitor.get('n1')?.volumes.has('v1')).toBe(true);
    await cluster.restart('n1');
    now = 4000;
    expect((await monitor.poll(client)).health).toBe('online');
  });

  it('waits the poll timeout for a slow daemon, and counts a poll that runs over it as missed', async () => {
    const cluster = new FakeCluster().addNode('n1');
    const fast = cluster.client('n1');
    // A daemon in a lab guest under emulation: every answer takes 300 ms.
    const slow = new Proxy(fast, {
      get(target, key, receiver) {
        const v = Reflect.get(target, key, receiver);
        if (key !== 'nodeInfo' && key !== 'listVolumes') return v;
        return async (signal?: AbortSignal) => {
          await new Promise((r) => setTimeout(r, 300));
          if (signal?.aborted) throw new Error('aborted');
          return (v as (s?: AbortSignal) => Promise<unknown>).call(target, signal);
        };
      },
    });
    const patient = new HealthMonitor({
      heartbeatIntervalMs: 200,
      nodeTimeoutMs: 3000,
      pollTimeoutMs: 600,
      now: () => 0,
    });
    expect((await patient.poll(slow)).health).toBe('online');
    const impatient = new HealthMonitor({ heartbeatIntervalMs: 200, nodeTimeoutMs: 3000, now: () => 0 });
    const o = await impatient.poll(slow);
    expect(o.missedPolls).toBe(1);
    // The next poll waits longer (160 → 320 ms): a slow node answers and is online again.
    expect(impatient.deadlineFor(1)).toBe(320);
    expect((await impatient.poll(slow)).missedPolls).toBe(0);
    expect(impatient.deadlineFor(10)).toBe(1500); // never past half the node timeout
    // Facts have their own deadline (the node timeout): a slow answer still arrives.
    expect(await impatient.refreshFacts(slow)).toBe(true);
    expect(impatient.get('n1')?.facts).not.toBeNull();
  });
});

describe('HealthMonitor: lost DRBD connections', () => {
  it('records when a connection seen up is lost, not a connection never up', async () => {
    const cluster = new FakeCluster().addNode('n1').addNode('n2');
    let now = 0;
    const monitor = new HealthMonitor({ heartbeatIntervalMs: 1000, nodeTimeoutMs: 5000, now: () => now });
    const spec = (peer: string, role: 'primary' | 'secondary') =>
      pairSpec(role, peer, `10.0.0.${peer === 'n1' ? 1 : 2}`);
    const n2 = cluster.client('n2');
    // Only n2 has the volume yet: its connection was never up.
    await n2.putVolume('v1', spec('n1', 'secondary'));
    await monitor.poll(n2);
    expect(monitor.get('n2')?.volumes.get('v1')?.observed.drbd?.connection).not.toBe('Connected');
    expect(monitor.get('n2')?.connectionLostAt.has('v1')).toBe(false);
    await cluster.client('n1').putVolume('v1', spec('n2', 'primary'));
    now = 1000;
    await monitor.poll(n2);
    expect(monitor.get('n2')?.volumes.get('v1')?.observed.drbd?.connection).toBe('Connected');
    await cluster.crash('n1');
    now = 2000;
    await monitor.poll(n2);
    expect(monitor.get('n2')?.connectionLostAt.get('v1')).toBe(2000);
    now = 3000;
    await monitor.poll(n2);
    expect(monitor.get('n2')?.connectionLostAt.get('v1')).toBe(2000); // the first poll that saw it
    await cluster.restart('n1');
    now = 4000;
    await monitor.poll(n2);
    expect(monitor.get('n2')?.connectionLostAt.has('v1')).toBe(false);
  });
});
