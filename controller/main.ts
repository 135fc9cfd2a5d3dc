/**
 * `xlss controller`: config → logger → registry → core → API. The core comes from a
 * factory (controller/wire.ts in production, a fake in tests); the API listens on TCP
 * and, when configured, on a unix socket too (the lab's controller lives inside the
 * lab's network namespace, and the CLI on the host reaches it through that socket).
 */
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import http from 'node:http';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Logger } from '../common/log.js';
import { buildApp } from './api/app.js';
import type { ControllerCore, ControllerCoreDeps } from './api/service.js';
import { type ControllerConfig, readTokenFile } from './config.js';
import type { DaemonClientFactory } from './daemon-client.js';
import { httpDaemonClientFactory } from './daemon-http.js';

export interface ControllerStartDeps {
  createCore: (deps: ControllerCoreDeps) => ControllerCore;
  log: Logger;
  registry?: Registry;
  daemonClient?: DaemonClientFactory;
}

export interface RunningController {
  /** http://host:port the API listens on. */
  url: string;
  socketPath: string | null;
  close(): Promise<void>;
}

export async function startController(
  config: ControllerConfig,
  deps: ControllerStartDeps,
): Promise<RunningController> {
  const log = deps.log;
  const token = readTokenFile(config.tokenFile);
  const registry = deps.registry ?? new Registry();
  if (!deps.registry) collectDefaultMetrics({ register: registry, prefix: 'xlss_controller_' });
  const core = deps.createCore({
    config: config.core,
    log: log.child({ component: 'core' }),
    registry,
    daemonClient: deps.daemonClient ?? httpDaemonClientFactory(),
  });
  const app = await buildApp({ service: core, token, registry, log: log.child({ component: 'api' }) });
  // Listen first, so /healthz answers and /readyz says "starting" while the core starts.
  const url = await app.listen({ host: config.listen.host, port: config.listen.port });
  let socketServer: http.Server | null = null;
  try {
    if (config.listen.socketPath) socketServer = await listenOnSocket(config.listen.socketPath, app.routing);
    await core.start();
  } catch (err) {
    socketServer?.close();
    await app.close();
    throw err;
  }
  log.info(
    { url, socketPath: config.listen.socketPath, nodes: config.core.nodes.length },
    'controller started',
  );
  return {
    url,
    socketPath: config.listen.socketPath,
    async close() {
      socketServer?.closeAllConnections();
      await new Promise<void>((resolve) => (socketServer ? socketServer.close(() => resolve()) : resolve()));
      await app.close();
      await core.stop();
      log.info('controller stopped');
    },
  };
}

async function listenOnSocket(
  path: string,
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): Promise<http.Server> {
  // A socket left by a controller that died is ours to replace; any other file is not.
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // absent: nothing to replace
  }
  const server = http.createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  chmodSync(path, 0o600);
  return server;
}

/** Runs until `signal` aborts (SIGTERM/SIGINT in `xlss controller`), then stops cleanly. */
export async function runController(
  config: ControllerConfig,
  deps: ControllerStartDeps,
  signal: AbortSignal,
): Promise<void> {
  const running = await startController(config, deps);
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
  deps.log.info('stopping on signal');
  await running.close();
}
