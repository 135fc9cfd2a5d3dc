/**
 * The controller's core behind ControllerService: store, health, placement,
 * provisioning, fencing, failover and re-replication, wired together. One loop (`tick`,
 * every heartbeat) polls every daemon, resumes journaled operations, and runs the pure
 * failover decision per volume; API calls and the loop never act on one volume at once.
 */
import { ConflictError, errorMessage, NotFoundError, ValidationError } from '../common/errors.js';
import { NAME_PATTERN } from '../daemon/api/schemas.js';
import type {
  DrainStatus,
  EventView,
  FenceAnswer,
  FenceAsk,
  Job,
  NodeAdd,
  NodeView,
  VolumeView,
} from './api/schemas.js';
import type { ControllerCore, ControllerCoreDeps } from './api/service.js';
import { DaemonUnreachableError } from './daemon-client.js';
import { decideVolume, type VolumeFacts } from './failover.js';
import { decideFence } from './fence.js';
import { HealthMonitor, type NodeHealth } from './health.js';
import { createControllerMetrics } from './metrics.js';
import { act, reReplicate, runFailover, runReplace } from './ops/act.js';
import { type CoreContext, makeClientCache } from './ops/context.js';
import { plannedFailover } from './ops/planned.js';
import { createVolume, runCreate, runDelete, runResize, startDelete, startResize } from './ops/provision.js';
import { runRestore } from './ops/restore.js';
import { openSqliteStore } from './store/sqlite.js';
import type { EventRecord, NodeRecord, OperationRecord, Store } from './store/store.js';
import { nodeView, volumeView } from './views.js';

const NAME = new RegExp(NAME_PATTERN);
const FACTS_PERSIST_MS = 60_000;
/** A drain goes over what the node still holds this many times before it gives up. */
const DRAIN_PASSES = 3;
const DRAIN_RETRY_MS = 5000;

/** The core plus what tests and the daemon wiring need beyond ControllerService. */
export interface ControllerCoreHandle extends ControllerCore {
  /** One heartbeat round: poll, resume operations, decide and act per volume. */
  tick(): Promise<void>;
  /** Resolves when background work (drains) started so far has finished. */
  settled(): Promise<void>;
  readonly store: Store;
}

function eventView(e: EventRecord): EventView {
  return {
    id: e.id,
    at: new Date(e.at).toISOString(),
    type: e.type,
    volume: e.volume,
    node: e.node,
    message: e.message,
  };
}

