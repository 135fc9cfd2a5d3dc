import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppDeps } from '../deps.js';
import { responses } from '../route-schemas.js';

const Ready = Type.Object({ ready: Type.Boolean() });

/** /healthz (no token: the process answers), /readyz (the engine has observed the node), /metrics. */
export const healthRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  app.get(
    '/healthz',
    {
      config: { public: true },
      schema: { response: responses({ 200: Type.Object({ status: Type.Literal('ok') }) }) },
    },
    async () => ({ status: 'ok' as const }),
  );
  app.get('/readyz', { schema: { response: responses({ 200: Ready, 503: Ready }) } }, async (_req, reply) => {
    const ready = deps.ready();
    return reply.code(ready ? 200 : 503).send({ ready });
  });
  app.get('/metrics', { schema: { response: responses({ 200: Type.String() }) } }, async (_req, reply) => {
    const text = await deps.registry.metrics();
    return reply.type(deps.registry.contentType).send(text);
  });
};
