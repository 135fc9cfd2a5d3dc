/**
 * The lab demo (`npm start`): a 3-node cluster lab (a daemon in every guest, the
 * controller on the host side), a replicated volume with a filesystem made through the
 * controller, a writer of acknowledged O_SYNC records on its Primary, a crash of the
 * Primary's node that nobody is told about, and the controller's own detection, fencing,
 * promotion, mount and re-replication; then every acknowledged record is checked on the
 * new Primary.
 */
import { readFileSync } from 'node:fs';
import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { CommandRunner } from '../../common/runner.js';
import { GuestRunner } from './client.js';
import { controllerClient, writeLabContext } from './cluster.js';
import { clusterFiles } from './cluster-config.js';
import { labConfig } from './config.js';
import {
  countLost,
  startProbe,
  startWriter,
  timelineLines,
  upToDateReplicaOtherThan,
  waitReady,
} from './failover-scenario.js';
import { Lab } from './lab.js';
import { until } from './until.js';

const VOLUME = 'demo';
const MOUNT = '/mnt/demo';
const RECORDS = `${MOUNT}/records`;
const MiB = 1024 * 1024;

export interface DemoResult {
  /** Seconds from the crash to the first O_SYNC write that returned on the survivor's mount. */
  failoverS: number;
  acknowledged: number;
  acknowledgedLost: number;
  redundancyRestored: boolean;
}

export interface DemoOptions {
  dir: string;
  install: boolean;
  /** Acknowledged writes to wait for before the crash. */
  writesBeforeCrash?: number;
}

/**
 * Runs the demo and leaves the lab up (the volume stays there to look at). A lab already
 * running in the directory is refused by `up`, never torn down.
 */
export async function runDemo(
  opts: DemoOptions,
  deps: { log: Logger; runner: CommandRunner; say: (s: string) => void },
): Promise<DemoResult> {
  const { log, say } = deps;
  const lab = new Lab(opts.dir, { runner: deps.runner, log, progress: say });
  const t0 = performance.now();
  say('booting a 3-node lab as a cluster: a daemon in every guest, the controller on the host side');
  await lab.up(labConfig({ dir: opts.dir, nodes: 3, disk: '1GiB', cluster: true }), {
    install: opts.install,
  });
  const context = writeLabContext(lab.state());
  say(`the admin CLI reaches this lab's controller now (context ${context})`);
  const token = readFileSync(clusterFiles(opts.dir).controllerToken, 'utf8').trim();
  const api = controllerClient(opts.dir, token, 30_000);
  const on = (n: string) => new GuestRunner(lab.client(), n);

  say(`creating volume ${VOLUME} through the controller: 256 MiB, ext4, mounted at ${MOUNT}, 2 replicas`);
  await api.createVolume({ name: VOLUME, sizeBytes: 256 * MiB, filesystem: 'ext4', mountPoint: MOUNT });
  const ready = await waitReady(api, VOLUME);
  const primary = ready.primary as string;
  const survivor = ready.replicas.map((r) => r.node).find((n) => n !== primary);
  if (!survivor) throw new Error(`${VOLUME} has no second replica: ${JSON.stringify(ready.replicas)}`);
  say(`${VOLUME} is ready: Primary ${primary}, Secondary ${survivor}, both UpToDate`);

  const target = opts.writesBeforeCrash ?? 40;
  // The probe runs (and has paid its start-up) before the crash: the figure is failover, not node start.
  const probe = await startProbe(on(survivor), MOUNT);
  const writer = await startWriter(on(primary), RECORDS);
  say(
    `writing numbered O_SYNC records to ${RECORDS} on ${primary}; crashing ${primary} after ${target} acknowledged`,
  );
  await until(`${target} acknowledged writes`, 120_000, async () => writer.acked.length >= target);
  const sinceId = (await api.events({ volume: VOLUME })).at(-1)?.id ?? 0;
  const crashWall = Date.now();
  const crashAt = performance.now();
  await lab.crash(primary);
  await writer.stop();
  const acked = [...writer.acked];
  say(
    `crashed ${primary} with ${acked.length} writes acknowledged; nobody was told; waiting for the controller`,
  );

  const writableAt = await Promise.race([
    probe.writableAt,
    new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new Error(`${VOLUME} not writable on ${survivor} 180 s after the crash`)),
        180_000,
      ),
    ),
  ]).finally(() => probe.stop());
  const failoverS = (writableAt - crashAt) / 1000;
  say(`${VOLUME} writable on ${survivor} ${failoverS.toFixed(1)} s after the crash (detection included)`);

  const { lost, intact } = await countLost(on(survivor), RECORDS, acked);
  say(`${survivor}: ${intact} records intact, ${lost} of ${acked.length} acknowledged writes lost`);

  say('waiting for the controller to restore redundancy on the third node');
  let third: string | undefined;
  try {
    third = await until('a third node UpToDate', 300_000, async () =>
      upToDateReplicaOtherThan(await api.getVolume(VOLUME), [primary, survivor]),
    );
  } catch (err) {
    say(`redundancy not restored: ${errorMessage(err)}`);
  }
  if (third) say(`${third} is UpToDate: two replicas again`);

  const events = (await api.events({ volume: VOLUME, since: sinceId })).filter((e) => e.id > sinceId);
  say('timeline (from xlss events --volume demo; seconds after the crash):');
  for (const line of timelineLines(events, crashWall)) say(`  ${line}`);
  say(`demo took ${((performance.now() - t0) / 1000).toFixed(0)} s; the lab stays up:`);
  say(`  xlss volume list    xlss volume show ${VOLUME}    xlss events --volume ${VOLUME}`);
  say(`  xlss lab --dir ${opts.dir} down    (when you are done)`);
  return {
    failoverS,
    acknowledged: acked.length,
    acknowledgedLost: lost,
    redundancyRestored: third !== undefined,
  };
}

/** The one line scripts read. */
export function demoLine(r: DemoResult): string {
  return `xlss demo: ok failover_s=${r.failoverS.toFixed(1)} acknowledged_lost=${r.acknowledgedLost} redundancy_restored=${r.redundancyRestored ? 'yes' : 'no'}`;
}
