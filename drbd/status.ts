import { CONNECTION_STATES, DISK_STATES, REPLICATION_STATES, ROLES, SYNCING_STATES } from './enums.js';
import { boolValue, DrbdParseError, enumValue, floatValue, intValue, parseKeyValues } from './fields.js';
import type { ConnectionInfo, DeviceState, PeerDeviceState, ResourceState } from './state.js';

type Current =
  | { kind: 'resource' }
  | { kind: 'device'; d: DeviceState; f: Record<string, string> }
  | { kind: 'connection'; c: ConnectionInfo; indent: number; f: Record<string, string> }
  | { kind: 'peer-device'; pd: PeerDeviceState; f: Record<string, string> };

/**
 * Parses `drbdsetup status <res> --verbose --statistics` (same layout for DRBD 8.4 with
 * drbd-utils 9 and DRBD 9): the resource line at column 0, devices (`volume:`) and
 * connections (a peer name) indented under it, peer devices (`volume:`) under their
 * connection, and deeper-indented lines continuing the object above. Pure.
 */
export function parseStatus(text: string): ResourceState[] {
  const out: ResourceState[] = [];
  let res: ResourceState | undefined;
  let resFields: Record<string, string> = {};
  let cur: Current | undefined;
  let curIndent = 0;
  let conn: { c: ConnectionInfo; indent: number } | undefined;

  const finish = (line: string) => {
    if (!cur || !res) return;
    if (cur.kind === 'device') {
      const f = cur.f;
      const disk = enumValue(DISK_STATES, 'disk', f.disk, line);
      if (!disk) throw new DrbdParseError('device without disk state', line);
      Object.assign(cur.d, { disk });
      if (f.minor) cur.d.minor = intValue('minor', f.minor, line) as number;
      if (f.client) cur.d.client = boolValue('client', f.client, line) as boolean;
      if (f.quorum) cur.d.quorum = boolValue('quorum', f.quorum, line) as boolean;
      if (f.backing_dev) cur.d.backingDev = f.backing_dev;
      if (f.size) cur.d.sizeKiB = intValue('size', f.size, line) as number;
    } else if (cur.kind === 'connection') {
      const f = cur.f;
      const state = enumValue(CONNECTION_STATES, 'connection', f.connection, line);
      if (!state) throw new DrbdParseError('connection without state', line);
      cur.c.connection = state;
      cur.c.peerRole = enumValue(ROLES, 'role', f.role, line) ?? 'Unknown';
      const id = intValue('node-id', f['node-id'], line);
      if (id !== undefined) cur.c.peerNodeId = id;
    } else if (cur.kind === 'peer-device') {
      const f = cur.f;
      const replication = enumValue(REPLICATION_STATES, 'replication', f.replication, line);
      const peerDisk = enumValue(DISK_STATES, 'peer-disk', f['peer-disk'], line);
      if (!replication || !peerDisk)
        throw new DrbdParseError('peer device without replication or peer-disk', line);
      cur.pd.replication = replication;
      cur.pd.peerDisk = peerDisk;
      const done = floatValue('done', f.done, line);
      if (done !== undefined && SYNCING_STATES.includes(replication)) cur.pd.resyncDonePercent = done;
      if (f['resync-suspended']) cur.pd.resyncSuspended = f['resync-suspended'];
      const oos = intValue('out-of-sync', f['out-of-sync'], line);
      if (oos !== undefined) cur.pd.outOfSyncKiB = oos;
    }
  };
  const finishResource = (line: string) => {
    finish(line);
    if (!res) return;
    res.role = enumValue(ROLES, 'role', resFields.role, line) ?? 'Unknown';
    if (!resFields.role) throw new DrbdParseError('resource without role', line);
    res.suspended = resFields.suspended ?? 'no';
    const mp = boolValue('may_promote', resFields.may_promote, line);
    if (mp !== undefined) res.mayPromote = mp;
    out.push(res);
  };

  const lines = text.split('\n');
  let last = '';
  for (const raw of lines) {
    if (raw.trim() === '') continue;
    last = raw;
    const indent = raw.length - raw.trimStart().length;
    const [first = '', ...rest] = raw.trim().split(/\s+/);
    const named = !first.includes(':');
    if (indent === 0) {
      if (!named) throw new DrbdParseError('expected a resource name', raw);
      finishResource(raw);
      res = { name: first, role: 'Unknown', suspended: 'no', devices: {}, connections: {} };
      resFields = parseKeyValues(rest, raw);
      cur = { kind: 'resource' };
      curIndent = 0;
      conn = undefined;
      continue;
    }
    if (!res) throw new DrbdParseError('indented line before any resource', raw);
    if (!named && !first.startsWith('volume:')) {
      if (indent <= curIndent)
        throw new DrbdParseError('continuation line not indented under its object', raw);
      const f = parseKeyValues([first, ...rest], raw);
      if (cur?.kind === 'resource') Object.assign(resFields, f);
      else if (cur) Object.assign(cur.f, f);
      continue;
    }
    finish(raw);
    if (named) {
      const f = parseKeyValues(rest, raw);
      const c: ConnectionInfo = {
        connName: first,
        connection: 'StandAlone',
        peerRole: 'Unknown',
        peerDevices: {},
      };
      const key = f['node-id'] ?? `name:${first}`;
      res.connections[key] = c;
      conn = { c, indent };
      cur = { kind: 'connection', c, indent, f };
      curIndent = indent;
      continue;
    }
    if (!first.startsWith('volume:')) throw new DrbdParseError('expected a volume or a peer', raw);
    const f = parseKeyValues([first, ...rest], raw);
    const volume = intValue('volume', f.volume, raw) as number;
    if (conn && indent > conn.indent) {
      const pd: PeerDeviceState = { volume, replication: 'Off', peerDisk: 'DUnknown' };
      conn.c.peerDevices[volume] = pd;
      cur = { kind: 'peer-device', pd, f };
    } else {
      conn = undefined;
      const d: DeviceState = { volume, disk: 'DUnknown' };
      res.devices[volume] = d;
      cur = { kind: 'device', d, f };
    }
    curIndent = indent;
  }
  finishResource(last);
  return out;
}
