/**
 * The daemon's REST API: `buildApp(deps)` makes a fastify instance with every route of
 * schemas.ts as a plugin. main calls listen(); tests call inject().
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { bearerMatcher } from './auth.js';
import type { AppDeps } from './deps.js';
import { sendError } from './errors.js';
import { backupRoutes } from './routes/backups.js';
import { fenceRoutes } from './routes/fence.js';
import { healthRoutes } from './routes/health.js';
import { nodeRoutes } from './routes/node.js';
import { volumeRoutes } from './routes/volumes.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without a bearer token (only /healthz). */
    public?: boolean;
  }
}

export type { AppDeps };

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const log = deps.log.child({ component: 'api' });
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    // Requests are counted in metrics; errors are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    ...(deps.tls ? { https: { cert: deps.tls.cert, key: deps.tls.key } } : {}),
    ajv: {
      customOptions: {
        // An unknown field is a 400 naming it, never silently dropped (fastify's default).
        removeAdditional: false,
        allErrors: false,
      },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const authorized = bearerMatcher(deps.token);
  app.addHook('onRequest', async (req, reply) => {
    if (req.routeOptions.config?.public) return;
    if (!authorized(req.headers.authorization)) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: 'EUNAUTHORIZED', message: 'missing or wrong bearer token' });
    }
  });
  app.addHook('onResponse', async (req, reply) => {
    deps.httpRequests?.inc({
      method: req.method,
      route: req.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    });
  });
  app.setErrorHandler((err, req, reply) => sendError(err as Error, req, reply, log));
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: 'ENOTFOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` }),
  );

  await app.register(healthRoutes, { deps });
  await app.register(nodeRoutes, { deps });
  await app.register(volumeRoutes, { deps });
  await app.register(backupRoutes, { deps });
  await app.register(fenceRoutes, { deps });
  // The TLS option widens the server type; callers only need the plain instance.
  return app as unknown as FastifyInstance;
}
