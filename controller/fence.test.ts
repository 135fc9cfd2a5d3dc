import { describe, expect, it } from 'vitest';
import { decideFence } from './fence.js';
import type { ReplicaRecord, VolumeRecord } from './store/store.js';

const volume = { name: 'vol1', epoch: 4, primary: 'a' } as VolumeRecord;
const peer = (outdatedAtEpoch: number | null): ReplicaRecord => ({
  volume: 'vol1',
  node: 'b',
  outdatedAtEpoch,
  removing: false,
  addedAt: 0,
});
const ask = { volume: 'vol1', node: 'a', peer: 'b', epoch: 4 };

describe('decideFence', () => {
  it('allows when the peer is recorded outdated for the current epoch', () => {
    expect(decideFence(ask, volume, peer(4), 'offline', 'not-tried')).toMatchObject({
      kind: 'answer',
      allow: true,
    });
  });
  it('asks for an outdate of a peer not yet outdated, and allows once it ran', () => {
    expect(decideFence(ask, volume, peer(null), 'online', 'not-tried')).toEqual({ kind: 'outdate-peer' });
    expect(decideFence(ask, volume, peer(null), 'online', 'outdated')).toMatchObject({
      allow: true,
      recordOutdated: true,
    });
  });
  it('allows an unreachable peer only when heartbeats say it is gone, and records it outdated', () => {
    expect(decideFence(ask, volume, peer(null), 'suspect', 'unreachable')).toMatchObject({ allow: false });
    expect(decideFence(ask, volume, peer(null), 'online', 'unreachable')).toMatchObject({ allow: false });
    expect(decideFence(ask, volume, peer(null), 'offline', 'unreachable')).toMatchObject({
      allow: true,
      recordOutdated: true,
    });
  });
  it('refuses a peer outdated only at an older epoch, a stale epoch, a non-Primary and an unknown volume', () => {
    expect(decideFence(ask, volume, peer(3), 'online', 'refused')).toMatchObject({ allow: false });
    expect(decideFence({ ...ask, epoch: 3 }, volume, peer(4), 'offline', 'not-tried')).toMatchObject({
      allow: false,
    });
    expect(
      decideFence({ ...ask, node: 'b', peer: 'a' }, volume, peer(4), 'offline', 'not-tried'),
    ).toMatchObject({ allow: false });
    expect(decideFence(ask, null, peer(4), 'offline', 'not-tried')).toMatchObject({ allow: false });
  });
});
