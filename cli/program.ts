import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { errorMessage, UsageError, XlssError } from '../common/errors.js';
import { inProject } from '../common/paths.js';
import { CommandError } from '../common/runner.js';

/** Exit codes of every `xlss` command. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
/** The named volume, node, job or backup does not exist (admin commands). */
export const EXIT_NOT_FOUND = 3;

/** A part's contribution to the CLI: it adds its own subcommands to the root program. */
export type RegisterCommands = (program: Command) => void;

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(inProject('package.json'), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** Prints an error the one way every command does: `xlss: <message>` on stderr. */
export function printError(err: unknown, stderr: NodeJS.WritableStream = process.stderr): void {
  let msg = errorMessage(err);
  if (err instanceof CommandError && err.stdout.trim() && !err.stderr) msg += `\n${err.stdout.trim()}`;
  stderr.write(`xlss: ${msg}\n`);
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return EXIT_USAGE;
  if (err instanceof XlssError && err.code === 'EVALIDATION') return EXIT_USAGE;
  if (err instanceof XlssError && err.code === 'ENOTFOUND') return EXIT_NOT_FOUND;
  return EXIT_FAILED;
}

/** `--output table|json` of every command that prints objects. */
export function outputFormat(value: string | undefined): 'table' | 'json' {
  const output = value ?? 'table';
  if (output !== 'table' && output !== 'json')
    throw new UsageError(`--output: must be "table" or "json", got "${output}"`);
  return output;
}

export function buildProgram(parts: readonly RegisterCommands[]): Command {
  const program = new Command('xlss')
    .description('xlss: local volumes on LVM, replicated with DRBD, with automatic failover')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str) });
  for (const register of parts) register(program);
  // Every subcommand, however deep, reports usage errors the same way.
  const configure = (cmd: Command): void => {
    cmd.exitOverride().showHelpAfterError('(run with --help for usage)');
    for (const sub of cmd.commands) configure(sub);
  };
  configure(program);
  return program;
}

/** Runs the CLI; resolves to the process exit code instead of exiting. */
export async function runProgram(program: Command, argv: readonly string[]): Promise<number> {
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT_OK;
      if (err.code === 'commander.help') return EXIT_OK;
      // commander has already printed its message.
      return EXIT_USAGE;
    }
    printError(err);
    return exitCodeFor(err);
  }
}
