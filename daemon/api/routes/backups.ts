import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { NotFoundError } from '../../../common/errors.js';
import type { AppDeps } from '../deps.js';
import { responses } from '../route-schemas.js';
import { BackupList, BackupListQuery, Job, JobParams, NameParams, RestoreBody } from '../schemas.js';

export const backupRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const b = deps.backups;

  // Backups outlive their volume on this node (restore elsewhere), so listing needs no local volume.
  app.get(
    '/v1/volumes/:name/backups',
    {
      schema: { params: NameParams, querystring: BackupListQuery, response: responses({ 200: BackupList }) },
    },
    async (req) => ({ backups: await b.list(req.params.name, req.query.target) }),
  );

  app.post(
    '/v1/volumes/:name/backups',
    { schema: { params: NameParams, response: responses({ 202: Job }) } },
    async (req, reply) => {
      if (!(await deps.volumes.get(req.params.name))) throw new NotFoundError('volume', req.params.name);
      return reply.code(202).send(await b.runNow(req.params.name));
    },
  );

  app.post(
    '/v1/volumes/:name/restore',
    { schema: { params: NameParams, body: RestoreBody, response: responses({ 202: Job }) } },
    async (req, reply) => reply.code(202).send(await b.restore(req.params.name, req.body)),
  );

  app.get(
    '/v1/jobs/:id',
    { schema: { params: JobParams, response: responses({ 200: Job }) } },
    async (req) => {
      const job = b.job(req.params.id);
      if (!job) throw new NotFoundError('job', req.params.id);
      return job;
    },
  );
};
