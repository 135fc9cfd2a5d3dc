import { registerAdminCommands } from '../controller/cli/admin-commands.js';
import { registerControllerCommand } from '../controller/cli/controller-command.js';
import { registerDaemonCommands } from '../daemon/cli.js';
import { registerLabCommands } from '../vagrant/lab/cli.js';
import { buildProgram, runProgram } from './program.js';

/** The `xlss` entry point: each part contributes its own subcommands. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram([
    registerLabCommands,
    registerDaemonCommands,
    registerControllerCommand,
    registerAdminCommands(),
  ]);
  return runProgram(program, argv);
}
