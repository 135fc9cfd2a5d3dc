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
}

/** Sent by the local fence-peer handler; the engine relays it to the controller. */
export interface FenceRelay {
  askController(volume: string, peer: string): Promise<FenceAnswer>;
}

export type { ObservedVolume };
