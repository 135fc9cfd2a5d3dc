import type { ConnectionState, DiskState, ReplicationState, Role } from './enums.js';

export interface DeviceState {
  volume: number;
  minor?: number;
  disk: DiskState;
  /** DRBD 9: a diskless client. */
  client?: boolean;
  /** DRBD 9 with quorum configured. */
  quorum?: boolean;
  backingDev?: string;
  /** From `--statistics`, KiB. */
  sizeKiB?: number;
}

export interface PeerDeviceState {
  volume: number;
  replication: ReplicationState;
  peerDisk: DiskState;
  /** Percent of the resync done; only while a resync runs. */
  resyncDonePercent?: number;
  resyncSuspended?: string;
  /** From `--statistics`, KiB. */
  outOfSyncKiB?: number;
}

export interface ConnectionInfo {
  peerNodeId?: number;
  connName?: string;
  connection: ConnectionState;
  peerRole: Role;
  /** By volume number. */
  peerDevices: Record<number, PeerDeviceState>;
}

export interface HelperCall {
  helper: string;
  /** Absent while the handler runs. */
  status?: number;
}

export interface ResourceState {
  name: string;
  role: Role;
  /** `no`, or why I/O is frozen (e.g. `fencing`, `user`, `quorum`). */
  suspended: string;
  mayPromote?: boolean;
  /** By volume number. */
  devices: Record<number, DeviceState>;
  /** By peer node id (or connection name when there is none). */
  connections: Record<string, ConnectionInfo>;
  lastHelper?: HelperCall;
}

export type DrbdState = Record<string, ResourceState>;
