/**
 * The seam between the controller's REST API and its core (store, placement,
 * provisioning, health, failover). The API validates and maps errors to status codes
 * (ValidationError 400, NotFoundError 404, ConflictError 409, NoSpaceError 507).
 */
import type { Static } from 'typebox';
import type {
  BackupManifest,
  EventView,
  FenceAnswer,
  FenceAsk,
  Job,
  NodeAdd,
  NodeView,
  ResyncDone,
  VolumeCreate,
  VolumeView,
} from './schemas.js';

export interface ControllerService {
  listNodes(): Promise<NodeView[]>;
  getNode(name: string): Promise<NodeView | null>;
  addNode(node: NodeAdd): Promise<{ node: NodeView; created: boolean }>;
  removeNode(name: string): Promise<void>;
  /** Moves every Primary away and every replica off the node, one volume at a time. */
  drainNode(name: string): Promise<Job | { id: string }>;

  listVolumes(): Promise<VolumeView[]>;
  getVolume(name: string): Promise<VolumeView | null>;
  /** Places, stores and provisions; idempotent for an equal request. */
  createVolume(req: VolumeCreate): Promise<{ volume: VolumeView; created: boolean }>;
  resizeVolume(name: string, sizeBytes: number): Promise<VolumeView>;
  deleteVolume(name: string, options: { force: boolean }): Promise<void>;
  /** Planned switchover without loss. */
  failover(name: string, to?: string): Promise<VolumeView>;

  runBackup(name: string): Promise<Job>;
  listBackups(name: string): Promise<Static<typeof BackupManifest>[]>;
  restore(req: { volume: string; backupId?: string; node?: string }): Promise<Job>;
  job(id: string): Promise<Job | null>;

  events(query: { volume?: string; since?: number; limit?: number }): Promise<EventView[]>;

  /** A Primary's fence-peer handler asks, through its daemon. No = stay frozen. */
  fence(ask: FenceAsk): Promise<FenceAnswer>;
  resyncDone(done: ResyncDone): Promise<void>;
  ready(): boolean;
}

/** What the core needs from the controller's config (validated by its loader). */
export interface ControllerCoreConfig {
  /** SQLite file (default /var/lib/xlss-controller/state.db). */
  databasePath: string;
  /** Health poll period per node. */
  heartbeatIntervalMs: number;
  /** A node is offline after this long without a successful poll. */
  nodeTimeoutMs: number;
  /**
   * How long one heartbeat poll may take before it counts as missed (default: one
   * heartbeat). A missed poll makes a node suspect; a suspect Primary is failed over only
   * when its peer also lost the DRBD connection (see controller/failover.ts).
   */
  pollTimeoutMs?: number;
  /** DRBD minors and ports handed out to volumes. */
  minorRange: { first: number; last: number };
  portRange: { first: number; last: number };
  /** Nodes from the config file (registered at start; `xlss node add` adds more). */
  nodes: Array<import('./schemas.js').NodeAdd>;
  /** Where backups go when a volume's policy does not say. */
  defaultBackupTarget: string | null;
  /**
   * An offline replica is replaced on another node only once its node has been silent
   * this long (0 or absent: at once). A node back sooner is still the replica and
   * resyncs from DRBD's bitmap only what changed while it was away.
   */
  replaceAfterMs?: number;
  /** Pause between a drain's passes over what the node still holds (default 5 s). */
  drainRetryMs?: number;
}

/** The core behind ControllerService, made by `createControllerCore` in `controller/core.ts`. */
export interface ControllerCore extends ControllerService {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface ControllerCoreDeps {
  config: ControllerCoreConfig;
  log: import('../../common/log.js').Logger;
  registry: import('prom-client').Registry;
  daemonClient: import('../daemon-client.js').DaemonClientFactory;
  /** Injected clock for tests. */
  now?: () => number;
}
