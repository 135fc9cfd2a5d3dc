/**
 * The controller's REST contract (`/v1/...` on TCP 7690). The `xlss` admin commands
 * talk to it and nothing else; daemons call `/v1/fence` and `/v1/resync-done` on it.
 */
import { type Static, Type } from 'typebox';
import {
  AbsPath,
  BackupManifest,
  BackupPolicy,
  ErrorBody,
  FenceAnswer,
  FenceAsk,
  Ipv4,
  Job,
  Name,
  ResyncDone,
} from '../../daemon/api/schemas.js';

export { BackupManifest, ErrorBody, FenceAnswer, FenceAsk, Job, Name, ResyncDone };

/** Without additionalProperties: false a Record's key pattern would let any key through. */
export const Labels = Type.Record(
  Type.String({ pattern: '^[a-z0-9]([a-z0-9./-]{0,61}[a-z0-9])?$' }),
  Type.String({ pattern: '^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$' }),
  { additionalProperties: false },
);

export const NodeAdd = Type.Object(
  {
    name: Name,
    /** http(s)://host:port of the node's daemon. */
    url: Type.String({ pattern: '^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?$', maxLength: 200 }),
    /** Replication address (DRBD) when it differs from the URL's host. */
    address: Type.Optional(Ipv4),
    /** File (on the controller's machine) holding the daemon's bearer token. */
    tokenFile: AbsPath,
    labels: Type.Optional(Labels),
    zone: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]{1,63}$' })),
  },
  { additionalProperties: false },
);
export type NodeAdd = Static<typeof NodeAdd>;

export const NodeHealth = Type.Union([
  Type.Literal('online'),
  Type.Literal('suspect'),
  Type.Literal('offline'),
  Type.Literal('unknown'),
]);

/** How the node's last drain went: running, done, or given up with what is left and why. */
export const DrainStatus = Type.Object({
  state: Type.Union([Type.Literal('running'), Type.Literal('done'), Type.Literal('incomplete')]),
  message: Type.Union([Type.String(), Type.Null()]),
});
export type DrainStatus = Static<typeof DrainStatus>;

export const NodeView = Type.Object({
  name: Name,
  url: Type.String(),
  address: Ipv4,
  labels: Type.Record(Type.String(), Type.String()),
  zone: Type.Union([Type.String(), Type.Null()]),
  health: NodeHealth,
  draining: Type.Boolean(),
  /** Since this controller started; null when no drain ran. */
  drain: Type.Union([DrainStatus, Type.Null()]),
  lastHeartbeatAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  capacityBytes: Type.Integer(),
  freeBytes: Type.Integer(),
  reservedBytes: Type.Integer(),
  volumes: Type.Integer(),
});
export type NodeView = Static<typeof NodeView>;

export const VolumeCreate = Type.Object(
  {
    name: Name,
    sizeBytes: Type.Integer({ minimum: 4 * 1024 * 1024, maximum: 2 ** 53 - 1 }),
    thin: Type.Optional(Type.Boolean({ default: true })),
    filesystem: Type.Optional(Type.Union([Type.Literal('ext4'), Type.Literal('xfs'), Type.Null()])),
    mountPoint: Type.Optional(Type.Union([AbsPath, Type.Null()])),
    /** Nodes must carry all of these labels. */
    nodeSelector: Type.Optional(Labels),
    /** Wanted Primary (e.g. where the workload runs); placement picks otherwise. */
    preferredNode: Type.Optional(Name),
    backup: Type.Optional(Type.Union([BackupPolicy, Type.Null()])),
    /** bare metal: a systemd unit started on the Primary after failover. */
    workloadUnit: Type.Optional(
      Type.Union([Type.String({ pattern: '^[A-Za-z0-9@._-]+\\.service$', maxLength: 100 }), Type.Null()]),
    ),
  },
  { additionalProperties: false },
);
export type VolumeCreate = Static<typeof VolumeCreate>;

export const ReplicaView = Type.Object({
  node: Name,
  role: Type.String(),
  disk: Type.String(),
  connection: Type.String(),
  outOfSyncBytes: Type.Integer(),
  syncPercent: Type.Union([Type.Number(), Type.Null()]),
  /** Marked outdated by the controller for the current epoch (cannot become Primary). */
  outdated: Type.Boolean(),
});

