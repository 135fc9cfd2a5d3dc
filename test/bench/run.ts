/**
 * `npm run bench`: the lab's figures, measured here and now, printed one per line as
 * `bench <name>: <value> <unit>` (with a baseline and ratio where two things are compared
 * in the same run) and written to bench-results.json. Nothing here is asserted.
 * XLSS_BENCH_QUICK=1 skips timing each lab test file (the longest part); XLSS_BENCH_ROUNDS
 * (default 3) is how many volumes each provisioning figure takes the median of,
 * XLSS_BENCH_CRASHES (default 5) how many crashes the failover figures take.
 * XLSS_BENCH_ONLY (comma-separated, default all) picks groups: placement, steady-pass,
 * rss, provision, failover, lab (the bare lab's figures), lab-files.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { createLogger } from '../../common/log.js';
import { inProject } from '../../common/paths.js';
import { ExecaRunner } from '../../common/runner.js';
import { measurePlacement } from '../../controller/placement-bench.js';
import { labConfig } from '../../vagrant/lab/config.js';
import { Lab } from '../../vagrant/lab/lab.js';
import { benchDaemonRss } from './daemon-rss.js';
import { figures, median, report, seconds } from './figures.js';
import { benchClusterLab } from './lab-figures.js';
import { benchSteadyPass } from './steady-pass.js';

async function timeUp(lab: Lab, nodes: number): Promise<number> {
  await lab.down();
  const t = performance.now();
  await lab.up(labConfig({ dir: lab.dir, nodes, disk: '1GiB' }), {
    install: process.env.XLSS_LAB_INSTALL === '1',
  });
  return seconds(t);
}

const GROUPS = ['placement', 'steady-pass', 'rss', 'provision', 'failover', 'lab', 'lab-files'] as const;
type Group = (typeof GROUPS)[number];

function chosenGroups(only: string | undefined): Set<Group> {
  if (!only) return new Set(GROUPS);
  const picked = only.split(',').map((g) => g.trim());
  for (const g of picked)
    if (!(GROUPS as readonly string[]).includes(g))
      throw new Error(`XLSS_BENCH_ONLY: unknown group "${g}" (known: ${GROUPS.join(', ')})`);
  return new Set(picked as Group[]);
}

async function main(): Promise<void> {
  const log = createLogger({ level: 'warn' });
  const runner = new ExecaRunner({ logger: log });
  const only = chosenGroups(process.env.XLSS_BENCH_ONLY);
  if (only.has('placement')) {
    const placement = measurePlacement(10_000, 1000);
    report('placement_10000_volumes_1000_nodes', Math.round(placement.ms), 'ms');
  }
  if (only.has('steady-pass')) await benchSteadyPass([10, 100, 1000]);
  if (only.has('rss')) await benchDaemonRss(1000);
  if (only.has('provision') || only.has('failover'))
    await benchClusterLab(
      { runner, log },
      only.has('provision') ? Number(process.env.XLSS_BENCH_ROUNDS ?? 3) : 0,
      only.has('failover') ? Number(process.env.XLSS_BENCH_CRASHES ?? 5) : 0,
    );
  if (only.has('lab')) await benchBareLab(runner, log);
  if (only.has('lab-files') && process.env.XLSS_BENCH_QUICK !== '1') await benchLabFiles();
  writeFileSync(
    inProject('bench-results.json'),
    `${JSON.stringify({ at: new Date().toISOString(), figures }, null, 2)}\n`,
  );
}

async function benchBareLab(runner: ExecaRunner, log: ReturnType<typeof createLogger>): Promise<void> {
  const lab = new Lab('/var/tmp/xlss-lab-bench', { runner, log });
  try {
    const one = await timeUp(lab, 1);
    const three = await timeUp(lab, 3);
    report('lab_up_3_nodes', three, 's', one);

    // A command's round trip into a guest, against the same command run on the host.
    const client = lab.client();
    const inGuest: number[] = [];
    const onHost: number[] = [];
    for (let i = 0; i < 7; i++) {
      let t = performance.now();
      await client.exec('node1', ['true']);
      inGuest.push(performance.now() - t);
      t = performance.now();
      await runner.run('true', []);
      onHost.push(performance.now() - t);
    }
    report('lab_exec_true_median', median(inGuest), 'ms', median(onHost));

    const lvs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await client.exec('node1', ['lvs', '--reportformat', 'json', '--units', 'b', '--nosuffix']);
      lvs.push(performance.now() - t);
    }
    report('lab_lvs_json_median', median(lvs), 'ms');

    const t = performance.now();
    await lab.crash('node2');
    await lab.start('node2');
    report('lab_crash_and_restart_node', seconds(t), 's');

    const d = performance.now();
    await lab.down();
    report('lab_down', seconds(d), 's');
  } finally {
    await lab.down();
  }
}

async function benchLabFiles(): Promise<void> {
  const files = readdirSync(inProject('test/lab'))
    .filter((f) => f.endsWith('.test.ts'))
    .sort();
  let total = 0;
  for (const f of files) {
    const t = performance.now();
    const r = await execa('npx', ['vitest', 'run', '--project', 'lab', `test/lab/${f}`], {
      cwd: inProject(),
      reject: false,
      env: { XLSS_LAB_INSTALL: process.env.XLSS_LAB_INSTALL ?? '' },
    });
    const s = seconds(t);
    total += s;
    report(
      `lab_test_file_${f.replace(/\.test\.ts$/, '').replace(/[^a-z0-9]+/gi, '_')}${r.exitCode === 0 ? '' : '_FAILED'}`,
      s,
      's',
    );
  }
  report('lab_test_suite_total', total, 's');
}

await main();
