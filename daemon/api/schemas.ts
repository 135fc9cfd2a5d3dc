/**
 * The daemon's REST contract (`/v1/...` on TCP 7680). The controller imports these
 * types and schemas only, never daemon code. Every route validates params, body and
 * response against them; sizes are integer bytes (safe up to 8 PiB in a JSON number).
 */
import { type Static, Type } from 'typebox';

/** Volume and node names reach command lines: LVM, DRBD and DNS all accept this. */
export const NAME_PATTERN = '^[a-z0-9]([a-z0-9-]{0,46}[a-z0-9])?$';
export const Name = Type.String({ pattern: NAME_PATTERN });
export const Ipv4 = Type.String({ format: 'ipv4', pattern: '^[0-9.]+$', maxLength: 15 });
/** Absolute path without `..`, spaces or shell metacharacters. */
export const AbsPath = Type.String({ pattern: '^/(?!.*\\.\\.)[A-Za-z0-9_./-]*$', maxLength: 200 });

export const ErrorBody = Type.Object({
  error: Type.String({ description: 'stable code, e.g. EVALIDATION, ENOTFOUND, ECONFLICT, ENOSPACE' }),
  message: Type.String(),
  field: Type.Optional(Type.String()),
});
export type ErrorBody = Static<typeof ErrorBody>;

export const BackupPolicy = Type.Object(
  {
    /** Exactly one of intervalSeconds or cron. */
    intervalSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 31_536_000 })),
    cron: Type.Optional(Type.String({ maxLength: 100, pattern: '^[0-9*/,\\- A-Za-z?LW#]+$' })),
    retain: Type.Integer({ minimum: 1, maximum: 1000 }),
    /** Directory every node can reach (NFS in production, a shared host dir in the lab). */
    target: AbsPath,
  },
  { additionalProperties: false },
);
export type BackupPolicy = Static<typeof BackupPolicy>;

export const PeerSpec = Type.Object(
  {
    node: Name,
    address: Ipv4,
  },
  { additionalProperties: false },
);
export type PeerSpec = Static<typeof PeerSpec>;

/** What the controller PUTs to `/v1/volumes/{name}`; idempotent. */
export const VolumeSpec = Type.Object(
  {
    sizeBytes: Type.Integer({ minimum: 4 * 1024 * 1024, maximum: 2 ** 53 - 1 }),
    thin: Type.Boolean(),
    /** The other replica; null while the volume runs alone (peer lost, not yet replaced). */
    peer: Type.Union([PeerSpec, Type.Null()]),
    drbd: Type.Object(
      {
        minor: Type.Integer({ minimum: 0, maximum: 1_048_575 }),
        port: Type.Integer({ minimum: 1024, maximum: 65_535 }),
        secret: Type.String({ pattern: '^[A-Za-z0-9+/=_-]{16,64}$' }),
      },
      { additionalProperties: false },
    ),
    role: Type.Union([Type.Literal('primary'), Type.Literal('secondary')]),
    /** The controller's epoch for this volume: raised at every promotion. */
    epoch: Type.Integer({ minimum: 0 }),
    filesystem: Type.Union([Type.Literal('ext4'), Type.Literal('xfs'), Type.Null()]),
    /** Mounted on the Primary only. */
    mountPoint: Type.Union([AbsPath, Type.Null()]),
    backup: Type.Union([BackupPolicy, Type.Null()]),
  },
  { additionalProperties: false },
);
export type VolumeSpec = Static<typeof VolumeSpec>;

export const VolumeState = Type.Union([
  Type.Literal('provisioning'),
  Type.Literal('ready'),
  Type.Literal('degraded'),
  Type.Literal('syncing'),
  Type.Literal('failed'),
  Type.Literal('deleting'),
]);
export type VolumeState = Static<typeof VolumeState>;

