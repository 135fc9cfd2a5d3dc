/**
 * Carries out what `decideVolume` decided: fencing and promotion (journaled), outdated
 * marks, telling a returning node to be Secondary, cleanup of leftovers, re-replication
 * and restore from backup. Each action re-reads the store: decisions are level-triggered.
 */

import { errorMessage } from '../../common/errors.js';
import { DaemonUnreachableError } from '../daemon-client.js';
import type { FailoverAction } from '../failover.js';
import { reachable } from '../health.js';
import { placeReplicas } from '../placement.js';
import type { OperationRecord, VolumeRecord } from '../store/store.js';
import { type CoreContext, peerOf, placementNodes, specFor } from './context.js';
import { keepRestoreNotice, startRestore } from './restore.js';

export interface ActDeps {
  ctx: CoreContext;
  runOp(op: OperationRecord): Promise<void>;
  /** Remembers one-shot notices (blocked re-replication) so they are not repeated every tick. */
  noticed: Set<string>;
}

export async function act(d: ActDeps, volume: string, action: FailoverAction): Promise<void> {
  const { ctx } = d;
  const v = ctx.store.getVolume(volume);
  if (!v) return;
  switch (action.kind) {
    case 'hold': {
      const lost = action.lostPrimary;
      const key = `${volume}:hold:${action.reason}:${lost?.since ?? ''}`;
      if (d.noticed.has(key)) return;
      d.noticed.add(key);
      ctx.log.info({ volume, reason: action.reason }, 'no failover');
      if (lost)
        ctx.event('failover.held', volume, lost.node, `no failover from ${lost.node}: ${action.reason}`);
      return;
    }
    case 'set-phase': {
      const message = keepRestoreNotice(v.message, action.message);
      if (v.phase === action.phase && v.message === message) return;
      ctx.store.updateVolume(volume, { phase: action.phase, message });
      if (action.phase === 'lost' || action.phase === 'failed')
        ctx.event(`volume.${action.phase}`, volume, null, action.message ?? action.phase);
      return;
    }
    case 'split-brain':
      if (v.phase === 'split-brain') return;
      ctx.log.error({ volume, nodes: action.nodes }, 'split brain');
      ctx.store.updateVolume(volume, {
        phase: 'split-brain',
        message: `split brain on ${action.nodes.join(', ')}`,
      });
      ctx.event(
        'split-brain',
        volume,
        action.nodes[0] ?? null,
        `DRBD reported a split brain on ${action.nodes.join(', ')}; needs an operator`,
      );
      return;
    case 'mark-outdated':
      ctx.store.updateReplica(volume, action.node, { outdatedAtEpoch: action.epoch });
      ctx.event(
        'replica.outdated',
        volume,
        action.node,
        `offline by heartbeat: recorded outdated at epoch ${action.epoch}`,
      );
      return;
    case 'clear-outdated':
      ctx.store.updateReplica(volume, action.node, { outdatedAtEpoch: null });
      ctx.event('replica.synced', volume, action.node, 'UpToDate and connected again');
      return;
    case 'repromote':
      await ctx.client(action.node).promote(volume, {
        epoch: v.epoch,
        peerFenced: action.peerFenced,
        mount: true,
        ...(v.workloadUnit ? { workloadUnit: v.workloadUnit } : {}),
      });
      ctx.event(
        'volume.repromoted',
        volume,
        action.node,
        `back as Primary at epoch ${v.epoch} (no failover: it returned in time)`,
      );
      return;
    case 'rejoin-as-secondary': {
      const peer = peerOf(ctx, volume, action.node);
      await ctx.client(action.node).putVolume(volume, specFor(ctx, v, 'secondary', peer));
      ctx.event(
        'replica.rejoined',
        volume,
        action.node,
        `told to be Secondary at epoch ${v.epoch}; resyncs from ${peer ?? 'nobody'}`,
      );
      return;
    }
    case 'cleanup':
      await ctx.client(action.node).deleteVolume(volume, { force: true });
      ctx.store.transaction(() => {
        const row = ctx.store.listReplicas(volume).find((r) => r.node === action.node);
        if (row?.removing) ctx.store.removeReplica(volume, action.node);
        ctx.store.releaseReservations(volume, action.node);
      });
      ctx.event('replica.cleaned-up', volume, action.node, 'no longer a replica: deleted on its node');
      return;
    case 'promote-survivor': {
      const lastSeen = ctx.health.get(action.lost)?.lastOkAt ?? null;
      const lostHealth = ctx.health.health(action.lost);
      const op = ctx.store.transaction(() => {
        ctx.store.updateReplica(volume, action.lost, { outdatedAtEpoch: action.epoch });
        ctx.store.updateVolume(volume, {
          epoch: action.epoch,
          primary: action.survivor,
          phase: 'failing-over',
          message: `failing over to ${action.survivor}`,
        });
        ctx.event(
          'failover.detected',
          volume,
          action.lost,
          `Primary ${action.lost} ${lostHealth} (last heartbeat ${lastSeen === null ? 'never' : `${ctx.now() - lastSeen} ms ago`}); ${action.survivor} lost its connection`,
        );
        ctx.event(
          'failover.fenced',
          volume,
          action.lost,
          `${action.lost} recorded outdated at epoch ${action.epoch}`,
        );
        return ctx.store.startOperation(
          'failover',
          volume,
          'fenced',
          { ...action, lastSeen: lastSeen ?? ctx.now() },
          ctx.now(),
        );
      });
      await d.runOp(op);
      return;
    }
    case 're-replicate':
      await reReplicate(d, v, action.lost);
      return;
    case 'restore-from-backup':
      await startRestore(d, v, action.lost);
      return;
  }
}

