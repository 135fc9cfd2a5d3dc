/**
 * An in-memory ControllerService for tests of the API and the CLI (not the core's
 * logic: placement and failover are tested in the core). Volumes become ready and jobs
 * finish after a set number of polls, so progress and `--wait` can be exercised.
 */
import type { Static } from 'typebox';
import { ConflictError, NoSpaceError, NotFoundError } from '../../common/errors.js';
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
import type { ControllerService } from './service.js';

type Manifest = Static<typeof BackupManifest>;

const GiB = 1024 ** 3;
const AT = '2026-01-02T03:04:05.000Z';

export class FakeControllerService implements ControllerService {
  readonly calls: string[] = [];
  readonly nodes = new Map<string, NodeView>();
  readonly volumes = new Map<string, VolumeView>();
  readonly jobs = new Map<string, Job>();
  readonly backups = new Map<string, Manifest[]>();
  readonly eventLog: EventView[] = [];
  isReady = true;
  /** Polls of a creating volume before it is ready (syncPercent climbs meanwhile). */
  pollsToReady = 2;
  /** Polls of a job before it is done. */
  pollsToDone = 2;
  /** Free bytes per node for placement. */
  freeBytes = 10 * GiB;
  /** When set, the next call throws this (e.g. an unexpected internal error). */
  failNext: Error | null = null;
  private polls = new Map<string, number>();
  private nextJob = 1;

  private enter(call: string): void {
    this.calls.push(call);
    const err = this.failNext;
    this.failNext = null;
    if (err) throw err;
  }

  event(type: string, message: string, volume: string | null = null, node: string | null = null): void {
    this.eventLog.push({ id: this.eventLog.length + 1, at: AT, type, volume, node, message });
  }

  async listNodes() {
    this.enter('listNodes');
    return [...this.nodes.values()];
  }
  async getNode(name: string) {
    this.enter(`getNode ${name}`);
    return this.nodes.get(name) ?? null;
  }
  async addNode(add: NodeAdd) {
    this.enter(`addNode ${add.name}`);
    const host = new URL(add.url).hostname;
    const node: NodeView = {
      name: add.name,
      url: add.url,
      address: add.address ?? (/^[0-9.]+$/.test(host) ? host : '10.0.0.1'),
      labels: add.labels ?? {},
      zone: add.zone ?? null,
      health: 'online',
      draining: false,
      drain: null,
      lastHeartbeatAt: AT,
      capacityBytes: 20 * GiB,
      freeBytes: this.freeBytes,
      reservedBytes: 0,
      volumes: 0,
    };
    const old = this.nodes.get(add.name);
    if (old && old.url !== add.url) throw new ConflictError(`node "${add.name}" exists with another URL`);
    this.nodes.set(add.name, node);
    if (!old) this.event('node.added', `node ${add.name} added`, null, add.name);
    return { node, created: !old };
  }
  async removeNode(name: string) {
    this.enter(`removeNode ${name}`);
    const node = this.nodes.get(name);
    if (!node) throw new NotFoundError('node', name);
    if (node.volumes > 0)
      throw new ConflictError(`node "${name}" holds ${node.volumes} replicas; drain it first`);
    this.nodes.delete(name);
  }
  /** When set, a drain leaves the node's volumes and ends incomplete with this message. */
  drainGivesUp: string | null = null;
  async drainNode(name: string) {
    this.enter(`drainNode ${name}`);
    const node = this.nodes.get(name);
    if (!node) throw new NotFoundError('node', name);
    node.draining = true;
    if (this.drainGivesUp) node.drain = { state: 'incomplete', message: this.drainGivesUp };
    else node.volumes = 0;
    return { id: `drain-${name}` };
  }

