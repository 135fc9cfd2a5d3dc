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

/** An ajv (fastify) or typebox validation error: both name the path and the property. */
interface SchemaError {
  instancePath?: string;
  message?: string;
  params?: unknown;
}

/** `sizeBytes`, `replicas.0.node`, or the missing/extra property's name. */
export function fieldOf(error: SchemaError): string {
  const path = (error.instancePath ?? '').split('/').filter(Boolean);
  const p = (error.params ?? {}) as Record<string, unknown>;
  const first = (v: unknown) => (Array.isArray(v) ? v[0] : v);
  const extra =
    p.missingProperty ?? p.additionalProperty ?? first(p.requiredProperties) ?? first(p.additionalProperties);
  if (typeof extra === 'string') path.push(extra);
  return path.join('.');
}

function isExtraProperty(error: SchemaError): boolean {
  const p = (error.params ?? {}) as Record<string, unknown>;
  return p.additionalProperty !== undefined || Array.isArray(p.additionalProperties);
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err.validation && err.validation.length > 0) {
      const first = err.validation[0] as SchemaError;
      const context = err.validationContext ?? 'body';
      const field = fieldOf(first) || context;
      const extra = isExtraProperty(first) ? 'is not a known field' : undefined;
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