/** Promotes the fenced survivor, mounts, starts the workload: resumable from 'fenced'. */
export async function runFailover(ctx: CoreContext, op: OperationRecord): Promise<void> {
  const { survivor, lost, epoch, lastSeen } = op.data as {
    survivor: string;
    lost: string;
    epoch: number;
    lastSeen: number;
  };
  const v = ctx.store.getVolume(op.volume);
  if (!v) return ctx.store.finishOperation(op.id, 'failed', ctx.now());
  try {
    const status = await ctx.client(survivor).promote(op.volume, {
      epoch,
      peerFenced: true,
      mount: true,
      ...(v.workloadUnit ? { workloadUnit: v.workloadUnit } : {}),
    });
    ctx.event('failover.promoted', op.volume, survivor, `Primary at epoch ${epoch}`);
    if (status.observed.mount)
      ctx.event('failover.mounted', op.volume, survivor, `mounted on ${status.observed.mount.path}`);
    if (v.workloadUnit)
      ctx.event('failover.workload-started', op.volume, survivor, `started ${v.workloadUnit}`);
    await ctx.client(survivor).putVolume(op.volume, specFor(ctx, v, 'primary', lost));
  } catch (err) {
    if (err instanceof DaemonUnreachableError) {
      if (ctx.health.health(survivor) !== 'offline') return;
      // The survivor died too (offline by heartbeat) before it took over: the decision
      // gets the volume back, which then finds both replicas gone (lost, restore).
      ctx.store.transaction(() => {
        ctx.store.finishOperation(op.id, 'failed', ctx.now());
        ctx.store.updateVolume(op.volume, {
          phase: 'failed',
          message: `failover to ${survivor} abandoned: ${survivor} is offline too`,
        });
        ctx.event('failover.abandoned', op.volume, survivor, `${survivor} went offline before it took over`);
      });
      return;
    }
    ctx.store.transaction(() => {
      ctx.store.finishOperation(op.id, 'failed', ctx.now());
      ctx.store.updateVolume(op.volume, {
        phase: 'failed',
        message: `promotion of ${survivor} failed: ${errorMessage(err)}`,
      });
      ctx.event('failover.failed', op.volume, survivor, errorMessage(err));
    });
    return;
  }
  ctx.store.transaction(() => {
    ctx.store.updateVolume(op.volume, { phase: 'degraded', message: `failed over from ${lost}` });
    ctx.store.finishOperation(op.id, 'done', ctx.now());
  });
  ctx.metrics.failovers.inc({ kind: 'automatic' });
  ctx.metrics.failoverDuration.observe({ kind: 'automatic' }, Math.max(0, ctx.now() - lastSeen) / 1000);
}

/** Chooses a new node for a replica and records it; the journaled steps do the rest. */
/**
 * Places a new replica (replacing `lost`, if given) and copies the volume to it. Returns
 * null when the replacement was started, else why not (a drain reports it).
 */
