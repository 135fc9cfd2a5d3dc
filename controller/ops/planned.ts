/**
 * Planned switchover without loss (demote, wait for the target UpToDate, promote) and
 * drain (every Primary away, then every replica off the node, one volume at a time).
 */

import { ConflictError, errorMessage, NotFoundError, ValidationError } from '../../common/errors.js';
import { DaemonUnreachableError } from '../daemon-client.js';
import { reachable } from '../health.js';
import type { VolumeRecord } from '../store/store.js';
import { type CoreContext, specFor } from './context.js';

export interface PlannedOptions {
  /** How many times to read the target's state while waiting for UpToDate. */
  waitAttempts?: number;
  /** Pause between reads (real time; the sync runs on the nodes). */
  waitMs?: number;
  /** How many times to ask for the demote when the daemon refuses it (a busy mount). */
  demoteAttempts?: number;
}

export async function plannedFailover(
  ctx: CoreContext,
  name: string,
  to: string | undefined,
  options: PlannedOptions = {},
): Promise<VolumeRecord> {
  const v = ctx.store.getVolume(name);
  if (!v) throw new NotFoundError('volume', name);
  if (!v.primary) throw new ConflictError(`volume "${name}" has no Primary`);
  const replicas = ctx.store.listReplicas(name).filter((r) => !r.removing);
  const target = to ?? replicas.find((r) => r.node !== v.primary)?.node;
  if (!target) throw new ConflictError(`volume "${name}" has no other replica to fail over to`);
  if (target === v.primary) return v;
  const row = replicas.find((r) => r.node === target);
  if (!row) throw new ValidationError('to', `${target} holds no replica of ${name}`);
  if (row.outdatedAtEpoch !== null)
    throw new ConflictError(`${target} is outdated for ${name}; wait for its resync`);
  if (!reachable(ctx.health.health(target)) || !reachable(ctx.health.health(v.primary)))
    throw new ConflictError(`both ${v.primary} and ${target} must be online for a planned failover`);

  const startedAt = ctx.now();
  const old = v.primary;
  const epoch = v.epoch + 1;
  ctx.event('failover.planned', name, target, `switching Primary from ${old} to ${target} at epoch ${epoch}`);
  // The epoch is raised in the store before any daemon hears of it, so that after a
  // crash here the store's epoch is never older than a daemon's.
  ctx.store.updateVolume(name, { epoch, phase: 'failing-over', message: `switching to ${target}` });
  try {
    await demote(ctx, name, old, epoch, options);
  } catch (err) {
    ctx.store.updateVolume(name, { phase: 'ready', message: null });
    throw err;
  }
  try {
    await waitUpToDate(ctx, name, target, options);
    const next = { ...v, epoch, primary: target };
    await ctx
      .client(target)
      .promote(name, { epoch, mount: true, ...(v.workloadUnit ? { workloadUnit: v.workloadUnit } : {}) });
    ctx.store.updateVolume(name, { primary: target, phase: 'ready', message: null });
    ctx.event('failover.promoted', name, target, `Primary at epoch ${epoch} (planned)`);
    await ctx.client(target).putVolume(name, specFor(ctx, next, 'primary', old));
    await ctx.client(old).putVolume(name, specFor(ctx, next, 'secondary', target));
  } catch (err) {
    // Give the Primary back to the node that had it: it is still UpToDate.
    ctx.event('failover.planned-failed', name, target, `${errorMessage(err)}; ${old} stays Primary`);
    await ctx.client(old).promote(name, { epoch, mount: true });
    ctx.store.updateVolume(name, { phase: 'ready', message: null });
    throw err instanceof ConflictError
      ? err
      : new ConflictError(`failover of ${name} to ${target} failed: ${errorMessage(err)}`);
  }
  ctx.metrics.failovers.inc({ kind: 'planned' });
  ctx.metrics.failoverDuration.observe({ kind: 'planned' }, (ctx.now() - startedAt) / 1000);
  return ctx.store.getVolume(name) as VolumeRecord;
}

/**
 * The demote unmounts first, and a workload that has a file open at that moment makes
 * umount fail ("target is busy"); one that opens files only briefly lets a later try
 * through. Seen in the lab: a drain's switchover failed on the first busy umount.
 */
async function demote(
  ctx: CoreContext,
  name: string,
  node: string,
  epoch: number,
  options: PlannedOptions,
): Promise<void> {
  const attempts = options.demoteAttempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    try {
      await ctx.client(node).demote(name, epoch);
      return;
    } catch (err) {
      if (attempt >= attempts || err instanceof DaemonUnreachableError) throw err;
      ctx.log.warn({ volume: name, node, attempt, err: errorMessage(err) }, 'demote refused; asking again');
      await new Promise((r) => setTimeout(r, options.waitMs ?? 1000));
    }
  }
}

async function waitUpToDate(
  ctx: CoreContext,
  name: string,
  node: string,
  options: PlannedOptions,
): Promise<void> {
  const attempts = options.waitAttempts ?? 30;
  for (let i = 0; i < attempts; i++) {
    const s = await ctx.client(node).getVolume(name);
    const drbd = s?.observed.drbd;
    if (drbd && drbd.disk === 'UpToDate' && drbd.connection === 'Connected') return;
    await new Promise((r) => setTimeout(r, options.waitMs ?? 1000));
  }
  throw new ConflictError(`${node} did not become UpToDate for ${name}`);
}
