/**
 * Provisioning figures on the cluster lab: the time from PUT to a usable replicated
 * volume straight through the two daemons, and from `xlss volume create` to a usable
 * volume through the controller, each against the sum of the bare LVM and DRBD
 * commands (lab-bare-provision.ts) measured in the same lab, medians of `rounds`.
 */
import type { VolumeView } from '../../controller/api/schemas.js';
import { median, report, seconds } from './figures.js';
import { bareProvision } from './lab-bare-provision.js';
import type { BenchCluster } from './lab-cluster.js';
import { daemonProvision } from './lab-daemon-provision.js';

const SIZE = 128 * 1024 * 1024;
/** Outside the controller's ranges (minors 1000-9999, ports 7800-8799). */
const minorOf = (i: number) => 100 + i;
const portOf = (i: number) => 7100 + i;

const usable = (v: VolumeView) =>
  v.phase === 'ready' &&
  v.primary !== null &&
  v.replicas.length === 2 &&
  v.replicas.every((r) => r.disk === 'UpToDate');

export async function benchLabProvisioning(c: BenchCluster, rounds = 3): Promise<void> {
  const bare = await benchDaemonAgainstBare(c, rounds);
  await benchControllerProvisioning(c, rounds, bare);
}

/** PUT to usable straight through both daemons against the bare commands; returns the bare median. */
export async function benchDaemonAgainstBare(c: BenchCluster, rounds = 3): Promise<number> {
  const pair = [c.node('node1'), c.node('node2')] as const;
  const daemons = [await c.daemon('node1'), await c.daemon('node2')] as const;
  const bare: number[] = [];
  const direct: number[] = [];
  for (let i = 0; i < rounds; i++) {
    // Alternate which goes first so neither always meets a warm cache.
    const runBare = async () =>
      bare.push(
        (await bareProvision(c.lab, [...pair], `bxbare${i}`, { minor: minorOf(i), port: portOf(i) }, SIZE))
          .seconds,
      );
    const runDirect = async () =>
      direct.push(
        await daemonProvision(
          [...daemons],
          `bxdirect${i}`,
          { minor: minorOf(50 + i), port: portOf(50 + i) },
          SIZE,
        ),
      );
    if (i % 2 === 0) {
      await runBare();
      await runDirect();
    } else {
      await runDirect();
      await runBare();
    }
  }
  report('provision_bare_commands_sum_median', median(bare), 's');
  report('provision_daemon_put_to_usable_median', median(direct), 's', median(bare));
  return median(bare);
}

async function benchControllerProvisioning(c: BenchCluster, rounds: number, bare: number): Promise<void> {
  const viaController: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const name = `bxctl${i}`;
    const t = performance.now();
    await c.xlss(['volume', 'create', name, '--size', '128MiB', '--fs', 'none'], 300_000);
    // `create` waits for 'ready'; a usable replicated volume also needs both disks UpToDate.
    for (;;) {
      const v = await c.controller.getVolume(name);
      if (usable(v)) break;
      if (seconds(t) > 300) throw new Error(`${name} not usable after 300 s: ${JSON.stringify(v)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    viaController.push(seconds(t));
    // The figure is taken; a delete the controller refuses must not lose it.
    await c
      .xlss(['volume', 'delete', name, '--yes'], 300_000)
      .catch((err: unknown) => process.stderr.write(`bench: ${name} left in the lab: ${String(err)}\n`));
  }
  report('provision_controller_create_to_usable_median', median(viaController), 's', bare);
}
