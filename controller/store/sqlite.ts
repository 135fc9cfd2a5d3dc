/**
 * The Store in one SQLite file (better-sqlite3): WAL with synchronous=FULL so that a
 * committed step survives power loss, schema migrations keyed by `user_version`.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { NoSpaceError } from '../../common/errors.js';
import type { NodeInfo } from '../../daemon/api/schemas.js';
import type {
  EventRecord,
  NodeRecord,
  OperationKind,
  OperationRecord,
  OperationState,
  Range,
  ReplicaRecord,
  ReservationRecord,
  Store,
  VolumeRecord,
} from './store.js';

/** Each entry moves the schema one version up; never edit a released one. */
const MIGRATIONS: string[] = [
  `CREATE TABLE nodes (
     name TEXT PRIMARY KEY, url TEXT NOT NULL, address TEXT, token_file TEXT NOT NULL,
     labels TEXT NOT NULL, zone TEXT, draining INTEGER NOT NULL DEFAULT 0,
     facts TEXT, last_heartbeat_at INTEGER);
   CREATE TABLE volumes (
     name TEXT PRIMARY KEY, spec TEXT NOT NULL, phase TEXT NOT NULL, message TEXT,
     epoch INTEGER NOT NULL, primary_node TEXT, minor INTEGER NOT NULL, port INTEGER NOT NULL,
     secret TEXT NOT NULL, created_at INTEGER NOT NULL);
   CREATE TABLE replicas (
     volume TEXT NOT NULL, node TEXT NOT NULL, outdated_at_epoch INTEGER,
     removing INTEGER NOT NULL DEFAULT 0, added_at INTEGER NOT NULL,
     PRIMARY KEY (volume, node));
   CREATE TABLE allocations (
     volume TEXT PRIMARY KEY, minor INTEGER NOT NULL UNIQUE, port INTEGER NOT NULL UNIQUE);
   CREATE TABLE reservations (
     volume TEXT NOT NULL, node TEXT NOT NULL, bytes INTEGER NOT NULL, confirmed_at INTEGER,
     PRIMARY KEY (volume, node));
   CREATE TABLE events (
     id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, type TEXT NOT NULL,
     volume TEXT, node TEXT, message TEXT NOT NULL);
   CREATE INDEX events_volume ON events (volume, id);
   CREATE TABLE operations (
     id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, volume TEXT NOT NULL,
     step TEXT NOT NULL, data TEXT NOT NULL, state TEXT NOT NULL,
     started_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
   CREATE INDEX operations_running ON operations (state);`,
];

type Row = Record<string, unknown>;

/** The parts of a volume kept as one JSON column (they change together, rarely). */
type VolumeSpecColumn = Pick<
  VolumeRecord,
  | 'sizeBytes'
  | 'thin'
  | 'filesystem'
  | 'mountPoint'
  | 'nodeSelector'
  | 'preferredNode'
  | 'backup'
  | 'workloadUnit'
>;

function specColumn(v: VolumeSpecColumn): string {
  return JSON.stringify({
    sizeBytes: v.sizeBytes,
    thin: v.thin,
    filesystem: v.filesystem,
    mountPoint: v.mountPoint,
    nodeSelector: v.nodeSelector,
    preferredNode: v.preferredNode,
    backup: v.backup,
    workloadUnit: v.workloadUnit,
  });
}

/** Column values in the order both the INSERT and the UPDATE name them (name last). */
function volumeColumns(v: VolumeRecord): unknown[] {
  return [
    specColumn(v),
    v.phase,
    v.message,
    v.epoch,
    v.primary,
    v.minor,
    v.port,
    v.secret,
    v.createdAt,
    v.name,
  ];
}

function nodeFromRow(r: Row): NodeRecord {
  return {
    name: r.name as string,
    url: r.url as string,
    address: (r.address as string | null) ?? null,
    tokenFile: r.token_file as string,
    labels: JSON.parse(r.labels as string),
    zone: (r.zone as string | null) ?? null,
    draining: r.draining === 1,
    facts: r.facts ? (JSON.parse(r.facts as string) as NodeInfo) : null,
    lastHeartbeatAt: (r.last_heartbeat_at as number | null) ?? null,
  };
}

function volumeFromRow(r: Row): VolumeRecord {
  const spec = JSON.parse(r.spec as string) as VolumeSpecColumn;
  return {
    name: r.name as string,
    ...spec,
    phase: r.phase as VolumeRecord['phase'],
    message: (r.message as string | null) ?? null,
    epoch: r.epoch as number,
    primary: (r.primary_node as string | null) ?? null,
    minor: r.minor as number,
    port: r.port as number,
    secret: r.secret as string,
    createdAt: r.created_at as number,
  };
}

