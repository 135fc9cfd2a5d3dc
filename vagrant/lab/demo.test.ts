import { describe, expect, it } from 'vitest';
import { demoLine } from './demo.js';
import { timelineLines, upToDateReplicaOtherThan } from './failover-scenario.js';

describe('demoLine', () => {
  it('is the one line scripts read', () => {
    expect(
      demoLine({ failoverS: 3.14, acknowledged: 40, acknowledgedLost: 0, redundancyRestored: true }),
    ).toBe('xlss demo: ok failover_s=3.1 acknowledged_lost=0 redundancy_restored=yes');
    expect(
      demoLine({ failoverS: 12, acknowledged: 40, acknowledgedLost: 2, redundancyRestored: false }),
    ).toBe('xlss demo: ok failover_s=12.0 acknowledged_lost=2 redundancy_restored=no');
  });
});

describe('failover scenario helpers', () => {
  it('puts events on a timeline relative to the crash', () => {
    const lines = timelineLines(
      [
        {
          id: 7,
          at: '2026-01-01T00:00:04.250Z',
          type: 'failover.promoted',
          volume: 'demo',
          node: 'node2',
          message: 'Primary at epoch 2',
        },
      ],
      Date.parse('2026-01-01T00:00:01.000Z'),
    );
    expect(lines).toEqual(['+  3.3 s  failover.promoted          node2  Primary at epoch 2']);
  });

  it('counts only a third replica that is UpToDate and connected', () => {
    const r = (node: string, disk: string, connection: string) => ({
      node,
      role: 'Secondary',
      disk,
      connection,
      outOfSyncBytes: 0,
      syncPercent: null,
      outdated: false,
    });
    const v = { replicas: [r('node2', 'UpToDate', 'Connected'), r('node3', 'Inconsistent', 'Connected')] };
    expect(upToDateReplicaOtherThan(v as never, ['node1', 'node2'])).toBeUndefined();
    v.replicas[1] = r('node3', 'UpToDate', 'Connected');
    expect(upToDateReplicaOtherThan(v as never, ['node1', 'node2'])).toBe('node3');
  });
});
