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
