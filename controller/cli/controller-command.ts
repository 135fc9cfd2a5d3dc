import type { Command } from 'commander';
import { createLogger } from '../../common/log.js';
import { DEFAULT_CONFIG_FILE, loadControllerConfig } from '../config.js';
import { runController } from '../main.js';
import { createControllerCore } from '../wire.js';

/** `xlss controller [--config FILE]`: runs the controller until SIGTERM or SIGINT. */
export function registerControllerCommand(program: Command): void {
  program
    .command('controller')
    .description(
      'run the cluster controller (placement, health, fencing, failover, backups) and its REST API',
    )
    .option(
      '--config <file>',
      `config file (default ${DEFAULT_CONFIG_FILE}; keys overridable by XLSS_CONTROLLER_*)`,
    )
    .action(async (opts: { config?: string }) => {
      // Validated whole before anything listens or opens the store.
      const config = loadControllerConfig({ file: opts.config });
      const log = createLogger({ level: config.logLevel });
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
      try {
        await runController(config, { createCore: createControllerCore, log }, stop.signal);
      } finally {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      }
    });
}
