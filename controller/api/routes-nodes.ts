import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { NotFoundError } from '../../common/errors.js';
import { errorResponses, NameParams, NoContent } from './routes-common.js';
import { NodeAdd, NodeView } from './schemas.js';
import type { ControllerService } from './service.js';

export function registerNodeRoutes(base: FastifyInstance, service: ControllerService): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/v1/nodes',
    { schema: { response: { 200: Type.Object({ nodes: Type.Array(NodeView) }), ...errorResponses } } },
    async () => ({ nodes: await service.listNodes() }),
  );
  app.post(
    '/v1/nodes',
    { schema: { body: NodeAdd, response: { 200: NodeView, 201: NodeView, ...errorResponses } } },
    async (req, reply) => {
      const { node, created } = await service.addNode(req.body);
      return reply.code(created ? 201 : 200).send(node);
    },
  );
  app.get(
    '/v1/nodes/:name',
    { schema: { params: NameParams, response: { 200: NodeView, ...errorResponses } } },
    async (req) => {
      const node = await service.getNode(req.params.name);
      if (!node) throw new NotFoundError('node', req.params.name);
      return node;
    },
  );
  app.delete(
    '/v1/nodes/:name',
    { schema: { params: NameParams, response: { 204: NoContent, ...errorResponses } } },
    async (req, reply) => {
      await service.removeNode(req.params.name);
      return reply.code(204).send(null);
    },
  );
  app.post(
    '/v1/nodes/:name/drain',
    {
      schema: {
        params: NameParams,
        response: { 202: Type.Object({ jobId: Type.String() }), ...errorResponses },
      },
    },
    async (req, reply) => {
      const job = await service.drainNode(req.params.name);
      return reply.code(202).send({ jobId: job.id });
    },
  );
}
