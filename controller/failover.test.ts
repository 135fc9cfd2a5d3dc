import { describe, expect, it } from 'vitest';
import type { VolumeStatus } from '../daemon/api/schemas.js';
import {
  decideVolume,
  EARLY_FAILOVER_GRACE_MS,
  type FailoverAction,
  type ReplicaFacts,
  type VolumeFacts,
} from './failover.js';

type Drbd = NonNullable<VolumeStatus['observed']['drbd']>;

function view(_node: string, drbd: Partial<Drbd>, spec: Partial<VolumeStatus['spec']> = {}): VolumeStatus {
  return {
    name: 'vol1',
    spec: {
      sizeBytes: 1 << 30,
      thin: true,
      peer: null,
      drbd: { minor: 100, port: 7800, secret: 'aaaaaaaaaaaaaaaaaaaa' },
      role: 'secondary',
      epoch: 3,
      filesystem: 'ext4',
      mountPoint: '/mnt/vol1',
      backup: null,
      ...spec,
    },
    state: 'ready',
    error: null,
    observed: {
      lv: null,
      drbd: {
        minor: 100,
        role: 'Secondary',
        disk: 'UpToDate',
        suspended: false,
        connection: 'Connected',
        peerRole: 'Primary',
        peerDisk: 'UpToDate',
        replication: 'Established',
        outOfSyncBytes: 0,
        syncPercent: null,
        splitBrain: false,
        ...drbd,
      },
      mount: null,
    },
    epoch: spec.epoch ?? 3,
    lastBackupAt: null,
    progress: null,
  };
}

const primaryUp = (): ReplicaFacts => ({
  node: 'a',
  health: 'online',
  lastOkAt: 1000,
  connectionLostAt: null,
  outdatedAtEpoch: null,
  removing: false,
  view: view('a', { role: 'Primary', peerRole: 'Secondary' }, { role: 'primary' }),
});
const primaryGone = (health: ReplicaFacts['health'] = 'offline'): ReplicaFacts => ({
  node: 'a',
  health,
  lastOkAt: 1000,
  connectionLostAt: null,
  outdatedAtEpoch: null,
  removing: false,
  view: null,
});
const peer = (
  drbd: Partial<Drbd> = {},
  extra: Partial<ReplicaFacts> = {},
  spec: Partial<VolumeStatus['spec']> = {},
): ReplicaFacts => ({
  node: 'b',
  health: 'online',
  lastOkAt: 2000,
  connectionLostAt: null,
  outdatedAtEpoch: null,
  removing: false,
  view: view('b', drbd, spec),
  ...extra,
});
const lostConnection = { connection: 'Connecting', peerRole: 'Unknown', peerDisk: 'DUnknown' };
/** The controller saw the survivor's connection up, then lost after the Primary's last answer. */
const sawItLost = { connectionLostAt: 1500 };

function facts(replicas: ReplicaFacts[], extra: Partial<VolumeFacts> = {}): VolumeFacts {
  return {
    name: 'vol1',
    epoch: 3,
    primary: 'a',
    phase: 'ready',
    hasBackupPolicy: true,
    replicas,
    strays: [],
    clusterMajorityOnline: true,
    ...extra,
  };
}

/** After a failover to b at epoch 4: b is Primary, `a` is back with the given state. */
function failedOverToB(a: Partial<ReplicaFacts> & { view: VolumeStatus }): VolumeFacts {
  return facts(
    [
      { ...primaryUp(), node: 'b', view: view('b', { role: 'Primary' }, { role: 'primary', epoch: 4 }) },
      {
        node: 'a',
        health: 'online',
        lastOkAt: 2000,
        connectionLostAt: null,
        outdatedAtEpoch: 4,
        removing: false,
        ...a,
      },
    ],
    { primary: 'b', epoch: 4 },
  );
}

const kinds = (actions: FailoverAction[]) => actions.map((a) => a.kind);