function replicaFromRow(r: Row): ReplicaRecord {
  return {
    volume: r.volume as string,
    node: r.node as string,
    outdatedAtEpoch: (r.outdated_at_epoch as number | null) ?? null,
    removing: r.removing === 1,
    addedAt: r.added_at as number,
  };
}

function operationFromRow(r: Row): OperationRecord {
  return {
    id: r.id as number,
    kind: r.kind as OperationKind,
    volume: r.volume as string,
    step: r.step as string,
    data: JSON.parse(r.data as string),
    state: r.state as OperationState,
    startedAt: r.started_at as number,
    updatedAt: r.updated_at as number,
  };
}

/** Lowest value of `range` not in `used` (sorted ascending), or null. */
function lowestFree(range: Range, used: number[]): number | null {
  let candidate = range.first;
  for (const u of used) {
    if (u < candidate) continue;
    if (u > candidate) break;
    candidate++;
  }
  return candidate <= range.last ? candidate : null;
}

export function openSqliteStore(path: string): Store {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }

  const all = (sql: string, ...params: unknown[]): Row[] => db.prepare(sql).all(...params) as Row[];
  const one = (sql: string, ...params: unknown[]): Row | undefined =>
    db.prepare(sql).get(...params) as Row | undefined;
  const run = (sql: string, ...params: unknown[]): void => {
    db.prepare(sql).run(...params);
  };

  const store: Store = {
    transaction: <T>(fn: () => T): T => db.transaction(fn)(),

    upsertNode(n) {
      run(
        `INSERT INTO nodes (name, url, address, token_file, labels, zone, draining, facts, last_heartbeat_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(name) DO UPDATE SET url = excluded.url, address = excluded.address,
           token_file = excluded.token_file, labels = excluded.labels, zone = excluded.zone,
           draining = excluded.draining`,
        n.name,
        n.url,
        n.address,
        n.tokenFile,
        JSON.stringify(n.labels),
        n.zone,
        n.draining ? 1 : 0,
        n.facts ? JSON.stringify(n.facts) : null,
        n.lastHeartbeatAt,
      );
    },
    getNode(name) {
      const r = one('SELECT * FROM nodes WHERE name = ?', name);
      return r ? nodeFromRow(r) : null;
    },
    listNodes: () => all('SELECT * FROM nodes ORDER BY name').map(nodeFromRow),
    removeNode(name) {
      run('DELETE FROM nodes WHERE name = ?', name);
    },
    setNodeFacts(name, facts, at) {
      run(
        'UPDATE nodes SET facts = ?, last_heartbeat_at = ? WHERE name = ?',
        JSON.stringify(facts),
        at,
        name,
      );
    },
    setNodeDraining(name, draining) {
      run('UPDATE nodes SET draining = ? WHERE name = ?', draining ? 1 : 0, name);
    },

    insertVolume(v) {
      run(
        `INSERT INTO volumes (spec, phase, message, epoch, primary_node, minor, port, secret, created_at, name)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ...volumeColumns(v),
      );
    },
    getVolume(name) {
      const r = one('SELECT * FROM volumes WHERE name = ?', name);
      return r ? volumeFromRow(r) : null;
    },
    listVolumes: () => all('SELECT * FROM volumes ORDER BY name').map(volumeFromRow),
    updateVolume(name, patch) {
      const current = store.getVolume(name);
      if (!current) return;
      run(
        `UPDATE volumes SET spec = ?, phase = ?, message = ?, epoch = ?, primary_node = ?, minor = ?, port = ?,
           secret = ?, created_at = ? WHERE name = ?`,
        ...volumeColumns({ ...current, ...patch, name }),
      );
    },
    deleteVolume(name) {
      run('DELETE FROM volumes WHERE name = ?', name);
    },

    listReplicas(volume) {
      const rows =
        volume === undefined
          ? all('SELECT * FROM replicas ORDER BY volume, added_at, node')
          : all('SELECT * FROM replicas WHERE volume = ? ORDER BY added_at, node', volume);
      return rows.map(replicaFromRow);
    },
    addReplica(r) {
      run(
        `INSERT INTO replicas (volume, node, outdated_at_epoch, removing, added_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(volume, node) DO UPDATE SET outdated_at_epoch = excluded.outdated_at_epoch,
           removing = excluded.removing`,
        r.volume,
        r.node,
        r.outdatedAtEpoch,
        r.removing ? 1 : 0,
        r.addedAt,
      );
    },
    updateReplica(volume, node, patch) {
      if ('outdatedAtEpoch' in patch)
        run(
          'UPDATE replicas SET outdated_at_epoch = ? WHERE volume = ? AND node = ?',
          patch.outdatedAtEpoch,
          volume,
          node,
        );
      if (patch.removing !== undefined)
        run(
          'UPDATE replicas SET removing = ? WHERE volume = ? AND node = ?',
          patch.removing ? 1 : 0,
          volume,
          node,
        );
    },
    removeReplica(volume, node) {
      run('DELETE FROM replicas WHERE volume = ? AND node = ?', volume, node);
    },

    allocate(volume, minors, ports) {
      return store.transaction(() => {
        const existing = one('SELECT minor, port FROM allocations WHERE volume = ?', volume);
        if (existing) return { minor: existing.minor as number, port: existing.port as number };
        const usedMinors = all('SELECT minor FROM allocations ORDER BY minor').map((r) => r.minor as number);
        const usedPorts = all('SELECT port FROM allocations ORDER BY port').map((r) => r.port as number);
        const minor = lowestFree(minors, usedMinors);
        if (minor === null) throw new NoSpaceError(`no free DRBD minor in ${minors.first}-${minors.last}`);
        const port = lowestFree(ports, usedPorts);
        if (port === null) throw new NoSpaceError(`no free DRBD port in ${ports.first}-${ports.last}`);
        run('INSERT INTO allocations (volume, minor, port) VALUES (?, ?, ?)', volume, minor, port);
        return { minor, port };
      });
    },
    releaseAllocation(volume) {
      run('DELETE FROM allocations WHERE volume = ?', volume);
    },
    listAllocations: () =>
      all('SELECT volume, minor, port FROM allocations ORDER BY minor').map((r) => ({
        volume: r.volume as string,
        minor: r.minor as number,
        port: r.port as number,
      })),

    reserve(volume, node, bytes) {
      run(
        `INSERT INTO reservations (volume, node, bytes, confirmed_at) VALUES (?, ?, ?, NULL)
         ON CONFLICT(volume, node) DO UPDATE SET bytes = excluded.bytes, confirmed_at = NULL`,
        volume,
        node,
        bytes,
      );
    },
    confirmReservation(volume, node, at) {
      run('UPDATE reservations SET confirmed_at = ? WHERE volume = ? AND node = ?', at, volume, node);
    },
    releaseConfirmedReservations(node, factsAt) {
      run(
        'DELETE FROM reservations WHERE node = ? AND confirmed_at IS NOT NULL AND confirmed_at < ?',
        node,
        factsAt,
      );
    },
    releaseReservations(volume, node) {
      if (node === undefined) run('DELETE FROM reservations WHERE volume = ?', volume);
      else run('DELETE FROM reservations WHERE volume = ? AND node = ?', volume, node);
    },
    listReservations: () =>
      all('SELECT * FROM reservations ORDER BY node, volume').map(
        (r): ReservationRecord => ({
          volume: r.volume as string,
          node: r.node as string,
          bytes: r.bytes as number,
          confirmedAt: (r.confirmed_at as number | null) ?? null,
        }),
      ),

    addEvent(e) {
      const info = db
        .prepare('INSERT INTO events (at, type, volume, node, message) VALUES (?, ?, ?, ?, ?)')
        .run(e.at, e.type, e.volume, e.node, e.message);
      return { id: Number(info.lastInsertRowid), ...e };
    },
    listEvents({ volume, since, limit }) {
      const rows = all(
        `SELECT * FROM events WHERE id > ? AND (? IS NULL OR volume = ?) ORDER BY id LIMIT ?`,
        since ?? 0,
        volume ?? null,
        volume ?? null,
        limit ?? 1000,
      );
      return rows.map(
        (r): EventRecord => ({
          id: r.id as number,
          at: r.at as number,
          type: r.type as string,
          volume: (r.volume as string | null) ?? null,
          node: (r.node as string | null) ?? null,
          message: r.message as string,
        }),
      );
    },

    startOperation(kind, volume, step, data, at) {
      const info = db
        .prepare(
          `INSERT INTO operations (kind, volume, step, data, state, started_at, updated_at)
           VALUES (?, ?, ?, ?, 'running', ?, ?)`,
        )
        .run(kind, volume, step, JSON.stringify(data), at, at);
      return {
        id: Number(info.lastInsertRowid),
        kind,
        volume,
        step,
        data,
        state: 'running',
        startedAt: at,
        updatedAt: at,
      };
    },
    advanceOperation(id, step, data, at) {
      if (data === null) run('UPDATE operations SET step = ?, updated_at = ? WHERE id = ?', step, at, id);
      else
        run(
          'UPDATE operations SET step = ?, data = ?, updated_at = ? WHERE id = ?',
          step,
          JSON.stringify(data),
          at,
          id,
        );
    },
    finishOperation(id, state, at) {
      run('UPDATE operations SET state = ?, updated_at = ? WHERE id = ?', state, at, id);
    },
    listRunningOperations: () =>
      all(`SELECT * FROM operations WHERE state = 'running' ORDER BY id`).map(operationFromRow),

    close() {
      db.close();
    },
  };
  return store;
}