export const VolumePhase = Type.Union([
  Type.Literal('creating'),
  Type.Literal('ready'),
  Type.Literal('degraded'),
  Type.Literal('failing-over'),
  Type.Literal('resyncing'),
  Type.Literal('deleting'),
  Type.Literal('failed'),
  Type.Literal('split-brain'),
  Type.Literal('lost'),
]);

export const VolumeView = Type.Object({
  name: Name,
  sizeBytes: Type.Integer(),
  thin: Type.Boolean(),
  filesystem: Type.Union([Type.String(), Type.Null()]),
  mountPoint: Type.Union([Type.String(), Type.Null()]),
  phase: VolumePhase,
  message: Type.Union([Type.String(), Type.Null()]),
  epoch: Type.Integer(),
  primary: Type.Union([Name, Type.Null()]),
  replicas: Type.Array(ReplicaView),
  /** Scheduling hint: nodes the workload may run on, the Primary first. */
  schedulingHint: Type.Array(Name),
  minor: Type.Integer(),
  port: Type.Integer(),
  backup: Type.Union([BackupPolicy, Type.Null()]),
  workloadUnit: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
});
export type VolumeView = Static<typeof VolumeView>;

export const VolumeResize = Type.Object(
  { sizeBytes: Type.Integer({ minimum: 4 * 1024 * 1024, maximum: 2 ** 53 - 1 }) },
  { additionalProperties: false },
);

export const FailoverBody = Type.Object({ to: Type.Optional(Name) }, { additionalProperties: false });

export const EventView = Type.Object({
  id: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  /** e.g. node.offline, volume.created, failover.detected, failover.fenced, failover.promoted, failover.mounted, failover.workload-started, replica.added, split-brain */
  type: Type.String(),
  volume: Type.Union([Name, Type.Null()]),
  node: Type.Union([Name, Type.Null()]),
  message: Type.String(),
});
export type EventView = Static<typeof EventView>;

export const EventsQuery = Type.Object(
  {
    volume: Type.Optional(Name),
    since: Type.Optional(Type.Integer({ minimum: 0, description: 'events with id > since' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  },
  { additionalProperties: false },
);

export const BackupRunBody = Type.Object({}, { additionalProperties: false });
export const RestoreRequest = Type.Object(
  {
    volume: Name,
    /** Newest backup when absent. */
    backupId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9T:._-]+$', maxLength: 100 })),
    /** Node to restore onto; placement picks otherwise. */
    node: Type.Optional(Name),
  },
  { additionalProperties: false },
);

/*
 * Routes (all but /healthz need `Authorization: Bearer <token>`):
 *   GET  /healthz, /readyz, /metrics
 *   GET  /v1/nodes                      -> { nodes: NodeView[] }
 *   POST /v1/nodes            NodeAdd   -> NodeView (201; 200 when equal)
 *   GET  /v1/nodes/{name}               -> NodeView
 *   DELETE /v1/nodes/{name}             -> 204 (409 while it holds replicas)
 *   POST /v1/nodes/{name}/drain         -> { jobId } ; progress in events
 *   GET  /v1/volumes                    -> { volumes: VolumeView[] }
 *   POST /v1/volumes          VolumeCreate -> VolumeView (201; 200 when equal; 507 with why when no placement)
 *   GET  /v1/volumes/{name}             -> VolumeView
 *   POST /v1/volumes/{name}/resize VolumeResize -> VolumeView
 *   DELETE /v1/volumes/{name}?force=    -> 204
 *   POST /v1/volumes/{name}/failover FailoverBody -> VolumeView (planned switchover)
 *   POST /v1/volumes/{name}/backups     -> Job
 *   GET  /v1/volumes/{name}/backups     -> { backups: BackupManifest[] }
 *   POST /v1/restore          RestoreRequest -> Job
 *   GET  /v1/jobs/{id}                  -> Job
 *   GET  /v1/events?volume=&since=&limit= -> { events: EventView[] }
 *   POST /v1/fence            FenceAsk  -> FenceAnswer  (from daemons)
 *   POST /v1/resync-done      ResyncDone -> 204         (from daemons)
 */
