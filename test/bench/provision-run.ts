/**
 * `node dist/test/bench/provision-run.js`: only the provisioning figure (PUT to usable
 * through both daemons against the bare commands) on a 2-node cluster lab, then each
 * daemon's timeline for the volumes it provisioned: every step and command from its log,
 * in seconds after the volume's first log line, so the time beyond the bare commands can
 * be seen. XLSS_BENCH_ROUNDS (default 3); the host's load average is printed with it.
 */
import { loadavg } from 'node:os';
import { createLogger } from '../../common/log.js';
import { ExecaRunner } from '../../common/runner.js';
import { upBenchCluster } from './lab-cluster.js';
import { benchDaemonAgainstBare } from './lab-provision.js';
import { daemonTimeline } from './provision-timeline.js';

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function main(): Promise<void> {
  const log = createLogger({ level: 'warn' });
  const runner = new ExecaRunner({ logger: log });
  const rounds = Number(process.env.XLSS_BENCH_ROUNDS ?? 3);
  const c = await upBenchCluster('/var/tmp/xlss-lab-bx-prov', 2, {
    runner,
    log,
    progress: (line) => process.stderr.write(`[bench lab] ${line}\n`),
  });
  try {
    process.stdout.write(`bench load before: ${load()}\n`);
    await benchDaemonAgainstBare(c, rounds);
    process.stdout.write(`bench load after: ${load()}\n`);
    for (const node of ['node1', 'node2']) {
      const r = await c.lab.exec(node, ['cat', '/var/lib/xlss/daemon.log'], { timeoutMs: 60_000 });
      process.stdout.write(`\n== ${node}\n${daemonTimeline(r.stdout, /^bxdirect/)}`);
    }
  } finally {
    if (process.env.XLSS_BENCH_KEEP !== '1') await c.lab.down();
  }
}

await main();
