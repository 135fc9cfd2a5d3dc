/**
 * Create, resize and delete, journaled step by step so that a controller killed at any
 * point finishes (or rolls back) when it starts again. Every daemon call is idempotent:
 * PUT of the same spec, delete of a gone volume, resize to the current size.
 */
import { randomBytes } from 'node:crypto';
import {
  ConflictError,
  errorMessage,
  NoSpaceError,
  NotFoundError,
  ValidationError,
} from '../../common/errors.js';
import { NAME_PATTERN } from '../../daemon/api/schemas.js';
import type { VolumeCreate } from '../api/schemas.js';
import { DaemonHttpError, DaemonUnreachableError } from '../daemon-client.js';
import { placeReplicas } from '../placement.js';
import type { OperationRecord, VolumeRecord } from '../store/store.js';
import { type CoreContext, placementNodes, specFor } from './context.js';

const NAME = new RegExp(NAME_PATTERN);

/** The daemon answered with an error (as opposed to not answering at all). */
export function isRefusal(err: unknown): err is DaemonHttpError {
  return err instanceof DaemonHttpError;
}

/** The answer to give the caller for a daemon's refusal. */
export function callerError(err: DaemonHttpError): Error {
  if (err.status === 507) return new NoSpaceError(err.message);
  return new ConflictError(err.message);
}

function normalise(
  req: VolumeCreate,
): Omit<VolumeRecord, 'phase' | 'message' | 'epoch' | 'primary' | 'minor' | 'port' | 'secret' | 'createdAt'> {
  return {
    name: req.name,
    sizeBytes: req.sizeBytes,
    thin: req.thin ?? true,
    filesystem: req.filesystem ?? null,
    mountPoint: req.mountPoint ?? null,
    nodeSelector: req.nodeSelector ?? {},
    preferredNode: req.preferredNode ?? null,
    backup: req.backup ?? null,
    workloadUnit: req.workloadUnit ?? null,
  };
}

function sameRequest(v: VolumeRecord, req: VolumeCreate): boolean {
  const want = normalise(req);
  const have = normalise({ ...v, nodeSelector: v.nodeSelector } as VolumeCreate);
  return (
    JSON.stringify({ ...want, preferredNode: null }) === JSON.stringify({ ...have, preferredNode: null })
  );
}

export function validateCreate(req: VolumeCreate): void {
  if (typeof req.name !== 'string' || !NAME.test(req.name))
    throw new ValidationError('name', `"${req.name}" is not a valid volume name`);
  if (!Number.isSafeInteger(req.sizeBytes) || req.sizeBytes < 4 * 1024 * 1024)
    throw new ValidationError('sizeBytes', 'must be a whole number of bytes, at least 4 MiB');
}

/** Places and records the volume in one transaction, then provisions it. */
export async function createVolume(
  ctx: CoreContext,
  req: VolumeCreate,
  runOp: (op: OperationRecord) => Promise<void>,
): Promise<{ volume: VolumeRecord; created: boolean }> {
  validateCreate(req);
  const existing = ctx.store.getVolume(req.name);
  if (existing) {
    if (!sameRequest(existing, req))
      throw new ConflictError(`volume "${req.name}" exists with a different spec`);
    return { volume: existing, created: false };
  }
  // No await between reading capacity and reserving it: concurrent creates cannot both
  // count the same free bytes.
  const op = ctx.store.transaction(() => {
    const placement = placeReplicas(
      { sizeBytes: req.sizeBytes, nodeSelector: req.nodeSelector, preferredNode: req.preferredNode ?? null },
      placementNodes(ctx),
    );
    if (!placement.ok) throw new NoSpaceError(`cannot place volume "${req.name}": ${placement.reason}`);
    const [primary, secondary] = placement.nodes as [string, string];
    const { minor, port } = ctx.store.allocate(req.name, ctx.config.minorRange, ctx.config.portRange);
    const now = ctx.now();
    ctx.store.insertVolume({
      ...normalise(req),
      phase: 'creating',
      message: null,
      epoch: 1,
      primary,
      minor,
      port,
      // Hex: a secret reaches drbdadm's config, which refuses one starting with "-" (base64url
      // can start with it: one volume in 64 failed to provision).
      secret: randomBytes(24).toString('hex'),
      createdAt: now,
    });
    for (const node of [primary, secondary]) {
      ctx.store.addReplica({ volume: req.name, node, outdatedAtEpoch: null, removing: false, addedAt: now });
      ctx.store.reserve(req.name, node, req.sizeBytes);
    }
    ctx.event(
      'volume.placed',
      req.name,
      primary,
      `Primary ${primary}, Secondary ${secondary}, minor ${minor}, port ${port}`,
    );
    return ctx.store.startOperation('create', req.name, 'placed', { primary, secondary }, now);
  });
  await runOp(op);
  return { volume: ctx.store.getVolume(req.name) as VolumeRecord, created: true };
}

