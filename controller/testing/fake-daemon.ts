/**
 * An in-memory cluster of fake daemons behind the DaemonClient interface: the test bed
 * for placement, provisioning and every failover path. It models what the controller
 * depends on in DRBD 8.4 with `fencing resource-and-stonith`: a Primary that loses its
 * peer freezes I/O until its fence-peer handler is answered yes; a returning node
 * resyncs only the bytes written while it was away; two Primaries that meet report a
 * split brain; promotion needs an UpToDate disk and a current epoch. Every acknowledged
 * write is kept per replica, so a test can prove none was lost.
 */

import type {
  BackupManifest,
  FenceAnswer,
  FenceAsk,
  Job,
  NodeInfo,
  PromoteBody,
  RestoreBody,
  VolumeSpec,
  VolumeStatus,
} from '../../daemon/api/schemas.js';
import type { DaemonClient, DaemonClientFactory } from '../daemon-client.js';
import { DaemonHttpError, DaemonUnreachableError } from '../daemon-client.js';

interface FakeVolume {
  spec: VolumeSpec;
  role: 'Primary' | 'Secondary';
  disk: 'UpToDate' | 'Outdated' | 'Inconsistent';
  epoch: number;
  suspended: boolean;
  mounted: boolean;
  unitStarted: string | null;
  everPrimary: boolean;
  /** A filesystem is on the device (made on first mount, or restored): replicated like data. */
  hasFs: boolean;
  /** A Primary spec not acted on yet: the daemon promotes on its next pass (see `convergeOnPoll`). */
  pendingPromote: boolean;
  /** Bytes written here while disconnected: what a returning peer must resync. */
  outOfSyncBytes: number;
  /** Set while this side is a resync target. */
  sync: { bytes: number; pollsLeft: number; total: number } | null;
  splitBrain: boolean;
  /** Sequence numbers of acknowledged writes this replica holds. */
  writes: number[];
  wasConnected: boolean;
}

export interface FakeNodeOptions {
  address?: string;
  vgBytes?: number;
  labels?: Record<string, string>;
  zone?: string | null;
}

interface FakeNode {
  name: string;
  address: string;
  vgBytes: number;
  labels: Record<string, string>;
  zone: string | null;
  up: boolean;
  /** Up, but the controller cannot reach it (a partition between the two). */
  hiddenFromController: boolean;
  volumes: Map<string, FakeVolume>;
}

export interface FakeCall {
  node: string;
  method: string;
  volume: string | null;
  /** What a putVolume asked for. */
  spec?: VolumeSpec;
}

type WriteResult = 'acked' | 'frozen' | 'not-primary' | 'down';

const MUTATING = new Set(['putVolume', 'deleteVolume', 'promote', 'demote', 'resize', 'outdate', 'restore']);

export class FakeCluster {
  readonly nodes = new Map<string, FakeNode>();
  readonly calls: FakeCall[] = [];
  readonly fenceAsks: Array<FenceAsk & { answer: FenceAnswer | null }> = [];
  readonly backups: BackupManifest[] = [];
  private readonly cutLinks = new Set<string>();
  private readonly jobs = new Map<string, Job>();
  private writeSeq = 0;
  private mutations = 0;
  private hang: { at: number; applied: boolean } | null = null;
  /** Polls of a resync target's node before its resync completes. */
  syncPolls = 2;
  /**
   * Like a real daemon, a Primary spec PUT onto a Secondary is acted on after the PUT has
   * answered (at the node's next poll), not within it. Off by default: most tests want the
   * promotion at once.
   */
  convergeOnPoll = false;
  /** Demotes refused while a workload holds the mount, by `node/volume`. */
  private readonly busyMounts = new Map<string, number>();
  /** The controller's fence answer, as the daemon's relay would fetch it. */
  fenceRelay: ((ask: FenceAsk) => Promise<FenceAnswer>) | null = null;

  readonly factory: DaemonClientFactory = (endpoint) => this.client(endpoint.name);

  addNode(name: string, options: FakeNodeOptions = {}): this {
    const index = this.nodes.size + 1;
    this.nodes.set(name, {
      name,
      address: options.address ?? `10.0.0.${index}`,
      vgBytes: options.vgBytes ?? 100 * 1024 ** 3,
      labels: options.labels ?? {},
      zone: options.zone ?? null,
      up: true,
      hiddenFromController: false,
      volumes: new Map(),
    });
    return this;
  }

