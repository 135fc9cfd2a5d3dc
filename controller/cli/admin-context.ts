import type { Command } from 'commander';
import { outputFormat } from '../../cli/program.js';
import { ControllerClient } from './api-client.js';
import { resolveControllerTarget } from './context.js';
import { createProgress, type Progress } from './progress.js';

/** What every admin command shares: how to reach the controller, print, poll and show progress. */
export interface AdminCommandOptions {
  /** How often long work is polled (default 1 s). */
  pollMs?: number;
  /** Whether stderr is a terminal (progress bar) or not (plain lines). */
  tty?: () => boolean;
  env?: NodeJS.ProcessEnv;
}

export class AdminContext {
  readonly pollMs: number;
  private readonly tty: () => boolean;
  private readonly env: NodeJS.ProcessEnv | undefined;

  constructor(options: AdminCommandOptions) {
    this.pollMs = options.pollMs ?? 1000;
    this.tty = options.tty ?? (() => process.stderr.isTTY === true);
    this.env = options.env;
  }

  /** Resolved only after every option has been checked: bad input sends nothing. */
  client(cmd: Command): ControllerClient {
    const o = cmd.optsWithGlobals() as { controller?: string; tokenFile?: string };
    // `node add --token-file` is the daemon's token, not ours.
    const tokenFile = cmd.name() === 'add' && cmd.parent?.name() === 'node' ? undefined : o.tokenFile;
    return new ControllerClient(
      resolveControllerTarget({ controller: o.controller, tokenFile }, this.env ?? process.env),
    );
  }

  output(cmd: Command): 'table' | 'json' {
    return outputFormat((cmd.opts() as { output?: string }).output);
  }

  progress(label: string): Progress {
    return createProgress(label, { tty: this.tty() });
  }

  print(text: string): void {
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** JSON for scripts, the table for people. */
  render<T>(output: 'table' | 'json', value: T, table: (value: T) => string): void {
    if (output === 'json') this.printJson(value);
    else this.print(table(value));
  }

  printJson(value: unknown): void {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** Progress and notes for people go to stderr, so stdout stays parseable. */
  note(text: string): void {
    process.stderr.write(`xlss: ${text}\n`);
  }
}

/** --controller, --token-file and --output on a command that talks to the controller. */
export function withConnection(cmd: Command, options: { tokenFile?: boolean } = {}): Command {
  cmd.option(
    '--controller <url>',
    'controller URL or unix:/path.sock (env XLSS_CONTROLLER; default: the context file)',
  );
  if (options.tokenFile !== false)
    cmd.option('--token-file <file>', "file holding the controller's token (env XLSS_TOKEN_FILE)");
  return cmd.option('--output <format>', 'table or json', 'table');
}
