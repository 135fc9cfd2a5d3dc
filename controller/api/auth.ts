import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

/** Paths served without a token: liveness only, it tells nothing about the cluster. */
const OPEN_PATHS = new Set(['/healthz']);

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Bearer-token check on every request but /healthz. Compared in constant time over
 * fixed-length digests, so neither content nor length leaks through timing.
 */
export function registerBearerAuth(app: FastifyInstance, token: string): void {
  if (!token) throw new Error('the controller API needs a non-empty token');
  const expected = digest(token);
  app.addHook('onRequest', async (req, reply) => {
    if (OPEN_PATHS.has(req.url.split('?')[0] ?? '')) return;
    const header = req.headers.authorization ?? '';
    const m = /^Bearer (\S+)$/.exec(header);
    if (!m || !timingSafeEqual(digest(m[1] ?? ''), expected))
      return reply.code(401).send({ error: 'EUNAUTHORIZED', message: 'missing or wrong bearer token' });
  });
}
