/**
 * Failover and resync figures on the 2-node cluster lab, through the controller: a
 * volume made with `xlss volume create`, then `crashes` times: the numbered-record writer
 * on the Primary, the writable probe on the survivor, a crash of the Primary's node;
 * crash to writable on the survivor (host clock), each phase from the controller's
 * events (detected, fenced, promoted, mounted; controller clock = host clock), the
 * acknowledged records missing on the new Primary; then `fillMiB` written on the survivor
 * while the other node is away, the node started again, and the bytes its disk took in
 * until both replicas are UpToDate (`dw:` of /proc/drbd on the returned node).
 */
import type { VolumeView } from '../../controller/api/schemas.js';
import { GuestRunner } from '../../vagrant/lab/client.js';
import { countLost, startProbe, startWriter, waitReady } from '../../vagrant/lab/failover-scenario.js';
import { until } from '../../vagrant/lab/until.js';
import { median, report } from './figures.js';
import type { BenchCluster } from './lab-cluster.js';

const PHASES = ['detected', 'fenced', 'promoted', 'mounted'] as const;
const MiB = 1024 * 1024;

const inSync = (v: VolumeView) =>
  v.phase === 'ready' &&
  v.primary !== null &&
  v.replicas.length === 2 &&
  v.replicas.every((r) => r.disk === 'UpToDate' && r.connection === 'Connected');

/** KiB written to the local disk of DRBD minor `minor` since its resource came up. */
export function diskWrittenKiB(procDrbd: string, minor: number): number {
  const block = procDrbd.split(/\n(?=\s*\d+:)/).find((b) => new RegExp(`^\\s*${minor}:`).test(b));
  const m = block && /\bdw:(\d+)\b/.exec(block);
  if (!m) throw new Error(`/proc/drbd has no dw: counter for minor ${minor}`);
  return Number(m[1]);
}

export async function benchFailover(c: BenchCluster, crashes = 5, fillMiB = 16): Promise<void> {
  try {
    await crashRounds(c, crashes, fillMiB);
  } catch (err) {
    // The lab goes down with the run: what the controller saw is the only trace left.
    const events = await c.controller.events({ volume: 'bxfail' }).catch(() => []);
    for (const e of events)
      process.stderr.write(`[bench failover] ${e.at} ${e.type} ${e.node ?? '-'} ${e.message}\n`);
    const v = await c.controller.getVolume('bxfail').catch(() => null);
    if (v) process.stderr.write(`[bench failover] volume now: ${JSON.stringify(v)}\n`);
    throw err;
  }
}

async function crashRounds(c: BenchCluster, crashes: number, fillMiB: number): Promise<void> {
  const name = 'bxfail';
  const mount = '/mnt/bxfail';
  await c.xlss(['volume', 'create', name, '--size', '256MiB', '--fs', 'ext4', '--mount', mount]);
  const runner = (node: string) => new GuestRunner(c.lab.client(), node);
  const writable: number[] = [];
  const phases = new Map<string, number[]>(PHASES.map((p) => [p, []]));
  const resynced: number[] = [];
  let lost = 0;
  let acked = 0;
  let sizeBytes = 0;
  for (let k = 0; k < crashes; k++) {
    await waitReady(c.controller, name);
    const v = await until(`${name} in sync`, 600_000, async () => {
      const view = await c.controller.getVolume(name);
      return inSync(view) ? view : undefined;
    });
    sizeBytes = v.sizeBytes;
    const primary = v.primary as string;
    const survivor = v.replicas.map((r) => r.node).find((n) => n !== primary) as string;
    const file = `${mount}/records-${k}`;
    const writer = await startWriter(runner(primary), file);
    await until('20 acknowledged records', 120_000, async () => writer.acked.length >= 20);
    const probe = await startProbe(runner(survivor), mount);
    const since = (await c.controller.events({ volume: name })).at(-1)?.id ?? 0;
    const crashWall = Date.now();
    const t0 = performance.now();
    await c.lab.crash(primary);
    const writableAt = await Promise.race([
      probe.writableAt,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`${survivor} not writable 300 s after the crash`)), 300_000),
      ),
    ]);
    probe.stop();
    await writer.stop();
    writable.push((writableAt - t0) / 1000);
    // The controller records promoted and mounted when the daemon's promote call returns,
    // which can be after the probe already wrote: wait for the last phase's event.
    const events = await until(`failover.mounted of ${name}`, 120_000, async () => {
      const es = await c.controller.events({ volume: name, since });
      return es.some((e) => e.type === 'failover.mounted') ? es : undefined;
    });
    for (const p of PHASES) {
      const e = events.find((x) => x.type === `failover.${p}`);
      if (e) phases.get(p)?.push((Date.parse(e.at) - crashWall) / 1000);
    }
    const count = await countLost(runner(survivor), file, writer.acked);
    lost += count.lost;
    acked += writer.acked.length;

    // A short absence: data written on the survivor while the other node is down.
    await runner(survivor).run(
      'dd',
      ['if=/dev/urandom', `of=${mount}/fill-${k}`, 'bs=1M', `count=${fillMiB}`, 'oflag=direct', 'conv=fsync'],
      { timeoutMs: 300_000 },
    );
    await c.lab.start(primary);
    const back = await until(`${primary} back and in sync`, 900_000, async () => {
      const view = await c.controller.getVolume(name);
      return inSync(view) ? view : undefined;
    });
    const proc = await runner(primary).run('cat', ['/proc/drbd'], { readOnly: true });
    resynced.push(diskWrittenKiB(proc.stdout, back.minor) * 1024);
  }
  const n = writable.length;
  report(`failover_crash_to_writable_median_${n}_crashes`, median(writable), 's');
  report(`failover_crash_to_writable_worst_${n}_crashes`, Math.max(...writable), 's');
  for (const [p, xs] of phases) {
    if (xs.length !== n) continue; // a phase the controller did not report every time is not a figure
    report(`failover_${p}_after_crash_median`, median(xs), 's');
    report(`failover_${p}_after_crash_worst`, Math.max(...xs), 's');
  }
  report(`failover_acknowledged_writes_lost_${n}_crashes_${acked}_acked`, lost, 'writes');
  report(
    `resync_bytes_after_absence_with_${fillMiB}_MiB_written_median`,
    median(resynced) / MiB,
    'MiB',
    sizeBytes / MiB,
  );
}
