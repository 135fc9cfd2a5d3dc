import { buildProgram, type RegisterCommands, runProgram } from './program.js';

/**
 * Every part's subcommands, loaded on demand. `xlss daemon` (what systemd runs on every
 * node) loads the daemon's modules only: the controller's, the admin CLI's and the lab's
 * would stay resident in the daemon for nothing (measured: daemon_rss_* in `npm run bench`).
 */
async function allParts(): Promise<RegisterCommands[]> {
  const [lab, daemon, controller, admin] = await Promise.all([
    import('../vagrant/lab/cli.js'),
    import('../daemon/cli.js'),
    import('../controller/cli/controller-command.js'),
    import('../controller/cli/admin-commands.js'),
  ]);
  return [
    lab.registerLabCommands,
    daemon.registerDaemonCommands,
    controller.registerControllerCommand,
    admin.registerAdminCommands(),
  ];
}

/** The `xlss` entry point: each part contributes its own subcommands. */
export async function main(argv: readonly string[]): Promise<number> {
  // The root program has no options of its own but -V/--help, so argv[2] is the command.
  const parts =
    argv[2] === 'daemon' ? [(await import('../daemon/cli.js')).registerDaemonCommands] : await allParts();
  return runProgram(buildProgram(parts), argv);
}
