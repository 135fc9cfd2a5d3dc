import type { Command } from 'commander';
import { UsageError } from '../../common/errors.js';
import { netemSpec } from './faults.js';
import { serveForward, validPort } from './forward.js';
import type { Lab, ServiceStatus } from './lab.js';
import { LAB_PACKAGES } from './prereq.js';
import { supervise } from './supervise.js';

type LabFrom = (cmd: Command) => Lab;

/** `lab partition`, `lab heal` (a whole node, or the link between two) and `lab netem`. */
export function registerFaultCommands(lab: Command, labFrom: LabFrom): void {
  lab
    .command('partition <node> [peer]')
    .description(
      'cut a node\'s network off (from every node and the host side), or with a peer only the link between the two ("host" as the peer: the host side, where the controller runs)',
    )
    .action(async (node: string, peer: string | undefined, _opts: unknown, cmd: Command) => {
      const l = labFrom(cmd);
      await (peer === undefined ? l.partition(node) : l.partitionPair(node, peer));
    });
  lab
    .command('heal <node> [peer]')
    .description("restore a node's network, or with a peer the link between the two")
    .action(async (node: string, peer: string | undefined, _opts: unknown, cmd: Command) => {
      const l = labFrom(cmd);
      await (peer === undefined ? l.heal(node) : l.healPair(node, peer));
    });
  lab
    .command('netem <node>')
    .description("degrade a node's outgoing traffic with tc netem (delay, loss), or --clear it")
    .option('--delay <time>', 'added delay, e.g. 50ms')
    .option('--loss <percent>', 'packets lost, e.g. 1%')
    .option('--clear', 'remove the degradation')
    .action(async (node: string, opts: { delay?: string; loss?: string; clear?: boolean }, cmd: Command) => {
      if (opts.clear && (opts.delay !== undefined || opts.loss !== undefined))
        throw new UsageError('--clear: cannot be combined with --delay or --loss');
      const spec = opts.clear ? undefined : netemSpec(opts);
      await labFrom(cmd).netem(node, spec);
    });
}

export function formatServices(services: ServiceStatus[]): string {
  return services
    .map((s) => `service ${s.name}: ${s.running ? `running (pid ${s.pid})` : 'stopped'}  ${s.argv.join(' ')}`)
    .join('\n');
}

/** `lab run`, `lab stop`, `lab services`, `lab forward`, `lab packages` and their internal helpers. */
export function registerServiceCommands(lab: Command, labFrom: LabFrom): void {
  lab
    .command('run <name> <command...>')
    .description(
      "start a supervised process in the lab's network namespace (restarted when it exits; output to NAME.log in the lab directory); use -- before the command",
    )
    .action(async (name: string, argv: string[], _opts: unknown, cmd: Command) => {
      const s = await labFrom(cmd).runService(name, argv);
      process.stdout.write(`${s.logFile}\n`);
    });
  lab
    .command('stop <name>')
    .description('stop a service started with "lab run"')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const stopped = await labFrom(cmd).stopService(name);
      if (!stopped) process.stderr.write(`xlss lab: service ${name} was not running\n`);
    });
  lab
    .command('services')
    .description('list the services started with "lab run" and "lab forward"')
    .action((_opts: unknown, cmd: Command) => {
      const out = formatServices(labFrom(cmd).services());
      if (out) process.stdout.write(`${out}\n`);
    });
  lab
    .command('forward <node> <port>')
    .description("print the path of a unix socket that reaches the node's TCP port over the lab's network")
    .action(async (node: string, port: string, _opts: unknown, cmd: Command) => {
      process.stdout.write(`${await labFrom(cmd).forward(node, validPort(port))}\n`);
    });
  lab
    .command('packages')
    .description('print the Debian packages the lab needs, space-separated (for scripts)')
    .action(() => {
      process.stdout.write(`${LAB_PACKAGES.join(' ')}\n`);
    });
  lab
    .command('supervise <name> <command...>', { hidden: true })
    .description('(internal) run a lab service and restart it when it exits')
    .action(async (name: string, argv: string[]) => {
      await supervise(name, argv);
    });
  lab
    .command('forwarder <socket> <target>', { hidden: true })
    .description('(internal) forward a unix socket to HOST:PORT, inside the lab namespace')
    .action(async (socket: string, target: string) => {
      const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(target);
      if (!m) throw new UsageError(`target: must be IPv4:PORT, got "${target}"`);
      await serveForward(socket, m[1] as string, validPort(m[2] as string));
      await new Promise(() => {});
    });
}
