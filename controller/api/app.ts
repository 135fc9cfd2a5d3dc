/**
 * The controller's REST API (`buildApp(deps)`), kept apart from `main` so tests drive it
 * with `app.inject()`. Routes validate params, query, body and response against
 * `./schemas.ts`; the core behind `ControllerService` does the work.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from '../../common/log.js';
import { registerBearerAuth } from './auth.js';
import { registerErrorHandling } from './errors.js';
import { registerHttpMetrics } from './http-metrics.js';
import { registerNodeRoutes } from './routes-nodes.js';
import { registerOpsRoutes } from './routes-ops.js';
import { registerVolumeRoutes } from './routes-volumes.js';
import type { ControllerService } from './service.js';

export interface ControllerAppDeps {
  service: ControllerService;
  /** The bearer token every client must send (read from the root-only token file). */
  token: string;
  registry: Registry;
  log?: Logger;
}

export async function buildApp(deps: ControllerAppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log,
    // Query strings arrive as text (force=true, since=12); unknown fields are refused, never dropped.
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false } },
    bodyLimit: 1024 * 1024,
  }) as unknown as FastifyInstance;
  registerErrorHandling(app);
  registerHttpMetrics(app, deps.registry);
  registerBearerAuth(app, deps.token);

  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_req, reply) =>
    deps.service.ready()
      ? { ready: true }
      : reply.code(503).send({ error: 'ENOTREADY', message: 'the controller is starting' }),
  );
  app.get('/metrics', async (_req, reply) =>
    reply.type(deps.registry.contentType).send(await deps.registry.metrics()),
  );
  registerNodeRoutes(app, deps.service);
  registerVolumeRoutes(app, deps.service);
  registerOpsRoutes(app, deps.service);
  return app;
}
