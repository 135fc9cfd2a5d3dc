import type { Command } from 'commander';
import { outputFormat } from '../../cli/program.js';
import { errorMessage, UsageError } from '../../common/errors.js';
import { createLogger } from '../../common/log.js';
import { ExecaRunner } from '../../common/runner.js';
import { formatTable } from '../../common/table.js';
import { LabBroker } from './broker.js';
import { formatServices, registerFaultCommands, registerServiceCommands } from './cli-net.js';
import { removeLabContext, writeLabContext } from './cluster.js';
import { defaultLabDir, type LabOptionsInput, labConfig } from './config.js';
import { demoLine, promoteLine, runDemo } from './demo.js';
import { Lab, type NodeStatus } from './lab.js';
import { requireState } from './state.js';

const DEMO_DIR = '/var/tmp/xlss-lab-demo';

/** Never the user's own lab (XLSS_LAB_DIR): the demo has a directory of its own unless --dir names one. */
export function demoDir(dirFlag: string | undefined): string {
  return labConfig({ dir: dirFlag ?? DEMO_DIR }).dir;
}

function labFrom(cmd: Command): Lab {
  const opts = cmd.optsWithGlobals() as { dir?: string };
  const dir = labConfig({ dir: opts.dir }).dir;
  const log = createLogger();
  return new Lab(dir, {
    runner: new ExecaRunner({ logger: log }),
    log,
    progress: (line) => process.stderr.write(`xlss lab: ${line}\n`),
  });
}

function networkColumn(n: NodeStatus): string {
  const base = n.partitioned
    ? 'partitioned'
    : n.cutFrom?.length
      ? `cut from ${n.cutFrom.join(',')}`
      : 'connected';
  return n.netem ? `${base}, ${n.netem}` : base;
}

export function formatNodeTable(nodes: NodeStatus[]): string {
  const withDaemon = nodes.some((n) => n.daemon !== undefined);
  const rows = [
    ['NODE', 'ADDRESS', 'STATE', 'NETWORK', 'DATA DISK', ...(withDaemon ? ['DAEMON'] : []), 'UPTIME'],
    ...nodes.map((n) => [
      n.name,
      n.ip,
      !n.running ? 'stopped' : n.ready ? 'ready' : 'booting',
      networkColumn(n),
      n.diskFailed ? 'failing' : 'ok',
      ...(withDaemon ? [n.daemon ?? '-'] : []),
      n.uptimeS !== undefined ? `${Math.round(n.uptimeS)}s` : '-',
    ]),
  ];
  return formatTable(rows);
}

function nodeCommand(
  lab: Command,
  name: string,
  description: string,
  action: (l: Lab, node: string) => Promise<void>,
): void {
  lab
    .command(`${name} <node>`)
    .description(description)
    .action(async (node: string, _opts: unknown, cmd: Command) => {
      await action(labFrom(cmd), node);
    });
}

