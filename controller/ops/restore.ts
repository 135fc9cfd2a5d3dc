/**
 * Both replicas lost: the newest backup goes onto a new pair of healthy nodes. DRBD 8.4
 * needs two nodes, and the daemon restores only into a Primary that holds no filesystem
 * yet, so the journal runs: Secondary spec on B, Primary spec on A without a filesystem
 * (nothing mkfs'd or mounted), wait until A is Primary, restore job into A (it writes
 * through DRBD, so B gets the data too), then the full spec on A (mounts the restored
 * filesystem) and the workload. A controller killed at any step finishes on restart.
 */

import { errorMessage } from '../../common/errors.js';
import { DaemonHttpError, DaemonUnreachableError } from '../daemon-client.js';
import { placeReplicas } from '../placement.js';
import type { OperationRecord, VolumeRecord } from '../store/store.js';
import type { ActDeps } from './act.js';
import { type CoreContext, placementNodes, specFor } from './context.js';

export type RestoreOpData = {
  /** Takes the restore and becomes Primary. */
  primary: string;
  secondary: string;
  lost: string[];
  backupId: string;
  backupAt: string;
  jobId: string | null;
  /** A restore was asked of the daemon at least once (the answer may not have come back). */
  requested?: boolean;
  /** Consecutive checks that found the Primary-to-be's volume failed. */
  failedChecks?: number;
};

/** A daemon's 'failed' can be a pass that caught DRBD mid-change: believed when it lasts. */
const FAILED_CHECKS = 3;

/** Journal steps, in order. */
export type RestoreStep =
  | 'placed'
  | 'secondary-put'
  | 'primary-put'
  | 'restore-requested'
  | 'restoring'
  | 'restored';

const NOTICE = /restored from backup \S+; data since that backup is lost/;

export function restoreNotice(backupId: string): string {
  return `restored from backup ${backupId}; data since that backup is lost`;
}

/**
 * The message a volume gets when its phase changes: a restore notice stays on it (the
 * data since the backup is gone for good; a later "ready" does not make that untrue).
 */
export function keepRestoreNotice(current: string | null, next: string | null): string | null {
  const notice = current?.match(NOTICE)?.[0];
  if (!notice || next?.includes(notice)) return next;
  return next ? `${next}; ${notice}` : notice;
}

function noticeOnce(d: ActDeps, key: string, emit: () => void): void {
  if (d.noticed.has(key)) return;
  d.noticed.add(key);
  emit();
}

/** Chooses the pair and the backup, records both in one transaction, then runs the journal. */
export async function startRestore(d: ActDeps, v: VolumeRecord, lost: string[]): Promise<void> {
  const { ctx } = d;
  const backup = v.backup;
  if (!backup || ctx.store.listRunningOperations().some((op) => op.volume === v.name)) return;
  const request = { sizeBytes: v.sizeBytes, count: 2, nodeSelector: v.nodeSelector, exclude: lost };
  const probe = placeReplicas(request, placementNodes(ctx));
  if (!probe.ok) {
    // Never onto one node: DRBD 8.4 cannot run a volume without its peer.
    noticeOnce(d, `${v.name}:restore:${probe.reason}`, () =>
      ctx.event('restore.blocked', v.name, null, probe.reason),
    );
    return;
  }
  const asked = probe.nodes[0] as string;
  const backups = await ctx.client(asked).listBackups(v.name, backup.target);
  const newest = [...backups].sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
  if (!newest) {
    noticeOnce(d, `${v.name}:restore:none`, () =>
      ctx.event('restore.no-backup', v.name, null, `no backup of ${v.name} in ${backup.target}`),
    );
    return;
  }
  // Placement again inside the transaction that reserves: nothing between reading
  // capacity and reserving it (the listing above awaited a daemon).
  const op = ctx.store.transaction(() => {
    const placement = placeReplicas(request, placementNodes(ctx));
    if (!placement.ok) return placement.reason;
    const [primary, secondary] = placement.nodes as [string, string];
    for (const node of lost) ctx.store.updateReplica(v.name, node, { removing: true });
    for (const node of [primary, secondary]) {
      ctx.store.addReplica({
        volume: v.name,
        node,
        outdatedAtEpoch: null,
        removing: false,
        addedAt: ctx.now(),
      });
      ctx.store.reserve(v.name, node, v.sizeBytes);
    }
    ctx.store.updateVolume(v.name, {
      epoch: v.epoch + 1,
      primary,
      message: `restoring backup ${newest.id} onto ${primary} and ${secondary}`,
    });
    ctx.event(
      'restore.started',
      v.name,
      primary,
      `both replicas lost (${lost.join(', ')}): restoring backup ${newest.id} of ${newest.createdAt} onto ${primary} (Primary) and ${secondary} (Secondary)`,
    );
    const data: RestoreOpData = {
      primary,
      secondary,
      lost,
      backupId: newest.id,
      backupAt: newest.createdAt,
      jobId: null,
    };
    return ctx.store.startOperation('restore', v.name, 'placed', data, ctx.now());
  });
  if (typeof op === 'string') {
    noticeOnce(d, `${v.name}:restore:${op}`, () => ctx.event('restore.blocked', v.name, null, op));
    return;
  }
  await d.runOp(op);
}

