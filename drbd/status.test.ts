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

  it('parses real 8.4 status while syncing (done: wraps resync-suspended onto its own line)', () => {
    expect(parseStatus(fx('8.4-syncsource.txt'))).toEqual([
      {
        name: 'r0',
        role: 'Primary',
        suspended: 'no',
        devices: { 0: { volume: 0, minor: 0, disk: 'UpToDate', sizeKiB: 131032 } },
        connections: {
          'name:peer': {
            connName: 'peer',
            connection: 'Connected',
            peerRole: 'Secondary',
            peerDevices: {
              0: {
                volume: 0,
                replication: 'SyncSource',
                peerDisk: 'Inconsistent',
                resyncDonePercent: 18.76,
                resyncSuspended: 'no',
                outOfSyncKiB: 106456,
              },
            },
          },
        },
      },
    ]);
  });

  it.each([
    [
      '8.4-connected-secondary.txt',
      'Secondary',
      'UpToDate',
      'Connected',
      'Primary',
      'Established',
      'UpToDate',
      0,
    ],
    [
      '8.4-connected-inconsistent.txt',
      'Secondary',
      'Inconsistent',
      'Connected',
      'Secondary',
      'Established',
      'Inconsistent',
      131032,
    ],
    ['8.4-connecting.txt', 'Secondary', 'Inconsistent', 'Connecting', 'Unknown', 'Off', 'DUnknown', 131032],
    ['8.4-primary-peer-lost.txt', 'Primary', 'UpToDate', 'Connecting', 'Unknown', 'Off', 'DUnknown', 0],
    [
      '8.4-primary-peer-lost-oos.txt',
      'Primary',
      'UpToDate',
      'Connecting',
      'Unknown',
      'Off',
      'DUnknown',
      4096,
    ],
    [
      '8.4-diskless-primary.txt',
      'Primary',
      'Diskless',
      'Connected',
      'Secondary',
      'Established',
      'UpToDate',
      0,
    ],
  ])('parses real 8.4 status %s', (file, role, disk, connection, peerRole, replication, peerDisk, oos) => {
    const [r] = parseStatus(fx(file));
    expect(r).toMatchObject({ name: 'r0', role, suspended: 'no' });
    expect(r?.devices[0]).toMatchObject({ volume: 0, minor: 0, disk, sizeKiB: 131032 });
    expect(r?.connections['name:peer']).toMatchObject({ connName: 'peer', connection, peerRole });
    expect(r?.connections['name:peer']?.peerDevices[0]).toEqual({
      volume: 0,
      replication,
      peerDisk,
      resyncSuspended: 'no',
      outOfSyncKiB: oos,
    });
  });

  it('parses a real 8.4 StandAlone status: no connection lines at all', () => {
    const [r] = parseStatus(fx('8.4-standalone.txt'));
    expect(r?.connections).toEqual({});
    expect(r?.devices[0]?.disk).toBe('UpToDate');
  });

  it('rejects the non-verbose layout (no volume: on device lines) rather than misread it', () => {
    expect(() => parseStatus(fx('8.4-plain-not-verbose.txt'))).toThrow(DrbdParseError);
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
