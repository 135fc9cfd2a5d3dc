import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DrbdParseError } from './fields.js';
import { parseStatus } from './status.js';
import { FIXTURES } from './testing.js';

const fx = (p: string) => readFileSync(`${FIXTURES}status/${p}`, 'utf8');

describe('parseStatus', () => {
  it('parses DRBD 9 verbose statistics while syncing', () => {
    expect(parseStatus(fx('9-syncing.txt'))).toEqual([
      {
        name: 'vol1',
        role: 'Primary',
        suspended: 'no',
        devices: {
          0: {
            volume: 0,
            minor: 10,
            disk: 'UpToDate',
            quorum: true,
            backingDev: '/dev/xlss/vol1',
            sizeKiB: 1048576,
          },
        },
        connections: {
          '1': {
            connName: 'node2',
            peerNodeId: 1,
            connection: 'Connected',
            peerRole: 'Secondary',
            peerDevices: {
              0: {
                volume: 0,
                replication: 'SyncSource',
                peerDisk: 'Inconsistent',
                resyncDonePercent: 37.21,
                resyncSuspended: 'no',
                outOfSyncKiB: 658432,
              },
            },
          },
        },
      },
    ]);
  });

  it('parses the 8.4 layout', () => {
    const [r] = parseStatus(fx('8.4-connected.txt'));
    expect(r?.role).toBe('Secondary');
    expect(r?.devices[0]?.disk).toBe('UpToDate');
    expect(r?.connections['name:peer']).toMatchObject({ connection: 'Connected', peerRole: 'Primary' });
    expect(r?.connections['name:peer']?.peerDevices[0]).toMatchObject({
      replication: 'Established',
      outOfSyncKiB: 0,
    });
  });

  it.each([
    ['unknown role', 'r0 role:Boss suspended:no\n'],
    ['unknown disk', 'r0 role:Primary\n  volume:0 minor:0 disk:Shiny\n'],
    ['truncated field', 'r0 role:Primary\n  volume:0 minor:0 disk:\n'],
    [
      'peer device cut short',
      'r0 role:Primary\n  peer connection:Connected role:Secondary\n    volume:0 replication:Established\n',
    ],
    ['indented first line', '  volume:0 disk:UpToDate\n'],
  ])('rejects %s', (_w, text) => {
    expect(() => parseStatus(text)).toThrow(DrbdParseError);
  });
});