/** Resumable: each step is a daemon call whose success moves the journal on. */
export async function runCreate(
  ctx: CoreContext,
  op: OperationRecord,
  startDelete: (name: string, reason: string) => Promise<void>,
): Promise<void> {
  const { primary, secondary } = op.data as { primary: string; secondary: string };
  const steps: Array<[string, string, 'primary' | 'secondary', string]> = [
    ['placed', secondary, 'secondary', 'secondary-put'],
    ['secondary-put', primary, 'primary', 'primary-put'],
  ];
  let step = op.step;
  // The daemons answer a PUT once the spec is stored; they converge after. The volume is
  // ready when the Primary's daemon says so (promoted, mounted), decided by decideVolume.
  let primaryState: string | null = null;
  try {
    for (const [from, node, role, to] of steps) {
      if (step !== from) continue;
      const v = ctx.store.getVolume(op.volume);
      if (!v) throw new NotFoundError('volume', op.volume);
      const status = await ctx
        .client(node)
        .putVolume(op.volume, specFor(ctx, v, role, role === 'primary' ? secondary : primary));
      if (role === 'primary') primaryState = status.state;
      ctx.store.transaction(() => {
        ctx.store.confirmReservation(op.volume, node, ctx.now());
        ctx.store.advanceOperation(op.id, to, null, ctx.now());
      });
      step = to;
    }
    ctx.store.transaction(() => {
      ctx.store.updateVolume(
        op.volume,
        primaryState === 'ready' || primaryState === null
          ? { phase: 'ready', message: null }
          : { phase: 'degraded', message: `provisioning: waiting for ${primary} to converge` },
      );
      ctx.store.finishOperation(op.id, 'done', ctx.now());
      ctx.event('volume.created', op.volume, primary, `Primary on ${primary}, Secondary on ${secondary}`);
    });
  } catch (err) {
    if (err instanceof DaemonUnreachableError) {
      ctx.store.updateVolume(op.volume, { message: `waiting for ${err.node}: ${err.message}` });
      ctx.log.warn({ volume: op.volume, node: err.node }, 'create waits for an unreachable daemon');
      return;
    }
    // A refusal rolls the half-made volume back (and says so), never leaves it half made.
    ctx.store.finishOperation(op.id, 'failed', ctx.now());
    ctx.event('volume.create-failed', op.volume, null, `rolled back: ${errorMessage(err)}`);
    await startDelete(op.volume, `create failed: ${errorMessage(err)}`);
    throw isRefusal(err) ? callerError(err) : err;
  }
}

export function startDelete(
  ctx: CoreContext,
  name: string,
  force: boolean,
  reason: string | null,
): OperationRecord {
  return ctx.store.transaction(() => {
    for (const op of ctx.store.listRunningOperations())
      if (op.volume === name && op.kind !== 'delete') ctx.store.finishOperation(op.id, 'failed', ctx.now());
    const running = ctx.store
      .listRunningOperations()
      .find((op) => op.volume === name && op.kind === 'delete');
    if (running) return running;
    ctx.store.updateVolume(name, { phase: 'deleting', message: reason });
    ctx.event('volume.deleting', name, null, reason ?? 'delete requested');
    return ctx.store.startOperation('delete', name, 'deleting', { force }, ctx.now());
  });
}

/**
 * Deletes on every node that holds (or may hold) the volume; the minor and port are
 * freed only when every one of those daemons confirmed, so they are never reused
 * while a node may still have the old resource.
 */
