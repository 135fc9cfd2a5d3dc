/**
 * The seam between the daemon's REST API and its volume engine. The API validates
 * input and maps errors to status codes; the engine (reconcile loop, spec store)
 * implements this. Tests of the API use a fake; the engine is tested with FakeRunner.
 */
import type { FenceAnswer, ObservedVolume, PromoteBody, VolumeSpec, VolumeStatus } from '../api/schemas.js';

export interface VolumeService {
  list(): Promise<VolumeStatus[]>;
  /** Null when there is no such volume. */
  get(name: string): Promise<VolumeStatus | null>;
  /**
   * Stores the spec atomically (write, fsync, rename) before it acts, then triggers a
   * reconcile; idempotent. `created` is false when an equal spec was already stored.
   * Throws ConflictError when the change is not allowed (e.g. a shrink, a new minor
   * for a volume that is up), NoSpaceError when the VG cannot hold it.
   */
  put(name: string, spec: VolumeSpec): Promise<{ status: VolumeStatus; created: boolean }>;
  /** Tears down in order; ConflictError while mounted or Primary unless `force`. */
  delete(name: string, options: { force: boolean }): Promise<void>;
  /** ConflictError (409) when the peer is Primary or the local disk is not UpToDate. */
  promote(name: string, body: PromoteBody): Promise<VolumeStatus>;
  demote(name: string, epoch: number): Promise<VolumeStatus>;
  /** Grows LV, then DRBD, then the filesystem; a smaller size is a ConflictError. */
  resize(name: string, sizeBytes: number): Promise<VolumeStatus>;
  /** `drbdadm outdate` on this node's disk (the controller fencing a reachable node). */
  outdate(name: string, epoch: number): Promise<VolumeStatus>;
  /** Runs one reconcile pass now (after a change, on DRBD events, periodically). */
  reconcileNow(): Promise<void>;
  /**
   * Whether DRBD is connected to the volume's peer right now (events2, not the last
   * pass): a fence-peer question asked after the peer came back needs no answer.
   */
  peerConnected?(name: string): boolean;
}

/** Sent by the local fence-peer handler; the engine relays it to the controller. */
export interface FenceRelay {
  askController(volume: string, peer: string): Promise<FenceAnswer>;
}

export type { ObservedVolume };

/** What the volume engine needs from the daemon's config (validated by the config loader). */
export interface EngineConfig {
  /** This node's name: must equal `uname -n` (DRBD picks its `on` section by it). */
  nodeName: string;
  /** This node's replication address. */
  address: string;
  /** VG that holds xlss's LVs ("xlss"). */
  vg: string;
  /** Thin pool inside the VG for thin volumes. */
  thinPool: string;
  /** Crash-safe state: specs, rendered configs (default /var/lib/xlss). */
  stateDir: string;
  /** Where live `.res` files go (default /etc/drbd.d, rebuilt from stateDir at start). */
  drbdConfigDir: string;
  /** fence-peer and after-resync-target handler scripts (from the daemon's install, never a request). */
  handlers: { fencePeer: string; afterResyncTarget: string };
  /** Base period of the level-triggered resync, jittered ±20%. */
  reconcileIntervalMs: number;
  /** 'auto' detects from /proc/drbd. */
  drbdGeneration: 'auto' | '8.4' | '9';
  /** Resync speed bounds for every resource (from the daemon's config, never a request). */
  resync: ResyncRates;
}

/**
 * DRBD's dynamic resync controller bounds, as drbd.conf writes rates ("10M" per second).
 * `minRate` (c-min-rate) is what a resync keeps while the volume sees application I/O
 * (DRBD lets application I/O pre-empt resync only above it); `maxRate` (c-max-rate) caps it.
 */
export interface ResyncRates {
  minRate: string;
  maxRate: string;
}

/** The engine behind VolumeService, made by `createVolumeEngine` in `./engine.ts`. */
export interface VolumeEngine extends VolumeService {
  /** Renders every `.res` from the state dir, starts events2 and the loop. */
  start(): Promise<void>;
  /** Finishes the command in flight; leaves resources as they are (never demotes/unmounts). */
  stop(): Promise<void>;
  /** True once the first observation (LVM report + events2 dump) is in. */
  ready(): boolean;
  /** The block device of a volume on this node (/dev/drbdN), for backups. */
  devicePath(name: string): string | null;
}

export interface VolumeEngineDeps {
  runner: import('../../common/runner.js').CommandRunner;
  log: import('../../common/log.js').Logger;
  config: EngineConfig;
  /** prom-client registry; the engine registers its own xlss_daemon_* metrics. */
  registry: import('prom-client').Registry;
  fence: FenceRelay;
}

/** Snapshots, backups and restores (daemon/backup), driven by each spec's policy. */
export interface BackupService {
  start(): Promise<void>;
  stop(): Promise<void>;
  list(volume: string, target: string): Promise<import('../api/schemas.js').BackupManifest[]>;
  /** Starts a backup now on this node (must be the Primary); returns the job at once. */
  runNow(volume: string): Promise<import('../api/schemas.js').Job>;
  /** Restores into a new or empty volume on this node; returns the job at once. */
  restore(
    volume: string,
    body: import('../api/schemas.js').RestoreBody,
  ): Promise<import('../api/schemas.js').Job>;
  job(id: string): import('../api/schemas.js').Job | null;
  /** ISO time of the last successful backup of a volume on this node, or null. */
  lastSuccess(volume: string): string | null;
}
