// The value sets drbdsetup prints (drbd_strings.c; DRBD user's guide "Resource roles",
// "Disk states", "Connection states", "Replication states"). Both generations: 8.4 with
// drbd-utils 9 prints the DRBD 9 names, and the 8.4-only WF* connection names are kept
// in case a 8.4 kernel reports them.
export const ROLES = ['Primary', 'Secondary', 'Unknown'] as const;
export type Role = (typeof ROLES)[number];

export const DISK_STATES = [
  'Diskless',
  'Attaching',
  'Detaching',
  'Failed',
  'Negotiating',
  'Inconsistent',
  'Outdated',
  'DUnknown',
  'Consistent',
  'UpToDate',
] as const;
export type DiskState = (typeof DISK_STATES)[number];

export const CONNECTION_STATES = [
  'StandAlone',
  'Disconnecting',
  'Unconnected',
  'Timeout',
  'BrokenPipe',
  'NetworkFailure',
  'ProtocolError',
  'TearDown',
  'Connecting',
  'Connected',
  'WFConnection',
  'WFReportParams',
] as const;
export type ConnectionState = (typeof CONNECTION_STATES)[number];

export const REPLICATION_STATES = [
  'Off',
  'Established',
  'StartingSyncS',
  'StartingSyncT',
  'WFBitMapS',
  'WFBitMapT',
  'WFSyncUUID',
  'SyncSource',
  'SyncTarget',
  'VerifyS',
  'VerifyT',
  'PausedSyncS',
  'PausedSyncT',
  'Ahead',
  'Behind',
] as const;
export type ReplicationState = (typeof REPLICATION_STATES)[number];

export const SYNCING_STATES: readonly ReplicationState[] = [
  'StartingSyncS',
  'StartingSyncT',
  'WFBitMapS',
  'WFBitMapT',
  'WFSyncUUID',
  'SyncSource',
  'SyncTarget',
  'PausedSyncS',
  'PausedSyncT',
];
