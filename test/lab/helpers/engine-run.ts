/**
 * Runs the volume engine for real inside a lab guest (the guests see the checkout over
 * 9p): `node dist/test/lab/helpers/engine-run.js '<json>'`. Starts the engine on the
 * node's real LVM and DRBD, performs the given operations, reconciles until the named
 * volumes reach the wanted state (or the deadline), prints one line
 * `engine-run: <json statuses>` and exits (0 when reached). Long-lived when `hold` is set
 * (the kill -9 test runs it in the background and kills it mid-provision).
 */
import { Registry } from 'prom-client';
import { errorMessage } from '../../../common/errors.js';
import { createLogger } from '../../../common/log.js';
import { inProject } from '../../../common/paths.js';
import { ExecaRunner } from '../../../common/runner.js';
import type { PromoteBody, VolumeSpec, VolumeStatus } from '../../../daemon/api/schemas.js';
import { createVolumeEngine } from '../../../daemon/volumes/engine.js';

type Op =
  | { op: 'put'; name: string; spec: VolumeSpec }
  | { op: 'promote'; name: string; body: PromoteBody }
  | { op: 'resize'; name: string; sizeBytes: number }
  | { op: 'delete'; name: string; force: boolean };

interface Args {
  node: string;
  address: string;
  ops: Op[];
  /** Volume → wanted state ('gone' for deleted). */
  until: Record<string, string>;
  timeoutS: number;
  hold?: boolean;
}

async function main(): Promise<number> {
  const args = JSON.parse(process.argv[2] ?? '{}') as Args;
  const log = createLogger({ level: 'info' });
  const registry = new Registry();
  const engine = createVolumeEngine({
    runner: new ExecaRunner({ logger: log, timeoutMs: 120_000 }),
    log,
    registry,
    config: {
      nodeName: args.node,
      address: args.address,
      vg: 'xlss',
      thinPool: 'pool',
      stateDir: '/var/lib/xlss',
      drbdConfigDir: '/etc/drbd.d',
      handlers: {
        fencePeer: inProject('systemd', 'xlss-fence-peer'),
        afterResyncTarget: inProject('systemd', 'xlss-after-resync-target'),
      },
      reconcileIntervalMs: 2000,
      drbdGeneration: 'auto',
    },
    fence: { askController: async () => ({ allow: false, reason: 'no controller in this test' }) },
  });
  await engine.start();
  const results: Record<string, string> = {};
  for (const op of args.ops) {
    try {
      if (op.op === 'put') await engine.put(op.name, op.spec);
      else if (op.op === 'promote') await engine.promote(op.name, op.body);
      else if (op.op === 'resize') await engine.resize(op.name, op.sizeBytes);
      else await engine.delete(op.name, { force: op.force });
      results[`${op.op} ${op.name}`] = 'ok';
    } catch (err) {
      results[`${op.op} ${op.name}`] = `${(err as { code?: string }).code ?? 'ERROR'}: ${errorMessage(err)}`;
    }
  }
  const deadline = Date.now() + args.timeoutS * 1000;
  let statuses: VolumeStatus[] = [];
  let reached = false;
  while (Date.now() < deadline) {
    await engine.reconcileNow();
    statuses = await engine.list();
    reached = Object.entries(args.until).every(([name, want]) => {
      const s = statuses.find((x) => x.name === name);
      return want === 'gone' ? s === undefined : s?.state === want;
    });
    if (reached && !args.hold) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  // Commands by name and outcome, from the engine's own histogram.
  const commands = (await registry.metrics())
    .split('\n')
    .filter((l) => l.startsWith('xlss_daemon_command_duration_seconds_count'))
    .map((l) => l.replace('xlss_daemon_command_duration_seconds_count', ''));
  process.stdout.write(`engine-run: ${JSON.stringify({ reached, results, statuses, commands })}\n`);
  await engine.stop();
  return reached ? 0 : 3;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stdout.write(`engine-run: ${JSON.stringify({ reached: false, fatal: errorMessage(err) })}\n`);
    process.exit(1);
  },
);
