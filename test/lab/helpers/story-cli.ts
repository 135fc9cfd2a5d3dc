/**
 * The controller's story tests talk to the cluster as a user does: through the real
 * `xlss` binary with `--output json`. These are the reads and waits they share.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import type { EventView, NodeView, VolumeView } from '../../../controller/api/schemas.js';
import type { RecordWriter } from '../../../vagrant/lab/failover-scenario.js';
import { type ClusterFixture, waitFor } from './cluster.js';

export interface StoryCli {
  show(name: string): Promise<VolumeView>;
  nodes(): Promise<NodeView[]>;
  /** The volume's events newer than the event id `since`. */
  eventsOf(name: string, since: number): Promise<EventView[]>;
  /** The id of the newest event of the cluster (0 if none). */
  lastEventId(): Promise<number>;
  /** Waits until the volume is ready with both replicas UpToDate and connected. */
  waitHealthy(name: string, timeoutMs?: number): Promise<VolumeView>;
  /** `xlss volume create NAME --size 64MiB --mount /mnt/NAME ...extra` (waits until ready). */
  makeVolume(name: string, extra?: string[]): Promise<{ v: VolumeView; primary: string; secondary: string }>;
}

export const healthy = (v: VolumeView): boolean =>
  v.phase === 'ready' &&
  v.primary !== null &&
  v.replicas.length === 2 &&
  v.replicas.every((r) => r.disk === 'UpToDate' && r.connection === 'Connected');

export function storyCli(c: ClusterFixture): StoryCli {
  const json = async <T>(args: string[]) => JSON.parse(await c.xlssOk([...args, '--output', 'json'])) as T;
  const cli: StoryCli = {
    show: (name) => json<VolumeView>(['volume', 'show', name]),
    nodes: () => json<NodeView[]>(['node', 'list']),
    eventsOf: async (name, since) =>
      (await json<EventView[]>(['events', '--volume', name])).filter((e) => e.id > since),
    lastEventId: async () => (await json<EventView[]>(['events', '--limit', '1'])).at(-1)?.id ?? 0,
    waitHealthy: (name, timeoutMs = 300_000) =>
      waitFor(
        `${name} ready, both replicas UpToDate and connected`,
        async () => {
          const v = await cli.show(name);
          return healthy(v) ? v : undefined;
        },
        timeoutMs,
        1000,
      ),
    makeVolume: async (name, extra = []) => {
      // Placement takes online nodes only; on a loaded host a node may have missed a poll.
      await waitFor(
        'every node online',
        async () => (await cli.nodes()).every((n) => n.health === 'online'),
        120_000,
      );
      const args = [
        'volume',
        'create',
        name,
        '--size',
        '64MiB',
        '--mount',
        `/mnt/${name}`,
        '--timeout',
        '10m',
      ];
      const r = await c.xlss([...args, ...extra], { timeoutMs: 660_000 });
      expect(r.exitCode, r.stderr).toBe(0);
      const v = await cli.waitHealthy(name);
      const primary = v.primary as string;
      const secondary = v.replicas.map((x) => x.node).find((n) => n !== primary) as string;
      return { v, primary, secondary };
    },
  };
  return cli;
}

/** Waits until the writer has `atLeast` acknowledged writes. */
export async function acks(
  w: RecordWriter,
  atLeast: number,
  what: string,
  timeoutMs = 120_000,
): Promise<void> {
  await waitFor(what, async () => w.acked.length >= atLeast, timeoutMs, 200);
}

/**
 * Environment for the lab's `up` while this file runs (the lab's controller reads its
 * XLSS_CONTROLLER_* overrides from it). Call it before useCluster: hooks run in order.
 */
export function labControllerEnv(vars: Record<string, string>): void {
  beforeAll(() => {
    Object.assign(process.env, vars);
  });
  afterAll(() => {
    for (const key of Object.keys(vars)) delete process.env[key];
  });
}

/**
 * The lab's node timeout is 10 s; on this 2-core host shared with other labs (load
 * 13-19) daemons missed it again and again, and nodes flapped offline mid-test. These
 * tests are about what happens after a node is declared gone, not how fast: 30 s.
 */
export const STORY_NODE_TIMEOUT = '30s';
