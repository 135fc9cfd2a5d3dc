import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NoSpaceError } from '../../common/errors.js';
import { openSqliteStore } from './sqlite.js';
import type { Store, VolumeRecord } from './store.js';

const dirs: string[] = [];
function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'xlss-store-'));
  dirs.push(dir);
  return join(dir, 'state', 'controller.db');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function volume(name: string, minor: number, port: number): VolumeRecord {
  return {
    name,
    sizeBytes: 1 << 30,
    thin: true,
    filesystem: 'ext4',
    mountPoint: null,
    nodeSelector: { disk: 'ssd' },
    preferredNode: null,
    backup: null,
    workloadUnit: 'pg.service',
    phase: 'creating',
    message: null,
    epoch: 1,
    primary: 'n1',
    minor,
    port,
    secret: 'sssssssssssssssssss',
    createdAt: 1000,
  };
}

const minors = { first: 100, last: 102 };
const ports = { first: 7800, last: 7899 };

describe('SQLite store', () => {
  it('hands out distinct minors and ports, refuses when the range is used up, and reuses only freed ones', () => {
    const store = openSqliteStore(tempDb());
    const a = store.allocate('a', minors, ports);
    const b = store.allocate('b', minors, ports);
    const c = store.allocate('c', minors, ports);
    expect(new Set([a.minor, b.minor, c.minor]).size).toBe(3);
    expect(new Set([a.port, b.port, c.port]).size).toBe(3);
    expect(store.allocate('a', minors, ports)).toEqual(a);
    expect(() => store.allocate('d', minors, ports)).toThrow(NoSpaceError);
    store.releaseAllocation('b');
    expect(store.allocate('d', minors, ports)).toEqual(b);
    store.close();
  });

  it('keeps everything across a reopen (WAL, schema version)', () => {
    const path = tempDb();
    let store: Store = openSqliteStore(path);
    const alloc = store.allocate('vol1', minors, ports);
    store.upsertNode({
      name: 'n1',
      url: 'http://10.0.0.1:7680',
      address: null,
      tokenFile: '/etc/xlss/t',
      labels: { disk: 'ssd' },
      zone: 'z1',
      draining: false,
      facts: null,
      lastHeartbeatAt: null,
    });
    store.insertVolume(volume('vol1', alloc.minor, alloc.port));
    store.addReplica({ volume: 'vol1', node: 'n1', outdatedAtEpoch: null, removing: false, addedAt: 1 });
    store.reserve('vol1', 'n1', 1 << 30);
    const op = store.startOperation('create', 'vol1', 'placed', { primary: 'n1' }, 5);
    store.advanceOperation(op.id, 'secondary-put', null, 6);
    store.addEvent({ at: 7, type: 'volume.placed', volume: 'vol1', node: 'n1', message: 'm' });
    store.close();

    store = openSqliteStore(path);
    expect(store.getVolume('vol1')).toEqual(volume('vol1', alloc.minor, alloc.port));
    expect(store.getNode('n1')?.labels).toEqual({ disk: 'ssd' });
    expect(store.listReplicas('vol1')).toHaveLength(1);
    expect(store.listReservations()).toEqual([
      { volume: 'vol1', node: 'n1', bytes: 1 << 30, confirmedAt: null },
    ]);
    expect(store.listRunningOperations()).toEqual([
      expect.objectContaining({
        id: op.id,
        step: 'secondary-put',
        data: { primary: 'n1' },
        state: 'running',
      }),
    ]);
    expect(store.listEvents({ volume: 'vol1' })).toEqual([
      expect.objectContaining({ type: 'volume.placed', at: 7 }),
    ]);
    // The allocation survives too: a new volume gets another minor.
    expect(store.allocate('vol2', minors, ports).minor).not.toBe(alloc.minor);
    store.close();
  });

  it('rolls back a failed transaction as a whole', () => {
    const store = openSqliteStore(tempDb());
    expect(() =>
      store.transaction(() => {
        store.allocate('x', minors, ports);
        store.insertVolume(volume('x', 100, 7800));
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(store.getVolume('x')).toBeNull();
    expect(store.listAllocations()).toEqual([]);
    store.close();
  });

  it('drops a confirmed reservation only once facts newer than the confirmation arrive', () => {
    const store = openSqliteStore(tempDb());
    store.reserve('v', 'n1', 10);
    store.releaseConfirmedReservations('n1', 100);
    expect(store.listReservations()).toHaveLength(1);
    store.confirmReservation('v', 'n1', 50);
    store.releaseConfirmedReservations('n1', 40);
    expect(store.listReservations()).toHaveLength(1);
    store.releaseConfirmedReservations('n1', 60);
    expect(store.listReservations()).toHaveLength(0);
    store.close();
  });

  it('lists events after an id, by volume, with a limit', () => {
    const store = openSqliteStore(tempDb());
    for (let i = 0; i < 5; i++)
      store.addEvent({ at: i, type: 't', volume: i % 2 ? 'a' : 'b', node: null, message: `${i}` });
    expect(store.listEvents({ volume: 'a' }).map((e) => e.message)).toEqual(['1', '3']);
    expect(store.listEvents({ since: 3 }).map((e) => e.message)).toEqual(['3', '4']);
    expect(store.listEvents({ limit: 2 }).map((e) => e.message)).toEqual(['0', '1']);
    store.close();
  });
});