  /** The node dies at once: no answers, its peers' connections drop. */
  async crash(name: string): Promise<void> {
    const node = this.node(name);
    node.up = false;
    for (const v of node.volumes.values()) {
      // A reboot forgets the role; the disk keeps its data and its write log.
      v.role = 'Secondary';
      v.suspended = false;
      v.mounted = false;
      v.unitStarted = null;
    }
    await this.settle();
  }

  /** The node boots again; `asPrimary` models a daemon that promoted itself (it must not). */
  async restart(name: string, options: { asPrimary?: string[] } = {}): Promise<void> {
    const node = this.node(name);
    node.up = true;
    for (const volume of options.asPrimary ?? []) {
      const v = node.volumes.get(volume);
      if (v) {
        v.role = 'Primary';
        v.everPrimary = true;
      }
    }
    await this.settle();
  }

  /** The next `times` demotes of `volume` on `node` find its mount busy (umount refuses). */
  busyMount(node: string, volume: string, times: number): void {
    this.busyMounts.set(`${node}/${volume}`, times);
  }

  hideFromController(name: string, hidden = true): void {
    this.node(name).hiddenFromController = hidden;
  }

  async cutLink(a: string, b: string): Promise<void> {
    this.cutLinks.add(linkKey(a, b));
    await this.settle();
  }

  async healLink(a: string, b: string): Promise<void> {
    this.cutLinks.delete(linkKey(a, b));
    await this.settle();
  }

  /** The nth mutating call from now on never answers (the controller is "killed" there). */
  hangOnMutation(n: number, options: { applied: boolean }): void {
    this.hang = { at: this.mutations + n, applied: options.applied };
  }

  mutationCount(): number {
    return this.mutations;
  }

  /** An application write on `node`: acknowledged only if DRBD would acknowledge it. */
  write(node: string, volume: string, bytes = 4096): { result: WriteResult; seq: number } {
    const n = this.node(node);
    const v = n.volumes.get(volume);
    const seq = ++this.writeSeq;
    if (!n.up) return { result: 'down', seq };
    if (v?.role !== 'Primary') return { result: 'not-primary', seq };
    if (v.suspended) return { result: 'frozen', seq };
    v.writes.push(seq);
    const peer = this.connectedPeer(n, volume);
    if (peer) peer.writes.push(seq);
    else v.outOfSyncBytes += bytes;
    return { result: 'acked', seq };
  }

  volume(node: string, volume: string): Readonly<FakeVolume> | undefined {
    return this.node(node).volumes.get(volume);
  }

  /** Answers pending fence-peer handlers again (the handler retries while frozen). */
  async retryFence(): Promise<void> {
    for (const n of this.nodes.values())
      for (const [name, v] of n.volumes) if (n.up && v.suspended) await this.askFence(n, name, v);
  }

  client(name: string): DaemonClient {
    const call = async <T>(
      method: string,
      volume: string | null,
      fn: () => T | Promise<T>,
      spec?: VolumeSpec,
    ): Promise<T> => {
      const node = this.node(name);
      this.calls.push({ node: name, method, volume, ...(spec ? { spec: structuredClone(spec) } : {}) });
      if (!node.up || node.hiddenFromController)
        throw new DaemonUnreachableError(name, new Error('ECONNREFUSED'));
      if (MUTATING.has(method)) {
        this.mutations++;
        if (this.hang && this.mutations === this.hang.at) {
          const { applied } = this.hang;
          this.hang = null;
          if (applied) {
            await fn();
            await this.settle();
          }
          return new Promise<T>(() => {});
        }
      }
      const result = await fn();
      await this.settle();
      return result;
    };
    return {
      node: name,
      nodeInfo: () => call('nodeInfo', null, () => this.nodeInfo(name)),
      listVolumes: () =>
        call('listVolumes', null, () => {
          // The poll sees the state, then the resync moves on (one step per poll).
          this.convergePromotions(name);
          const statuses = [...this.node(name).volumes.keys()].map((v) => this.status(name, v));
          this.advanceSyncs(name);
          return statuses;
        }),
      getVolume: (volume) =>
        call('getVolume', volume, () =>
          this.node(name).volumes.has(volume) ? this.status(name, volume) : null,
        ),
      putVolume: (volume, spec) => call('putVolume', volume, () => this.put(name, volume, spec), spec),
      deleteVolume: (volume, options) =>
        call('deleteVolume', volume, () => this.remove(name, volume, options.force)),
      promote: (volume, body) => call('promote', volume, () => this.promote(name, volume, body)),
      demote: (volume, epoch) => call('demote', volume, () => this.demote(name, volume, epoch)),
      resize: (volume, sizeBytes) => call('resize', volume, () => this.resize(name, volume, sizeBytes)),
      outdate: (volume, epoch) => call('outdate', volume, () => this.outdate(name, volume, epoch)),
      listBackups: (volume, target) =>
        call('listBackups', volume, () =>
          this.backups.filter((b) => b.volume === volume && target.length > 0),
        ),
      runBackup: (volume) => call('runBackup', volume, () => this.backup(name, volume)),
      restore: (volume, body) => call('restore', volume, () => this.restoreInto(name, volume, body)),
      job: (id) => call('job', null, () => this.jobs.get(id) ?? null),
    };
  }