export const ObservedVolume = Type.Object({
  lv: Type.Union([
    Type.Object({ path: Type.String(), sizeBytes: Type.Integer(), thin: Type.Boolean() }),
    Type.Null(),
  ]),
  drbd: Type.Union([
    Type.Object({
      minor: Type.Integer(),
      role: Type.String({ description: 'Primary | Secondary | Unknown' }),
      disk: Type.String({ description: 'UpToDate | Outdated | Inconsistent | Diskless | ...' }),
      suspended: Type.Boolean(),
      connection: Type.String({ description: 'Connected | StandAlone | Connecting | ...' }),
      peerRole: Type.String(),
      peerDisk: Type.String(),
      replication: Type.String({ description: 'Established | SyncSource | SyncTarget | ...' }),
      outOfSyncBytes: Type.Integer(),
      /** 0..100 while a resync runs, else null. */
      syncPercent: Type.Union([Type.Number(), Type.Null()]),
      /** True when DRBD reported a split brain for this resource. */
      splitBrain: Type.Boolean(),
    }),
    Type.Null(),
  ]),
  mount: Type.Union([Type.Object({ path: Type.String(), fstype: Type.String() }), Type.Null()]),
});
export type ObservedVolume = Static<typeof ObservedVolume>;

export const VolumeStatus = Type.Object({
  name: Name,
  spec: VolumeSpec,
  state: VolumeState,
  /** Why the volume is failed or not converging (one volume's problem never stops others). */
  error: Type.Union([Type.String(), Type.Null()]),
  observed: ObservedVolume,
  /** Epoch this node last acted on (promotion is refused for an older one). */
  epoch: Type.Integer(),
  lastBackupAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  /** A long operation in progress (initial sync, resize, backup, restore). */
  progress: Type.Union([
    Type.Object({ operation: Type.String(), percent: Type.Number(), detail: Type.String() }),
    Type.Null(),
  ]),
});
export type VolumeStatus = Static<typeof VolumeStatus>;

export const VolumeList = Type.Object({ volumes: Type.Array(VolumeStatus) });
export type VolumeList = Static<typeof VolumeList>;

export const NameParams = Type.Object({ name: Name }, { additionalProperties: false });

export const PromoteBody = Type.Object(
  {
    epoch: Type.Integer({ minimum: 0 }),
    /**
     * The controller has fenced the peer (marked it outdated / confirmed it dead) for
     * this epoch: allows `primary --force` on an UpToDate disk whose peer is gone.
     * Never promotes an Outdated or Inconsistent disk.
     */
    peerFenced: Type.Optional(Type.Boolean()),
    mount: Type.Optional(Type.Boolean({ description: 'mount after promotion (default true)' })),
    /** Bare metal: a systemd unit to start once promoted and mounted (the volume's workload). */
    workloadUnit: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9@._-]+\\.service$', maxLength: 100 })),
  },
  { additionalProperties: false },
);
export type PromoteBody = Static<typeof PromoteBody>;

export const DemoteBody = Type.Object(
  { epoch: Type.Integer({ minimum: 0 }) },
  { additionalProperties: false },
);
export type DemoteBody = Static<typeof DemoteBody>;

export const ResizeBody = Type.Object(
  { sizeBytes: Type.Integer({ minimum: 4 * 1024 * 1024, maximum: 2 ** 53 - 1 }) },
  { additionalProperties: false },
);
export type ResizeBody = Static<typeof ResizeBody>;

