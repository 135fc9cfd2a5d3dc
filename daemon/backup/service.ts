import { mkdir, readdir, stat } from 'node:fs/promises';
import type { Registry } from 'prom-client';
import { ConflictError, errorMessage, NotFoundError, ValidationError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { CommandRunner } from '../../common/runner.js';
import type { Lvm } from '../../lvm/lvm.js';
import type { BackupManifest, Job, RestoreBody, VolumeStatus } from '../api/schemas.js';
import type { BackupService, VolumeEngine } from '../volumes/service.js';
import { deviceSize, firstNonZero } from './device.js';
import { writeFileAtomic } from './files.js';
import { JobTable } from './jobs.js';
import { createBackupMetrics } from './metrics.js';
import {
  imageFile,
  isVolumeName,
  makeBackupId,
  manifestFile,
  validateBackupId,
  validateTargetDir,
  validateVolumeName,
  volumeDir,
} from './names.js';
import { type CheckedPolicy, checkPolicy, nextRunAt } from './policy.js';
import { dueEntries, planQueue, type QueueEntry, type ScheduledVolume } from './schedule.js';
import {
  backingLv,
  dropSnapshot,
  removeStaleSnapshots,
  type SnapshotDeps,
  takeSnapshot,
} from './snapshot.js';
import { type BackupState, BackupStateStore, emptyState } from './state.js';
import { applyRetention, readManifest, readManifests, removeLeftovers } from './store.js';
import { readImageOnto, writeImage } from './stream.js';

export interface BackupServiceConfig {
  /** The VG holding xlss's LVs (snapshots are made there). */
  vg: string;
  /** `<stateDir>/backups.json` keeps last-run and last-success times across restarts. */
  stateDir: string;
  /** This node's name: written into manifests and backup ids. */
  nodeName: string;
}

export interface BackupServiceDeps {
  volumes: Pick<VolumeEngine, 'get' | 'list' | 'devicePath'>;
  lvm: Lvm;
  /** For the few commands `lvm/` has no verb for: `lvchange -ay -K`, `blockdev --getsize64`. */
  runner: CommandRunner;
  log: Logger;
  registry: Registry;
  config: BackupServiceConfig;
  /** The clock (ms since epoch); tests inject one. */
  now?: () => number;
  /** Block device of an LV, `/dev/<vg>/<lv>` by default; tests map snapshots to files. */
  lvDevice?: (vg: string, lv: string) => string;
  /** Longest sleep between two looks at the queue, so new policies and role changes are seen. */
  pollMs?: number;
}

/** The BackupService plus what the daemon's wiring and tests use. */
export interface BackupServiceHandle extends BackupService {
  /** Runs every backup that is due now, one after the other, and waits for them. */
  tick(): Promise<void>;
  /** The queue as it stands: Primary volumes with a policy, by next run time. */
  queue(): Promise<QueueEntry[]>;
  /** The running job of a volume (for the engine's `progress`), or null. */
  activeJob(volume: string): Job | null;
  /** Resolves when no job is running. */
  idle(): Promise<void>;
}

export function createBackupService(deps: BackupServiceDeps): BackupServiceHandle {
  const { volumes, runner, config } = deps;
  const log = deps.log.child({ component: 'backup' });
  const now = deps.now ?? Date.now;
  const nodeName = validateVolumeName(config.nodeName, 'nodeName');
  const pollMs = deps.pollMs ?? 60_000;
  const metrics = createBackupMetrics(deps.registry);
  const jobs = new JobTable();
  const store = new BackupStateStore(config.stateDir, nodeName);
  const snapDeps: SnapshotDeps = {
    lvm: deps.lvm,
    runner,
    vg: config.vg,
    log,
    lvDevice: deps.lvDevice ?? ((vg, lv) => `/dev/${vg}/${lv}`),
  };

  let state: BackupState = emptyState();
  let loaded = false;
  /** One job per volume at a time, backup or restore. */
  const running = new Map<string, { job: Job; done: Promise<void>; abort: AbortController }>();
  let saving: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | null = null;
  /** The timer loop runs between start() and stop(); tick() also works without it (tests). */
  let looping = false;
  let stopping = false;

  async function ensureLoaded(): Promise<void> {
    if (loaded) return;
    state = await store.load();
    loaded = true;
    for (const [volume, iso] of Object.entries(state.lastSuccess))
      metrics.lastSuccess.set({ volume }, Date.parse(iso) / 1000);
  }

  /** Saves are chained so that the newest state is always the one on disk. */
  function save(): Promise<void> {
    const next = saving.then(() => store.save(state));
    saving = next.catch(() => {});
    return next;
  }

  function isPrimaryHere(st: VolumeStatus): boolean {
    return st.observed.drbd?.role === 'Primary';
  }

  async function scheduledVolumes(): Promise<ScheduledVolume[]> {
    const out: ScheduledVolume[] = [];
    for (const st of await volumes.list()) {
      if (!st.spec.backup || !isPrimaryHere(st)) continue;
      try {
        out.push({ volume: st.name, policy: checkPolicy(st.spec.backup) });
      } catch (err) {
        log.error(
          { volume: st.name, err: errorMessage(err) },
          'backup policy rejected; volume not scheduled',
        );
      }
    }
    return out;
  }

  async function queue(): Promise<QueueEntry[]> {
    await ensureLoaded();
    const scheduled = await scheduledVolumes();
    const t = now();
    const unseen = scheduled.filter((v) => state.firstSeen[v.volume] === undefined);
    for (const v of unseen) state.firstSeen[v.volume] = t;
    if (unseen.length > 0) await save();
    return planQueue(scheduled, state.lastRun, t, state.firstSeen);
  }

  function launch(
    kind: Job['kind'],
    volume: string,
    backupId: string | null,
    work: (job: Job, signal: AbortSignal) => Promise<void>,
  ): Job {
    const job = jobs.start(kind, volume, backupId, now());
    const abort = new AbortController();
    const started = now();
    const done = work(job, abort.signal).then(
      () => {
        jobs.finish(job, null);
        metrics.duration.observe({ kind, outcome: 'ok' }, (now() - started) / 1000);
      },
      (err: unknown) => {
        jobs.finish(job, errorMessage(err));
        metrics.duration.observe({ kind, outcome: 'error' }, (now() - started) / 1000);
        if (kind === 'backup') metrics.failures.inc({ volume });
        log.error({ volume, job: job.id, kind, err: errorMessage(err) }, `${kind} failed`);
      },
    );
    const entry = { job, done, abort };
    running.set(volume, entry);
    void done.finally(() => {
      if (running.get(volume) === entry) running.delete(volume);
    });
    return job;
  }

  function startBackup(volume: string, policy: CheckedPolicy): Job {
    const startedAt = now();
    state.lastRun[volume] = startedAt;
    const id = makeBackupId(startedAt, nodeName);
    return launch('backup', volume, id, async (job, signal) => {
      await save();
      await backupOnce(job, signal, volume, policy, id, startedAt);
    });
  }

  async function backupOnce(
    job: Job,
    signal: AbortSignal,
    volume: string,
    policy: CheckedPolicy,
    id: string,
    startedAt: number,
  ): Promise<void> {
    const st = await volumes.get(volume);
    if (!st) throw new NotFoundError('volume', volume);
    if (!isPrimaryHere(st)) throw new ConflictError(`${volume} is not Primary on ${nodeName}`);
    if (!st.observed.lv) throw new ConflictError(`${volume} has no LV on ${nodeName}`);
    const origin = backingLv(config.vg, st.observed.lv.path);
    // The image holds what the volume's users see: the DRBD device, which is the LV less
    // DRBD's internal metadata at its end (a same-size volume must take it on restore).
    const device = volumes.devicePath(volume);
    const usable = device ? await deviceSize(device, runner) : st.spec.sizeBytes;
    const sizeBytes = Math.min(st.spec.sizeBytes, usable);
    const dir = volumeDir(policy.target, volume);
    await mkdir(dir, { recursive: true });
    await removeLeftovers(dir, volume, nodeName, now(), log);
    log.info({ volume, backupId: id, sizeBytes, target: policy.target }, 'backup started');

    const snap = await takeSnapshot(snapDeps, { volume, origin, thin: st.observed.lv.thin, sizeBytes });
    let written: Awaited<ReturnType<typeof writeImage>>;
    try {
      const snapBytes = await deviceSize(snap.device, runner);
      if (snapBytes < sizeBytes)
        throw new ConflictError(
          `snapshot ${snap.name} has ${snapBytes} bytes, ${volume} should have ${sizeBytes}`,
        );
      written = await writeImage({
        source: snap.device,
        sizeBytes,
        image: imageFile(dir, id),
        nodeName,
        onProgress: (n) => jobs.progress(job, n, sizeBytes),
        signal,
      });
    } finally {
      // Dropped whatever happened; a failure to drop is logged, and the next run retries it.
      await dropSnapshot(snapDeps, volume, snap.name).catch((err: unknown) =>
        log.error(
          { volume, snapshot: snap.name, err: errorMessage(err) },
          'could not drop the backup snapshot',
        ),
      );
    }
    const manifest: BackupManifest = {
      id,
      volume,
      sizeBytes,
      createdAt: new Date(startedAt).toISOString(),
      sourceNode: nodeName,
      sha256: written.sha256,
      compressedBytes: written.compressedBytes,
      compression: 'gzip',
    };
    await writeFileAtomic(manifestFile(dir, id), `${JSON.stringify(manifest, null, 2)}\n`, nodeName);
    metrics.bytesWritten.inc({ volume }, written.compressedBytes);
    await applyRetention(dir, volume, policy.retain, log);
    state.lastSuccess[volume] = manifest.createdAt;
    metrics.lastSuccess.set({ volume }, startedAt / 1000);
    await save();
    log.info(
      { volume, backupId: id, sha256: written.sha256, compressedBytes: written.compressedBytes },
      'backup done',
    );
  }

  /** Passes never overlap: a second caller waits for the pass in progress, then runs its own. */
  let passing: Promise<void> = Promise.resolve();
  function tick(): Promise<void> {
    const pass = passing.then(runDue);
    passing = pass.catch(() => {});
    return pass;
  }

  async function runDue(): Promise<void> {
    const due = dueEntries(await queue(), now());
    for (const entry of due) {
      if (stopping) break;
      // A run-now since the queue was read may have made this one not due any more.
      const t = now();
      const still = nextRunAt(
        entry.policy.schedule,
        state.lastRun[entry.volume] ?? null,
        t,
        state.firstSeen[entry.volume] ?? null,
      );
      if (running.has(entry.volume) || still > t) continue;
      startBackup(entry.volume, entry.policy);
      await running.get(entry.volume)?.done;
    }
  }

  async function loop(): Promise<void> {
    timer = null;
    if (!looping) return;
    try {
      await tick();
    } catch (err) {
      log.error({ err: errorMessage(err) }, 'backup queue pass failed');
    }
    if (!looping) return;
    let wait = pollMs;
    try {
      const next = (await queue())[0];
      if (next) wait = Math.min(pollMs, Math.max(1000, next.dueAt - now()));
    } catch (err) {
      log.error({ err: errorMessage(err) }, 'backup queue could not be read');
    }
    if (looping) timer = setTimeout(() => void loop(), wait);
  }

  async function idle(): Promise<void> {
    while (running.size > 0) await Promise.all([...running.values()].map((r) => r.done));
  }

  /**
   * A backup is looked up under the volume's own name first (a volume recreated after
   * both replicas were lost), then under every volume of the target (restoring into a
   * new volume); an id found under two volumes is ambiguous and refused.
   */
  async function findBackup(target: string, volume: string, backupId: string) {
    const read = async (v: string) => {
      const dir = volumeDir(target, v);
      try {
        const manifest = await readManifest(manifestFile(dir, backupId));
        return manifest ? { manifest, image: imageFile(dir, backupId) } : null;
      } catch (err) {
        throw new ValidationError(
          'backupId',
          `the manifest of ${v}/${backupId} is unreadable: ${errorMessage(err)}`,
        );
      }
    };
    let found = await read(volume);
    if (!found) {
      const others = (await readdir(target).catch(() => [] as string[])).filter(
        (d) => d !== volume && isVolumeName(d),
      );
      const hits = (await Promise.all(others.map(read))).filter((h) => h !== null);
      if (hits.length > 1)
        throw new ConflictError(
          `backup ${backupId} exists for ${hits.map((h) => h.manifest.volume).join(', ')}`,
        );
      found = hits[0] ?? null;
    }
    if (!found) throw new NotFoundError('backup', backupId);
    await stat(found.image).catch(() => {
      throw new NotFoundError('backup image', found.image);
    });
    return found;
  }

  async function restoreChecks(volume: string, body: RestoreBody) {
    const backupId = validateBackupId(body.backupId, 'backupId');
    const target = validateTargetDir(body.target, 'target');
    if (running.has(volume))
      throw new ConflictError(`${volume} has a ${running.get(volume)?.job.kind} running`);
    const st = await volumes.get(volume);
    if (!st) throw new NotFoundError('volume', volume);
    if (!isPrimaryHere(st))
      throw new ConflictError(`${volume} must be Primary on ${nodeName} to restore into it`);
    if (st.observed.mount) throw new ConflictError(`${volume} is mounted at ${st.observed.mount.path}`);
    const device = volumes.devicePath(volume);
    if (!device) throw new ConflictError(`${volume} has no device on ${nodeName}`);
    const found = await findBackup(target, volume, backupId);
    const { manifest, image } = found;
    const devBytes = await deviceSize(device, runner);
    if (devBytes < manifest.sizeBytes)
      throw new ConflictError(
        `${volume} has ${devBytes} bytes; backup ${backupId} needs ${manifest.sizeBytes}`,
      );
    if (state.restoring[volume] === undefined) {
      const at = await firstNonZero(device, Math.min(devBytes, st.spec.sizeBytes));
      if (at !== null)
        throw new ConflictError(
          `${volume} is not empty (data at byte ${at}): restore only into a new or empty volume`,
        );
    }
    return { manifest, image, device };
  }

  return {
    async start() {
      await ensureLoaded();
      stopping = false;
      try {
        await removeStaleSnapshots(snapDeps);
      } catch (err) {
        log.error({ vg: config.vg, err: errorMessage(err) }, 'could not look for stale backup snapshots');
      }
      looping = true;
      void loop();
    },

    async stop() {
      looping = false;
      stopping = true;
      if (timer) clearTimeout(timer);
      timer = null;
      for (const r of running.values()) r.abort.abort(new Error('the daemon is stopping'));
      await idle();
      await saving;
    },

    async list(volume, target) {
      const dir = volumeDir(validateTargetDir(target), validateVolumeName(volume));
      return readManifests(dir, volume, log);
    },

    async runNow(volume) {
      validateVolumeName(volume);
      await ensureLoaded();
      const active = running.get(volume);
      if (active?.job.kind === 'backup') return { ...active.job };
      if (active) throw new ConflictError(`${volume} has a restore running`);
      const st = await volumes.get(volume);
      if (!st) throw new NotFoundError('volume', volume);
      if (!isPrimaryHere(st))
        throw new ConflictError(`${volume} is not Primary on ${nodeName}: back it up there`);
      if (!st.spec.backup) throw new ConflictError(`${volume} has no backup policy (it names the target)`);
      return { ...startBackup(volume, checkPolicy(st.spec.backup)) };
    },

    async restore(volume, body) {
      validateVolumeName(volume);
      await ensureLoaded();
      const { manifest, image, device } = await restoreChecks(volume, body);
      state.restoring[volume] = manifest.id;
      await save();
      log.info({ volume, backupId: manifest.id, device, sizeBytes: manifest.sizeBytes }, 'restore started');
      const job = launch('restore', volume, manifest.id, async (j, signal) => {
        await readImageOnto({
          image,
          device,
          sizeBytes: manifest.sizeBytes,
          sha256: manifest.sha256,
          onProgress: (n) => jobs.progress(j, n, manifest.sizeBytes),
          signal,
        });
        delete state.restoring[volume];
        await save();
        log.info(
          { volume, backupId: manifest.id, sha256: manifest.sha256 },
          'restore done, checksum verified',
        );
      });
      return { ...job };
    },

    job: (id) => jobs.get(id),
    lastSuccess: (volume) => state.lastSuccess[volume] ?? null,
    tick,
    queue,
    activeJob: (volume) => {
      const r = running.get(volume);
      return r ? { ...r.job } : null;
    },
    idle,
  };
}