/** `xlss lab …`: the qemu lab. */
export function registerLabCommands(program: Command): void {
  const lab = program
    .command('lab')
    .description('the lab: qemu guests with real LVM and DRBD, to provision, crash and fail over')
    .option(
      '--dir <dir>',
      `where the lab keeps its state, disks and logs (env XLSS_LAB_DIR; default ${defaultLabDir()})`,
    );

  lab
    .command('up')
    .description('boot a lab of guests, each with a data disk for LVM and a state disk')
    .option('--nodes <n>', 'number of guests (1-9)', '3')
    .option('--disk <size>', 'size of each data disk', '2GiB')
    .option('--memory <MiB>', 'memory of each guest in MiB', '768')
    .option(
      '--init <init>',
      'PID 1 of the guests: busybox (fast) or systemd (runs the units under systemd/)',
      'busybox',
    )
    .option('--accel <accel>', 'tcg (default, works everywhere) or kvm (only where KVM works)', 'tcg')
    .option('--kernel-args <params>', 'extra kernel parameters for the guests, e.g. to debug a boot')
    .option('--output <format>', 'table or json', 'table')
    .option('--install', 'install missing Debian packages with apt-get (also XLSS_LAB_INSTALL=1)')
    .option('--bare', 'guests only: no VG, daemons or controller')
    .action(
      async (
        opts: LabOptionsInput & { bare?: boolean; install?: boolean; output?: string },
        cmd: Command,
      ) => {
        const g = cmd.optsWithGlobals() as { dir?: string };
        const { bare, ...rest } = opts;
        const config = labConfig({ ...rest, dir: g.dir, cluster: !bare });
        const output = outputFormat(opts.output);
        const l = labFrom(cmd);
        const state = await l.up(config, { install: wantsInstall(opts) });
        if (config.cluster) {
          const path = writeLabContext(state);
          process.stderr.write(
            `xlss lab: the controller is ready; "xlss volume list" uses it (context ${path})\n`,
          );
        }
        printStatus(await l.status(), output);
      },
    );

  lab
    .command('status')
    .description('show the nodes of the running lab')
    .option('--output <format>', 'table or json', 'table')
    .action(async (opts: { output: string }, cmd: Command) => {
      const output = outputFormat(opts.output);
      const l = labFrom(cmd);
      printStatus(await l.status(), output);
      const services = formatServices(l.services());
      if (output === 'table' && services) process.stdout.write(`${services}\n`);
    });

  lab
    .command('exec <node> <command...>')
    .description(
      'run a command on a node; its output and exit code are passed through (use -- before the command)',
    )
    .option('--stdin', 'forward standard input to the command')
    .option('--timeout <seconds>', 'kill the command after this many seconds')
    .action(
      async (node: string, argv: string[], opts: { stdin?: boolean; timeout?: string }, cmd: Command) => {
        let stdin: Buffer | undefined;
        if (opts.stdin) {
          const chunks: Buffer[] = [];
          for await (const c of process.stdin) chunks.push(c as Buffer);
          stdin = Buffer.concat(chunks);
        }
        if (opts.timeout !== undefined && !/^\d+$/.test(opts.timeout))
          throw new UsageError(`--timeout: must be a whole number of seconds, got "${opts.timeout}"`);
        const r = await labFrom(cmd).exec(node, argv, {
          ...(stdin !== undefined ? { stdin } : {}),
          ...(opts.timeout ? { timeoutMs: Number(opts.timeout) * 1000 } : {}),
          onStdout: (c) => process.stdout.write(c),
          onStderr: (c) => process.stderr.write(c),
        });
        if (r.error && r.exitCode !== 0) process.stderr.write(`xlss: ${node}: ${r.error}\n`);
        process.exitCode = r.exitCode ?? 1;
      },
    );

  nodeCommand(lab, 'crash', 'kill a node at once, like a power cut (no clean shutdown)', async (l, n) => {
    await l.crash(n);
  });
  nodeCommand(lab, 'start', 'boot a stopped node again with the same disks', (l, n) => l.start(n));
  registerFaultCommands(lab, labFrom);
  registerServiceCommands(lab, labFrom);
  nodeCommand(lab, 'disk-fail', "make every read and write of a node's data disk fail", (l, n) =>
    l.diskFail(n),
  );
  nodeCommand(lab, 'disk-heal', "make a node's data disk work again", (l, n) => l.diskHeal(n));

  lab
    .command('down')
    .description('stop every guest and remove the namespace, taps and files (idempotent)')
    .action(async (_opts: unknown, cmd: Command) => {
      const l = labFrom(cmd);
      await l.down();
      if (removeLabContext(l.dir)) process.stderr.write('xlss lab: removed the context file of this lab\n');
    });

  lab
    .command('demo')
    .description(
      'the main demo (npm start): a replicated volume, a crash of its Primary under writes, failover, ' +
        'verified data, redundancy restored on a third node',
    )
    .option('--keep', 'leave the lab running afterwards')
    .option('--install', 'install missing Debian packages with apt-get (also XLSS_LAB_INSTALL=1)')
    .action(async (opts: { keep?: boolean; install?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals() as { dir?: string };
      const dir = demoDir(g.dir);
      const log = createLogger();
      const say = (line: string) => process.stderr.write(`xlss demo: ${line}\n`);
      try {
        const r = await runDemo(
          { dir, keep: opts.keep ?? false, install: wantsInstall(opts) },
          { log, runner: new ExecaRunner({ logger: log }), say },
        );
        if (r.acknowledgedLost > 0) {
          process.stdout.write(`xlss demo: FAILED ${r.acknowledgedLost} acknowledged writes lost\n`);
          process.exitCode = 1;
        } else process.stdout.write(`${promoteLine(r)}\n${demoLine(r)}\n`);
      } catch (err) {
        process.stdout.write(`xlss demo: FAILED ${errorMessage(err).split('\n')[0]}\n`);
        process.stderr.write(`${errorMessage(err)}\n`);
        process.exitCode = 1;
      }
    });

  lab
    .command('broker', { hidden: true })
    .description('(internal) the long-lived process that relays commands to the guests')
    .action(async (_opts: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals() as { dir?: string };
      const state = requireState(labConfig({ dir: g.dir }).dir);
      const log = createLogger({ level: 'info' });
      const broker = new LabBroker(state, log);
      await broker.listen();
      process.on('SIGTERM', () => {
        broker.close();
        process.exit(0);
      });
      await new Promise(() => {});
    });
}

function wantsInstall(opts: { install?: unknown }): boolean {
  return opts.install === true || process.env.XLSS_LAB_INSTALL === '1';
}

function printStatus(nodes: NodeStatus[], output: 'table' | 'json'): void {
  if (output === 'json') process.stdout.write(`${JSON.stringify(nodes, null, 2)}\n`);
  else process.stdout.write(`${formatNodeTable(nodes)}\n`);
}