  private node(name: string): FakeNode {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`fake cluster has no node ${name}`);
    return n;
  }

  private existing(node: string, volume: string): FakeVolume {
    const v = this.node(node).volumes.get(volume);
    if (!v) throw new DaemonHttpError(node, 404, 'ENOTFOUND', `volume "${volume}" not found`);
    return v;
  }

  private usedBytes(n: FakeNode): number {
    let used = 0;
    for (const v of n.volumes.values()) used += v.spec.sizeBytes;
    return used;
  }

  private nodeInfo(name: string): NodeInfo {
    const n = this.node(name);
    return {
      name,
      address: n.address,
      version: 'fake',
      drbd: { generation: '8.4', kernelVersion: '8.4.11' },
      vg: { name: 'xlss', sizeBytes: n.vgBytes, freeBytes: n.vgBytes - this.usedBytes(n) },
      thinPool: null,
      disks: [],
      load: { avg1: 0, cpus: 2 },
      labels: n.labels,
      zone: n.zone,
      ready: true,
      volumes: n.volumes.size,
    };
  }

  private peerOf(n: FakeNode, volume: string): { node: FakeNode; v: FakeVolume } | null {
    const v = n.volumes.get(volume);
    const peerName = v?.spec.peer?.node;
    if (!v || !peerName) return null;
    const peer = this.nodes.get(peerName);
    const pv = peer?.volumes.get(volume);
    if (!peer || !pv || pv.spec.peer?.node !== n.name) return null;
    return { node: peer, v: pv };
  }

  private connectedPeer(n: FakeNode, volume: string): FakeVolume | null {
    const v = n.volumes.get(volume);
    const p = this.peerOf(n, volume);
    if (!v || !p || !n.up || !p.node.up || v.splitBrain || p.v.splitBrain) return null;
    if (this.cutLinks.has(linkKey(n.name, p.node.name))) return null;
    return p.v;
  }

  /** Applies connection changes: resync on reconnect, freeze on loss, split brain. */
  private async settle(): Promise<void> {
    const lost: Array<[FakeNode, string, FakeVolume]> = [];
    for (const n of this.nodes.values()) {
      for (const [name, v] of n.volumes) {
        const peer = this.connectedPeer(n, name);
        const connected = peer !== null;
        if (connected && !v.wasConnected && peer) this.onConnect(v, peer);
        if (!connected && v.wasConnected && n.up && v.role === 'Primary') {
          v.suspended = true;
          lost.push([n, name, v]);
        }
        if (connected) v.suspended = false;
        v.wasConnected = this.connectedPeer(n, name) !== null;
      }
    }
    for (const [n, name, v] of lost) await this.askFence(n, name, v);
  }

  private onConnect(v: FakeVolume, peer: FakeVolume): void {
    // Both ends see the same connection come up: handle it once.
    v.wasConnected = true;
    peer.wasConnected = true;
    if (v.role === 'Primary' && peer.role === 'Primary') {
      v.splitBrain = true;
      peer.splitBrain = true;
      return;
    }
    if (v.outOfSyncBytes > 0 && peer.outOfSyncBytes > 0) {
      // Both sides wrote while apart: DRBD refuses to pick one.
      v.splitBrain = true;
      peer.splitBrain = true;
      return;
    }
    const [source, target] = v.role === 'Primary' || peer.disk === 'Inconsistent' ? [v, peer] : [peer, v];
    if (target.sync) return;
    if (target.disk === 'Inconsistent') this.startSync(target, source, source.spec.sizeBytes);
    else if (source.outOfSyncBytes > 0 || target.disk === 'Outdated')
      this.startSync(target, source, source.outOfSyncBytes);
  }

  private startSync(target: FakeVolume, source: FakeVolume, bytes: number): void {
    target.disk = 'Inconsistent';
    target.sync = { bytes, total: bytes, pollsLeft: this.syncPolls };
    target.writes = [...source.writes];
    target.hasFs = source.hasFs;
    source.outOfSyncBytes = 0;
  }

  private advanceSyncs(name: string): void {
    for (const v of this.node(name).volumes.values()) {
      if (!v.sync) continue;
      v.sync.pollsLeft--;
      v.sync.bytes = Math.floor((v.sync.total * Math.max(v.sync.pollsLeft, 0)) / this.syncPolls);
      if (v.sync.pollsLeft <= 0) {
        v.sync = null;
        v.disk = 'UpToDate';
      }
    }
  }

  private async askFence(n: FakeNode, volume: string, v: FakeVolume): Promise<void> {
    const peer = v.spec.peer?.node;
    if (!peer) return;
    const ask: FenceAsk = { volume, node: n.name, peer, epoch: v.epoch };
    const record: FenceAsk & { answer: FenceAnswer | null } = { ...ask, answer: null };
    this.fenceAsks.push(record);
    if (!this.fenceRelay) return;
    try {
      record.answer = await this.fenceRelay(ask);
    } catch {
      return;
    }
    if (record.answer.allow && v.role === 'Primary') v.suspended = false;
  }

  private status(name: string, volume: string): VolumeStatus {
    const n = this.node(name);
    const v = this.existing(name, volume);
    const peer = this.connectedPeer(n, volume);
    const connection = v.splitBrain
      ? 'StandAlone'
      : peer
        ? 'Connected'
        : v.spec.peer
          ? 'Connecting'
          : 'StandAlone';
    return {
      name: volume,
      spec: structuredClone(v.spec),
      state: v.sync ? 'syncing' : peer || !v.spec.peer ? 'ready' : 'degraded',
      error: null,
      observed: {
        lv: { path: `/dev/xlss/${volume}`, sizeBytes: v.spec.sizeBytes, thin: v.spec.thin },
        drbd: {
          minor: v.spec.drbd.minor,
          role: v.role,
          disk: v.disk,
          suspended: v.suspended,
          connection,
          peerRole: peer ? peer.role : 'Unknown',
          peerDisk: peer ? peer.disk : 'DUnknown',
          replication: v.sync ? 'SyncTarget' : peer?.sync ? 'SyncSource' : peer ? 'Established' : 'Off',
          outOfSyncBytes: v.sync ? v.sync.bytes : peer?.sync ? peer.sync.bytes : v.outOfSyncBytes,
          syncPercent: v.sync ? Math.round(100 * (1 - v.sync.bytes / Math.max(v.sync.total, 1))) : null,
          splitBrain: v.splitBrain,
        },
        mount:
          v.mounted && v.spec.mountPoint
            ? { path: v.spec.mountPoint, fstype: v.spec.filesystem ?? 'ext4' }
            : null,
      },
      epoch: v.epoch,
      lastBackupAt: null,
      progress: v.sync ? { operation: 'sync', percent: 0, detail: `${v.sync.bytes} bytes left` } : null,
    };
  }

  private put(name: string, volume: string, spec: VolumeSpec): VolumeStatus {
    const n = this.node(name);
    const existing = n.volumes.get(volume);
    if (existing && spec.epoch < existing.epoch)
      throw new DaemonHttpError(name, 409, 'ECONFLICT', `stale epoch ${spec.epoch} < ${existing.epoch}`);
    if (!existing) {
      // The daemon takes the spec, then its plan fails: a new DRBD 8.4 volume needs its peer.
      if (!spec.peer)
        throw new DaemonHttpError(
          name,
          409,
          'ECONFLICT',
          `volume "${volume}": no peer to replicate with: DRBD 8.4 needs exactly two nodes`,
        );
      if (this.usedBytes(n) + spec.sizeBytes > n.vgBytes)
        throw new DaemonHttpError(name, 507, 'ENOSPACE', `VG xlss has not ${spec.sizeBytes} bytes free`);
      const peerName = spec.peer?.node;
      const peerVolume = peerName ? this.nodes.get(peerName)?.volumes.get(volume) : undefined;
      n.volumes.set(volume, {
        spec: structuredClone(spec),
        role: 'Secondary',
        // A brand-new pair skips the initial sync; joining a volume with data does not.
        disk: peerVolume?.everPrimary ? 'Inconsistent' : 'UpToDate',
        epoch: spec.epoch,
        suspended: false,
        mounted: false,
        unitStarted: null,
        everPrimary: false,
        hasFs: false,
        pendingPromote: false,
        outOfSyncBytes: 0,
        sync: null,
        splitBrain: false,
        writes: [],
        wasConnected: false,
      });
    }
    const v = n.volumes.get(volume) as FakeVolume;
    if (existing && spec.sizeBytes !== existing.spec.sizeBytes) this.resize(name, volume, spec.sizeBytes);
    v.spec = structuredClone(spec);
    v.epoch = spec.epoch;
    if (spec.role === 'secondary' && v.role === 'Primary') this.demote(name, volume, spec.epoch);
    v.pendingPromote = false;
    if (spec.role === 'primary' && v.role === 'Secondary') {
      if (this.convergeOnPoll) v.pendingPromote = true;
      else this.convergePromotion(n, volume, v);
    } else if (spec.role === 'primary' && !v.mounted) this.mount(n, v, volume);
    return this.status(name, volume);
  }

  private convergePromotions(name: string): void {
    const n = this.node(name);
    for (const [volume, v] of n.volumes) {
      if (!v.pendingPromote) continue;
      v.pendingPromote = false;
      if (v.spec.role === 'primary' && v.role === 'Secondary') this.convergePromotion(n, volume, v);
    }
  }

  private convergePromotion(n: FakeNode, volume: string, v: FakeVolume): void {
    const connected = this.connectedPeer(n, volume) !== null;
    this.promote(n.name, volume, { epoch: v.spec.epoch, peerFenced: !v.spec.peer || connected });
  }

  /**
   * Mounts the Primary's filesystem if its spec names one; the first mount makes the
   * filesystem (as the daemon's mkfs on first use does), which leaves nothing of what
   * was on the device.
   */
  private mount(n: FakeNode, v: FakeVolume, volume: string): void {
    if (v.role !== 'Primary' || !v.spec.filesystem || !v.spec.mountPoint) return;
    if (!v.hasFs) {
      v.hasFs = true;
      v.writes = [];
      const peer = this.connectedPeer(n, volume);
      if (peer) {
        peer.hasFs = true;
        peer.writes = [];
      }
    }
    v.mounted = true;
  }

  private remove(name: string, volume: string, force: boolean): void {
    const n = this.node(name);
    const v = n.volumes.get(volume);
    if (!v) return;
    if (v.role === 'Primary' && !force)
      throw new DaemonHttpError(name, 409, 'ECONFLICT', `volume "${volume}" is Primary; use force`);
    n.volumes.delete(volume);
  }

  private promote(name: string, volume: string, body: PromoteBody): VolumeStatus {
    const n = this.node(name);
    const v = this.existing(name, volume);
    if (body.epoch < v.epoch)
      throw new DaemonHttpError(name, 409, 'ECONFLICT', `stale epoch ${body.epoch} < ${v.epoch}`);
    if (v.disk !== 'UpToDate')
      throw new DaemonHttpError(name, 409, 'ECONFLICT', `disk is ${v.disk}, not UpToDate`);
    const peer = this.connectedPeer(n, volume);
    if (peer?.role === 'Primary') throw new DaemonHttpError(name, 409, 'ECONFLICT', 'peer is Primary');
    if (!peer && v.spec.peer && !body.peerFenced)
      throw new DaemonHttpError(name, 409, 'ECONFLICT', 'peer unknown and not fenced');
    v.role = 'Primary';
    v.everPrimary = true;
    v.epoch = body.epoch;
    v.spec.role = 'primary';
    v.spec.epoch = body.epoch;
    v.suspended = false;
    if (body.mount === false) v.mounted = false;
    else this.mount(n, v, volume);
    if (body.workloadUnit && v.spec.mountPoint && !v.mounted)
      throw new DaemonHttpError(name, 409, 'ECONFLICT', `not mounted: ${body.workloadUnit} not started`);
    v.unitStarted = body.workloadUnit ?? null;
    return this.status(name, volume);
  }

  private demote(name: string, volume: string, epoch: number): VolumeStatus {
    const v = this.existing(name, volume);
    const busy = this.busyMounts.get(`${name}/${volume}`) ?? 0;
    if (busy > 0 && v.mounted) {
      this.busyMounts.set(`${name}/${volume}`, busy - 1);
      throw new DaemonHttpError(
        name,
        409,
        'ECONFLICT',
        `unmount: umount: ${v.spec.mountPoint}: target is busy.`,
      );
    }
    v.role = 'Secondary';
    v.mounted = false;
    v.unitStarted = null;
    v.suspended = false;
    v.epoch = Math.max(v.epoch, epoch);
    v.spec.role = 'secondary';
    return this.status(name, volume);
  }

  private resize(name: string, volume: string, sizeBytes: number): VolumeStatus {
    const n = this.node(name);
    const v = this.existing(name, volume);
    if (sizeBytes < v.spec.sizeBytes)
      throw new DaemonHttpError(name, 400, 'EVALIDATION', 'sizeBytes: cannot shrink');
    if (this.usedBytes(n) - v.spec.sizeBytes + sizeBytes > n.vgBytes)
      throw new DaemonHttpError(name, 507, 'ENOSPACE', 'VG xlss is full');
    v.spec.sizeBytes = sizeBytes;
    return this.status(name, volume);
  }

  private outdate(name: string, volume: string, epoch: number): VolumeStatus {
    const n = this.node(name);
    const v = this.existing(name, volume);
    if (v.role === 'Primary') throw new DaemonHttpError(name, 409, 'ECONFLICT', 'cannot outdate a Primary');
    if (this.connectedPeer(n, volume))
      throw new DaemonHttpError(name, 409, 'ECONFLICT', 'still connected to its peer');
    if (v.disk === 'UpToDate') v.disk = 'Outdated';
    v.epoch = Math.max(v.epoch, epoch);
    return this.status(name, volume);
  }

  private backup(name: string, volume: string): Job {
    const v = this.existing(name, volume);
    if (v.role !== 'Primary') throw new DaemonHttpError(name, 409, 'ECONFLICT', 'backups run on the Primary');
    const id = `${new Date(1_700_000_000_000 + this.backups.length * 1000).toISOString().replace(/[:.]/g, '-')}`;
    this.backups.push({
      id,
      volume,
      sizeBytes: v.spec.sizeBytes,
      createdAt: new Date(1_700_000_000_000 + this.backups.length * 1000).toISOString(),
      sourceNode: name,
      sha256: '0'.repeat(64),
      compressedBytes: 1,
      compression: 'gzip',
    });
    const job: Job = {
      id: `job-${this.jobs.size + 1}`,
      volume,
      kind: 'backup',
      state: 'done',
      percent: 100,
      error: null,
      backupId: id,
    };
    this.jobs.set(job.id, job);
    this.backupWrites.set(id, [...v.writes]);
    return job;
  }

  private readonly backupWrites = new Map<string, number[]>();

  /** The daemon's restoreChecks: Primary here, not mounted, empty. */
  private restoreInto(name: string, volume: string, body: RestoreBody): Job {
    const n = this.node(name);
    const v = this.existing(name, volume);
    const refuse = (why: string) => new DaemonHttpError(name, 409, 'ECONFLICT', why);
    if (v.role !== 'Primary') throw refuse(`${volume} must be Primary on ${name} to restore into it`);
    if (v.mounted) throw refuse(`${volume} is mounted at ${v.spec.mountPoint}`);
    if (v.hasFs || v.writes.length > 0)
      throw refuse(`${volume} is not empty: restore only into a new or empty volume`);
    const writes = this.backupWrites.get(body.backupId);
    const job: Job = {
      id: `job-${this.jobs.size + 1}`,
      volume,
      kind: 'restore',
      state: writes ? 'done' : 'failed',
      percent: writes ? 100 : 0,
      error: writes ? null : `backup ${body.backupId} not found`,
      backupId: body.backupId,
    };
    if (writes) {
      // Written through DRBD: a connected peer gets every block too.
      for (const copy of [v, this.connectedPeer(n, volume)]) {
        if (!copy) continue;
        copy.writes = [...writes];
        copy.hasFs = true;
      }
      v.disk = 'UpToDate';
    }
    this.jobs.set(job.id, job);
    return job;
  }
}

function linkKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}
