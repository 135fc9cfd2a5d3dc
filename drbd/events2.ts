import type { ConnectionState, DiskState, ReplicationState, Role } from './enums.js';
import { CONNECTION_STATES, DISK_STATES, REPLICATION_STATES, ROLES, SYNCING_STATES } from './enums.js';
import { boolValue, DrbdParseError, enumValue, floatValue, intValue, parseKeyValues } from './fields.js';
import type { ConnectionInfo, DrbdState, ResourceState } from './state.js';

export type Events2Kind = 'exists' | 'create' | 'change' | 'destroy' | 'call' | 'response' | 'rename';
const KINDS: readonly Events2Kind[] = ['exists', 'create', 'change', 'destroy', 'call', 'response', 'rename'];
export type Events2Object = 'resource' | 'connection' | 'device' | 'peer-device' | 'path' | 'helper';
const OBJECTS: readonly Events2Object[] = [
  'resource',
  'connection',
  'device',
  'peer-device',
  'path',
  'helper',
];

interface Base {
  kind: Events2Kind;
  /** Present with `--timestamps`. */
  timestamp?: string;
  resource: string;
}

/** The whole current state has been printed (`exists -`). */
export interface Events2DumpEnd {
  object: 'end-of-dump';
  kind: 'exists';
  timestamp?: string;
}
export interface Events2Resource extends Base {
  object: 'resource';
  role?: Role;
  suspended?: string;
  mayPromote?: boolean;
  newName?: string;
}
export interface Events2Connection extends Base {
  object: 'connection';
  peerNodeId?: number;
  connName?: string;
  connection?: ConnectionState;
  peerRole?: Role;
}
export interface Events2Device extends Base {
  object: 'device';
  volume: number;
  minor?: number;
  disk?: DiskState;
  client?: boolean;
  quorum?: boolean;
  backingDev?: string;
  sizeKiB?: number;
}
export interface Events2PeerDevice extends Base {
  object: 'peer-device';
  peerNodeId?: number;
  connName?: string;
  volume: number;
  replication?: ReplicationState;
  peerDisk?: DiskState;
  resyncDonePercent?: number;
  resyncSuspended?: string;
  outOfSyncKiB?: number;
}
export interface Events2Path extends Base {
  object: 'path';
  peerNodeId?: number;
  connName?: string;
  local?: string;
  peer?: string;
  established?: boolean;
}
export interface Events2Helper extends Base {
  object: 'helper';
  helper: string;
  peerNodeId?: number;
  volume?: number;
  status?: number;
}

export type Events2Event =
  | Events2DumpEnd
  | Events2Resource
  | Events2Connection
  | Events2Device
  | Events2PeerDevice
  | Events2Path
  | Events2Helper;

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:?\d{2}|Z)?$/;

function peerIdentity(f: Record<string, string>, line: string): { peerNodeId?: number; connName?: string } {
  const peerNodeId = intValue('peer-node-id', f['peer-node-id'], line);
  const connName = f['conn-name'];
  if (peerNodeId === undefined && connName === undefined) {
    throw new DrbdParseError('missing peer-node-id and conn-name', line);
  }
  return { ...(peerNodeId !== undefined && { peerNodeId }), ...(connName !== undefined && { connName }) };
}

function required(f: Record<string, string>, key: string, line: string): string {
  const v = f[key];
  if (v === undefined) throw new DrbdParseError(`missing ${key}`, line);
  return v;
}

function defined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/**
 * One line of `drbdsetup events2 [--timestamps] [--statistics]` (DRBD 8.4 with
 * drbd-utils 9, and DRBD 9). Pure. Unknown keys are ignored; unknown state names and
 * malformed or cut lines throw {@link DrbdParseError}.
 */
