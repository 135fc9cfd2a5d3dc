import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { NotFoundError } from '../../../common/errors.js';
import type { AppDeps } from '../deps.js';
import { responses } from '../route-schemas.js';
import {
  DeleteQuery,
  DemoteBody,
  NameParams,
  OutdateBody,
  PromoteBody,
  ResizeBody,
  VolumeList,
  VolumeSpec,
  VolumeStatus,
} from '../schemas.js';

/** The volume routes: validation happens before any handler runs, so bad input runs no command. */
export const volumeRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const v = deps.volumes;

  app.get('/v1/volumes', { schema: { response: responses({ 200: VolumeList }) } }, async () => ({
    volumes: await v.list(),
  }));

  app.get(
    '/v1/volumes/:name',
    { schema: { params: NameParams, response: responses({ 200: VolumeStatus }) } },
    async (req) => {
      const status = await v.get(req.params.name);
      if (!status) throw new NotFoundError('volume', req.params.name);
      return status;
    },
  );

  app.put(
    '/v1/volumes/:name',
    {
      schema: {
        params: NameParams,
        body: VolumeSpec,
        response: responses({ 200: VolumeStatus, 201: VolumeStatus }),
      },
    },
    async (req, reply) => {
      const { status, created } = await v.put(req.params.name, req.body);
      return reply.code(created ? 201 : 200).send(status);
    },
  );

  app.delete(
    '/v1/volumes/:name',
    { schema: { params: NameParams, querystring: DeleteQuery, response: responses({ 204: Type.Null() }) } },
    async (req, reply) => {
      await v.delete(req.params.name, { force: req.query.force === true });
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/volumes/:name/promote',
    { schema: { params: NameParams, body: PromoteBody, response: responses({ 200: VolumeStatus }) } },
    async (req) => v.promote(req.params.name, req.body),
  );

  app.post(
    '/v1/volumes/:name/demote',
    { schema: { params: NameParams, body: DemoteBody, response: responses({ 200: VolumeStatus }) } },
    async (req) => v.demote(req.params.name, req.body.epoch),
  );

  app.post(
    '/v1/volumes/:name/resize',
    { schema: { params: NameParams, body: ResizeBody, response: responses({ 200: VolumeStatus }) } },
    async (req) => v.resize(req.params.name, req.body.sizeBytes),
  );

  app.post(
    '/v1/volumes/:name/outdate',
    { schema: { params: NameParams, body: OutdateBody, response: responses({ 200: VolumeStatus }) } },
    async (req) => v.outdate(req.params.name, req.body.epoch),
  );
};