describe('decideVolume: the failover decision table', () => {
  const table: Array<{ scenario: string; facts: VolumeFacts; expect: (a: FailoverAction[]) => void }> = [
    {
      scenario: 'healthy pair: nothing to do',
      facts: facts([primaryUp(), peer()]),
      expect: (a) => expect(a).toEqual([]),
    },
    {
      scenario:
        'new volume, Primary daemon still provisioning (not yet promoted or mounted) → degraded, no repromote',
      facts: facts([
        {
          ...primaryUp(),
          view: {
            ...view('a', { role: 'Secondary', peerRole: 'Secondary' }, { role: 'primary' }),
            state: 'provisioning',
          },
        },
        peer(),
      ]),
      expect: (a) => {
        expect(kinds(a)).not.toContain('repromote');
        expect(a).toEqual([{ kind: 'set-phase', phase: 'degraded', message: 'provisioning on a' }]);
      },
    },
    {
      scenario: 'Primary of record lost its role and is converged (not provisioning) → repromote',
      facts: facts([
        {
          ...primaryUp(),
          view: view('a', { role: 'Secondary', peerRole: 'Secondary' }, { role: 'primary' }),
        },
        peer(),
      ]),
      expect: (a) => expect(kinds(a)).toContain('repromote'),
    },
    {
      scenario:
        'node lost: Primary offline and the survivor lost its connection → promote it at epoch+1, then re-replicate',
      facts: facts([primaryGone(), peer(lostConnection)]),
      expect: (a) => {
        expect(a).toContainEqual({ kind: 'promote-survivor', lost: 'a', survivor: 'b', epoch: 4 });
        expect(kinds(a)).toEqual(['promote-survivor', 're-replicate']);
      },
    },
    {
      scenario: 'node lost but survivor is Outdated on disk → no promotion, volume failed with why',
      facts: facts([primaryGone(), peer({ ...lostConnection, disk: 'Outdated' })]),
      expect: (a) => {
        expect(kinds(a)).not.toContain('promote-survivor');
        expect(a).toContainEqual(expect.objectContaining({ kind: 'set-phase', phase: 'failed' }));
      },
    },
    {
      scenario:
        'node lost and the survivor has shown no DRBD state yet (no view, or the resource not up) → hold, not failed',
      facts: facts([primaryGone(), { ...peer(), view: null }]),
      expect: (a) => {
        expect(kinds(a)).toEqual(['hold']);
        expect(a[0]).toMatchObject({ reason: 'waiting for the DRBD state of b' });
      },
    },
    {
      scenario: 'node lost, survivor up but its resource not (no DRBD state in its view) → hold, not failed',
      facts: facts([
        primaryGone(),
        { ...peer(), view: { ...view('b', {}), observed: { lv: null, drbd: null, mount: null } } },
      ]),
      expect: (a) => expect(kinds(a)).toEqual(['hold']),
    },
    {
      scenario: 'node lost but survivor recorded outdated in the store → no promotion',
      facts: facts([primaryGone(), peer(lostConnection, { outdatedAtEpoch: 3 })]),
      expect: (a) => expect(kinds(a)).not.toContain('promote-survivor'),
    },
    {
      scenario:
        'peer lost: Secondary offline → mark it outdated at the current epoch, re-replicate, no promotion',
      facts: facts([primaryUp(), peer({}, { health: 'offline', view: null })]),
      expect: (a) => {
        expect(a).toContainEqual({ kind: 'mark-outdated', node: 'b', epoch: 3 });
        expect(kinds(a)).toContain('re-replicate');
        expect(kinds(a)).not.toContain('promote-survivor');
      },
    },
    {
      scenario: 'controller partitioned from the Primary: the peer still sees it Connected → do nothing',
      facts: facts([primaryGone(), peer({ connection: 'Connected', peerRole: 'Primary' })]),
      expect: (a) => expect(kinds(a)).toEqual(['hold']),
    },
    {
      scenario: 'controller sees neither the Primary nor a majority → do nothing',
      facts: facts([primaryGone(), peer({}, { health: 'offline', view: null })], {
        clusterMajorityOnline: false,
      }),
      expect: (a) => expect(kinds(a)).toEqual(['hold']),
    },
    {
      scenario:
        'both replicas lost with the cluster otherwise healthy → phase lost and restore the newest backup',
      facts: facts([primaryGone(), peer({}, { health: 'offline', view: null })]),
      expect: (a) => {
        expect(a).toContainEqual(expect.objectContaining({ kind: 'set-phase', phase: 'lost' }));
        expect(a).toContainEqual({ kind: 'restore-from-backup', lost: ['a', 'b'] });
      },
    },
    {
      scenario: 'both replicas lost and no backup policy → phase lost, no restore',
      facts: facts([primaryGone(), peer({}, { health: 'offline', view: null })], { hasBackupPolicy: false }),
      expect: (a) => expect(kinds(a)).toEqual(['set-phase']),
    },
    {
      scenario:
        'early: Primary suspect (missed polls) and the survivor, polled after it, lost its connection → promote before the timeout',
      facts: facts([primaryGone('suspect'), peer(lostConnection, sawItLost)]),
      expect: (a) => expect(kinds(a)).toEqual(['promote-survivor', 're-replicate']),
    },
    {
      scenario: 'early: the loss was seen less than the grace ago (a live Primary may still ask) → wait',
      facts: facts([primaryGone('suspect'), peer(lostConnection, sawItLost)], {
        now: 1500 + EARLY_FAILOVER_GRACE_MS - 1,
      }),
      expect: (a) => expect(kinds(a)).toEqual(['hold']),
    },
    {
      scenario: 'early: the grace is over and the Primary asked nothing → promote',
      facts: facts([primaryGone('suspect'), peer(lostConnection, sawItLost)], {
        now: 1500 + EARLY_FAILOVER_GRACE_MS,
        primaryFenceAskAt: null,
      }),
      expect: (a) => expect(kinds(a)).toEqual(['promote-survivor', 're-replicate']),
    },
    {
      scenario:
        'early: the suspect Primary asked the fence-peer question around the loss: alive and frozen, the fence path answers it → no failover',
      facts: facts([primaryGone('suspect'), peer(lostConnection, sawItLost)], {
        now: 60_000,
        primaryFenceAskAt: 1700,
      }),
      expect: (a) => expect(kinds(a)).toEqual(['hold']),
    },
    {
      scenario: 'early: a fence-peer call long before this loss says nothing about now → promote',
      facts: facts([primaryGone('suspect'), peer(lostConnection, sawItLost)], {
        now: 60_000,
        primaryFenceAskAt: 1500 - 2001,
      }),
      expect: (a) => expect(kinds(a)).toEqual(['promote-survivor', 're-replicate']),
    },
    {
      scenario: 'offline by heartbeat: a fence-peer call does not hold the failover (the timeout path)',
      facts: facts([primaryGone(), peer(lostConnection, sawItLost)], {
        now: 60_000,
        primaryFenceAskAt: 1700,
      }),
      expect: (a) => expect(kinds(a)).toEqual(['promote-survivor', 're-replicate']),
    },
    {
      scenario:
        'early: Primary suspect, the survivor not connected but never seen connected (a new volume still connecting) → wait for the timeout',
      facts: facts([primaryGone('suspect'), peer(lostConnection)]),
      expect: (a) => expect(kinds(a)).toEqual(['hold']),
    },
    {
      scenario: 'early: Primary suspect but the survivor still sees it Connected → do nothing',
      facts: facts([primaryGone('suspect'), peer({ connection: 'Connected', peerRole: 'Primary' })]),
      expect: (a) => expect(kinds(a)).toEqual(['hold']),
    },
    {
      scenario:
        "early: the survivor's lost connection was seen before the Primary's last answer (stale view) → wait",
      facts: facts([primaryGone('suspect'), peer(lostConnection, { ...sawItLost, lastOkAt: 900 })]),
      expect: (a) => expect(kinds(a)).toEqual(['hold']),
    },
    {
      scenario:
        'early: Primary suspect, the survivor lost its connection but is not UpToDate → wait for the timeout, not failed yet',
      facts: facts([primaryGone('suspect'), peer({ ...lostConnection, disk: 'Inconsistent' }, sawItLost)]),
      expect: (a) => expect(a).toEqual([{ kind: 'hold', reason: 'Primary a is suspect' }]),
    },
    {
      scenario:
        "early: Primary suspect, the survivor's resource is not up at all (no DRBD state) → wait for the timeout",
      facts: facts([
        primaryGone('suspect'),
        {
          ...peer({}, sawItLost),
          view: { ...view('b', {}), observed: { lv: null, drbd: null, mount: null } },
        },
      ]),
      expect: (a) => expect(kinds(a)).toEqual(['hold']),
    },
    {
      scenario: 'early: Primary suspect, the survivor also suspect → wait',
      facts: facts([primaryGone('suspect'), peer(lostConnection, { ...sawItLost, health: 'suspect' })]),
      expect: (a) => expect(kinds(a)).not.toContain('promote-survivor'),
    },
    {
      scenario:
        'flapping: failed over already (Primary of record is the survivor) and the old node is back → no second failover',
      facts: failedOverToB({ view: view('a', { connection: 'Connected' }, { epoch: 4 }) }),
      expect: (a) => {
        expect(kinds(a)).not.toContain('promote-survivor');
        expect(a).toContainEqual({ kind: 'clear-outdated', node: 'a' });
      },
    },
    {
      scenario:
        'flapping: Primary rebooted before its timeout and came back Secondary, peer connected → repromote, no failover',
      facts: facts([
        {
          ...primaryUp(),
          view: view('a', { role: 'Secondary', peerRole: 'Secondary' }, { role: 'primary' }),
        },
        peer({ peerRole: 'Secondary' }),
      ]),
      expect: (a) => {
        expect(a).toContainEqual({ kind: 'repromote', node: 'a', peerFenced: false });
        expect(kinds(a)).not.toContain('promote-survivor');
      },
    },
    {
      scenario:
        'Primary of record without its role, peer disconnected and not fenced → hold (never a blind promote)',
      facts: facts([
        { ...primaryUp(), view: view('a', { role: 'Secondary', ...lostConnection }, { role: 'primary' }) },
        peer(lostConnection),
      ]),
      expect: (a) => expect(kinds(a)).toEqual(['hold']),
    },
    {
      scenario: 'a failover in progress is never decided again',
      facts: facts([primaryGone(), peer(lostConnection)], { phase: 'failing-over' }),
      expect: (a) => expect(a).toEqual([]),
    },
    {
      scenario: 'node returns with an old epoch → told to be Secondary and resync',
      facts: failedOverToB({ view: view('a', { connection: 'Connecting' }, { role: 'primary', epoch: 3 }) }),
      expect: (a) => expect(a).toContainEqual({ kind: 'rejoin-as-secondary', node: 'a' }),
    },
    {
      scenario: 'node returns after being replaced (no longer a replica) → cleaned up',
      facts: facts(
        [
          { ...primaryUp(), node: 'b', view: view('b', { role: 'Primary' }, { role: 'primary', epoch: 4 }) },
          {
            node: 'c',
            health: 'online',
            lastOkAt: 2000,
            connectionLostAt: null,
            outdatedAtEpoch: null,
            removing: false,
            view: view('c', {}, { epoch: 4 }),
          },
          {
            node: 'a',
            health: 'online',
            lastOkAt: 2000,
            connectionLostAt: null,
            outdatedAtEpoch: 4,
            removing: true,
            view: view('a', {}, { epoch: 3 }),
          },
        ],
        { primary: 'b', epoch: 4 },
      ),
      expect: (a) => {
        expect(a).toContainEqual({ kind: 'cleanup', node: 'a' });
        expect(kinds(a)).not.toContain('rejoin-as-secondary');
      },
    },
    {
      scenario: 'a stray copy on a node that holds no replica → cleaned up',
      facts: facts([primaryUp(), peer()], { strays: ['d'] }),
      expect: (a) => expect(a).toContainEqual({ kind: 'cleanup', node: 'd' }),
    },
    {
      scenario: 'split brain reported by a daemon → phase split-brain, nothing else (never hidden)',
      facts: facts([primaryUp(), peer({ splitBrain: true, connection: 'StandAlone' })]),
      expect: (a) => expect(kinds(a)).toEqual(['split-brain', 'set-phase']),
    },
    {
      scenario: 'returning replica resyncing → phase resyncing, still outdated',
      facts: facts([
        primaryUp(),
        peer(
          { disk: 'Inconsistent', replication: 'SyncTarget', outOfSyncBytes: 4096 },
          { outdatedAtEpoch: 3 },
        ),
      ]),
      expect: (a) => {
        expect(a).toContainEqual(expect.objectContaining({ kind: 'set-phase', phase: 'resyncing' }));
        expect(kinds(a)).not.toContain('clear-outdated');
      },
    },
  ];

  for (const row of table) it(row.scenario, () => row.expect(decideVolume(row.facts)));
});
