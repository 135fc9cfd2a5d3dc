import { describe, expect, it } from 'vitest';
import { HealthMonitor, healthOf } from './health.js';
import { FakeCluster } from './testing/fake-daemon.js';

describe('healthOf', () => {
  it.each([
    { lastOkAt: null, missedPolls: 0, now: 0, want: 'unknown' },
    { lastOkAt: 100, missedPolls: 0, now: 100, want: 'online' },
    { lastOkAt: 100, missedPolls: 1, now: 1100, want: 'suspect' },
    { lastOkAt: 100, missedPolls: 3, now: 5099, want: 'suspect' },
    { lastOkAt: 100, missedPolls: 5, now: 5100, want: 'offline' },
    { lastOkAt: null, missedPolls: 5, now: 5000, want: 'offline' },
  ] as const)('$lastOkAt/$missedPolls at $now → $want', ({ lastOkAt, missedPolls, now, want }) => {
    expect(healthOf({ lastOkAt, missedPolls }, 0, now, 5000)).toBe(want);
  });
});

describe('HealthMonitor', () => {
  it('keeps the last view of a node, marks it suspect then offline, and online again after one good poll', async () => {
    const cluster = new FakeCluster().addNode('n1');
    let now = 0;
    const monitor = new HealthMonitor({ heartbeatIntervalMs: 1000, nodeTimeoutMs: 3000, now: () => now });
    const client = cluster.client('n1');
    await client.putVolume('v1', {
      sizeBytes: 1 << 30,
      thin: true,
      peer: null,
      drbd: { minor: 1, port: 7800, secret: 'aaaaaaaaaaaaaaaaaaaa' },
      role: 'primary',
      epoch: 1,
      filesystem: null,
      mountPoint: null,
      backup: null,
    });
    expect((await monitor.poll(client)).health).toBe('online');
    expect(monitor.get('n1')?.volumes.get('v1')?.observed.drbd?.role).toBe('Primary');
    expect(monitor.get('n1')?.facts?.vg.freeBytes).toBe(100 * 1024 ** 3 - (1 << 30));
    await cluster.crash('n1');
    now = 1000;
    expect((await monitor.poll(client)).health).toBe('suspect');
    now = 3000;
    expect((await monitor.poll(client)).health).toBe('offline');
    expect(monitor.get('n1')?.volumes.has('v1')).toBe(true);
    await cluster.restart('n1');
    now = 4000;
    expect((await monitor.poll(client)).health).toBe('online');
  });

  it('waits half the node timeout for a slow daemon, not just one heartbeat', async () => {
    const cluster = new FakeCluster().addNode('n1');
    const fast = cluster.client('n1');
    // A daemon in a lab guest under emulation: every answer takes 800 ms.
    const slow = new Proxy(fast, {
      get(target, key, receiver) {
        const v = Reflect.get(target, key, receiver);
        if (key !== 'nodeInfo' && key !== 'listVolumes') return v;
        return async (signal?: AbortSignal) => {
          await new Promise((r) => setTimeout(r, 800));
          if (signal?.aborted) throw new Error('aborted');
          return (v as (s?: AbortSignal) => Promise<unknown>).call(target, signal);
        };
      },
    });
    const monitor = new HealthMonitor({ heartbeatIntervalMs: 500, nodeTimeoutMs: 3000, now: () => 0 });
    expect((await monitor.poll(slow)).health).toBe('online');
    const impatient = new HealthMonitor({ heartbeatIntervalMs: 500, nodeTimeoutMs: 1000, now: () => 0 });
    expect((await impatient.poll(slow)).missedPolls).toBe(1);
  });
});