/** Level-triggered: each call moves the journal as far as the daemons allow, then returns. */
export async function runRestore(ctx: CoreContext, op: OperationRecord): Promise<void> {
  const data = { ...(op.data as RestoreOpData) };
  const { primary, secondary } = data;
  const v = ctx.store.getVolume(op.volume);
  if (!v?.backup) {
    ctx.store.finishOperation(op.id, 'failed', ctx.now());
    ctx.event('restore.failed', op.volume, primary, 'the volume or its backup policy is gone');
    return;
  }
  const target = v.backup.target;
  let step = op.step as RestoreStep;
  const advance = (to: RestoreStep, confirm: string | null = null) => {
    ctx.store.transaction(() => {
      if (confirm) ctx.store.confirmReservation(op.volume, confirm, ctx.now());
      ctx.store.advanceOperation(op.id, to, data, ctx.now());
    });
    step = to;
  };
  try {
    if (step === 'placed') {
      await ctx.client(secondary).putVolume(op.volume, specFor(ctx, v, 'secondary', primary));
      advance('secondary-put', secondary);
    }
    if (step === 'secondary-put') {
      // No filesystem yet: the daemon would make one on first use, and the restore
      // refuses a volume that is mounted or not empty. No backup policy yet either: a
      // scheduled backup of the empty device would become the newest backup.
      const bare = {
        ...specFor(ctx, v, 'primary', secondary),
        filesystem: null,
        mountPoint: null,
        backup: null,
      };
      await ctx.client(primary).putVolume(op.volume, bare);
      advance('primary-put', primary);
    }
    if (step === 'primary-put') {
      const status = await ctx.client(primary).getVolume(op.volume);
      if (status?.state === 'failed') {
        data.failedChecks = (data.failedChecks ?? 0) + 1;
        const why = `${primary}: ${status.error ?? 'volume failed'}`;
        if (data.failedChecks >= FAILED_CHECKS) throw new Error(why);
        advance('primary-put');
        waiting(ctx, op.volume, `restore waits for ${primary} to become Primary (${why})`);
        return;
      }
      data.failedChecks = 0;
      if (status?.observed.drbd?.role !== 'Primary') {
        waiting(ctx, op.volume, `restore waits for ${primary} to become Primary`);
        return;
      }
      // Journaled before the call: a controller killed in between knows it may have asked.
      advance('restore-requested');
    }
    if (step === 'restore-requested') {
      const askedBefore = data.requested === true;
      if (!askedBefore) {
        data.requested = true;
        advance('restore-requested');
      }
      const started = await startJob(ctx, op, primary, data.backupId, target, askedBefore);
      if (started === 'wait') return;
      if (started === 'finished-earlier') advance('restored');
      else {
        data.jobId = started;
        advance('restoring');
        ctx.event(
          'restore.copying',
          op.volume,
          primary,
          `restore job ${started} writes backup ${data.backupId} into ${primary}, replicated to ${secondary}`,
        );
      }
    }
    if (step === 'restoring') {
      const job = data.jobId ? await ctx.client(primary).job(data.jobId) : null;
      if (!job) {
        // The daemon restarted and forgot the job: it lets an interrupted restore start again.
        data.jobId = null;
        advance('restore-requested');
        return;
      }
      if (job.state === 'running') {
        waiting(ctx, op.volume, `restoring backup ${data.backupId} onto ${primary}: ${job.percent}%`);
        return;
      }
      if (job.state === 'failed')
        throw new Error(`restore job ${job.id} on ${primary}: ${job.error ?? 'failed'}`);
      advance('restored');
    }
    if (step === 'restored') await mountAndFinish(ctx, op, v, data);
  } catch (err) {
    if (err instanceof DaemonUnreachableError) {
      waiting(ctx, op.volume, `restore waits for ${err.node}: ${err.message}`);
      return;
    }
    fail(ctx, op, data, errorMessage(err));
  }
}

