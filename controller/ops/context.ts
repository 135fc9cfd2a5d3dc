/** What every controller operation needs: state, daemons, health, clock, events. */

import { NotFoundError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { VolumeSpec } from '../../daemon/api/schemas.js';
import type { ControllerCoreConfig } from '../api/service.js';
import type { DaemonClient, DaemonClientFactory } from '../daemon-client.js';
import { type HealthMonitor, reachable } from '../health.js';
import type { ControllerMetrics } from '../metrics.js';
import type { PlacementNode } from '../placement.js';
import type { EventRecord, Store, VolumeRecord } from '../store/store.js';

export interface CoreContext {
  store: Store;
  config: ControllerCoreConfig;
  log: Logger;
  now: () => number;
  health: HealthMonitor;
  metrics: ControllerMetrics;
  client(node: string): DaemonClient;
  event(type: string, volume: string | null, node: string | null, message: string): EventRecord;
}

export function makeClientCache(store: Store, factory: DaemonClientFactory): (node: string) => DaemonClient {
  const clients = new Map<string, { key: string; client: DaemonClient }>();
  return (node) => {
    const record = store.getNode(node);
    if (!record) throw new NotFoundError('node', node);
    const key = `${record.url} ${record.tokenFile}`;
    const cached = clients.get(node);
    if (cached && cached.key === key) return cached.client;
    const client = factory({ name: node, url: record.url, tokenFile: record.tokenFile });
    clients.set(node, { key, client });
    return client;
  };
}

/** The replication address: given at registration, else what the daemon reports. */
export function nodeAddress(ctx: CoreContext, node: string): string {
  const record = ctx.store.getNode(node);
  const address = record?.address ?? record?.facts?.address ?? ctx.health.get(node)?.facts?.address;
  if (!address) throw new NotFoundError('address of node', node);
  return address;
}

/** The spec one node's daemon gets for a volume (PUT is idempotent). */
export function specFor(
  ctx: CoreContext,
  v: VolumeRecord,
  role: 'primary' | 'secondary',
  peer: string | null,
): VolumeSpec {
  return {
    sizeBytes: v.sizeBytes,
    thin: v.thin,
    peer: peer ? { node: peer, address: nodeAddress(ctx, peer) } : null,
    drbd: { minor: v.minor, port: v.port, secret: v.secret },
    role,
    epoch: v.epoch,
    filesystem: v.filesystem,
    mountPoint: v.mountPoint,
    backup: v.backup,
  };
}

/** Capacity as placement sees it: the daemons' facts minus what is reserved. */
export function placementNodes(ctx: CoreContext): PlacementNode[] {
  const reserved = new Map<string, number>();
  for (const r of ctx.store.listReservations()) reserved.set(r.node, (reserved.get(r.node) ?? 0) + r.bytes);
  const volumes = new Map<string, number>();
  for (const r of ctx.store.listReplicas()) volumes.set(r.node, (volumes.get(r.node) ?? 0) + 1);
  return ctx.store.listNodes().map((n) => {
    const facts = ctx.health.get(n.name)?.facts ?? n.facts;
    return {
      name: n.name,
      labels: { ...(facts?.labels ?? {}), ...n.labels },
      zone: n.zone ?? facts?.zone ?? null,
      capacityBytes: facts?.vg.sizeBytes ?? 0,
      freeBytes: facts?.vg.freeBytes ?? 0,
      reservedBytes: reserved.get(n.name) ?? 0,
      volumes: volumes.get(n.name) ?? 0,
      schedulable: reachable(ctx.health.health(n.name)) && !n.draining,
    };
  });
}

/** Other active replica of a two-replica volume. */
export function peerOf(ctx: CoreContext, volume: string, node: string): string | null {
  const other = ctx.store.listReplicas(volume).find((r) => !r.removing && r.node !== node);
  return other?.node ?? null;
}
