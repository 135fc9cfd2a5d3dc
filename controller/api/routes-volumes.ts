import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { NotFoundError } from '../../common/errors.js';
import { errorResponses, NameParams, NoContent } from './routes-common.js';
import {
  BackupManifest,
  BackupRunBody,
  FailoverBody,
  Job,
  VolumeCreate,
  VolumeResize,
  VolumeView,
} from './schemas.js';
import type { ControllerService } from './service.js';

const DeleteQuery = Type.Object({ force: Type.Optional(Type.Boolean()) }, { additionalProperties: false });

export function registerVolumeRoutes(base: FastifyInstance, service: ControllerService): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/v1/volumes',
    { schema: { response: { 200: Type.Object({ volumes: Type.Array(VolumeView) }), ...errorResponses } } },
    async () => ({ volumes: await service.listVolumes() }),
  );
  app.post(
    '/v1/volumes',
    { schema: { body: VolumeCreate, response: { 200: VolumeView, 201: VolumeView, ...errorResponses } } },
    async (req, reply) => {
      const { volume, created } = await service.createVolume(req.body);
      return reply.code(created ? 201 : 200).send(volume);
    },
  );
  app.get(
    '/v1/volumes/:name',
    { schema: { params: NameParams, response: { 200: VolumeView, ...errorResponses } } },
    async (req) => {
      const volume = await service.getVolume(req.params.name);
      if (!volume) throw new NotFoundError('volume', req.params.name);
      return volume;
    },
  );
  app.post(
    '/v1/volumes/:name/resize',
    { schema: { params: NameParams, body: VolumeResize, response: { 200: VolumeView, ...errorResponses } } },
    async (req) => service.resizeVolume(req.params.name, req.body.sizeBytes),
  );
  app.delete(
    '/v1/volumes/:name',
    {
      schema: {
        params: NameParams,
        querystring: DeleteQuery,
        response: { 204: NoContent, ...errorResponses },
      },
    },
    async (req, reply) => {
      await service.deleteVolume(req.params.name, { force: req.query.force ?? false });
      return reply.code(204).send(null);
    },
  );
  app.post(
    '/v1/volumes/:name/failover',
    { schema: { params: NameParams, body: FailoverBody, response: { 200: VolumeView, ...errorResponses } } },
    async (req) => service.failover(req.params.name, req.body.to),
  );
  app.post(
    '/v1/volumes/:name/backups',
    { schema: { params: NameParams, body: BackupRunBody, response: { 202: Job, ...errorResponses } } },
    async (req, reply) => reply.code(202).send(await service.runBackup(req.params.name)),
  );
  app.get(
    '/v1/volumes/:name/backups',
    {
      schema: {
        params: NameParams,
        response: { 200: Type.Object({ backups: Type.Array(BackupManifest) }), ...errorResponses },
      },
    },
    async (req) => ({ backups: await service.listBackups(req.params.name) }),
  );
}