export async function reReplicate(d: ActDeps, v: VolumeRecord, lost: string | null): Promise<string | null> {
  const { ctx } = d;
  if (ctx.store.listRunningOperations().some((op) => op.volume === v.name))
    return `another operation on ${v.name} is running`;
  // Only a working Primary is a sync source; a failed or split volume waits for an operator.
  if (v.phase === 'failed' || v.phase === 'split-brain' || v.phase === 'lost')
    return `${v.name} is ${v.phase}: no sync source`;
  const primary = v.primary;
  if (!primary || !reachable(ctx.health.health(primary)))
    return `the Primary of ${v.name} (${primary ?? 'none'}) is not reachable`;
  if (lost !== null && awaitingReturn(d, v.name, lost)) return `waiting for ${lost} to return`;
  const replicas = ctx.store.listReplicas(v.name);
  const nodes = placementNodes(ctx);
  const zones = replicas
    .filter((r) => !r.removing && r.node !== lost)
    .map((r) => nodes.find((n) => n.name === r.node)?.zone ?? null);
  const placement = placeReplicas(
    {
      sizeBytes: v.sizeBytes,
      count: 1,
      nodeSelector: v.nodeSelector,
      exclude: replicas.map((r) => r.node),
      occupiedZones: zones,
    },
    nodes,
  );
  if (!placement.ok) {
    const key = `${v.name}:re-replication:${placement.reason}`;
    if (!d.noticed.has(key)) {
      d.noticed.add(key);
      ctx.event('replica.re-replication-blocked', v.name, lost, placement.reason);
    }
    return placement.reason;
  }
  const target = placement.nodes[0] as string;
  const op = ctx.store.transaction(() => {
    // The new replica starts Inconsistent: outdated until its first sync completes.
    ctx.store.addReplica({
      volume: v.name,
      node: target,
      outdatedAtEpoch: v.epoch,
      removing: false,
      addedAt: ctx.now(),
    });
    ctx.store.reserve(v.name, target, v.sizeBytes);
    ctx.event(
      'replica.placing',
      v.name,
      target,
      `new replica on ${target}${lost ? ` replaces ${lost}` : ''}`,
    );
    return ctx.store.startOperation('replace', v.name, 'placed', { target, lost, primary }, ctx.now());
  });
  await d.runOp(op);
  return null;
}

/**
 * Whether `lost`, offline, still has time to come back before it is replaced (config
 * `replaceAfter`): a node back in time resyncs from DRBD's bitmap, a replacement copies
 * the whole volume. Said once per absence.
 */
function awaitingReturn(d: ActDeps, volume: string, lost: string): boolean {
  const { ctx } = d;
  const waitMs = ctx.config.replaceAfterMs ?? 0;
  if (waitMs <= 0 || ctx.health.health(lost) !== 'offline') return false;
  const lastOkAt = ctx.health.get(lost)?.lastOkAt ?? null;
  if (lastOkAt === null || ctx.now() - lastOkAt >= waitMs) return false;
  const key = `${volume}:replace-pending:${lost}:${lastOkAt}`;
  if (!d.noticed.has(key)) {
    d.noticed.add(key);
    ctx.event(
      'replica.replace-pending',
      volume,
      lost,
      `${lost} offline; replaced on another node if not back within ${Math.round(waitMs / 1000)} s of its last heartbeat`,
    );
  }
  return true;
}

export async function runReplace(ctx: CoreContext, op: OperationRecord): Promise<void> {
  const { target, lost, primary } = op.data as { target: string; lost: string | null; primary: string };
  let step = op.step;
  try {
    const v = ctx.store.getVolume(op.volume);
    if (!v || v.primary !== primary) throw new Error(`Primary changed from ${primary}`);
    if (step === 'placed') {
      await ctx.client(target).putVolume(op.volume, specFor(ctx, v, 'secondary', primary));
      ctx.store.transaction(() => {
        ctx.store.confirmReservation(op.volume, target, ctx.now());
        ctx.store.advanceOperation(op.id, 'target-put', null, ctx.now());
      });
      step = 'target-put';
    }
    if (step === 'target-put') {
      const status = await ctx.client(primary).putVolume(op.volume, specFor(ctx, v, 'primary', target));
      ctx.store.transaction(() => {
        if (lost) ctx.store.updateReplica(op.volume, lost, { removing: true });
        ctx.store.finishOperation(op.id, 'done', ctx.now());
        const bytes = status.observed.drbd?.outOfSyncBytes ?? v.sizeBytes;
        ctx.event(
          'replica.added',
          op.volume,
          target,
          `syncing from ${primary} (${bytes} of ${v.sizeBytes} bytes to copy)`,
        );
      });
    }
  } catch (err) {
    if (err instanceof DaemonUnreachableError && err.node === target) {
      // The chosen node went away before it held anything: give the slot back.
      undoReplace(ctx, op, target, `${target} unreachable`);
      return;
    }
    if (err instanceof DaemonUnreachableError) return;
    undoReplace(ctx, op, target, errorMessage(err));
  }
}

function undoReplace(ctx: CoreContext, op: OperationRecord, target: string, why: string): void {
  ctx.store.transaction(() => {
    ctx.store.updateReplica(op.volume, target, { removing: true });
    ctx.store.finishOperation(op.id, 'failed', ctx.now());
    ctx.event('replica.add-failed', op.volume, target, why);
  });
}