  async listVolumes() {
    this.enter('listVolumes');
    return [...this.volumes.values()];
  }
  async getVolume(name: string) {
    this.enter(`getVolume ${name}`);
    const v = this.volumes.get(name);
    if (v?.phase === 'creating') {
      const n = (this.polls.get(name) ?? 0) + 1;
      this.polls.set(name, n);
      const percent = Math.min(100, Math.round((100 * n) / this.pollsToReady));
      for (const r of v.replicas) if (r.node !== v.primary) r.syncPercent = percent < 100 ? percent : null;
      if (n >= this.pollsToReady) v.phase = 'ready';
    }
    return v ?? null;
  }
  async createVolume(req: VolumeCreate) {
    this.enter(`createVolume ${req.name}`);
    const old = this.volumes.get(req.name);
    if (old) {
      if (old.sizeBytes !== req.sizeBytes)
        throw new ConflictError(`volume "${req.name}" exists with another size`);
      return { volume: old, created: false };
    }
    const nodes = [...this.nodes.values()].filter((n) => n.freeBytes >= req.sizeBytes);
    const [first, second] = req.preferredNode
      ? [this.nodes.get(req.preferredNode), nodes.find((n) => n.name !== req.preferredNode)]
      : nodes;
    if (!first || !second)
      throw new NoSpaceError(
        `no second node with ${req.sizeBytes} bytes free; ${this.nodes.size} nodes known`,
      );
    const replica = (node: string, primary: boolean) => ({
      node,
      role: primary ? 'Primary' : 'Secondary',
      disk: primary ? 'UpToDate' : 'Inconsistent',
      connection: 'Connected',
      outOfSyncBytes: 0,
      syncPercent: primary ? null : 0,
      outdated: false,
    });
    const volume: VolumeView = {
      name: req.name,
      sizeBytes: req.sizeBytes,
      thin: req.thin ?? true,
      filesystem: req.filesystem ?? null,
      mountPoint: req.mountPoint ?? null,
      phase: this.pollsToReady > 0 ? 'creating' : 'ready',
      message: null,
      epoch: 1,
      primary: first.name,
      replicas: [replica(first.name, true), replica(second.name, false)],
      schedulingHint: [first.name, second.name],
      minor: 1000 + this.volumes.size,
      port: 7800 + this.volumes.size,
      backup: req.backup ?? null,
      workloadUnit: req.workloadUnit ?? null,
      createdAt: AT,
    };
    this.volumes.set(req.name, volume);
    this.event('volume.created', `volume ${req.name} created on ${first.name} and ${second.name}`, req.name);
    return { volume, created: true };
  }
  private volume(name: string): VolumeView {
    const v = this.volumes.get(name);
    if (!v) throw new NotFoundError('volume', name);
    return v;
  }
  async resizeVolume(name: string, sizeBytes: number) {
    this.enter(`resizeVolume ${name} ${sizeBytes}`);
    const v = this.volume(name);
    if (sizeBytes < v.sizeBytes) throw new ConflictError(`volume "${name}" cannot shrink`);
    v.sizeBytes = sizeBytes;
    return v;
  }
  async deleteVolume(name: string, options: { force: boolean }) {
    this.enter(`deleteVolume ${name} force=${options.force}`);
    const v = this.volume(name);
    if (v.mountPoint && !options.force) throw new ConflictError(`volume "${name}" is mounted; use --force`);
    this.volumes.delete(name);
  }
  async failover(name: string, to?: string) {
    this.enter(`failover ${name} ${to ?? ''}`.trim());
    const v = this.volume(name);
    const target = to ?? v.replicas.find((r) => r.node !== v.primary)?.node;
    if (!target || !v.replicas.some((r) => r.node === target))
      throw new ConflictError(`node "${to}" holds no replica of "${name}"`);
    v.primary = target;
    v.epoch += 1;
    for (const r of v.replicas) r.role = r.node === target ? 'Primary' : 'Secondary';
    v.schedulingHint = [target, ...v.schedulingHint.filter((n) => n !== target)];
    return v;
  }

  private startJob(volume: string, kind: Job['kind']): Job {
    const job: Job = {
      id: `job-${this.nextJob++}`,
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
  async runBackup(name: string) {
    this.enter(`runBackup ${name}`);
    this.volume(name);
    return this.startJob(name, 'backup');
  }
  async listBackups(name: string) {
    this.enter(`listBackups ${name}`);
    this.volume(name);
    return this.backups.get(name) ?? [];
  }
  async restore(req: { volume: string; backupId?: string; node?: string }) {
    this.enter(`restore ${req.volume} ${req.backupId ?? 'newest'} ${req.node ?? 'any'}`);
    if (req.backupId && !(this.backups.get(req.volume) ?? []).some((b) => b.id === req.backupId))
      throw new NotFoundError('backup', req.backupId);
    return this.startJob(req.volume, 'restore');
  }
  async job(id: string) {
    this.enter(`job ${id}`);
    const job = this.jobs.get(id);
    if (job?.state === 'running') {
      job.percent = Math.min(100, job.percent + 100 / this.pollsToDone);
      if (job.percent >= 100) {
        job.state = 'done';
        if (job.kind === 'backup') job.backupId = '2026-01-02T03:04:05Z';
      }
    }
    return job ?? null;
  }

  async events(query: { volume?: string; since?: number; limit?: number }) {
    this.enter('events');
    const all = this.eventLog.filter(
      (e) => (!query.volume || e.volume === query.volume) && e.id > (query.since ?? 0),
    );
    return query.limit ? all.slice(-query.limit) : all;
  }

  async fence(ask: FenceAsk): Promise<FenceAnswer> {
    this.enter(`fence ${ask.volume}`);
    const v = this.volume(ask.volume);
    return v.epoch === ask.epoch && v.primary === ask.node
      ? { allow: true, reason: 'outdated' }
      : { allow: false, reason: 'stale epoch' };
  }
  async resyncDone(done: ResyncDone) {
    this.enter(`resyncDone ${done.volume} ${done.node}`);
    this.volume(done.volume);
  }
  ready() {
    return this.isReady;
  }
}
