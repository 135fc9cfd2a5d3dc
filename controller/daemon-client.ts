/**
 * How the controller talks to one node's daemon: its REST API only. The HTTP
 * implementation lives in `controller/daemon-http.ts`; tests use an in-memory fake.
 * Errors: DaemonHttpError carries the status and the daemon's ErrorBody;
 * DaemonUnreachableError means no answer (connection refused, timeout, reset).
 */

import { XlssError } from '../common/errors.js';
import type {
  BackupManifest,
  Job,
  NodeInfo,
  PromoteBody,
  RestoreBody,
  VolumeSpec,
  VolumeStatus,
} from '../daemon/api/schemas.js';

export interface DaemonClient {
  readonly node: string;
  nodeInfo(signal?: AbortSignal): Promise<NodeInfo>;
  listVolumes(signal?: AbortSignal): Promise<VolumeStatus[]>;
  /** Null on 404. */
  getVolume(name: string): Promise<VolumeStatus | null>;
  putVolume(name: string, spec: VolumeSpec): Promise<VolumeStatus>;
  /** Succeeds when the volume is already gone (404). */
  deleteVolume(name: string, options: { force: boolean }): Promise<void>;
  promote(name: string, body: PromoteBody): Promise<VolumeStatus>;
  demote(name: string, epoch: number): Promise<VolumeStatus>;
  resize(name: string, sizeBytes: number): Promise<VolumeStatus>;
  outdate(name: string, epoch: number): Promise<VolumeStatus>;
  listBackups(name: string, target: string): Promise<BackupManifest[]>;
  runBackup(name: string): Promise<Job>;
  restore(name: string, body: RestoreBody): Promise<Job>;
  job(id: string): Promise<Job | null>;
}

export interface DaemonEndpoint {
  name: string;
  url: string;
  tokenFile: string;
  /** Connect through this unix socket instead of the URL's host (a lab forward, in tests). */
  socketPath?: string;
}

export type DaemonClientFactory = (endpoint: DaemonEndpoint) => DaemonClient;

export class DaemonHttpError extends XlssError {
  constructor(
    readonly node: string,
    readonly status: number,
    readonly errorCode: string,
    message: string,
  ) {
    super('EDAEMON', `${node}: ${message} (HTTP ${status})`);
  }
}

export class DaemonUnreachableError extends XlssError {
  constructor(
    readonly node: string,
    cause: unknown,
  ) {
    super('EUNREACHABLE', `${node}: daemon unreachable`, { cause });
  }
}
