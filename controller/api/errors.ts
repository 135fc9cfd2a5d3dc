/**
 * How the controller API answers errors: an ErrorBody with a stable code, the field for
 * bad input, and never a stack trace or an internal message for a 500.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { XlssError } from '../../common/errors.js';

const STATUS_BY_CODE: Record<string, number> = {
  EVALIDATION: 400,
  ENOTFOUND: 404,
  ECONFLICT: 409,
  ENOSPACE: 507,
};

interface AjvError {
  instancePath?: string;
  message?: string;
  params?: { missingProperty?: string; additionalProperty?: string };
}

/** `sizeBytes`, `replicas.0.node`, or the missing/extra property's name. */
export function fieldOf(error: AjvError): string {
  const path = (error.instancePath ?? '').split('/').filter(Boolean);
  const extra = error.params?.missingProperty ?? error.params?.additionalProperty;
  if (extra) path.push(extra);
  return path.join('.');
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err.validation && err.validation.length > 0) {
      const first = err.validation[0] as AjvError;
      const context = err.validationContext ?? 'body';
      const field = fieldOf(first) || context;
      const extra = first.params?.additionalProperty ? 'is not a known field' : undefined;
      return reply.code(400).send({
        error: 'EVALIDATION',
        message: `${context === 'querystring' ? 'query' : context} ${field}: ${extra ?? first.message ?? 'is invalid'}`,
        field,
      });
    }
    if (err instanceof XlssError && STATUS_BY_CODE[err.code] !== undefined) {
      const field = (err as XlssError & { field?: string }).field;
      return reply
        .code(STATUS_BY_CODE[err.code] ?? 500)
        .send({ error: err.code, message: err.message, ...(field ? { field } : {}) });
    }
    // Fastify's own 4xx (bad JSON, wrong content type, body too large) carry a safe message.
    if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500)
      return reply.code(err.statusCode).send({ error: 'EREQUEST', message: err.message });
    req.log.error({ err, route: req.routeOptions.url }, 'request failed');
    return reply.code(500).send({ error: 'EINTERNAL', message: 'internal error; see the controller log' });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: 'ENOTFOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` }),
  );
}
