/**
 * What the controller's story tests read on the guests themselves, never from the
 * controller: a minor's line of /proc/drbd, the roles of a volume on several nodes
 * sampled while a fault lasts, the bytes of a volume compared between the Primary's DRBD
 * device and a Secondary's backing LV, and the longest pause between acknowledged writes.
 */
import { expect } from 'vitest';
import type { VolumeView } from '../../../controller/api/schemas.js';
import { type ProcDrbd, parseProcDrbd } from '../../../vagrant/lab/proc-drbd.js';
import type { ClusterFixture } from './cluster.js';

export async function procDrbd(
  c: ClusterFixture,
  node: string,
  minor: number,
): Promise<ProcDrbd | undefined> {
  return parseProcDrbd(await c.sh(node, 'cat /proc/drbd'), minor);
}

export interface RoleSample {
  at: number;
  roles: Record<string, string>;
}

/** Reads the volume's DRBD role on every node about once a second until stopped. */
export function sampleRoles(
  c: ClusterFixture,
  nodes: readonly string[],
  minor: number,
): { samples: RoleSample[]; stop(): Promise<void> } {
  const samples: RoleSample[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const roles: Record<string, string> = {};
      await Promise.all(
        nodes.map(async (n) => {
          // A node whose /proc/drbd cannot be read counts as holding no role.
          const p = await procDrbd(c, n, minor).catch(() => undefined);
          roles[n] = p?.role ?? 'none';
        }),
      );
      samples.push({ at: Date.now(), roles });
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  return {
    samples,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

/**
 * Never two Primaries: exactly one in every sample (a node that could not be read counts
 * as none, so a blind sampler fails this too), and at least 5 samples taken while the
 * fault lasted, from `from` to `to`. Returns those samples.
 */
export function expectOnePrimaryThroughout(samples: RoleSample[], from: number, to: number): RoleSample[] {
  const during = samples.filter((s) => s.at >= from && s.at <= to);
  expect(during.length).toBeGreaterThanOrEqual(5);
  for (const s of samples)
    expect(
      Object.values(s.roles).filter((r) => r === 'Primary'),
      JSON.stringify(s),
    ).toHaveLength(1);
  return during;
}

/**
 * sha256 of the volume's bytes on the Primary (its DRBD device) and on a Secondary (the
 * same number of bytes from the start of its backing LV; internal metadata sits at the
 * end), read with O_DIRECT, with the filesystem frozen on the Primary meanwhile so that
 * nothing is in flight.
 */
export async function volumeHashes(
  c: ClusterFixture,
  v: VolumeView,
  primary: string,
  secondary: string,
): Promise<{ primary: string; secondary: string; bytes: number }> {
  const dev = `/dev/drbd${v.minor}`;
  const bytes = Number((await c.sh(primary, `blockdev --getsize64 ${dev}`)).trim());
  const hash = (node: string, path: string) =>
    c
      .sh(node, `dd if=${path} iflag=direct,count_bytes bs=1M count=${bytes} 2>/dev/null | sha256sum`)
      .then((out) => out.split(' ')[0] as string);
  await c.sh(primary, `fsfreeze -f ${v.mountPoint}`);
  try {
    const [p, s] = await Promise.all([hash(primary, dev), hash(secondary, `/dev/xlss/${v.name}`)]);
    return { primary: p, secondary: s, bytes };
  } finally {
    await c.sh(primary, `fsfreeze -u ${v.mountPoint}`);
  }
}

/** Watches a count of acknowledged writes and keeps the longest time it did not grow (gaps that ended). */
export function watchAckGaps(count: () => number): { longestMs(): number; stop(): void } {
  let last = count();
  let lastAt = Date.now();
  let longest = 0;
  const timer = setInterval(() => {
    const n = count();
    const now = Date.now();
    if (n !== last) {
      longest = Math.max(longest, now - lastAt);
      last = n;
      lastAt = now;
    }
  }, 100);
  return {
    longestMs: () => longest,
    stop: () => clearInterval(timer),
  };
}
