import { readFile } from 'node:fs/promises';
import { Value } from 'typebox/value';
import { ConflictError, NoSpaceError, NotFoundError, ValidationError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import { DrbdEventStream, type DrbdGeneration, detectDrbdVersions } from '../../drbd/index.js';
import { Lvm } from '../../lvm/index.js';
import { NAME_PATTERN, type PromoteBody, VolumeSpec, type VolumeStatus } from '../api/schemas.js';
import { DrbdConfigFiles } from './config-files.js';
import { DeadlineRunner } from './deadlines.js';
import { EngineMetrics } from './metrics.js';
import { deviceOf, peerOf, planVolume, type StepKind, type VolumeFacts, type VolumePlan } from './plan.js';
import { drbdDevice, renderVolumeResource } from './resource.js';
import type { VolumeEngine, VolumeEngineDeps } from './service.js';
import { volumeStatus } from './status.js';
import { RetrySoonError, StepRunner } from './steps.js';
import { newRecord, SpecStore, type VolumeRecord } from './store.js';
import { type NodeView, parseMounts, readVolumeGroup } from './view.js';

/** LVs xlss creates carry this tag; LVs without it are never changed. */
export const OWNER_TAG = 'xlss';
/** Rounds of observe → apply per reconcile; a volume needs about a dozen steps from nothing. */
const MAX_ROUNDS = 40;
/** How long a pass waits after a DRBD event for the rest of its burst. */
const EVENT_BURST_MS = 100;
/**
 * Steps that change an LV: the round after one reads the LVM report again. Not
 * create-lv: see `unseenLvs`.
 */
const LVM_STEPS: ReadonlySet<StepKind> = new Set(['activate-lv', 'extend-lv', 'remove-lv']);
/**
 * Steps that run only on an LVM report read in the same pass (a pass may reuse an older
 * one): removing an LV trusts the report's tags and type for what it removes.
 */
const FRESH_REPORT_STEPS: ReadonlySet<StepKind> = new Set(['remove-lv']);

export interface EngineExtras {
  /** Reads /proc/self/mounts (injected by unit tests). */
  readMounts?: () => Promise<string>;
  /** Reads a sysfs file such as /sys/block/drbd1/size (injected by unit tests). */
  readSysFile?: (path: string) => Promise<string>;
  /** How long start() waits for the first events2 dump. */
  firstDumpTimeoutMs?: number;
  /** How long a step waits for events2 to show its effect. */
  settleMs?: number;
  /**
   * First delay before a step that waits on something outside the node (a frozen
   * Primary's fence question, a peer that has not grown its LV) is tried again; doubles
   * up to 8 times that while it keeps waiting.
   */
  retrySoonMs?: number;
  /** How long drbd-resize watches the device size after `drbdadm resize`. */
  growWaitMs?: number;
}

/** The daemon's volume engine: spec store, observe → plan → apply, and the role operations. */
export function createVolumeEngine(deps: VolumeEngineDeps & EngineExtras): VolumeEngine & Engine {
  return new Engine(deps);
}

export class Engine implements VolumeEngine {
  private readonly log: Logger;
  private readonly store: SpecStore;
  private readonly metrics: EngineMetrics;
  private readonly abort = new AbortController();
  private readonly runner: DeadlineRunner;
  private readonly lvm: Lvm;
  private readonly files: DrbdConfigFiles;
  private readonly stream: DrbdEventStream;
  private readonly readMounts: () => Promise<string>;
  private generation: DrbdGeneration = '8.4';
  private steps: StepRunner | undefined;
  private records = new Map<string, VolumeRecord>();
  private broken = new Map<string, string>();
  /** Why a volume's last step failed; cleared when a step of it succeeds. */
  private readonly errors = new Map<string, string>();
  private view: NodeView | undefined;
  /**
   * LVs this engine created that no LVM report has shown yet. lvcreate exited 0, so each
   * is there as asked (tagged, thin in the pool or thick, active); the steps after it
   * (wipe, config, DRBD up) need nothing more of it, and the report is read at the end
   * of the pass instead of before them: off a new volume's path to usable.
   */
  private readonly unseenLvs = new Set<string>();
  private plans = new Map<string, VolumePlan>();
  private lock: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private eventTimer: NodeJS.Timeout | undefined;
  private eventDue = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs = 0;
  private stopped = false;

  constructor(private readonly deps: VolumeEngineDeps & EngineExtras) {
    this.log = deps.log.child({ component: 'volumes' });
    const { config } = deps;
    if (!new RegExp(NAME_PATTERN).test(config.vg)) throw new ValidationError('vg', 'is not a valid VG name');
    if (!new RegExp(NAME_PATTERN).test(config.thinPool))
      throw new ValidationError('thinPool', 'is not a valid LV name');
    this.store = new SpecStore(config.stateDir);
    this.metrics = new EngineMetrics(deps.registry);
    this.runner = new DeadlineRunner(deps.runner, this.abort.signal, (c, o, s) =>
      this.metrics.observeCommand(c, o, s),
    );
    this.lvm = new Lvm({ runner: this.runner, logger: this.log, ownerTag: OWNER_TAG });
    this.files = new DrbdConfigFiles(config.drbdConfigDir, config.stateDir, this.runner);
    this.stream = new DrbdEventStream({ runner: this.runner, logger: this.log });
    this.readMounts = deps.readMounts ?? (() => readFile('/proc/self/mounts', 'utf8'));
  }

  // ---- lifecycle ------------------------------------------------------------------------

  async start(): Promise<void> {
    const { config } = this.deps;
    await this.store.init();
    const loaded = await this.store.load();
    this.records = loaded.records;
    this.broken = loaded.broken;
    for (const [volume, why] of this.broken) {
      this.log.error({ volume, why }, 'volume record unreadable; volume marked failed');
      this.metrics.reconcileErrors.inc({ volume });
    }
    this.generation =
      config.drbdGeneration === 'auto'
        ? (await detectDrbdVersions(this.runner, (p) => readFile(p, 'utf8'))).generation
        : config.drbdGeneration;
    await this.files.init([...this.records.keys()]);
    this.steps = new StepRunner({
      runner: this.runner,
      config,
      generation: this.generation,
      files: this.files,
      store: this.store,
      lvm: this.lvm,
      stream: this.stream,
      log: this.log,
      fence: this.deps.fence,
      save: (r) => this.save(r),
      readFile: this.deps.readSysFile ?? ((p) => readFile(p, 'utf8')),
      ...(this.deps.settleMs !== undefined && { settleMs: this.deps.settleMs }),
      ...(this.deps.growWaitMs !== undefined && { growWaitMs: this.deps.growWaitMs }),
    });
    this.stream.on('change', () => this.onDrbdEvent());
    this.stream.start();
    await this.stream
      .waitFor(() => true, { timeoutMs: this.deps.firstDumpTimeoutMs ?? 30_000 })
      .catch((err) => {
        this.log.warn({ err }, 'no events2 dump yet; reconcile waits for it');
      });
    // The live `.res` files are rendered again from the state dir by the first pass.
    await this.reconcileNow().catch((err) => this.log.error({ err }, 'first reconcile failed'));
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.eventTimer);
    clearTimeout(this.retryTimer);
    // Let the step in flight finish: resources are left exactly as they are.
    await this.lock.catch(() => undefined);
    this.abort.abort();
    await this.stream.stop();
  }

  ready(): boolean {
    return this.view?.drbdReady === true;
  }

  devicePath(name: string): string | null {
    const r = this.records.get(name);
    return r && !r.deleting ? drbdDevice(r.spec.drbd.minor) : null;
  }

  /** Volumes whose record file could not be read, with why (they are left alone). */
  brokenVolumes(): ReadonlyMap<string, string> {
    return this.broken;
  }

  private schedule(): void {
    if (this.stopped) return;
    const base = this.deps.config.reconcileIntervalMs;
    const jittered = base * (0.8 + Math.random() * 0.4);
    this.timer = setTimeout(() => {
      this.reconcileNow()
        .catch((err) => this.log.error({ err }, 'reconcile failed'))
        .finally(() => this.schedule());
    }, jittered);
    this.timer.unref?.();
  }

  private onDrbdEvent(): void {
    // Events come in bursts (a connect is a dozen lines, written within a few ms): one
    // pass after the burst. Every pass after an event is a step nearer a usable volume
    // on both nodes, so the wait is short.
    this.passSoon(EVENT_BURST_MS);
  }

  /**
   * A pass in `delayMs` (or sooner, if one is due sooner already) that reuses the last
   * LVM report: only DRBD or a spec changed, and every LVM change xlss makes is read
   * back by the pass that made it. The periodic pass reads LVM afresh (drift by others).
   */
  private passSoon(delayMs: number): void {
    if (this.stopped) return;
    const due = Date.now() + delayMs;
    if (this.eventTimer && this.eventDue <= due) return;
    clearTimeout(this.eventTimer);
    this.eventDue = due;
    this.eventTimer = setTimeout(() => {
      this.eventTimer = undefined;
      this.exclusive(() => this.reconcileLocked(null, this.view ? 'reuse' : 'read')).catch((err) =>
        this.log.error({ err }, 'reconcile failed'),
      );
    }, delayMs);
    this.eventTimer.unref?.();
  }

  /**
   * A step waits on something no DRBD event announces: run a pass again soon (backing
   * off while it keeps waiting), not only at the next periodic pass.
   */
  private retrySoon(): void {
    // Backs off per retry, not per pass: passes that DRBD events start meanwhile (sooner
    // now) would otherwise push the next retry out while the answer may already be yes.
    if (this.stopped || this.retryTimer) return;
    const base = this.deps.retrySoonMs ?? 1000;
    this.retryDelayMs = this.retryDelayMs === 0 ? base : Math.min(this.retryDelayMs * 2, base * 8);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.reconcileNow().catch((err) => this.log.error({ err }, 'reconcile failed'));
    }, this.retryDelayMs);
    this.retryTimer.unref?.();
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.lock.then(fn, fn);
    this.lock = next.catch(() => undefined);
    return next;
  }

  // ---- observe, plan, apply --------------------------------------------------------------

  /**
   * The node as it is now. DRBD comes from the events2 stream and mounts from
   * /proc/self/mounts, both free; the LVM report is one process (seconds in a busy
   * guest), so `lvm: false` reuses the last one: right after a step that changed no LV.
   */
  private async observe(options: { lvm: boolean } = { lvm: true }): Promise<NodeView> {
    const last = this.view;
    const read = options.lvm || !last;
    // Every LV created before this report starts is in it.
    const created = read ? [...this.unseenLvs] : [];
    const { lvs, odd } = read
      ? await readVolumeGroup(this.runner, this.deps.config.vg, this.abort.signal)
      : { lvs: last.lvs, odd: last.oddLvs };
    for (const name of created) this.unseenLvs.delete(name);
    const drbd = this.stream.snapshot();
    const view: NodeView = {
      lvs,
      oddLvs: odd,
      drbd: drbd ?? {},
      drbdReady: drbd !== undefined,
      drbdOdd: this.stream.oddities(),
      mounts: parseMounts(await this.readMounts()),
    };
    this.view = view;
    return view;
  }

  private factsOf(record: VolumeRecord, view: NodeView): VolumeFacts {
    const name = record.name;
    const wanted = this.wanted(record);
    return {
      record,
      lv: view.lvs.get(name) ?? null,
      lvUnseen: this.unseenLvs.has(name) && !view.lvs.has(name),
      lvOdd: view.oddLvs.get(name) ?? null,
      res: view.drbd[name] ?? null,
      resOdd: view.drbdOdd[name] ?? null,
      mount: view.mounts.get(drbdDevice(record.spec.drbd.minor)) ?? null,
      wantedConfig: wanted?.hash ?? null,
      liveConfig: this.files.liveHash(name),
      ownerTag: OWNER_TAG,
      thinPool: this.deps.config.thinPool,
    };
  }

  private wanted(record: VolumeRecord) {
    return renderVolumeResource(this.deps.config, record.name, record.spec, this.generation);
  }

  /** Observe, plan every volume, run one step of each that needs one; again until quiet. */
  reconcileNow(): Promise<void> {
    return this.exclusive(() => this.reconcileLocked(null));
  }

  /**
   * `lvm`: how the first round gets its LVM report. 'read' reads it; 'just-read' takes the
   * one the caller observed just now; 'reuse' takes the last one, whatever its age (a pass
   * after a PUT or a DRBD event). Later rounds read LVM again only after a step that
   * changed an LV (or failed), and before a step that trusts an LV's size.
   */
  private async reconcileLocked(
    only: string | null,
    lvm: 'read' | 'just-read' | 'reuse' = 'read',
  ): Promise<void> {
    const steps = this.steps;
    if (!steps) throw new ConflictError('the volume engine is not started');
    const failedThisRun = new Set<string>();
    let lvmStale = lvm === 'read';
    let lvmReadThisPass = lvm === 'just-read';
    let retry = false;
    // Where a pass's time goes (logged when it acted): the looks as against the steps.
    const cost = { rounds: 0, steps: 0, lvmReports: 0, observeMs: 0, started: performance.now() };
    for (let round = 0; round < MAX_ROUNDS && !this.stopped; round++) {
      const looked = performance.now();
      const view = await this.observe({ lvm: lvmStale });
      cost.observeMs += performance.now() - looked;
      cost.rounds++;
      if (lvmStale) cost.lvmReports++;
      lvmReadThisPass ||= lvmStale;
      lvmStale = false;
      let acted = false;
      for (const record of [...this.records.values()]) {
        if (only !== null && record.name !== only) continue;
        const facts = this.factsOf(record, view);
        // Without the events2 dump DRBD facts are unknown: act on nothing DRBD-related.
        const plan: VolumePlan = view.drbdReady
          ? planVolume(facts)
          : { steps: [], error: null, waiting: 'DRBD state not known yet' };
        this.plans.set(record.name, plan);
        if (plan.error && !this.errors.has(record.name)) {
          this.log.error({ volume: record.name, why: plan.error }, 'volume cannot converge');
          this.metrics.reconcileErrors.inc({ volume: record.name });
        }
        const next = plan.steps[0];
        // A step's failure stops mattering once the plan no longer wants any step (its
        // own error or a wait says why now): a pass on an older report may have tried one.
        if (!next && !failedThisRun.has(record.name)) this.errors.delete(record.name);
        if (!next || failedThisRun.has(record.name)) continue;
        acted = true;
        if (FRESH_REPORT_STEPS.has(next) && !lvmReadThisPass) {
          lvmStale = true;
          continue;
        }
        cost.steps++;
        if (LVM_STEPS.has(next)) lvmStale = true;
        const started = performance.now();
        try {
          await steps.apply(next, { record, facts, wanted: this.wanted(record) });
          if (next === 'create-lv') this.unseenLvs.add(record.name);
          if (next === 'forget') this.records.delete(record.name);
          this.errors.delete(record.name);
          this.log.info(
            { volume: record.name, step: next, durationMs: Math.round(performance.now() - started) },
            'step done',
          );
        } catch (err) {
          const why = `${next}: ${(err as Error).message}`;
          this.errors.set(record.name, why);
          failedThisRun.add(record.name);
          lvmStale = true;
          if (err instanceof RetrySoonError) {
            this.log.warn({ volume: record.name, step: next, why }, 'waiting; trying again soon');
            retry = true;
            continue;
          }
          this.metrics.reconcileErrors.inc({ volume: record.name });
          this.log.error({ volume: record.name, step: next, err }, 'step failed');
        }
      }
      if (!acted) break;
    }
    if (this.unseenLvs.size > 0 && !this.stopped) {
      // Now, not before the steps that followed lvcreate: a new volume's DRBD is up and
      // waiting for its peer to connect meanwhile. A failed report leaves the LVs unseen:
      // the next pass reads LVM at its start.
      const looked = performance.now();
      await this.observe({ lvm: true }).catch((err) =>
        this.log.warn({ err }, 'LVM report after creating LVs failed; the next pass reads it'),
      );
      cost.observeMs += performance.now() - looked;
      cost.lvmReports++;
    }
    if (cost.steps > 0)
      this.log.info(
        {
          rounds: cost.rounds,
          steps: cost.steps,
          lvmReports: cost.lvmReports,
          observeMs: Math.round(cost.observeMs),
          durationMs: Math.round(performance.now() - cost.started),
        },
        'pass done',
      );
    if (retry) this.retrySoon();
    else if (only === null) this.retryDelayMs = 0;
    this.updateMetrics();
    if (only !== null && failedThisRun.has(only)) throw new ConflictError(this.errors.get(only) ?? 'failed');
  }

  private updateMetrics(): void {
    const view = this.view;
    if (!view) return;
    this.metrics.setVolumes(
      [...this.records.values()].map((r) => {
        const s = this.statusOf(r, view);
        return {
          name: r.name,
          role: s.observed.drbd?.role ?? 'Unknown',
          state: s.state,
          outOfSyncBytes: s.observed.drbd?.outOfSyncBytes ?? 0,
        };
      }),
    );
  }

  private async save(record: VolumeRecord): Promise<void> {
    await this.store.write(record);
    this.records.set(record.name, record);
  }

  private statusOf(record: VolumeRecord, view: NodeView): VolumeStatus {
    return volumeStatus(
      this.factsOf(record, view),
      this.plans.get(record.name) ?? null,
      this.errors.get(record.name) ?? null,
    );
  }

  // ---- VolumeService --------------------------------------------------------------------

  // The view of the last pass, not DRBD live: a step's intermediate states (a resource
  // attaching, Diskless) would read as a degraded or failed volume. One change is shown
  // live: a peer connection lost since the pass (see withLostPeers).
  async list(): Promise<VolumeStatus[]> {
    const view = this.withLostPeers(this.view ?? (await this.exclusive(() => this.observe())));
    return [...this.records.values()].map((r) => this.statusOf(r, view));
  }

  /**
   * The last pass's view, with DRBD's live connection state for each resource that was
   * Connected then and is not now. The controller's failover waits for a survivor to
   * report its lost peer; the pass a DRBD event starts reads LVM first, which took
   * seconds in a busy guest. Role and disk stay as the pass saw them.
   */
  private withLostPeers(view: NodeView): NodeView {
    const live = this.stream.snapshot();
    if (!live) return view;
    let drbd: NodeView['drbd'] | null = null;
    for (const [name, res] of Object.entries(view.drbd)) {
      const now = live[name];
      if (peerOf(res)?.connection !== 'Connected' || !now || peerOf(now)?.connection === 'Connected')
        continue;
      drbd ??= { ...view.drbd };
      drbd[name] = { ...res, suspended: now.suspended, connections: now.connections };
    }
    return drbd ? { ...view, drbd } : view;
  }

  peerConnected(name: string): boolean {
    return peerOf(this.stream.snapshot()?.[name] ?? null)?.connection === 'Connected';
  }

  async get(name: string): Promise<VolumeStatus | null> {
    const r = this.records.get(name);
    if (!r) return null;
    const view = this.withLostPeers(this.view ?? (await this.exclusive(() => this.observe())));
    return this.statusOf(r, view);
  }

  private require(name: string): VolumeRecord {
    checkName(name);
    const r = this.records.get(name);
    if (!r) {
      const why = this.broken.get(name);
      if (why) throw new ConflictError(`volume "${name}" has an unreadable record: ${why}`);
      throw new NotFoundError('volume', name);
    }
    return r;
  }

  async put(name: string, spec: VolumeSpec): Promise<{ status: VolumeStatus; created: boolean }> {
    checkName(name);
    if (!Value.Check(VolumeSpec, spec)) {
      const e = Value.Errors(VolumeSpec, spec)[0];
      throw new ValidationError(
        `spec${e?.instancePath.replace(/\//g, '.') ?? ''}`,
        e?.message ?? 'is not a volume spec',
      );
    }
    const result = await this.exclusive(async () => {
      const existing = this.records.get(name);
      if (existing) {
        if (existing.deleting) throw new ConflictError(`volume "${name}" is being deleted`);
        if (JSON.stringify(existing.spec) === JSON.stringify(spec))
          return { record: existing, created: false, changed: false };
        this.checkChange(existing, spec);
        await this.save({ ...existing, spec, epoch: Math.max(existing.epoch, spec.epoch) });
        return { record: this.records.get(name) as VolumeRecord, created: false, changed: true };
      }
      if (this.broken.has(name))
        throw new ConflictError(`volume "${name}" has an unreadable record: ${this.broken.get(name)}`);
      this.checkMinorPort(name, spec);
      await this.checkSpace(spec.sizeBytes, spec.thin);
      const record = newRecord(name, spec);
      await this.save(record);
      return { record, created: true, changed: true };
    });
    // The pass starts now (after this answer is sent): provisioning begins at the PUT.
    if (result.changed) this.passSoon(0);
    const view = this.view ?? (await this.exclusive(() => this.observe()));
    return { status: this.statusOf(result.record, view), created: result.created };
  }

  private checkChange(existing: VolumeRecord, spec: VolumeSpec): void {
    const old = existing.spec;
    if (spec.epoch < existing.epoch)
      throw new ConflictError(`epoch ${spec.epoch} is older than ${existing.epoch} already acted on`);
    if (spec.sizeBytes < old.sizeBytes)
      throw new ConflictError(`shrinking from ${old.sizeBytes} to ${spec.sizeBytes} bytes is not supported`);
    if (spec.thin !== old.thin) throw new ConflictError('a volume cannot change between thin and thick');
    const up = this.view?.drbd[existing.name] !== undefined;
    if (up && (spec.drbd.minor !== old.drbd.minor || spec.drbd.port !== old.drbd.port))
      throw new ConflictError('the DRBD minor and port cannot change while the resource is up');
    if (
      spec.filesystem !== old.filesystem &&
      old.filesystem !== null &&
      this.view?.mounts.has(drbdDevice(old.drbd.minor))
    )
      throw new ConflictError('the filesystem cannot change while mounted');
  }

  private checkMinorPort(name: string, spec: VolumeSpec): void {
    for (const r of this.records.values()) {
      if (r.spec.drbd.minor === spec.drbd.minor)
        throw new ConflictError(`DRBD minor ${spec.drbd.minor} is used by volume "${r.name}"`);
      if (r.spec.drbd.port === spec.drbd.port)
        throw new ConflictError(`DRBD port ${spec.drbd.port} is used by volume "${r.name}"`);
    }
    if (this.view?.drbd[name] !== undefined)
      throw new ConflictError(`a DRBD resource "${name}" is already up but xlss has no record of it`);
  }

  /** Thick volumes need free extents now; thin ones are checked by the pool when written. */
  private async checkSpace(sizeBytes: number, thin: boolean): Promise<void> {
    if (thin) return;
    const vg = await this.lvm.getVg(this.deps.config.vg);
    if (vg.freeBytes < BigInt(sizeBytes))
      throw new NoSpaceError(`VG ${vg.name} has ${vg.freeBytes} bytes free, ${sizeBytes} needed`);
  }

  async delete(name: string, options: { force: boolean }): Promise<void> {
    await this.exclusive(async () => {
      const record = this.require(name);
      const view = await this.observe();
      const facts = this.factsOf(record, view);
      if (!options.force && !record.deleting) {
        if (facts.mount) throw new ConflictError(`volume "${name}" is mounted at ${facts.mount.path}`);
        if (facts.res?.role === 'Primary')
          throw new ConflictError(`volume "${name}" is Primary on this node`);
      }
      if (!record.deleting) await this.save({ ...record, deleting: true });
      await this.reconcileLocked(name, 'just-read');
      if (this.records.has(name))
        throw new ConflictError(
          `volume "${name}" is not fully deleted: ${this.errors.get(name) ?? this.plans.get(name)?.error ?? 'still tearing down'}`,
        );
    });
  }

  async promote(name: string, body: PromoteBody): Promise<VolumeStatus> {
    return this.exclusive(async () => {
      const record = this.require(name);
      if (record.deleting) throw new ConflictError(`volume "${name}" is being deleted`);
      if (body.epoch < record.epoch)
        throw new ConflictError(`epoch ${body.epoch} is older than ${record.epoch} already acted on`);
      // DRBD and mounts are read fresh; the LV report is reused (promotion changes no LV,
      // and reading it costs seconds of a failover in a busy guest).
      const view = await this.observe({ lvm: false });
      const facts = this.factsOf(record, view);
      const dev = deviceOf(facts.res);
      const peer = peerOf(facts.res);
      if (!facts.res || !dev)
        throw new ConflictError(`volume "${name}" has no DRBD resource up on this node`);
      if (facts.resOdd) throw new ConflictError(`DRBD state of "${name}" is not understood: ${facts.resOdd}`);
      if (peer?.peerRole === 'Primary') throw new ConflictError(`the peer of "${name}" is Primary`);
      // Never an Outdated or Inconsistent disk, forced or not: that would serve stale data.
      if (dev.disk !== 'UpToDate')
        throw new ConflictError(`the local disk of "${name}" is ${dev.disk}, not UpToDate`);
      const connected = peer?.connection === 'Connected';
      await this.save({
        ...record,
        spec: { ...record.spec, role: 'primary', epoch: body.epoch },
        epoch: body.epoch,
      });
      if (facts.res.role !== 'Primary') {
        const adm = this.steps?.adm(name);
        const fenced = !connected && body.peerFenced === true;
        if (fenced && this.generation === '8.4') await this.skipFencePeerOnce(name, record.spec.drbd.minor);
        await adm?.primary(name, { force: fenced });
        await this.stream
          .waitFor((s) => s[name]?.role === 'Primary', { timeoutMs: 10_000 })
          .catch(() => undefined);
      }
      if (body.mount === false) {
        const cur = this.records.get(name) as VolumeRecord;
        await this.save({ ...cur, spec: { ...cur.spec, mountPoint: null } });
      }
      // The LVM report was reused above, not read: a step that trusts an LV's size reads it.
      await this.reconcileLocked(name, 'reuse').catch((err) =>
        this.log.warn({ volume: name, err }, 'after promotion'),
      );
      const promoted = this.records.get(name) as VolumeRecord;
      if (body.workloadUnit) await this.startWorkload(promoted, body.workloadUnit);
      return this.statusOf(promoted, this.view as NodeView);
    });
  }

  /**
   * The controller has fenced the lost peer (recorded it outdated at this epoch) and says
   * so: DRBD 8.4 would still run the fence-peer handler on promotion (its peer's disk is
   * unknown), a round of process starts and HTTP calls that only asks the controller the
   * question it just answered (seconds of a failover in a busy guest). So the kernel's
   * fencing is set to dont-care for this promotion alone. The record says first that the
   * kernel differs from the `.res`, so the pass right after the promotion, or the first
   * pass of a daemon killed in between, runs `adjust`, which puts resource-and-stonith back.
   */
  private async skipFencePeerOnce(name: string, minor: number): Promise<void> {
    await this.save({ ...(this.records.get(name) as VolumeRecord), adjustedConfig: null });
    await this.runner.run('drbdsetup', ['disk-options', String(minor), '--fencing=dont-care']);
    this.log.info({ volume: name }, 'peer fenced by the controller: promoting without the fence-peer call');
  }

  /**
   * Bare metal: the volume's workload starts only on a Primary whose filesystem is
   * mounted (a unit started on an empty mount point would write beside the volume).
   */
  private async startWorkload(record: VolumeRecord, unit: string): Promise<void> {
    const name = record.name;
    const facts = this.factsOf(record, this.view as NodeView);
    if (facts.res?.role !== 'Primary')
      throw new ConflictError(`volume "${name}" is not Primary here: ${unit} not started`);
    if (record.spec.filesystem && record.spec.mountPoint && !facts.mount)
      throw new ConflictError(
        `volume "${name}" is not mounted at ${record.spec.mountPoint}: ${unit} not started`,
      );
    await this.runner.run('systemctl', ['start', '--no-block', unit]);
    this.log.info({ volume: name, unit }, 'workload started');
  }

  async demote(name: string, epoch: number): Promise<VolumeStatus> {
    return this.exclusive(async () => {
      const record = this.require(name);
      if (epoch < record.epoch)
        throw new ConflictError(`epoch ${epoch} is older than ${record.epoch} already acted on`);
      await this.save({ ...record, spec: { ...record.spec, role: 'secondary', epoch }, epoch });
      await this.reconcileLocked(name);
      return this.statusOf(this.records.get(name) as VolumeRecord, this.view as NodeView);
    });
  }

  async resize(name: string, sizeBytes: number): Promise<VolumeStatus> {
    return this.exclusive(async () => {
      const record = this.require(name);
      if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 4 * 1024 * 1024)
        throw new ValidationError('sizeBytes', 'must be a whole number of bytes, at least 4 MiB');
      if (sizeBytes < record.spec.sizeBytes)
        throw new ConflictError(
          `shrinking "${name}" from ${record.spec.sizeBytes} to ${sizeBytes} bytes is not supported`,
        );
      if (sizeBytes > record.spec.sizeBytes) {
        if (!record.spec.thin) await this.checkSpace(sizeBytes - record.spec.sizeBytes, false);
        await this.save({ ...record, spec: { ...record.spec, sizeBytes } });
        await this.reconcileLocked(name).catch((err) =>
          this.log.warn({ volume: name, err }, 'resize in progress'),
        );
      }
      return this.statusOf(this.records.get(name) as VolumeRecord, this.view ?? (await this.observe()));
    });
  }

  async outdate(name: string, epoch: number): Promise<VolumeStatus> {
    return this.exclusive(async () => {
      const record = this.require(name);
      if (epoch < record.epoch)
        throw new ConflictError(`epoch ${epoch} is older than ${record.epoch} already acted on`);
      const view = await this.observe();
      const facts = this.factsOf(record, view);
      if (facts.res?.role === 'Primary')
        throw new ConflictError(`volume "${name}" is Primary here: demote it first`);
      await this.save({ ...record, spec: { ...record.spec, role: 'secondary', epoch }, epoch });
      await this.steps?.adm(name).outdate(name);
      await this.stream
        .waitFor((s) => deviceOf(s[name] ?? null)?.disk === 'Outdated', { timeoutMs: 5000 })
        .catch(() => undefined);
      return this.statusOf(this.records.get(name) as VolumeRecord, await this.observe());
    });
  }
}

function checkName(name: string): void {
  if (typeof name !== 'string' || !new RegExp(NAME_PATTERN).test(name))
    throw new ValidationError('name', `must match ${NAME_PATTERN}`);
}