export function parseEvents2Line(line: string): Events2Event {
  const words = line
    .trim()
    .split(/\s+/)
    .filter((w) => w.length > 0);
  let timestamp: string | undefined;
  if (words[0] !== undefined && TIMESTAMP.test(words[0])) timestamp = words.shift();
  const [kind, object, ...rest] = words;
  if (kind === undefined || !(KINDS as readonly string[]).includes(kind)) {
    throw new DrbdParseError('unknown event kind', line);
  }
  if (object === '-') {
    if (kind !== 'exists' || rest.length > 0) throw new DrbdParseError('malformed end-of-dump marker', line);
    return defined({ object: 'end-of-dump', kind: 'exists', timestamp });
  }
  if (object === undefined || !(OBJECTS as readonly string[]).includes(object)) {
    throw new DrbdParseError('unknown event object', line);
  }
  const f = parseKeyValues(rest, line);
  const base = { kind: kind as Events2Kind, timestamp, resource: required(f, 'name', line) };
  switch (object as Events2Object) {
    case 'resource':
      return defined<Events2Resource>({
        ...base,
        object: 'resource',
        role: enumValue(ROLES, 'role', f.role, line),
        suspended: f.suspended,
        mayPromote: boolValue('may_promote', f.may_promote, line),
        newName: f.new_name,
      });
    case 'connection':
      return defined<Events2Connection>({
        ...base,
        object: 'connection',
        ...peerIdentity(f, line),
        connection: enumValue(CONNECTION_STATES, 'connection', f.connection, line),
        peerRole: enumValue(ROLES, 'role', f.role, line),
      });
    case 'device':
      return defined<Events2Device>({
        ...base,
        object: 'device',
        volume: intValue('volume', required(f, 'volume', line), line) as number,
        minor: intValue('minor', f.minor, line),
        disk: enumValue(DISK_STATES, 'disk', f.disk, line),
        client: boolValue('client', f.client, line),
        quorum: boolValue('quorum', f.quorum, line),
        backingDev: f.backing_dev,
        sizeKiB: intValue('size', f.size, line),
      });
    case 'peer-device':
      return defined<Events2PeerDevice>({
        ...base,
        object: 'peer-device',
        ...peerIdentity(f, line),
        volume: intValue('volume', required(f, 'volume', line), line) as number,
        replication: enumValue(REPLICATION_STATES, 'replication', f.replication, line),
        peerDisk: enumValue(DISK_STATES, 'peer-disk', f['peer-disk'], line),
        resyncDonePercent: floatValue('done', f.done, line),
        resyncSuspended: f['resync-suspended'],
        outOfSyncKiB: intValue('out-of-sync', f['out-of-sync'], line),
      });
    case 'path':
      return defined<Events2Path>({
        ...base,
        object: 'path',
        ...peerIdentity(f, line),
        local: f.local,
        peer: f.peer,
        established: boolValue('established', f.established, line),
      });
    case 'helper':
      return defined<Events2Helper>({
        ...base,
        object: 'helper',
        helper: required(f, 'helper', line),
        peerNodeId: intValue('peer-node-id', f['peer-node-id'], line),
        volume: intValue('volume', f.volume, line),
        status: intValue('status', f.status, line),
      });
  }
}

function connectionKey(e: { peerNodeId?: number; connName?: string }): string {
  return e.peerNodeId !== undefined ? String(e.peerNodeId) : `name:${e.connName}`;
}

function emptyResource(name: string): ResourceState {
  return { name, role: 'Unknown', suspended: 'no', devices: {}, connections: {} };
}

function emptyConnection(e: { peerNodeId?: number; connName?: string }): ConnectionInfo {
  return defined<ConnectionInfo>({
    peerNodeId: e.peerNodeId,
    connName: e.connName,
    connection: 'StandAlone',
    peerRole: 'Unknown',
    peerDevices: {},
  });
}

function copyResource(r: ResourceState): ResourceState {
  const connections: Record<string, ConnectionInfo> = {};
  for (const [k, c] of Object.entries(r.connections)) {
    const peerDevices: ConnectionInfo['peerDevices'] = {};
    for (const [v, pd] of Object.entries(c.peerDevices)) peerDevices[Number(v)] = { ...pd };
    connections[k] = { ...c, peerDevices };
  }
  const devices: ResourceState['devices'] = {};
  for (const [v, d] of Object.entries(r.devices)) devices[Number(v)] = { ...d };
  return { ...r, devices, connections, ...(r.lastHelper && { lastHelper: { ...r.lastHelper } }) };
}

