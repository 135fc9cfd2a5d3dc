/**
 * The controller's state behind one interface, so that an etcd store and Kubernetes
 * CRDs can replace the SQLite file later. Calls are synchronous: SQLite answers in
 * microseconds, and a remote store would sit behind a local cache with the same shape.
 */
import type { BackupPolicy, NodeInfo } from '../../daemon/api/schemas.js';

export type VolumePhase =
  | 'creating'
  | 'ready'
  | 'degraded'
  | 'failing-over'
  | 'resyncing'
  | 'deleting'
  | 'failed'
  | 'split-brain'
  | 'lost';

export interface NodeRecord {
  name: string;
  url: string;
  /** Replication address; null until given or learnt from the daemon's facts. */
  address: string | null;
  tokenFile: string;
  labels: Record<string, string>;
  zone: string | null;
  draining: boolean;
  facts: NodeInfo | null;
  lastHeartbeatAt: number | null;
}

export interface VolumeRecord {
  name: string;
  sizeBytes: number;
  thin: boolean;
  filesystem: 'ext4' | 'xfs' | null;
  mountPoint: string | null;
  nodeSelector: Record<string, string>;
  preferredNode: string | null;
  backup: BackupPolicy | null;
  workloadUnit: string | null;
  phase: VolumePhase;
  message: string | null;
  /** Raised at every promotion; a node holding an older one may never be Primary. */
  epoch: number;
  primary: string | null;
  minor: number;
  port: number;
  secret: string;
  createdAt: number;
}

export interface ReplicaRecord {
  volume: string;
  node: string;
  /** Epoch at which the controller recorded this replica outdated; null when current. */
  outdatedAtEpoch: number | null;
  /** No longer a replica: its daemon still has to confirm deletion. */
  removing: boolean;
  addedAt: number;
}

export interface ReservationRecord {
  volume: string;
  node: string;
  bytes: number;
  /** When the daemon confirmed the LV; dropped once facts newer than that arrive. */
  confirmedAt: number | null;
}

export interface EventRecord {
  id: number;
  at: number;
  type: string;
  volume: string | null;
  node: string | null;
  message: string;
}

export type OperationKind = 'create' | 'delete' | 'resize' | 'replace' | 'failover' | 'restore';
export type OperationState = 'running' | 'done' | 'failed';

export interface OperationRecord {
  id: number;
  kind: OperationKind;
  volume: string;
  step: string;
  data: Record<string, unknown>;
  state: OperationState;
  startedAt: number;
  updatedAt: number;
}

export interface Range {
  first: number;
  last: number;
}

export interface Store {
  /** Runs `fn` atomically: all of its writes or none. */
  transaction<T>(fn: () => T): T;

  upsertNode(node: NodeRecord): void;
  getNode(name: string): NodeRecord | null;
  listNodes(): NodeRecord[];
  removeNode(name: string): void;
  setNodeFacts(name: string, facts: NodeInfo, at: number): void;
  setNodeDraining(name: string, draining: boolean): void;

  insertVolume(volume: VolumeRecord): void;
  getVolume(name: string): VolumeRecord | null;
  listVolumes(): VolumeRecord[];
  updateVolume(name: string, patch: Partial<Omit<VolumeRecord, 'name'>>): void;
  deleteVolume(name: string): void;

  listReplicas(volume?: string): ReplicaRecord[];
  addReplica(replica: ReplicaRecord): void;
  updateReplica(
    volume: string,
    node: string,
    patch: Partial<Pick<ReplicaRecord, 'outdatedAtEpoch' | 'removing'>>,
  ): void;
  removeReplica(volume: string, node: string): void;

  /** Lowest free minor and port; NoSpaceError when a range is used up. */
  allocate(volume: string, minors: Range, ports: Range): { minor: number; port: number };
  /** Frees a volume's minor and port: only once no node may still hold its resource. */
  releaseAllocation(volume: string): void;
  listAllocations(): Array<{ volume: string; minor: number; port: number }>;

  reserve(volume: string, node: string, bytes: number): void;
  confirmReservation(volume: string, node: string, at: number): void;
  /** Drops a node's reservations confirmed before `factsAt` (the facts now count the LV). */
  releaseConfirmedReservations(node: string, factsAt: number): void;
  releaseReservations(volume: string, node?: string): void;
  listReservations(): ReservationRecord[];

  addEvent(event: Omit<EventRecord, 'id'>): EventRecord;
  listEvents(query: { volume?: string; since?: number; limit?: number }): EventRecord[];

  startOperation(
    kind: OperationKind,
    volume: string,
    step: string,
    data: Record<string, unknown>,
    at: number,
  ): OperationRecord;
  advanceOperation(id: number, step: string, data: Record<string, unknown> | null, at: number): void;
  finishOperation(id: number, state: Exclude<OperationState, 'running'>, at: number): void;
  listRunningOperations(): OperationRecord[];

  close(): void;
}