export async function runDelete(ctx: CoreContext, op: OperationRecord): Promise<void> {
  const force = (op.data as { force?: boolean }).force ?? true;
  const pending: string[] = [];
  // The Primary first: only it can refuse (mounted, Primary) a delete without force, and
  // a refusal must find the volume whole, not with its Secondary already gone.
  const primary = ctx.store.getVolume(op.volume)?.primary ?? null;
  const replicas = [...ctx.store.listReplicas(op.volume)].sort(
    (a, b) => Number(b.node === primary) - Number(a.node === primary),
  );
  const epoch = ctx.store.getVolume(op.volume)?.epoch ?? 0;
  for (const r of replicas) {
    try {
      // Not in use (nothing mounted on its Primary): made Secondary first, so a delete
      // without force does not stop at "Primary" (every volume has one). A mounted one
      // is left as it is: its daemon refuses, naming the mount.
      const seen = ctx.health.get(r.node)?.volumes.get(op.volume);
      if (
        !force &&
        r.node === primary &&
        seen?.observed.drbd?.role === 'Primary' &&
        seen.observed.mount === null
      )
        await ctx.client(r.node).demote(op.volume, epoch);
      await ctx.client(r.node).deleteVolume(op.volume, { force });
      ctx.store.transaction(() => {
        ctx.store.removeReplica(op.volume, r.node);
        ctx.store.releaseReservations(op.volume, r.node);
      });
      ctx.event('replica.removed', op.volume, r.node, 'deleted on its node');
    } catch (err) {
      if (err instanceof NotFoundError) {
        ctx.store.removeReplica(op.volume, r.node);
        continue;
      }
      if (isRefusal(err) && err.status === 409) {
        ctx.store.transaction(() => {
          ctx.store.finishOperation(op.id, 'failed', ctx.now());
          ctx.store.updateVolume(op.volume, { phase: 'degraded', message: `delete refused: ${err.message}` });
          ctx.event('volume.delete-refused', op.volume, r.node, err.message);
        });
        throw callerError(err);
      }
      pending.push(r.node);
    }
  }
  if (pending.length > 0) {
    ctx.store.updateVolume(op.volume, { message: `waiting for ${pending.join(', ')} to confirm deletion` });
    return;
  }
  ctx.store.transaction(() => {
    ctx.store.deleteVolume(op.volume);
    ctx.store.releaseReservations(op.volume);
    ctx.store.releaseAllocation(op.volume);
    ctx.store.finishOperation(op.id, 'done', ctx.now());
    ctx.event('volume.deleted', op.volume, null, 'deleted on every node; minor and port freed');
  });
}

/** Grows the volume on every replica; capacity for the growth is reserved first. */
export function startResize(ctx: CoreContext, name: string, sizeBytes: number): OperationRecord {
  return ctx.store.transaction(() => {
    const v = ctx.store.getVolume(name);
    if (!v) throw new NotFoundError('volume', name);
    if (!Number.isSafeInteger(sizeBytes))
      throw new ValidationError('sizeBytes', 'must be a whole number of bytes');
    if (sizeBytes < v.sizeBytes)
      throw new ValidationError('sizeBytes', `cannot shrink ${name} from ${v.sizeBytes} bytes`);
    if (v.phase === 'creating' || v.phase === 'deleting')
      throw new ConflictError(`volume "${name}" is ${v.phase}`);
    const growth = sizeBytes - v.sizeBytes;
    const replicas = ctx.store.listReplicas(name).filter((r) => !r.removing);
    const nodes = placementNodes(ctx);
    for (const r of replicas) {
      const n = nodes.find((x) => x.name === r.node);
      const free = n ? n.freeBytes - n.reservedBytes : 0;
      if (growth > 0 && free < growth)
        throw new NoSpaceError(`cannot grow ${name} by ${growth} bytes: ${r.node} has ${free} bytes free`);
    }
    for (const r of replicas) if (growth > 0) ctx.store.reserve(name, r.node, growth);
    ctx.store.updateVolume(name, { sizeBytes });
    return ctx.store.startOperation('resize', name, 'resizing', { sizeBytes, from: v.sizeBytes }, ctx.now());
  });
}

export async function runResize(ctx: CoreContext, op: OperationRecord): Promise<void> {
  const { sizeBytes } = op.data as { sizeBytes: number };
  const done = new Set((op.data as { done?: string[] }).done ?? []);
  for (const r of ctx.store.listReplicas(op.volume).filter((x) => !x.removing)) {
    if (done.has(r.node)) continue;
    try {
      await ctx.client(r.node).resize(op.volume, sizeBytes);
    } catch (err) {
      if (err instanceof DaemonUnreachableError) return;
      ctx.store.finishOperation(op.id, 'failed', ctx.now());
      ctx.event('volume.resize-failed', op.volume, r.node, errorMessage(err));
      throw isRefusal(err) ? callerError(err) : err;
    }
    done.add(r.node);
    ctx.store.transaction(() => {
      ctx.store.confirmReservation(op.volume, r.node, ctx.now());
      ctx.store.advanceOperation(op.id, 'resizing', { ...op.data, done: [...done] }, ctx.now());
    });
  }
  ctx.store.finishOperation(op.id, 'done', ctx.now());
  ctx.event('volume.resized', op.volume, null, `now ${sizeBytes} bytes on every replica`);
}
