import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applyEvents2Event, parseEvents2Line, reduceEvents2Lines } from './events2.js';
import { DrbdParseError } from './fields.js';
import { FIXTURES } from './testing.js';

const lines = (p: string) => readFileSync(`${FIXTURES}events2/${p}`, 'utf8').split('\n').filter(Boolean);

describe('parseEvents2Line', () => {
  it('parses a real 8.4 exists dump (events2 --now, with and without --statistics)', () => {
    const [res, conn, dev, pd, end] = lines('8.4-now.txt').map(parseEvents2Line);
    expect(res).toEqual({
      kind: 'exists',
      object: 'resource',
      resource: 'r0',
      role: 'Secondary',
      suspended: 'no',
    });
    // 8.4 has no node ids: drbdsetup prints peer-node-id:0 and conn-name:peer for every peer.
    expect(conn).toEqual({
      kind: 'exists',
      object: 'connection',
      resource: 'r0',
      peerNodeId: 0,
      connName: 'peer',
      connection: 'Connected',
      peerRole: 'Primary',
    });
    expect(dev).toEqual({
      kind: 'exists',
      object: 'device',
      resource: 'r0',
      volume: 0,
      minor: 0,
      disk: 'UpToDate',
    });
    expect(pd).toMatchObject({
      object: 'peer-device',
      volume: 0,
      replication: 'Established',
      peerDisk: 'Diskless',
    });
    expect(end).toEqual({ kind: 'exists', object: 'end-of-dump' });
    const s = reduceEvents2Lines(lines('8.4-now-statistics.txt'));
    expect(Object.keys(s)).toEqual(['r0', 'r1']);
    expect(s.r0?.devices[0]).toEqual({ volume: 0, minor: 0, disk: 'UpToDate', sizeKiB: 131032 });
    expect(s.r0?.connections['0']?.peerDevices[0]?.outOfSyncKiB).toBe(2048);
    expect(s.r1?.devices[0]).toMatchObject({ minor: 1, sizeKiB: 65496 });
  });

  it('parses DRBD 9 keys, timestamps, statistics, paths and helpers', () => {
    const ev = lines('9-failover.txt').map(parseEvents2Line);
    expect(ev[0]).toMatchObject({ timestamp: '2024-05-02T10:00:00.000001+00:00', mayPromote: false });
    expect(ev[2]).toMatchObject({
      backingDev: '/dev/xlss/vol1',
      client: false,
      quorum: true,
      sizeKiB: 1048576,
    });
    expect(ev[3]).toMatchObject({ outOfSyncKiB: 1048576, resyncSuspended: 'no' });
    expect(ev[4]).toMatchObject({
      object: 'path',
      local: 'ipv4:10.0.0.1:7001',
      peer: 'ipv6:[fd00::2]:7000',
      established: false,
    });
    expect(ev[9]).toMatchObject({
      kind: 'call',
      object: 'helper',
      helper: 'before-resync-target',
      volume: 0,
    });
    expect(ev[10]).toMatchObject({ kind: 'response', object: 'helper', status: 0 });
    expect(parseEvents2Line('destroy resource name:r0')).toEqual({
      kind: 'destroy',
      object: 'resource',
      resource: 'r0',
    });
    expect(parseEvents2Line('create device name:r0 volume:1 minor:3 disk:Diskless client:yes')).toMatchObject(
      {
        kind: 'create',
        client: true,
      },
    );
  });

  it.each([
    ['unknown role', 'exists resource name:r0 role:Master'],
    ['unknown disk state', 'exists device name:r0 volume:0 disk:Fine'],
    ['unknown connection state', 'change connection name:r0 peer-node-id:1 connection:Happy'],
    ['unknown replication state', 'change peer-device name:r0 peer-node-id:1 volume:0 replication:Syncing'],
    ['unknown peer-disk', 'change peer-device name:r0 peer-node-id:1 volume:0 peer-disk:Meh'],
    ['truncated word', 'exists device name:r0 volume:0 disk'],
    ['truncated value', 'exists device name:r0 volume:0 disk:'],
    ['missing name', 'exists resource role:Primary'],
    ['missing volume', 'exists device name:r0 disk:UpToDate'],
    ['missing peer', 'exists connection name:r0 connection:Connected'],
    ['bad number', 'exists device name:r0 volume:x disk:UpToDate'],
    ['bad done', 'change peer-device name:r0 peer-node-id:1 volume:0 done:abc'],
    ['unknown kind', 'hello resource name:r0'],
    ['unknown object', 'exists volume name:r0'],
    ['cut before object', 'exists'],
    ['empty', ''],
    ['junk after end', 'exists - more'],
  ])('rejects %s', (_why, line) => {
    expect(() => parseEvents2Line(line)).toThrow(DrbdParseError);
  });

  it('ignores unknown keys', () => {
    expect(parseEvents2Line('exists resource name:r0 role:Primary shiny-new-key:42')).toEqual({
      kind: 'exists',
      object: 'resource',
      resource: 'r0',
      role: 'Primary',
    });
  });
});

