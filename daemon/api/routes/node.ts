import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppDeps } from '../deps.js';
import { responses } from '../route-schemas.js';
import { NodeInfo } from '../schemas.js';

export const nodeRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  app.get('/v1/node', { schema: { response: responses({ 200: NodeInfo }) } }, async () => deps.nodeInfo());
};
