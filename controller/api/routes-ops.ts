import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { NotFoundError } from '../../common/errors.js';
import { errorResponses, JobParams, NoContent } from './routes-common.js';
import { EventsQuery, EventView, FenceAnswer, FenceAsk, Job, RestoreRequest, ResyncDone } from './schemas.js';
import type { ControllerService } from './service.js';

/** Restore, jobs, events, and the two calls daemons make (fence, resync-done). */
export function registerOpsRoutes(base: FastifyInstance, service: ControllerService): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/v1/restore',
    { schema: { body: RestoreRequest, response: { 202: Job, ...errorResponses } } },
    async (req, reply) => reply.code(202).send(await service.restore(req.body)),
  );
  app.get(
    '/v1/jobs/:id',
    { schema: { params: JobParams, response: { 200: Job, ...errorResponses } } },
    async (req) => {
      const job = await service.job(req.params.id);
      if (!job) throw new NotFoundError('job', req.params.id);
      return job;
    },
  );
  app.get(
    '/v1/events',
    {
      schema: {
        querystring: EventsQuery,
        response: { 200: Type.Object({ events: Type.Array(EventView) }), ...errorResponses },
      },
    },
    async (req) => ({ events: await service.events(req.query) }),
  );
  app.post(
    '/v1/fence',
    { schema: { body: FenceAsk, response: { 200: FenceAnswer, ...errorResponses } } },
    async (req) => service.fence(req.body),
  );
  app.post(
    '/v1/resync-done',
    { schema: { body: ResyncDone, response: { 204: NoContent, ...errorResponses } } },
    async (req, reply) => {
      await service.resyncDone(req.body);
      return reply.code(204).send(null);
    },
  );
}
