/**
 * The figures that need the cluster lab (2 nodes, daemons and controller). A lab that
 * cannot start, or a figure that fails midway, prints `not measured (why)`: never a value.
 */
import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { CommandRunner } from '../../common/runner.js';
import { notMeasured } from './figures.js';
import { type BenchCluster, upBenchCluster } from './lab-cluster.js';
import { benchFailover } from './lab-failover.js';
import { benchLabProvisioning } from './lab-provision.js';

export async function benchClusterLab(
  deps: { runner: CommandRunner; log: Logger },
  rounds: number,
  crashes: number,
): Promise<void> {
  let cluster: BenchCluster | undefined;
  try {
    // XLSS_BENCH_LAB_DIR: a second bench on the same host needs a lab of its own.
    cluster = await upBenchCluster(process.env.XLSS_BENCH_LAB_DIR ?? '/var/tmp/xlss-lab-bx-bench', 2, {
      ...deps,
      progress: (line) => process.stderr.write(`[bench lab] ${line}\n`),
    });
    if (rounds > 0)
      await benchLabProvisioning(cluster, rounds).catch((err: unknown) =>
        notMeasured('provision_*', errorMessage(err)),
      );
    if (crashes > 0)
      await benchFailover(cluster, crashes).catch((err: unknown) =>
        notMeasured('failover_* and resync_*', errorMessage(err)),
      );
  } catch (err) {
    notMeasured('provision_*, failover_*, resync_*', `cluster lab: ${errorMessage(err)}`);
  } finally {
    await cluster?.lab.down();
  }
}
