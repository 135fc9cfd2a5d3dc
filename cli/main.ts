import { registerDaemonCommands } from '../daemon/cli.js';
import { registerLabCommands } from '../vagrant/lab/cli.js';
import { buildProgram, runProgram } from './program.js';

/** The `xlss` entry point: each part contributes its own subcommands. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram([registerLabCommands, registerDaemonCommands]);
  return runProgram(program, argv);
}
