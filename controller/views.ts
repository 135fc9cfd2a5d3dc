/** Store records and health observations rendered as the API's views. */
import type { DrainStatus, NodeView, VolumeView } from './api/schemas.js';
import type { HealthMonitor } from './health.js';
import type { NodeRecord, ReplicaRecord, VolumeRecord } from './store/store.js';

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export function nodeView(
  n: NodeRecord,
  health: HealthMonitor,
  reservedBytes: number,
  volumes: number,
  drain: DrainStatus | null = null,
): NodeView {
  const o = health.get(n.name);
  const facts = o?.facts ?? n.facts;
  return {
    name: n.name,
    url: n.url,
    address: n.address ?? facts?.address ?? '0.0.0.0',
    labels: { ...(facts?.labels ?? {}), ...n.labels },
    zone: n.zone ?? facts?.zone ?? null,
    health: health.health(n.name),
    draining: n.draining,
    drain,
    lastHeartbeatAt: iso(o?.lastOkAt ?? n.lastHeartbeatAt),
    capacityBytes: facts?.vg.sizeBytes ?? 0,
    freeBytes: facts?.vg.freeBytes ?? 0,
    reservedBytes,
    volumes,
  };
}

export function volumeView(v: VolumeRecord, replicas: ReplicaRecord[], health: HealthMonitor): VolumeView {
  const active = replicas.filter((r) => !r.removing);
  // Scheduling hint: the Primary first, then the other replicas.
  const ordered = [...active].sort((a, b) => Number(b.node === v.primary) - Number(a.node === v.primary));
  return {
    name: v.name,
    sizeBytes: v.sizeBytes,
    thin: v.thin,
    filesystem: v.filesystem,
    mountPoint: v.mountPoint,
    phase: v.phase,
    message: v.message,
    epoch: v.epoch,
    primary: v.primary,
    replicas: ordered.map((r) => {
      const o = health.get(r.node);
      const drbd = o?.health === 'online' ? o.volumes.get(v.name)?.observed.drbd : undefined;
      return {
        node: r.node,
        role: drbd?.role ?? 'Unknown',
        disk: drbd?.disk ?? 'DUnknown',
        connection: drbd?.connection ?? (o?.health === 'online' ? 'Missing' : 'Unknown'),
        outOfSyncBytes: drbd?.outOfSyncBytes ?? 0,
        syncPercent: drbd?.syncPercent ?? null,
        outdated: r.outdatedAtEpoch !== null,
      };
    }),
    schedulingHint: ordered.map((r) => r.node),
    minor: v.minor,
    port: v.port,
    backup: v.backup,
    workloadUnit: v.workloadUnit,
    createdAt: new Date(v.createdAt).toISOString(),
  };
}
