/**
 * The failover decision: a pure function from what the controller knows about one
 * volume (its record, its replicas, each node's health and own view) to the actions
 * the core must take. It never does I/O, so every scenario is a row in a test table.
 *
 * Safety rules (DRBD 8.4 has no quorum; the controller is the arbiter):
 * - promote only when two views agree that the Primary is gone: the controller's (the
 *   Primary's node is offline by heartbeat, or suspect: it missed polls in a row) AND the survivor's own (its DRBD connection to the Primary is lost, seen in a
 *   poll newer than the Primary's last answer); and the survivor is UpToDate and not
 *   recorded outdated. A Primary that is alive but cut off from both is frozen by
 *   resource-and-stonith until the controller answers its fence-peer call, and the
 *   answer for an older epoch is no: it can acknowledge nothing the survivor lacks;
 * - a controller that sees neither the Primary nor any other replica does nothing;
 * - a node holding an older epoch is only ever told to be Secondary.
 */
import type { VolumeStatus } from '../daemon/api/schemas.js';
import type { NodeHealth } from './health.js';
import type { VolumePhase } from './store/store.js';

export interface ReplicaFacts {
  node: string;
  health: NodeHealth;
  /** When its node last answered a poll (controller clock); null if never. */
  lastOkAt: number | null;
  /** When the controller saw this replica's DRBD connection go from Connected to lost. */
  connectionLostAt: number | null;
  outdatedAtEpoch: number | null;
  /** No longer a replica; its daemon has not confirmed deletion yet. */
  removing: boolean;
  /** The node's own view of the volume (from its last successful poll); null if absent. */
  view: VolumeStatus | null;
}

export interface VolumeFacts {
  name: string;
  epoch: number;
  primary: string | null;
  phase: VolumePhase;
  hasBackupPolicy: boolean;
  replicas: ReplicaFacts[];
  /** Online nodes that list this volume but hold no replica row: leftovers. */
  strays: string[];
  /** The controller sees a majority of all registered nodes online. */
  clusterMajorityOnline: boolean;
  /** Controller clock now (these facts were taken now). */
  now?: number;
  /** When the Primary of record last asked the fence-peer question for this volume. */
  primaryFenceAskAt?: number | null;
}

/**
 * The early path (a suspect Primary, before it is offline) waits this long after the
 * survivor's connection loss was seen: a live Primary that lost its peer calls fence-peer
 * within about DRBD's ping timeout, and that call, not a slow poll, says whether it lives.
 * Seen in the lab at load 2.6: a Primary suspect by two slow polls while its replication
 * link alone was cut was failed over 1.1 s before its fence-peer call arrived (safe, as
 * it stayed frozen, but needless). Short, because a crash's failover waits for it too.
 */
export const EARLY_FAILOVER_GRACE_MS = 1000;
/**
 * A fence-peer call this long before the connection loss was seen still counts (the
 * controller sees the survivor's loss up to a poll late). Not longer: an older call is
 * about an earlier flap (seen in the failover bench with 10 s: a Primary's call when its
 * peer rejoined, 8 s before the crash, held the early path and detection took 7 s).
 */
const FENCE_ASK_SLACK_MS = 2000;

export type FailoverAction =
  | { kind: 'promote-survivor'; lost: string; survivor: string; epoch: number }
  | { kind: 'mark-outdated'; node: string; epoch: number }
  | { kind: 'clear-outdated'; node: string }
  /** The Primary of record came back (before its timeout) without its role: give it back. */
  | { kind: 'repromote'; node: string; peerFenced: boolean }
  | { kind: 'rejoin-as-secondary'; node: string }
  | { kind: 'cleanup'; node: string }
  /** Add a replica on a new node; `lost` (if any) stops being a replica once it is in. */
  | { kind: 're-replicate'; lost: string | null }
  | { kind: 'split-brain'; nodes: string[] }
  | { kind: 'restore-from-backup'; lost: string[] }
  | { kind: 'set-phase'; phase: VolumePhase; message: string | null }
  /**
   * No action now, and why. `lostPrimary`: the Primary is gone (offline, or suspect and
   * confirmed by its peer) and the failover is held back: an operator should see it
   * (`failover.held`), once per outage (`since`: the Primary's last answer).
   */
  | { kind: 'hold'; reason: string; lostPrimary?: { node: string; since: number | null } };

const BUSY: ReadonlySet<VolumePhase> = new Set(['creating', 'deleting', 'failing-over']);