/**
 * Applies one event to the state and returns the new state (the input is not changed).
 * `change` of an object not seen yet creates it, so a missed `create` does not lose it.
 */
export function applyEvents2Event(state: DrbdState, e: Events2Event): DrbdState {
  if (e.object === 'end-of-dump') return state;
  if (e.object === 'resource' && e.kind === 'destroy') {
    const { [e.resource]: _gone, ...others } = state;
    return others;
  }
  const existing = state[e.resource];
  // Events about parts of a resource we never saw (e.g. destroy after down) change nothing.
  if (!existing && e.kind === 'destroy') return state;
  const r = existing ? copyResource(existing) : emptyResource(e.resource);
  const next: DrbdState = { ...state, [e.resource]: r };

  switch (e.object) {
    case 'resource':
      if (e.kind === 'rename' && e.newName) {
        delete next[e.resource];
        next[e.newName] = { ...r, name: e.newName };
        return next;
      }
      if (e.role) r.role = e.role;
      if (e.suspended) r.suspended = e.suspended;
      if (e.mayPromote !== undefined) r.mayPromote = e.mayPromote;
      return next;
    case 'device': {
      if (e.kind === 'destroy') {
        delete r.devices[e.volume];
        return next;
      }
      const d = r.devices[e.volume] ?? { volume: e.volume, disk: 'DUnknown' as DiskState };
      if (e.minor !== undefined) d.minor = e.minor;
      if (e.disk) d.disk = e.disk;
      if (e.client !== undefined) d.client = e.client;
      if (e.quorum !== undefined) d.quorum = e.quorum;
      if (e.backingDev !== undefined) d.backingDev = e.backingDev;
      if (e.sizeKiB !== undefined) d.sizeKiB = e.sizeKiB;
      r.devices[e.volume] = d;
      return next;
    }
    case 'connection': {
      const key = connectionKey(e);
      if (e.kind === 'destroy') {
        delete r.connections[key];
        return next;
      }
      const c = r.connections[key] ?? emptyConnection(e);
      if (e.connName !== undefined) c.connName = e.connName;
      if (e.connection) c.connection = e.connection;
      if (e.peerRole) c.peerRole = e.peerRole;
      r.connections[key] = c;
      return next;
    }
    case 'peer-device': {
      const key = connectionKey(e);
      const c = r.connections[key] ?? emptyConnection(e);
      r.connections[key] = c;
      if (e.kind === 'destroy') {
        delete c.peerDevices[e.volume];
        return next;
      }
      const pd = c.peerDevices[e.volume] ?? {
        volume: e.volume,
        replication: 'Off' as ReplicationState,
        peerDisk: 'DUnknown' as DiskState,
      };
      if (e.replication) pd.replication = e.replication;
      if (e.peerDisk) pd.peerDisk = e.peerDisk;
      if (e.resyncSuspended !== undefined) pd.resyncSuspended = e.resyncSuspended;
      if (e.outOfSyncKiB !== undefined) pd.outOfSyncKiB = e.outOfSyncKiB;
      if (e.resyncDonePercent !== undefined) pd.resyncDonePercent = e.resyncDonePercent;
      // A finished or broken-off resync leaves no meaningful percentage behind.
      if (!SYNCING_STATES.includes(pd.replication)) delete pd.resyncDonePercent;
      c.peerDevices[e.volume] = pd;
      return next;
    }
    case 'helper':
      r.lastHelper =
        e.kind === 'response' && e.status !== undefined
          ? { helper: e.helper, status: e.status }
          : { helper: e.helper };
      return next;
    case 'path':
      return existing ? next : state;
  }
}

/** Folds a sequence of events2 lines into state; stops at the first bad line with its error. */
export function reduceEvents2Lines(lines: readonly string[], initial: DrbdState = {}): DrbdState {
  return lines.reduce((s, l) => applyEvents2Event(s, parseEvents2Line(l)), initial);
}