/**
 * Starts the daemon's restore job: its id, 'wait' while a job of an earlier attempt
 * still runs there, or 'finished-earlier'. The daemon lets an interrupted or failed
 * restore start again (it remembers one in progress), and refuses a volume that is not
 * empty once a restore has completed, checksum verified. So "not empty" after an earlier
 * request, on a device created for this restore and never mounted, is that request's
 * completed job, seen by a controller killed before it journaled the job's id.
 */
async function startJob(
  ctx: CoreContext,
  op: OperationRecord,
  node: string,
  backupId: string,
  target: string,
  askedBefore: boolean,
): Promise<string | 'wait' | 'finished-earlier'> {
  const volume = op.volume;
  try {
    return (await ctx.client(node).restore(volume, { backupId, target })).id;
  } catch (err) {
    if (!(err instanceof DaemonHttpError) || err.status !== 409) throw err;
    if (/has a (restore|backup) running/.test(err.message)) {
      waiting(ctx, volume, `restore waits: ${err.message}`);
      return 'wait';
    }
    // On a first request "not empty" is what it says (a thick LV on reused extents).
    if (askedBefore && /is not empty/.test(err.message)) {
      ctx.log.warn({ volume, node, backupId }, 'restore already completed before the controller restarted');
      return 'finished-earlier';
    }
    throw err;
  }
}

async function mountAndFinish(
  ctx: CoreContext,
  op: OperationRecord,
  v: VolumeRecord,
  data: RestoreOpData,
): Promise<void> {
  const { primary, secondary } = data;
  const client = ctx.client(primary);
  // The full spec: the daemon finds the restored filesystem (blkid) and mounts it, no mkfs.
  await client.putVolume(op.volume, specFor(ctx, v, 'primary', secondary));
  const status = await client.promote(op.volume, {
    epoch: v.epoch,
    peerFenced: false,
    mount: true,
    ...(v.workloadUnit ? { workloadUnit: v.workloadUnit } : {}),
  });
  if (v.filesystem && v.mountPoint && !status.observed.mount) {
    if (status.error) throw new Error(`${primary} did not mount ${v.mountPoint}: ${status.error}`);
    waiting(ctx, op.volume, `restored; waiting for ${primary} to mount ${v.mountPoint}`);
    return;
  }
  ctx.store.transaction(() => {
    ctx.store.updateVolume(op.volume, { phase: 'degraded', message: restoreNotice(data.backupId) });
    ctx.store.finishOperation(op.id, 'done', ctx.now());
    if (status.observed.mount)
      ctx.event('restore.mounted', op.volume, primary, `mounted on ${status.observed.mount.path}`);
    if (v.workloadUnit)
      ctx.event('restore.workload-started', op.volume, primary, `started ${v.workloadUnit}`);
    ctx.event(
      'restore.done',
      op.volume,
      primary,
      `restored backup ${data.backupId} of ${data.backupAt} (checksum verified by ${primary}); Primary on ${primary}, Secondary on ${secondary}; data since that backup is lost`,
    );
  });
}

/** Said on the volume (and logged) when it changes, not every tick. */
function waiting(ctx: CoreContext, volume: string, message: string): void {
  const v = ctx.store.getVolume(volume);
  if (!v || v.message === message) return;
  ctx.store.updateVolume(volume, { message });
  ctx.log.info({ volume, message }, 'restore waits');
}

/**
 * A refusal stops the restore where it is, and says so. The volume stays 'lost' (its data
 * did not come back), which the failover loop leaves alone while the new pair is online:
 * a healthy-looking empty pair is never reported ready. The pair stays for an operator.
 */
function fail(ctx: CoreContext, op: OperationRecord, data: RestoreOpData, why: string): void {
  ctx.store.transaction(() => {
    ctx.store.finishOperation(op.id, 'failed', ctx.now());
    ctx.store.updateVolume(op.volume, {
      phase: 'lost',
      message: `restore of backup ${data.backupId} onto ${data.primary} and ${data.secondary} failed: ${why}`,
    });
    ctx.event('restore.failed', op.volume, data.primary, why);
  });
  ctx.log.error({ volume: op.volume, backupId: data.backupId, err: why }, 'restore failed');
}