export function createControllerCore(deps: ControllerCoreDeps): ControllerCoreHandle {
  const { config } = deps;
  const now = deps.now ?? Date.now;
  /** The last fence-peer call per volume (who, when): a Primary that asks is alive. */
  const fenceAsks = new Map<string, { node: string; at: number }>();
  const log = deps.log.child({ component: 'controller' });
  const store = openSqliteStore(config.databasePath);
  const health = new HealthMonitor({
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    nodeTimeoutMs: config.nodeTimeoutMs,
    ...(config.pollTimeoutMs !== undefined && { pollTimeoutMs: config.pollTimeoutMs }),
    now,
  });
  const metrics = createControllerMetrics(deps.registry, {
    nodeHealths: () => store.listNodes().map((n) => health.health(n.name)),
    volumePhases: () => store.listVolumes().map((v) => v.phase),
  });
  const ctx: CoreContext = {
    store,
    config,
    log,
    now,
    health,
    metrics,
    client: makeClientCache(store, deps.daemonClient),
    event(type, volume, node, message) {
      const e = store.addEvent({ at: now(), type, volume, node, message });
      log.info({ event: type, volume, node }, message);
      return e;
    },
  };

  // One chain per volume: API calls queue, the loop skips a busy volume.
  const chains = new Map<string, Promise<void>>();
  // Bumped whenever a volume was acted on: views polled before that are stale for it.
  let generation = 0;
  const touched = new Map<string, number>();
  /** `touches`: whether what ran may have changed the volume (a decision that only held did not). */
  async function withLock<T>(
    name: string,
    fn: () => Promise<T>,
    touches: () => boolean = () => true,
  ): Promise<T> {
    const prev = chains.get(name) ?? Promise.resolve();
    let release: () => void = () => {};
    const mine = new Promise<void>((r) => {
      release = r;
    });
    const chained = prev.then(() => mine);
    chains.set(name, chained);
    await prev;
    try {
      return await fn();
    } finally {
      if (touches()) touched.set(name, ++generation);
      release();
      if (chains.get(name) === chained) chains.delete(name);
    }
  }

  const inFlight = new Set<number>();
  async function runOp(op: OperationRecord): Promise<void> {
    if (inFlight.has(op.id)) return;
    inFlight.add(op.id);
    try {
      switch (op.kind) {
        case 'create':
          return await runCreate(ctx, op, async (name, reason) => {
            await runDelete(ctx, startDelete(ctx, name, true, reason));
          });
        case 'delete':
          return await runDelete(ctx, op);
        case 'resize':
          return await runResize(ctx, op);
        case 'failover':
          return await runFailover(ctx, op);
        case 'replace':
          return await runReplace(ctx, op);
        case 'restore':
          return await runRestore(ctx, op);
      }
    } finally {
      inFlight.delete(op.id);
    }
  }

  const noticed = new Set<string>();
  const actDeps = { ctx, runOp, noticed };
  const lastHealth = new Map<string, NodeHealth>();
  const resyncAnnounced = new Set<string>();

  function volumeFacts(name: string, nodes: NodeRecord[]): VolumeFacts | null {
    const v = store.getVolume(name);
    if (!v) return null;
    const replicas = store.listReplicas(name);
    const asked = fenceAsks.get(name);
    const onlineCount = nodes.filter((n) => health.health(n.name) === 'online').length;
    const rows = new Set(replicas.map((r) => r.node));
    const strays = nodes
      .filter(
        (n) =>
          !rows.has(n.name) && health.health(n.name) === 'online' && health.get(n.name)?.volumes.has(name),
      )
      .map((n) => n.name);
    return {
      name,
      epoch: v.epoch,
      primary: v.primary,
      phase: v.phase,
      hasBackupPolicy: v.backup !== null,
      replicas: replicas.map((r) => {
        const h = health.health(r.node);
        const o = health.get(r.node);
        return {
          node: r.node,
          health: h,
          lastOkAt: o?.lastOkAt ?? null,
          connectionLostAt: o?.connectionLostAt.get(name) ?? null,
          outdatedAtEpoch: r.outdatedAtEpoch,
          removing: r.removing,
          view: h === 'online' ? (health.get(r.node)?.volumes.get(name) ?? null) : null,
        };
      }),
      strays,
      clusterMajorityOnline: onlineCount * 2 > nodes.length,
      now: now(),
      primaryFenceAskAt: asked?.node === v.primary ? asked.at : null,
    };
  }

  const persistedFacts = new Map<string, { json: string; at: number }>();
  function keepFacts(node: string): void {
    const o = health.get(node);
    if (!o?.facts || o.factsAt === null) return;
    // Facts are kept for a restart and for placement before the first poll; writing them
    // at every refresh would cost an fsync per node each time.
    const json = JSON.stringify({ ...o.facts, load: null });
    const last = persistedFacts.get(node);
    if (!last || last.json !== json || o.factsAt - last.at >= FACTS_PERSIST_MS) {
      store.setNodeFacts(node, o.facts, o.factsAt);
      persistedFacts.set(node, { json, at: o.factsAt });
    }
    store.releaseConfirmedReservations(node, o.factsAt);
  }

  function refreshFacts(node: string): Promise<void> {
    return health.refreshFacts(ctx.client(node)).then((fresh) => {
      if (fresh && store.getNode(node)) keepFacts(node);
    });
  }

  /**
   * The generation at the start of each node's last finished poll: a decision about a
   * volume waits until every replica's node was polled after the volume was last acted on.
   */
  const polledGen = new Map<string, number>();
  const polling = new Map<string, Promise<void>>();
  /** One poll of one node (joined if one is running); facts are refreshed when due. */
  function pollNode(node: string, awaitFacts: boolean): Promise<void> {
    const running = polling.get(node);
    if (running) return running;
    const p = (async () => {
      const gen = generation;
      const o = await health.poll(ctx.client(node));
      polledGen.set(node, gen);
      if (lastHealth.get(node) !== o.health) {
        if (lastHealth.has(node) || o.health !== 'online')
          ctx.event(`node.${o.health}`, null, node, `${node} is ${o.health}`);
        lastHealth.set(node, o.health);
      }
      if (o.health === 'online' && health.factsDue(node)) {
        const facts = refreshFacts(node);
        if (awaitFacts) await facts;
      }
    })().finally(() => polling.delete(node));
    polling.set(node, p);
    return p;
  }

  function announceResyncs(): void {
    for (const o of health.all()) {
      if (o.health !== 'online') continue;
      for (const [name, s] of o.volumes) {
        const key = `${name}@${o.node}`;
        const drbd = s.observed.drbd;
        if (drbd?.replication === 'SyncTarget') {
          if (resyncAnnounced.has(key)) continue;
          resyncAnnounced.add(key);
          // DRBD's bitmap says what to copy; all of it (within its metadata's share of the
          // LV) is a full sync: a new replica, or one away for so long that all changed.
          const full = drbd.outOfSyncBytes >= s.spec.sizeBytes * 0.99;
          ctx.event(
            'replica.resync',
            name,
            o.node,
            full
              ? `full sync: ${drbd.outOfSyncBytes} of ${s.spec.sizeBytes} bytes`
              : `resyncing ${drbd.outOfSyncBytes} of ${s.spec.sizeBytes} bytes from the bitmap`,
          );
        } else resyncAnnounced.delete(key);
      }
    }
  }

  /** Resume operations, then decide and act per volume on the views polled so far. */
  async function decideAll(): Promise<void> {
    for (const op of store.listRunningOperations()) {
      if (chains.has(op.volume) || inFlight.has(op.id)) continue;
      await withLock(op.volume, () => runOp(op)).catch((err) =>
        log.warn({ volume: op.volume, err: errorMessage(err) }, 'operation failed'),
      );
    }
    announceResyncs();
    const nodes = store.listNodes();
    for (const v of store.listVolumes()) {
      if (chains.has(v.name)) continue;
      const acted = touched.get(v.name) ?? 0;
      if (store.listReplicas(v.name).some((r) => (polledGen.get(r.node) ?? 0) < acted)) continue;
      // A decision that only held changed nothing: the next one need not wait for every
      // replica's node to be polled again, which for a dead Primary is its next poll
      // deadline (doubled per miss: seconds of a failover in the lab).
      let changed = false;
      await withLock(
        v.name,
        async () => {
          const facts = volumeFacts(v.name, nodes);
          if (!facts) return;
          for (const action of decideVolume(facts)) {
            if (action.kind !== 'hold') changed = true;
            try {
              await act(actDeps, v.name, action);
            } catch (err) {
              if (!(err instanceof DaemonUnreachableError))
                log.warn({ volume: v.name, action: action.kind, err: errorMessage(err) }, 'action failed');
              break;
            }
          }
        },
        () => changed,
      );
    }
  }

  // Decisions run one at a time; asked for while one runs, one more follows it.
  let deciding: Promise<void> | null = null;
  let decideAgain = false;
  function decideSoon(): Promise<void> {
    if (deciding) {
      decideAgain = true;
      return deciding;
    }
    deciding = decideAll()
      .catch((err) => log.error({ err: errorMessage(err) }, 'controller decisions failed'))
      .finally(() => {
        deciding = null;
        if (decideAgain) {
          decideAgain = false;
          void decideSoon();
        }
      });
    return deciding;
  }

  /** Every node polled (facts included when due), then one round of decisions. */
  async function tick(): Promise<void> {
    await Promise.all(store.listNodes().map((n) => pollNode(n.name, true)));
    await decideSoon();
  }

  /**
   * Each node has its own heartbeat timer, so a dead node (its poll runs into the
   * deadline) never delays what the controller learns from the others; decisions follow
   * each poll. A poll still running when its node's next beat comes is not doubled.
   */
  const beats = new Map<string, NodeJS.Timeout>();
  function startBeat(node: string): void {
    if (beats.has(node)) return;
    const timer = setInterval(() => {
      if (!store.getNode(node)) {
        clearInterval(timer);
        beats.delete(node);
        return;
      }
      pollNode(node, false)
        .then(() => decideSoon())
        .catch((err) => log.error({ node, err: errorMessage(err) }, 'heartbeat failed'));
    }, config.heartbeatIntervalMs);
    timer.unref();
    beats.set(node, timer);
  }

  function findNode(name: string): NodeRecord {
    const n = store.getNode(name);
    if (!n) throw new NotFoundError('node', name);
    return n;
  }

  function viewOfNode(n: NodeRecord): NodeView {
    const reserved = store
      .listReservations()
      .filter((r) => r.node === n.name)
      .reduce((s, r) => s + r.bytes, 0);
    const volumes = store.listReplicas().filter((r) => r.node === n.name && !r.removing).length;
    return nodeView(n, health, reserved, volumes, drains.get(n.name) ?? null);
  }

  function viewOfVolume(name: string): VolumeView {
    const v = store.getVolume(name);
    if (!v) throw new NotFoundError('volume', name);
    return volumeView(v, store.listReplicas(name), health);
  }

  function sameNode(n: NodeRecord, add: NodeAdd): boolean {
    return (
      n.url === add.url &&
      n.tokenFile === add.tokenFile &&
      n.address === (add.address ?? null) &&
      n.zone === (add.zone ?? null) &&
      JSON.stringify(n.labels) === JSON.stringify(add.labels ?? {})
    );
  }

  async function addNode(add: NodeAdd): Promise<{ node: NodeView; created: boolean }> {
    if (typeof add.name !== 'string' || !NAME.test(add.name))
      throw new ValidationError('name', `"${add.name}" is not a valid node name`);
    const existing = store.getNode(add.name);
    if (existing) {
      if (!sameNode(existing, add))
        throw new ConflictError(`node "${add.name}" is registered with a different spec`);
      return { node: viewOfNode(existing), created: false };
    }
    store.upsertNode({
      name: add.name,
      url: add.url,
      address: add.address ?? null,
      tokenFile: add.tokenFile,
      labels: add.labels ?? {},
      zone: add.zone ?? null,
      draining: false,
      facts: null,
      lastHeartbeatAt: null,
    });
    health.watch(add.name);
    ctx.event('node.added', null, add.name, `registered ${add.url}`);
    if (started) startBeat(add.name);
    return { node: viewOfNode(findNode(add.name)), created: true };
  }

  const background = new Set<Promise<void>>();
  /** How each node's last drain went (in memory: a restarted controller resumes drains). */
  const drains = new Map<string, DrainStatus>();
  const holds = (node: string, volume: string): boolean =>
    store.listReplicas(volume).some((r) => r.node === node && !r.removing);
  const heldBy = (node: string): string[] => [
    ...new Set(
      store
        .listReplicas()
        .filter((r) => r.node === node && !r.removing)
        .map((r) => r.volume),
    ),
  ];

  /**
   * Moves every volume off `node`, one at a time, in passes: a volume that could not move
   * (a busy switchover, a sync source away) is tried again on the next pass. The drain
   * says `node.drained` only when the node holds nothing, else `node.drain-incomplete`
   * naming what is left and why.
   */
  async function drain(node: string): Promise<void> {
    const why = new Map<string, string>();
    let moved = 0;
    drains.set(node, { state: 'running', message: null });
    for (let pass = 1; pass <= DRAIN_PASSES; pass++) {
      const left = heldBy(node);
      if (left.length === 0) break;
      if (pass > 1) await new Promise((r) => setTimeout(r, config.drainRetryMs ?? DRAIN_RETRY_MS));
      for (const name of left) {
        try {
          const notStarted = await withLock(name, async () => {
            const v = store.getVolume(name);
            if (!v) return null;
            if (v.primary === node) await plannedFailover(ctx, name, undefined);
            const after = store.getVolume(name);
            return after ? reReplicate(actDeps, after, node) : null;
          });
          if (!holds(node, name)) {
            moved++;
            why.delete(name);
            ctx.event('node.drain-progress', name, node, `moved ${name} off ${node}`);
            continue;
          }
          why.set(name, notStarted ?? `the new replica of ${name} is not in place`);
        } catch (err) {
          why.set(name, errorMessage(err));
        }
        ctx.event('node.drain-failed', name, node, `pass ${pass} of ${DRAIN_PASSES}: ${why.get(name)}`);
      }
    }
    const left = heldBy(node);
    if (left.length === 0) {
      drains.set(node, { state: 'done', message: `${moved} volume(s) moved off` });
      ctx.event('node.drained', null, node, `${moved} volume(s) moved off ${node}`);
      return;
    }
    const message = `${left.length} volume(s) still on ${node}: ${left
      .map((n) => `${n} (${why.get(n) ?? 'not tried'})`)
      .join('; ')}; drain again to retry`;
    drains.set(node, { state: 'incomplete', message });
    ctx.event('node.drain-incomplete', null, node, message);
  }

  function startDrain(node: string): void {
    const p = drain(node).finally(() => background.delete(p));
    background.add(p);
  }

  /** Controller job ids are `<node>.<daemon job id>` (node names have no dot). */
  const splitJobId = (id: string): [string, string] | null => {
    const dot = id.indexOf('.');
    return dot > 0 ? [id.slice(0, dot), id.slice(dot + 1)] : null;
  };
  const wrapJob = (node: string, job: Job): Job => ({ ...job, id: `${node}.${job.id}` });

  let started = false;

  const core: ControllerCoreHandle = {
    store,
    tick,
    async settled() {
      await Promise.all([...background]);
    },
    async start() {
      for (const n of config.nodes) {
        if (!store.getNode(n.name)) await addNode(n);
      }
      for (const n of store.listNodes()) health.watch(n.name);
      // A planned switchover is not journaled: one cut short by a restart is re-decided.
      const running = new Set(store.listRunningOperations().map((op) => op.volume));
      for (const v of store.listVolumes())
        if (v.phase === 'failing-over' && !running.has(v.name))
          store.updateVolume(v.name, {
            phase: 'degraded',
            message: 'switchover interrupted by a controller restart',
          });
      await tick();
      started = true;
      for (const n of store.listNodes()) startBeat(n.name);
      // A drain cut short by a restart goes on: the node is still marked draining.
      for (const n of store.listNodes()) if (n.draining && heldBy(n.name).length > 0) startDrain(n.name);
    },
    async stop() {
      started = false;
      for (const timer of beats.values()) clearInterval(timer);
      beats.clear();
      // Work stuck on a daemon call must not keep the controller from stopping.
      await Promise.race([
        Promise.all([deciding, ...polling.values()]).catch(() => {}),
        new Promise((r) => setTimeout(r, config.heartbeatIntervalMs).unref()),
      ]);
      store.close();
    },
    ready: () => started,

    async listNodes() {
      return store.listNodes().map(viewOfNode);
    },
    async getNode(name) {
      const n = store.getNode(name);
      return n ? viewOfNode(n) : null;
    },
    addNode,
    async removeNode(name) {
      findNode(name);
      const held = store.listReplicas().filter((r) => r.node === name);
      if (held.length > 0)
        throw new ConflictError(`node "${name}" still holds ${held.length} replica(s); drain it first`);
      store.removeNode(name);
      health.forget(name);
      ctx.event('node.removed', null, name, 'unregistered');
    },
    async drainNode(name) {
      findNode(name);
      store.setNodeDraining(name, true);
      ctx.event('node.draining', null, name, 'moving every Primary and replica away, one volume at a time');
      const id = `drain-${name}-${now()}`;
      if (drains.get(name)?.state !== 'running') startDrain(name);
      return { id };
    },

    async listVolumes() {
      return store.listVolumes().map((v) => volumeView(v, store.listReplicas(v.name), health));
    },
    async getVolume(name) {
      return store.getVolume(name) ? viewOfVolume(name) : null;
    },
    async createVolume(req) {
      const result = await withLock(req.name, () => createVolume(ctx, req, runOp));
      return { volume: viewOfVolume(req.name), created: result.created };
    },
    async resizeVolume(name, sizeBytes) {
      await withLock(name, async () => runResize(ctx, startResize(ctx, name, sizeBytes)));
      return viewOfVolume(name);
    },
    async deleteVolume(name, options) {
      if (!store.getVolume(name)) throw new NotFoundError('volume', name);
      await withLock(name, async () => runDelete(ctx, startDelete(ctx, name, options.force, null)));
    },
    async failover(name, to) {
      await withLock(name, () => plannedFailover(ctx, name, to));
      return viewOfVolume(name);
    },

    async runBackup(name) {
      const v = store.getVolume(name);
      if (!v) throw new NotFoundError('volume', name);
      if (!v.primary) throw new ConflictError(`volume "${name}" has no Primary to back up`);
      const job = await ctx.client(v.primary).runBackup(name);
      ctx.event('backup.started', name, v.primary, `job ${job.id}`);
      return wrapJob(v.primary, job);
    },
    async listBackups(name) {
      const v = store.getVolume(name);
      if (!v) throw new NotFoundError('volume', name);
      const target = v.backup?.target ?? config.defaultBackupTarget;
      if (!target) return [];
      const node = store
        .listReplicas(name)
        .find((r) => !r.removing && health.health(r.node) === 'online')?.node;
      if (!node) throw new ConflictError(`no replica of "${name}" is online to read its backups`);
      return ctx.client(node).listBackups(name, target);
    },
    async restore(req) {
      const v = store.getVolume(req.volume);
      if (!v) throw new NotFoundError('volume', req.volume);
      const target = v.backup?.target ?? config.defaultBackupTarget;
      if (!target) throw new ValidationError('volume', `volume "${req.volume}" has no backup target`);
      const node = req.node ?? v.primary;
      if (!node) throw new ValidationError('node', 'no node given and the volume has no Primary');
      const client = ctx.client(node);
      const backupId =
        req.backupId ??
        [...(await client.listBackups(req.volume, target))].sort((a, b) =>
          b.createdAt.localeCompare(a.createdAt),
        )[0]?.id;
      if (!backupId) throw new NotFoundError('backup of volume', req.volume);
      const job = await client.restore(req.volume, { backupId, target });
      ctx.event('restore.started', req.volume, node, `restoring backup ${backupId}`);
      return wrapJob(node, job);
    },
    async job(id) {
      const parts = splitJobId(id);
      if (!parts) return null;
      const [node, daemonId] = parts;
      if (!store.getNode(node)) return null;
      const job = await ctx.client(node).job(daemonId);
      return job ? wrapJob(node, job) : null;
    },

    async events(query) {
      return store.listEvents(query).map(eventView);
    },

    async fence(ask: FenceAsk): Promise<FenceAnswer> {
      // Proof of life for the failover decision: a dead Primary asks nothing.
      fenceAsks.set(ask.volume, { node: ask.node, at: now() });
      // No volume lock: the asking Primary is frozen until we answer, and an action
      // holding the lock may be what made it ask.
      const decide = (result: 'not-tried' | 'outdated' | 'unreachable' | 'refused') => {
        const volume = store.getVolume(ask.volume);
        const peer = store.listReplicas(ask.volume).find((r) => r.node === ask.peer);
        return decideFence(ask, volume, peer, health.health(ask.peer), result);
      };
      let step = decide('not-tried');
      if (step.kind === 'outdate-peer') {
        let result: 'outdated' | 'unreachable' | 'refused';
        try {
          await ctx.client(ask.peer).outdate(ask.volume, ask.epoch);
          result = 'outdated';
        } catch (err) {
          result = err instanceof DaemonUnreachableError ? 'unreachable' : 'refused';
        }
        step = decide(result);
      }
      if (step.kind !== 'answer') return { allow: false, reason: 'undecided' };
      if (step.recordOutdated) store.updateReplica(ask.volume, ask.peer, { outdatedAtEpoch: ask.epoch });
      ctx.event(
        step.allow ? 'fence.allowed' : 'fence.denied',
        ask.volume,
        ask.node,
        `peer ${ask.peer}: ${step.reason}`,
      );
      return { allow: step.allow, reason: step.reason };
    },
    async resyncDone(done) {
      const row = store.listReplicas(done.volume).find((r) => r.node === done.node && !r.removing);
      if (!row) throw new NotFoundError(`replica of ${done.volume} on node`, done.node);
      if (row.outdatedAtEpoch !== null)
        store.updateReplica(done.volume, done.node, { outdatedAtEpoch: null });
      ctx.event('replica.synced', done.volume, done.node, 'resync finished (reported by the node)');
    },
  };
  return core;
}
