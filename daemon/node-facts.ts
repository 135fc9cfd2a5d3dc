/**
 * What `/v1/node` reports about this node: identity, DRBD version, VG and thin pool
 * space, disks and load. VG and pool come from one LVM report each through the runner;
 * disks from `lsblk` through the runner too (every process goes through it); the load
 * average from the kernel (node:os).
 */
import { readFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import type { Logger } from '../common/log.js';
import type { CommandRunner } from '../common/runner.js';
import { detectDrbdVersions } from '../drbd/version.js';
import { Lvm } from '../lvm/index.js';
import type { NodeInfo } from './api/schemas.js';
import type { DaemonConfig } from './config.js';

export interface Disk {
  name: string;
  sizeBytes: number;
  type: string;
}

/** Parses `lsblk --json --bytes --nodeps -o NAME,SIZE,ROTA,TYPE,TRAN`; whole disks only. */
export function parseLsblkDisks(text: string): Disk[] {
  const doc = JSON.parse(text) as { blockdevices?: Record<string, unknown>[] };
  if (!Array.isArray(doc.blockdevices)) throw new Error('lsblk output has no blockdevices');
  const disks: Disk[] = [];
  for (const d of doc.blockdevices) {
    if (d.type !== 'disk' || typeof d.name !== 'string') continue;
    // util-linux before 2.33 printed every value as a string.
    const size = Number(d.size);
    if (!Number.isSafeInteger(size) || size <= 0) continue;
    const rotational = d.rota === true || d.rota === '1';
    const type = d.tran === 'nvme' || d.name.startsWith('nvme') ? 'NVMe' : rotational ? 'HDD' : 'SSD';
    disks.push({ name: d.name, sizeBytes: size, type });
  }
  return disks;
}

export interface NodeFactsDeps {
  config: DaemonConfig;
  runner: CommandRunner;
  log: Logger;
  version: string;
  engine: { ready(): boolean; list(): Promise<unknown[]> };
  /** Injected for tests; defaults to the kernel's load averages (systemLoad). */
  load?: () => Promise<{ avg1: number; cpus: number }>;
  readFile?: (path: string) => Promise<string>;
  /** Monotonic milliseconds; injected for tests. */
  now?: () => number;
}

/** Facts younger than this are answered from memory while a fresh observation runs. */
export const FACTS_REFRESH_MS = 2_000;
/** Facts older than this are never answered: the caller waits for a fresh observation. */
export const FACTS_MAX_AGE_MS = 30_000;

export interface NodeFacts {
  vg(): Promise<{ sizeBytes: number; freeBytes: number }>;
  nodeInfo(): Promise<NodeInfo>;
}

/**
 * The figure systeminformation's currentLoad().avgLoad gave (the highest of the 1, 5 and
 * 15 minute load averages per CPU, two decimals), read from node:os directly: importing
 * systeminformation kept about 11 MiB resident in the daemon for these two numbers.
 */
export function systemLoad(): Promise<{ avg1: number; cpus: number }> {
  const count = Math.max(1, cpus().length);
  const avg1 = Number(Math.max(...loadavg().map((x) => x / count)).toFixed(2));
  return Promise.resolve({ avg1, cpus: count });
}

export function createNodeFacts(deps: NodeFactsDeps): NodeFacts {
  const log = deps.log.child({ component: 'node-facts' });
  const lvm = new Lvm({ runner: deps.runner, logger: deps.log });
  const { config } = deps;
  const load = deps.load ?? systemLoad;
  const read = deps.readFile ?? ((p: string) => readFile(p, 'utf8'));
  let drbd: { generation: string; kernelVersion: string } | null = null;

  async function drbdVersion(): Promise<{ generation: string; kernelVersion: string }> {
    if (drbd) return drbd;
    try {
      const v = await detectDrbdVersions(deps.runner, read);
      drbd = { generation: v.generation, kernelVersion: v.kernel };
      return drbd;
    } catch (err) {
      // No module loaded yet (the engine loads it): say so, and ask again next time.
      log.debug({ err: (err as Error).message }, 'DRBD version not known yet');
      return { generation: config.drbdGeneration, kernelVersion: 'not loaded' };
    }
  }

  async function vg(): Promise<{ sizeBytes: number; freeBytes: number }> {
    const info = await lvm.getVg(config.vg);
    return { sizeBytes: Number(info.sizeBytes), freeBytes: Number(info.freeBytes) };
  }

  async function vgOrEmpty(): Promise<{ sizeBytes: number; freeBytes: number }> {
    try {
      return await vg();
    } catch (err) {
      // No VG means no space to place anything on: 0 says exactly that to the controller.
      log.warn({ vg: config.vg, err: (err as Error).message }, 'VG report failed');
      return { sizeBytes: 0, freeBytes: 0 };
    }
  }

  async function thinPool(): Promise<NodeInfo['thinPool']> {
    try {
      const lv = await lvm.findLv(config.vg, config.thinPool);
      if (!lv) return null;
      const size = Number(lv.sizeBytes);
      return { sizeBytes: size, usedBytes: Math.round((size * (lv.dataPercent ?? 0)) / 100) };
    } catch (err) {
      log.warn({ vg: config.vg, err: (err as Error).message }, 'thin pool report failed');
      return null;
    }
  }

  async function disks(): Promise<Disk[]> {
    try {
      const r = await deps.runner.run(
        'lsblk',
        ['--json', '--bytes', '--nodeps', '--output', 'NAME,SIZE,ROTA,TYPE,TRAN'],
        { readOnly: true, timeoutMs: 10_000 },
      );
      return parseLsblkDisks(r.stdout);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'lsblk failed');
      return [];
    }
  }

  async function observeSystem() {
    const [drbdInfo, vgInfo, pool, diskList, loadInfo] = await Promise.all([
      drbdVersion(),
      vgOrEmpty(),
      thinPool(),
      disks(),
      load(),
    ]);
    return { drbdInfo, vgInfo, pool, diskList, loadInfo };
  }

  // The controller asks for these facts at every heartbeat (down to every 500 ms), and
  // its deadline is one heartbeat; one observation costs four processes (over a second
  // in an emulated lab guest). So at most one observation runs at a time, and a fresh
  // enough one is answered from memory while the next is made in the background.
  const now = deps.now ?? (() => performance.now());
  let observed: { at: number; value: Awaited<ReturnType<typeof observeSystem>> } | null = null;
  let inFlight: Promise<Awaited<ReturnType<typeof observeSystem>>> | null = null;
  function refresh() {
    inFlight ??= observeSystem()
      .then((value) => {
        observed = { at: now(), value };
        return value;
      })
      .finally(() => {
        inFlight = null;
      });
    return inFlight;
  }
  async function system() {
    const cached = observed;
    if (cached === null || now() - cached.at > FACTS_MAX_AGE_MS) return refresh();
    if (now() - cached.at > FACTS_REFRESH_MS) refresh().catch(() => {});
    return cached.value;
  }

  return {
    vg,
    async nodeInfo() {
      const [{ drbdInfo, vgInfo, pool, diskList, loadInfo }, volumes] = await Promise.all([
        system(),
        deps.engine.list(),
      ]);
      return {
        name: config.nodeName,
        address: config.address,
        version: deps.version,
        drbd: drbdInfo,
        vg: { name: config.vg, ...vgInfo },
        thinPool: pool,
        disks: diskList,
        load: loadInfo,
        labels: config.labels,
        zone: config.zone,
        ready: deps.engine.ready(),
        volumes: volumes.length,
      };
    },
  };
}
