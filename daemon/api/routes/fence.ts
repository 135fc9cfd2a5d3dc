import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ValidationError } from '../../../common/errors.js';
import type { AppDeps } from '../deps.js';
import { responses } from '../route-schemas.js';
import { FenceAnswer, FenceAsk, ResyncDone } from '../schemas.js';

/** The local DRBD handlers' calls, relayed to the controller. */
export const fenceRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const ownNode = (node: string) => {
    if (node !== deps.nodeName)
      throw new ValidationError('node', `must be this node (${deps.nodeName}), not ${node}`);
  };

  // Always 200 with an answer: a denial (or no answer from the controller) is {allow:false}.
  app.post(
    '/v1/fence',
    { schema: { body: FenceAsk, response: responses({ 200: FenceAnswer }) } },
    async (req) => {
      ownNode(req.body.node);
      // DRBD reconnected while its handler was asking: it clears the fencing freeze itself
      // and ignores the handler's exit code, so the question is dropped, not relayed (the
      // handler used to ask the controller for a minute, each answer a fence.denied).
      if (deps.volumes.peerConnected?.(req.body.volume))
        return { allow: false, reason: 'reconnected: DRBD is connected to the peer again' };
      return deps.relay.ask(req.body);
    },
  );

  app.post(
    '/v1/resync-done',
    { schema: { body: ResyncDone, response: responses({ 204: Type.Null() }) } },
    async (req, reply) => {
      ownNode(req.body.node);
      try {
        await deps.relay.resyncDone(req.body);
      } catch (err) {
        deps.log.warn({ volume: req.body.volume, err: (err as Error).message }, 'resync-done not relayed');
        return reply
          .code(502)
          .send({ error: 'ECONTROLLER', message: `controller not told: ${(err as Error).message}` });
      }
      return reply.code(204).send(null);
    },
  );
};
