/**
 * `startDaemon`: one root logger, one runner (its observe hook feeds the command-duration
 * histogram), the volume engine, the backup service, the REST API; then readiness for
 * systemd. `stop()` is the graceful shutdown: stop accepting and finish the requests in
 * flight, then stop backups and the engine (which finishes its command in flight and
 * leaves every resource as it is: no demote, no unmount).
 */
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { packageVersion } from '../cli/program.js';
import { createLogger, type Logger } from '../common/log.js';
import { type CommandRunner, ExecaRunner } from '../common/runner.js';
import { buildApp } from './api/app.js';
import { engineConfigOf, type LoadedConfig } from './config.js';
import type { DaemonFactories } from './factories.js';
import { HttpFenceRelay } from './fence-relay.js';
import { registerDaemonMetrics } from './metrics.js';
import { createNodeFacts } from './node-facts.js';
import { notifySystemd } from './systemd-notify.js';
import type { BackupService, VolumeEngine } from './volumes/service.js';

export interface DaemonHandle {
  app: FastifyInstance;
  /** Where the API listens, e.g. `http://0.0.0.0:7680`. */
  url: string;
  engine: VolumeEngine;
  backups: BackupService;
  registry: Registry;
  /** Graceful shutdown; safe to call twice (the second call waits for the first). */
  stop(): Promise<void>;
}

export interface StartOptions {
  log?: Logger;
  /** Tests pass their own; otherwise an ExecaRunner feeding the command histogram. */
  runner?: (observe: (c: string, o: 'ok' | 'error', s: number) => void, log: Logger) => CommandRunner;
  registry?: Registry;
  env?: NodeJS.ProcessEnv;
  /** Override of the listen port (tests use 0). */
  port?: number;
  /** Reads /proc/drbd for the DRBD version (tests pass a fixture). */
  readFile?: (path: string) => Promise<string>;
}

export async function startDaemon(
  loaded: LoadedConfig,
  factories: DaemonFactories,
  options: StartOptions = {},
): Promise<DaemonHandle> {
  const { config } = loaded;
  const log = options.log ?? createLogger({ level: config.logLevel });
  const registry = options.registry ?? new Registry();
  const env = options.env ?? process.env;

  // The engine and backups are made after the runner that metrics need: reach them lazily.
  let engine: VolumeEngine | undefined;
  let backups: BackupService | undefined;
  const need = <T>(x: T | undefined, what: string): T => {
    if (x === undefined) throw new Error(`${what} is not started yet`);
    return x;
  };
  const metrics = registerDaemonMetrics(registry, {
    vg: () => facts.vg(),
    volumes: { list: () => need(engine, 'engine').list() },
    backups: { lastSuccess: (v) => backups?.lastSuccess(v) ?? null },
    log,
  });
  const runner = options.runner
    ? options.runner(metrics.observeCommand, log)
    : new ExecaRunner({ logger: log, observe: metrics.observeCommand });

  const relay = new HttpFenceRelay({
    controller:
      config.controller && loaded.controllerToken
        ? { url: config.controller.url, token: loaded.controllerToken }
        : null,
    nodeName: config.nodeName,
    log,
    // Longer than the controller's own daemon-call deadline (10 s): before it answers
    // about a crashed peer it tries to outdate it through that peer's daemon, and a dead
    // host may take that long to fail; a shorter wait here turned every such answer into
    // "controller did not answer" and the Primary stayed frozen.
    timeoutMs: 15_000,
    epochOf: async (volume) => (await need(engine, 'engine').get(volume))?.epoch ?? null,
  });
  engine = factories.createEngine({ runner, log, config: engineConfigOf(config), registry, fence: relay });
  const eng = engine;
  backups = factories.createBackups({ runner, log, config, registry, engine: eng });
  const bak = backups;
  const facts = createNodeFacts({
    config,
    runner,
    log,
    version: packageVersion(),
    engine: eng,
    ...(options.readFile && { readFile: options.readFile }),
  });

  await eng.start();
  let app: FastifyInstance;
  let url: string;
  try {
    await bak.start();
    app = await buildApp({
      volumes: eng,
      ready: () => eng.ready(),
      backups: bak,
      relay,
      nodeInfo: () => facts.nodeInfo(),
      nodeName: config.nodeName,
      registry,
      token: loaded.token,
      log,
      httpRequests: metrics.httpRequests,
      tls: loaded.tls,
    });
    url = await app.listen({ host: config.listen.host, port: options.port ?? config.listen.port });
  } catch (err) {
    // e.g. the port is taken: leave the engine's loop and events2 stream stopped before exiting.
    await bak.stop().catch(() => {});
    await eng.stop().catch(() => {});
    throw err;
  }
  log.info({ url, node: config.nodeName }, 'daemon listening');
  await notifySystemd(runner, log, 'READY=1', `serving on ${url}`, env);

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      log.info('shutting down: finishing requests in flight');
      await notifySystemd(runner, log, 'STOPPING=1', 'finishing commands in flight', env);
      // close() refuses new connections (503 on kept-alive ones) and waits for handlers in
      // flight. It closes idle keep-alive connections only once, at its start: a connection
      // whose request finishes later would hold it for the whole keep-alive timeout.
      const sweep = setInterval(() => app.server.closeIdleConnections(), 100);
      try {
        await app.close();
      } finally {
        clearInterval(sweep);
      }
      await bak.stop();
      await eng.stop();
      log.info('daemon stopped; volumes left as they are');
    })();
    return stopping;
  };
  return { app, url, engine: eng, backups: bak, registry, stop };
}

/**
 * Runs until SIGTERM or SIGINT, then shuts down gracefully. Resolves with the exit code:
 * 0 after a clean stop, 1 when the shutdown itself failed.
 */
export function runUntilSignal(handle: DaemonHandle, log: Logger): Promise<number> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      log.info({ signal }, 'signal received: stopping (a second signal does not cut the shutdown short)');
      handle.stop().then(
        () => done(0),
        (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          done(1);
        },
      );
    };
    const done = (code: number) => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve(code);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