function connected(view: VolumeStatus | null): boolean {
  return view?.observed.drbd?.connection === 'Connected';
}

function disk(view: VolumeStatus | null): string {
  return view?.observed.drbd?.disk ?? 'Unknown';
}

function isStale(view: VolumeStatus, epoch: number, primary: string | null, node: string): boolean {
  const wantsPrimary = view.spec.role === 'primary' || view.observed.drbd?.role === 'Primary';
  return view.spec.epoch < epoch || (wantsPrimary && node !== primary);
}

export function decideVolume(f: VolumeFacts): FailoverAction[] {
  if (BUSY.has(f.phase)) return [];
  const actions: FailoverAction[] = [];
  const online = (r: ReplicaFacts) => r.health === 'online';

  // Split brain is never hidden: it wins over everything else and stops automation.
  const split = f.replicas.filter((r) => online(r) && r.view?.observed.drbd?.splitBrain);
  if (split.length > 0) {
    return [
      { kind: 'split-brain', nodes: split.map((r) => r.node) },
      {
        kind: 'set-phase',
        phase: 'split-brain',
        message: `DRBD reported a split brain on ${split.map((r) => r.node).join(', ')}`,
      },
    ];
  }

  for (const node of f.strays) actions.push({ kind: 'cleanup', node });
  for (const r of f.replicas) if (r.removing && online(r)) actions.push({ kind: 'cleanup', node: r.node });

  const active = f.replicas.filter((r) => !r.removing);
  const primary = active.find((r) => r.node === f.primary);
  const others = active.filter((r) => r !== primary);

  if (f.phase === 'lost') {
    if (active.some(online)) return actions;
    if (f.hasBackupPolicy && f.clusterMajorityOnline)
      actions.push({ kind: 'restore-from-backup', lost: active.map((r) => r.node) });
    return actions;
  }
  if (!primary) return [...actions, { kind: 'hold', reason: 'volume has no Primary on record' }];

  // Gone by heartbeat timeout, or early: suspect (silent for a few polls) while a peer
  // that answered after it, and could take over now, says its DRBD connection to the
  // Primary went from up to lost, at least EARLY_FAILOVER_GRACE_MS ago, and the Primary
  // has not asked the fence-peer question since (give or take a poll). Anything short of
  // that waits for the timeout.
  const askedAt = f.primaryFenceAskAt ?? null;
  const confirmedByPeer =
    primary.health === 'suspect' &&
    others.some(
      (s) =>
        online(s) &&
        s.view?.observed.drbd != null &&
        !connected(s.view) &&
        s.connectionLostAt !== null &&
        (f.now === undefined || f.now - s.connectionLostAt >= EARLY_FAILOVER_GRACE_MS) &&
        // The Primary asked: alive, frozen, and answered through the fence path instead.
        (askedAt === null || askedAt < s.connectionLostAt - FENCE_ASK_SLACK_MS) &&
        s.lastOkAt !== null &&
        s.lastOkAt > (primary.lastOkAt ?? Number.NEGATIVE_INFINITY) &&
        s.outdatedAtEpoch === null &&
        disk(s.view) === 'UpToDate',
    );
  if (primary.health === 'offline' || confirmedByPeer) {
    const lostPrimary = { node: primary.node, since: primary.lastOkAt };
    const held = (reason: string): FailoverAction => ({ kind: 'hold', reason, lostPrimary });
    const survivors = others.filter(online);
    if (survivors.length === 0) {
      if (others.some((r) => r.health === 'suspect' || r.health === 'unknown'))
        return [...actions, held('waiting for the other replica to be confirmed gone')];
      if (!f.clusterMajorityOnline)
        return [...actions, held('controller sees neither the Primary nor a majority of nodes')];
      const lost = active.map((r) => r.node);
      actions.push({
        kind: 'set-phase',
        phase: 'lost',
        message: `every replica is gone (${lost.join(', ')})`,
      });
      if (f.hasBackupPolicy) actions.push({ kind: 'restore-from-backup', lost });
      return actions;
    }
    for (const s of survivors) {
      if (!s.view) continue;
      if (connected(s.view))
        return [
          ...actions,
          held(`${s.node} still sees ${primary.node} connected: controller is cut off from it`),
        ];
    }
    const candidate = survivors.find(
      (s) => s.view && s.outdatedAtEpoch === null && disk(s.view) === 'UpToDate',
    );
    // A survivor that has not shown its DRBD state (no view polled yet, the resource not
    // up yet) may still be UpToDate: wait for it rather than fail the volume on no
    // information. Seen in the bench at host load 10-12: a volume just created was set
    // failed ('node2 disk Unknown') when its Primary's node went silent for 10 s.
    const unseen = survivors.filter((s) => !s.view?.observed.drbd && s.outdatedAtEpoch === null);
    if (!candidate && unseen.length > 0)
      return [...actions, held(`waiting for the DRBD state of ${unseen.map((s) => s.node).join(', ')}`)];
    if (!candidate) {
      const why = survivors.map(
        (s) => `${s.node} disk ${disk(s.view)}${s.outdatedAtEpoch !== null ? ' (outdated)' : ''}`,
      );
      return [
        ...actions,
        {
          kind: 'set-phase',
          phase: 'failed',
          message: `Primary ${primary.node} lost; no UpToDate survivor: ${why.join(', ')}`,
        },
      ];
    }
    actions.push({
      kind: 'promote-survivor',
      lost: primary.node,
      survivor: candidate.node,
      epoch: f.epoch + 1,
    });
    actions.push({ kind: 're-replicate', lost: primary.node });
    return actions;
  }
  if (primary.health !== 'online')
    return [...actions, { kind: 'hold', reason: `Primary ${primary.node} is ${primary.health}` }];

  // The Primary's daemon is still converging (a new volume, or a promote or mount in
  // progress at this epoch): not ready yet, and not a lost role to give back.
  if (primary.view?.state === 'provisioning' && primary.view.spec.epoch === f.epoch) {
    const message = `provisioning on ${primary.node}`;
    if (f.phase !== 'degraded') return [...actions, { kind: 'set-phase', phase: 'degraded', message }];
    return actions;
  }
  const own = primary.view?.observed.drbd;
  if (own && own.role !== 'Primary') {
    if (own.peerRole === 'Primary' || own.disk !== 'UpToDate')
      return [
        ...actions,
        {
          kind: 'set-phase',
          phase: 'failed',
          message: `Primary of record ${primary.node} is ${own.role} (disk ${own.disk}, peer ${own.peerRole})`,
        },
      ];
    const peerConnected = connected(primary.view);
    const peersFenced = others.every((o) => o.outdatedAtEpoch !== null && o.outdatedAtEpoch >= f.epoch);
    if (!peerConnected && !peersFenced)
      return [
        ...actions,
        { kind: 'hold', reason: `${primary.node} lost its role and its peer is not fenced` },
      ];
    actions.push({ kind: 'repromote', node: primary.node, peerFenced: !peerConnected });
  }

  let phase: VolumePhase = 'ready';
  let message: string | null = null;
  for (const s of others) {
    if (s.health === 'offline') {
      if (s.outdatedAtEpoch === null || s.outdatedAtEpoch < f.epoch)
        actions.push({ kind: 'mark-outdated', node: s.node, epoch: f.epoch });
      actions.push({ kind: 're-replicate', lost: s.node });
      phase = 'degraded';
      message = `replica on ${s.node} is offline`;
      continue;
    }
    if (s.health !== 'online' || !s.view) {
      if (phase === 'ready') {
        phase = 'degraded';
        message = `replica on ${s.node} is ${s.view ? s.health : 'missing'}`;
      }
      continue;
    }
    if (isStale(s.view, f.epoch, f.primary, s.node)) {
      actions.push({ kind: 'rejoin-as-secondary', node: s.node });
      phase = 'resyncing';
      message = `${s.node} rejoins as Secondary`;
      continue;
    }
    const d = disk(s.view);
    if (connected(s.view) && d === 'UpToDate') {
      if (s.outdatedAtEpoch !== null) actions.push({ kind: 'clear-outdated', node: s.node });
    } else if (connected(s.view)) {
      phase = 'resyncing';
      message = `${s.node} syncing (${s.view.observed.drbd?.outOfSyncBytes ?? 0} bytes left)`;
    } else if (phase !== 'resyncing') {
      phase = 'degraded';
      message = `${s.node} not connected (${s.view.observed.drbd?.connection ?? 'no DRBD'})`;
    }
  }
  if (others.length === 0) {
    actions.push({ kind: 're-replicate', lost: null });
    phase = 'degraded';
    message = 'running on one replica';
  }
  if (phase !== f.phase) actions.push({ kind: 'set-phase', phase, message });
  return actions;
}