describe('events2 reducer', () => {
  it('follows connect, sync, UpToDate, peer loss and promotion', () => {
    const all = lines('9-failover.txt');
    const dumpEnd = all.findIndex((l) => l.endsWith('exists -'));
    let s = reduceEvents2Lines(all.slice(0, dumpEnd + 1));
    expect(s.vol1?.role).toBe('Secondary');
    expect(s.vol1?.connections['1']?.connection).toBe('Connecting');

    const step = (n: number) => {
      s = reduceEvents2Lines(
        all.slice(dumpEnd + 1, dumpEnd + 1 + n),
        reduceEvents2Lines(all.slice(0, dumpEnd + 1)),
      );
      return s.vol1;
    };
    expect(step(3)?.connections['1']).toMatchObject({ connection: 'Connected', peerRole: 'Primary' });
    expect(step(3)?.connections['1']?.peerDevices[0]).toMatchObject({
      replication: 'SyncTarget',
      resyncDonePercent: 0,
    });
    expect(step(5)?.lastHelper).toEqual({ helper: 'before-resync-target', status: 0 });
    expect(step(6)?.connections['1']?.peerDevices[0]).toMatchObject({
      resyncDonePercent: 42.5,
      outOfSyncKiB: 603000,
    });
    const synced = step(8);
    expect(synced?.devices[0]?.disk).toBe('UpToDate');
    expect(synced?.connections['1']?.peerDevices[0]).toEqual({
      volume: 0,
      replication: 'Established',
      peerDisk: 'UpToDate',
      resyncSuspended: 'no',
      outOfSyncKiB: 0,
    });
    const lost = step(10);
    expect(lost?.connections['1']).toMatchObject({ connection: 'NetworkFailure', peerRole: 'Unknown' });
    expect(lost?.connections['1']?.peerDevices[0]).toMatchObject({
      replication: 'Off',
      peerDisk: 'DUnknown',
    });
    const promoted = step(13);
    expect(promoted).toMatchObject({ role: 'Primary', mayPromote: false });
    expect(promoted?.devices[0]?.disk).toBe('UpToDate');
  });

  it('does not mutate its input and handles destroy and rename', () => {
    const s0 = reduceEvents2Lines(lines('8.4-now.txt'));
    const frozen = JSON.stringify(s0);
    const s1 = applyEvents2Event(s0, parseEvents2Line('destroy peer-device name:r0 peer-node-id:0 volume:0'));
    expect(s1.r0?.connections['0']?.peerDevices).toEqual({});
    const s2 = applyEvents2Event(s1, parseEvents2Line('destroy connection name:r0 peer-node-id:0'));
    expect(s2.r0?.connections).toEqual({});
    const s3 = applyEvents2Event(s2, parseEvents2Line('rename resource name:r0 new_name:r1'));
    expect(Object.keys(s3)).toEqual(['r1']);
    expect(applyEvents2Event(s3, parseEvents2Line('destroy resource name:r1'))).toEqual({});
    expect(JSON.stringify(s0)).toBe(frozen);
  });

  it('follows a real 8.4 up, connect, forced promotion and initial sync (SyncSource side)', () => {
    const all = lines('8.4-up-sync-source.txt');
    const at = (n: number) => reduceEvents2Lines(all.slice(0, n)).r0;
    expect(at(1)).toBeUndefined();
    expect(at(5)?.devices[0]).toMatchObject({ disk: 'Inconsistent', sizeKiB: 131032 });
    expect(at(10)?.connections['0']).toMatchObject({ connection: 'Connected', peerRole: 'Unknown' });
    expect(at(12)?.connections['0']?.peerDevices[0]).toMatchObject({
      replication: 'Established',
      peerDisk: 'Inconsistent',
      outOfSyncKiB: 131032,
    });
    expect(at(14)).toMatchObject({ role: 'Primary' });
    expect(at(14)?.devices[0]?.disk).toBe('UpToDate');
    const syncing = at(18);
    // 8.4 prints neither done: nor running out-of-sync counts in events2 during a resync:
    // progress is only in drbdsetup status.
    expect(syncing?.connections['0']?.peerDevices[0]).toEqual({
      volume: 0,
      replication: 'SyncSource',
      peerDisk: 'Inconsistent',
      resyncSuspended: 'no',
      outOfSyncKiB: 131032,
    });
    expect(syncing?.lastHelper).toEqual({ helper: 'before-resync-source', status: 0 });
    expect(at(19)?.connections['0']?.peerDevices[0]).toMatchObject({
      replication: 'Established',
      peerDisk: 'UpToDate',
      outOfSyncKiB: 0,
    });
  });

  it('follows the real 8.4 SyncTarget side to UpToDate/UpToDate', () => {
    const s = reduceEvents2Lines(lines('8.4-up-sync-target.txt')).r0;
    expect(s?.role).toBe('Secondary');
    expect(s?.devices[0]?.disk).toBe('UpToDate');
    expect(s?.connections['0']).toMatchObject({ connection: 'Connected', peerRole: 'Primary' });
    expect(s?.connections['0']?.peerDevices[0]).toMatchObject({
      replication: 'Established',
      peerDisk: 'UpToDate',
    });
    expect(s?.lastHelper).toEqual({ helper: 'after-resync-target', status: 0 });
  });

  it('follows a real 8.4 peer crash, promotion, resync of 8 MiB, partition, heal and detach', () => {
    const all = lines('8.4-peer-crash-promote-partition-diskfail.txt');
    const upto = (pred: (l: string) => boolean) =>
      reduceEvents2Lines(all.slice(0, all.findIndex(pred) + 1)).r0;
    const dumped = upto((l) => l.endsWith('exists -'));
    expect(dumped?.connections['0']).toMatchObject({ connection: 'Connecting', peerRole: 'Unknown' });
    expect(upto((l) => l.includes('role:Primary'))?.role).toBe('Primary');
    const resync = upto((l) => l.includes('replication:SyncSource'));
    expect(resync?.connections['0']?.peerDevices[0]).toMatchObject({
      peerDisk: 'Inconsistent',
      outOfSyncKiB: 8192,
    });
    expect(upto((l) => l.includes('NetworkFailure'))?.connections['0']).toMatchObject({
      connection: 'NetworkFailure',
      peerRole: 'Unknown',
    });
    const failed = upto((l) => l.includes('disk:Failed'));
    expect(failed?.devices[0]?.disk).toBe('Failed');
    const end = reduceEvents2Lines(all).r0;
    expect(end?.devices[0]?.disk).toBe('Diskless');
    expect(end?.role).toBe('Primary');
    expect(end?.connections['0']?.peerDevices[0]).toMatchObject({
      replication: 'Established',
      peerDisk: 'UpToDate',
    });
  });

  it('follows a real 8.4 reboot: attach UpToDate, Outdated on connect, resync, and down destroying r1', () => {
    const all = lines('8.4-reboot-resync-target-down.txt');
    const s = reduceEvents2Lines(all);
    expect(s.r1).toBeUndefined();
    expect(s.r0?.devices[0]?.disk).toBe('UpToDate');
    const outdated = reduceEvents2Lines(all.slice(0, all.findIndex((l) => l.includes('disk:Outdated')) + 1));
    expect(outdated.r0?.devices[0]?.disk).toBe('Outdated');
  });
});
