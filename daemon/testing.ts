/**
 * Fakes of the engine and the backup service for the daemon's API and main tests.
 * They keep specs in memory and record every call, so a test can assert that bad input
 * reached neither of them.
 */
import { NotFoundError } from '../common/errors.js';
import type {
  BackupManifest,
  Job,
  PromoteBody,
  RestoreBody,
  VolumeSpec,
  VolumeStatus,
} from './api/schemas.js';
import type { BackupService, VolumeEngine } from './volumes/service.js';

export function statusOf(name: string, spec: VolumeSpec): VolumeStatus {
  return {
    name,
    spec,
    state: 'ready',
    error: null,
    observed: { lv: null, drbd: null, mount: null },
    epoch: spec.epoch,
    lastBackupAt: null,
    progress: null,
  };
}

export function volumeSpec(over: Partial<VolumeSpec> = {}): VolumeSpec {
  return {
    sizeBytes: 64 * 1024 * 1024,
    thin: true,
    peer: { node: 'node2', address: '10.77.0.12' },
    drbd: { minor: 10, port: 7010, secret: 'c2VjcmV0LXNlY3JldC0xMjM0' },
    role: 'primary',
    epoch: 1,
    filesystem: 'ext4',
    mountPoint: '/mnt/vol1',
    backup: null,
    ...over,
  };
}

export class FakeEngine implements VolumeEngine {
  readonly specs = new Map<string, VolumeSpec>();
  /** Every call, as `method name`. */
  readonly calls: string[] = [];
  /** Thrown by the next service call (then cleared). */
  nextError: Error | null = null;
  /** Extra fields mixed into every status (to prove the response schema drops them). */
  extra: Record<string, unknown> = {};
  isReady = true;
  started = false;
  stopped = false;
  /** Volumes whose DRBD is connected to the peer right now. */
  readonly connected = new Set<string>();

  peerConnected(name: string): boolean {
    return this.connected.has(name);
  }

  private call(what: string): void {
    this.calls.push(what);
    const e = this.nextError;
    this.nextError = null;
    if (e) throw e;
  }
  private status(name: string): VolumeStatus {
    return { ...statusOf(name, this.require(name)), ...this.extra } as VolumeStatus;
  }
  private require(name: string): VolumeSpec {
    const spec = this.specs.get(name);
    if (!spec) throw new NotFoundError('volume', name);
    return spec;
  }

  async list() {
    this.call('list');
    return [...this.specs.keys()].map((n) => this.status(n));
  }
  async get(name: string) {
    this.call(`get ${name}`);
    return this.specs.has(name) ? this.status(name) : null;
  }
  async put(name: string, spec: VolumeSpec) {
    this.call(`put ${name}`);
    const created = !this.specs.has(name);
    this.specs.set(name, spec);
    return { status: this.status(name), created };
  }
  async delete(name: string, options: { force: boolean }) {
    this.call(`delete ${name} force=${options.force}`);
    this.specs.delete(name);
  }
  async promote(name: string, body: PromoteBody) {
    this.call(`promote ${name} epoch=${body.epoch}`);
    this.specs.set(name, { ...this.require(name), role: 'primary', epoch: body.epoch });
    return this.status(name);
  }
  async demote(name: string, epoch: number) {
    this.call(`demote ${name} epoch=${epoch}`);
    this.specs.set(name, { ...this.require(name), role: 'secondary' });
    return this.status(name);
  }
  async resize(name: string, sizeBytes: number) {
    this.call(`resize ${name} ${sizeBytes}`);
    this.specs.set(name, { ...this.require(name), sizeBytes });
    return this.status(name);
  }
  async outdate(name: string, epoch: number) {
    this.call(`outdate ${name} epoch=${epoch}`);
    this.require(name);
    return this.status(name);
  }
  async reconcileNow() {
    this.call('reconcileNow');
  }
  async start() {
    this.started = true;
  }
  async stop() {
    this.calls.push('stop');
    this.stopped = true;
  }
  ready() {
    return this.isReady;
  }
  devicePath(name: string) {
    const spec = this.specs.get(name);
    return spec ? `/dev/drbd${spec.drbd.minor}` : null;
  }
}

export class FakeBackups implements BackupService {
  readonly calls: string[] = [];
  readonly jobs = new Map<string, Job>();
  readonly manifests: BackupManifest[] = [];
  readonly last = new Map<string, string>();
  started = false;
  stopped = false;

  async start() {
    this.started = true;
  }
  async stop() {
    this.calls.push('stop');
    this.stopped = true;
  }
  async list(volume: string, target: string) {
    this.calls.push(`list ${volume} ${target}`);
    return this.manifests.filter((m) => m.volume === volume);
  }
  async runNow(volume: string) {
    this.calls.push(`runNow ${volume}`);
    return this.addJob(volume, 'backup');
  }
  async restore(volume: string, body: RestoreBody) {
    this.calls.push(`restore ${volume} ${body.backupId}`);
    return this.addJob(volume, 'restore');
  }
  job(id: string) {
    return this.jobs.get(id) ?? null;
  }
  lastSuccess(volume: string) {
    return this.last.get(volume) ?? null;
  }
  private addJob(volume: string, kind: Job['kind']): Job {
    const job: Job = {
      id: `job-${this.jobs.size + 1}`,
      volume,
      kind,
      state: 'running',
      percent: 0,
      error: null,
      backupId: null,
    };
    this.jobs.set(job.id, job);
    return job;
  }
}