export const DeleteQuery = Type.Object(
  { force: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);

/** Outdate this node's disk for a volume (the controller fences a node that it can still reach). */
export const OutdateBody = Type.Object(
  { epoch: Type.Integer({ minimum: 0 }) },
  { additionalProperties: false },
);

export const BackupManifest = Type.Object({
  id: Type.String({ pattern: '^[A-Za-z0-9T:._-]+$' }),
  volume: Name,
  sizeBytes: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
  sourceNode: Name,
  /** sha256 of the uncompressed volume image, hex. */
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  compressedBytes: Type.Integer(),
  compression: Type.Literal('gzip'),
});
export type BackupManifest = Static<typeof BackupManifest>;

export const BackupList = Type.Object({ backups: Type.Array(BackupManifest) });

/** `GET /v1/volumes/{name}/backups?target=`: where to look (a policy's target). */
export const BackupListQuery = Type.Object({ target: AbsPath }, { additionalProperties: false });

/** `GET /v1/jobs/{id}`. */
export const JobParams = Type.Object(
  { id: Type.String({ pattern: '^[A-Za-z0-9._:-]{1,100}$' }) },
  { additionalProperties: false },
);

export const RestoreBody = Type.Object(
  {
    backupId: Type.String({ pattern: '^[A-Za-z0-9T:._-]+$', maxLength: 100 }),
    /** Where the backup lives (a policy's target). */
    target: AbsPath,
  },
  { additionalProperties: false },
);
export type RestoreBody = Static<typeof RestoreBody>;

export const Job = Type.Object({
  id: Type.String(),
  volume: Name,
  kind: Type.Union([Type.Literal('backup'), Type.Literal('restore')]),
  state: Type.Union([Type.Literal('running'), Type.Literal('done'), Type.Literal('failed')]),
  percent: Type.Number(),
  error: Type.Union([Type.String(), Type.Null()]),
  backupId: Type.Union([Type.String(), Type.Null()]),
});
export type Job = Static<typeof Job>;

export const NodeInfo = Type.Object({
  name: Name,
  address: Ipv4,
  version: Type.String(),
  drbd: Type.Object({ generation: Type.String(), kernelVersion: Type.String() }),
  vg: Type.Object({ name: Type.String(), sizeBytes: Type.Integer(), freeBytes: Type.Integer() }),
  /** Thin pool data usage, when the VG has xlss's pool. */
  thinPool: Type.Union([Type.Object({ sizeBytes: Type.Integer(), usedBytes: Type.Integer() }), Type.Null()]),
  disks: Type.Array(Type.Object({ name: Type.String(), sizeBytes: Type.Integer(), type: Type.String() })),
  load: Type.Object({ avg1: Type.Number(), cpus: Type.Integer() }),
  labels: Type.Record(Type.String(), Type.String()),
  zone: Type.Union([Type.String(), Type.Null()]),
  ready: Type.Boolean(),
  volumes: Type.Integer(),
});
export type NodeInfo = Static<typeof NodeInfo>;

/**
 * The fence-peer handler's question, relayed by the local daemon to the controller:
 * "may I (Primary of `volume` at `epoch`) go on without my peer?"
 */
export const FenceAsk = Type.Object(
  { volume: Name, node: Name, peer: Name, epoch: Type.Integer({ minimum: 0 }) },
  { additionalProperties: false },
);
export type FenceAsk = Static<typeof FenceAsk>;
export const FenceAnswer = Type.Object({
  allow: Type.Boolean(),
  /** outdated: peer marked outdated; dead: peer confirmed gone and recorded outdated. */
  reason: Type.String(),
});
export type FenceAnswer = Static<typeof FenceAnswer>;

/** after-resync-target: this node became UpToDate again for `volume`. */
export const ResyncDone = Type.Object({ volume: Name, node: Name }, { additionalProperties: false });
export type ResyncDone = Static<typeof ResyncDone>;

/*
 * Routes (all but /healthz need `Authorization: Bearer <token>`):
 *   GET  /healthz, /readyz, /metrics
 *   GET  /v1/node                                 -> NodeInfo
 *   GET  /v1/volumes                              -> VolumeList
 *   GET  /v1/volumes/{name}                       -> VolumeStatus (404)
 *   PUT  /v1/volumes/{name}        VolumeSpec     -> VolumeStatus (201 created, 200 unchanged/updated; 409; 507)
 *   DELETE /v1/volumes/{name}?force=true          -> 204 (409 mounted/Primary without force)
 *   POST /v1/volumes/{name}/promote PromoteBody   -> VolumeStatus (409 peer Primary / disk not UpToDate / stale epoch)
 *   POST /v1/volumes/{name}/demote  DemoteBody    -> VolumeStatus
 *   POST /v1/volumes/{name}/resize  ResizeBody    -> VolumeStatus
 *   POST /v1/volumes/{name}/outdate OutdateBody   -> VolumeStatus
 *   GET  /v1/volumes/{name}/backups?target=       -> BackupList
 *   POST /v1/volumes/{name}/backups               -> Job (202; runs now on the Primary)
 *   POST /v1/volumes/{name}/restore RestoreBody   -> Job (202; into a new or empty volume)
 *   GET  /v1/jobs/{id}                            -> Job
 *   POST /v1/fence                  FenceAsk      -> FenceAnswer (local fence-peer handler; relayed to the controller)
 *   POST /v1/resync-done            ResyncDone    -> 204 (local after-resync-target handler; relayed)
 * Errors: ErrorBody with 400 (names the field), 401, 404, 409, 507; never a stack trace.
 */
