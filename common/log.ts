import { destination, type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger };

/**
 * The root logger. Made once in a binary's main and passed down; parts take
 * `log.child({ component })`. CLI output goes to stdout, so logs go to stderr.
 */
export function createLogger(options: { level?: string; destination?: number } = {}): Logger {
  const opts: LoggerOptions = {
    level: options.level ?? process.env.XLSS_LOG_LEVEL ?? 'warn',
    base: { pid: process.pid },
  };
  return pino(opts, destination({ fd: options.destination ?? 2, sync: true }));
}

/** A logger that drops everything: the default for library code and tests. */
export const silentLogger: Logger = pino({ level: 'silent' });
