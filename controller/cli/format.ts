/** What the admin commands print for people (tables); `--output json` prints the API's objects. */
import { formatSize } from '../../common/size.js';
import { formatTable } from '../../common/table.js';
import type { BackupManifest, EventView, NodeView, VolumeView } from '../api/schemas.js';

export const size = (bytes: number): string => formatSize(BigInt(bytes));

/** Sync of the volume's replicas: `-` when none runs, else the lowest percent. */
function syncOf(v: VolumeView): string {
  const running = v.replicas.map((r) => r.syncPercent).filter((p): p is number => p !== null);
  return running.length ? `${Math.floor(Math.min(...running))}%` : '-';
}

function backupOf(v: VolumeView): string {
  if (!v.backup) return '-';
  const every =
    v.backup.intervalSeconds !== undefined ? `every ${v.backup.intervalSeconds}s` : `cron ${v.backup.cron}`;
  return `${every}, keep ${v.backup.retain}`;
}

/** A phase that needs a person's attention is shouted, never blended in. */
function phaseOf(v: VolumeView): string {
  return v.phase === 'split-brain' || v.phase === 'lost' || v.phase === 'failed'
    ? v.phase.toUpperCase()
    : v.phase;
}

export function formatVolumeTable(volumes: readonly VolumeView[]): string {
  return formatTable([
    ['NAME', 'SIZE', 'PHASE', 'PRIMARY', 'REPLICAS', 'SYNC', 'FS', 'BACKUP'],
    ...volumes.map((v) => [
      v.name,
      size(v.sizeBytes),
      phaseOf(v),
      v.primary ?? '-',
      v.replicas.map((r) => r.node).join(','),
      syncOf(v),
      v.filesystem ?? '-',
      backupOf(v),
    ]),
  ]);
}

export function formatVolumeDetail(v: VolumeView): string {
  const lines = [
    formatTable([
      ['Name:', v.name],
      ['Size:', `${size(v.sizeBytes)} (${v.thin ? 'thin' : 'thick'})`],
      ['Phase:', phaseOf(v)],
      ...(v.message ? [['Message:', v.message]] : []),
      ['Primary:', v.primary ?? '-'],
      ['Epoch:', String(v.epoch)],
      ['Filesystem:', v.filesystem ?? '-'],
      ['Mount point:', v.mountPoint ?? '-'],
      ['Run on:', v.schedulingHint.join(', ') || '-'],
      ['DRBD:', `minor ${v.minor}, port ${v.port}`],
      ['Backup:', v.backup ? `${backupOf(v)}, to ${v.backup.target}` : '-'],
      ['Workload:', v.workloadUnit ?? '-'],
      ['Created:', v.createdAt],
    ]),
    '',
    formatTable([
      ['NODE', 'ROLE', 'DISK', 'CONNECTION', 'OUT OF SYNC', 'SYNC', 'OUTDATED'],
      ...v.replicas.map((r) => [
        r.node,
        r.role,
        r.disk,
        r.connection,
        size(r.outOfSyncBytes),
        r.syncPercent === null ? '-' : `${Math.floor(r.syncPercent)}%`,
        r.outdated ? 'yes' : 'no',
      ]),
    ]),
  ];
  if (v.phase === 'split-brain')
    lines.unshift('SPLIT BRAIN: the replicas diverged; data on one side must be discarded by hand.', '');
  return lines.join('\n');
}

function labelsOf(labels: Record<string, string>): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  return pairs.length ? pairs.join(',') : '-';
}

export function formatNodeTable(nodes: readonly NodeView[]): string {
  return formatTable([
    ['NAME', 'HEALTH', 'ADDRESS', 'ZONE', 'VOLUMES', 'FREE', 'CAPACITY', 'LABELS'],
    ...nodes.map((n) => [
      n.name,
      n.draining ? `${n.health},draining` : n.health,
      n.address,
      n.zone ?? '-',
      String(n.volumes),
      size(n.freeBytes),
      size(n.capacityBytes),
      labelsOf(n.labels),
    ]),
  ]);
}

export function formatNodeDetail(n: NodeView): string {
  return formatTable([
    ['Name:', n.name],
    ['URL:', n.url],
    ['Address:', n.address],
    ['Health:', n.health],
    ['Draining:', n.draining ? 'yes' : 'no'],
    ['Last drain:', n.drain ? `${n.drain.state}${n.drain.message ? `: ${n.drain.message}` : ''}` : '-'],
    ['Last heartbeat:', n.lastHeartbeatAt ?? 'never'],
    ['Zone:', n.zone ?? '-'],
    ['Labels:', labelsOf(n.labels)],
    ['Capacity:', size(n.capacityBytes)],
    ['Free:', size(n.freeBytes)],
    ['Reserved:', size(n.reservedBytes)],
    ['Volumes:', String(n.volumes)],
  ]);
}

export function formatBackupTable(backups: readonly BackupManifest[]): string {
  return formatTable([
    ['ID', 'CREATED', 'SIZE', 'COMPRESSED', 'SOURCE', 'SHA256'],
    ...backups.map((b) => [
      b.id,
      b.createdAt,
      size(b.sizeBytes),
      size(b.compressedBytes),
      b.sourceNode,
      b.sha256.slice(0, 12),
    ]),
  ]);
}

export function formatEventRows(events: readonly EventView[], header: boolean): string {
  const rows = events.map((e) => [e.at, e.type, e.volume ?? '-', e.node ?? '-', e.message]);
  return formatTable(header ? [['TIME', 'TYPE', 'VOLUME', 'NODE', 'MESSAGE'], ...rows] : rows);
}
