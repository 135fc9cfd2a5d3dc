import type { Command } from 'commander';
import { createLogger } from '../common/log.js';
import { DEFAULT_CONFIG_FILE, envMapping, loadConfig } from './config.js';
import { runUntilSignal, startDaemon } from './main.js';
import { realFactories } from './wire.js';

/** `xlss daemon [--config FILE]` and `xlss daemon check-config [--config FILE]`. */
export function registerDaemonCommands(program: Command): void {
  const daemon = program
    .command('daemon')
    .description('run the node daemon (volumes on LVM and DRBD, REST API on TCP 7680)')
    .option(
      '--config <file>',
      `YAML config; every key can be overridden by XLSS_<KEY> (default ${DEFAULT_CONFIG_FILE})`,
    )
    .action(async (opts: { config?: string }) => {
      // The whole config is checked before anything starts: a bad key exits here.
      const loaded = loadConfig({ file: opts.config });
      const log = createLogger({ level: loaded.config.logLevel });
      const handle = await startDaemon(loaded, realFactories(), { log });
      process.exitCode = await runUntilSignal(handle, log);
    });

  daemon
    .command('check-config')
    .description('validate the config (file, env overrides, token files) and print it without secrets')
    .action(async (_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals() as { config?: string };
      const { config } = loadConfig({ file: opts.config });
      process.stdout.write(`${JSON.stringify({ config, env: envMapping() }, null, 2)}\n`);
    });
}
