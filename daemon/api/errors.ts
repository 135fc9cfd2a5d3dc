/**
 * Maps every error a route can raise to an ErrorBody and a status. Validation errors
 * name the field; typed service errors keep their message; anything else is a 500 with
 * a generic message, logged with its stack here and never sent.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ConflictError, NoSpaceError, NotFoundError, ValidationError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { ErrorBody } from './schemas.js';

interface AjvError {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** `/drbd/port` + missingProperty `secret` -> `drbd.secret`. */
export function fieldOfValidation(
  errors: readonly AjvError[],
  context: string | undefined,
): { field: string; message: string } {
  const first = errors[0] ?? {};
  const segments = (first.instancePath ?? '').split('/').filter((s) => s !== '');
  let why = first.message ?? 'is invalid';
  const missing = first.params?.missingProperty;
  const extra = first.params?.additionalProperty;
  if (typeof missing === 'string') {
    segments.push(missing);
    why = 'is required';
  } else if (typeof extra === 'string') {
    segments.push(extra);
    why = 'is not a known field';
  }
  const field = segments.length > 0 ? segments.join('.') : (context ?? 'body');
  return { field, message: `${context ?? 'request'} ${field} ${why}` };
}

export function errorReply(err: FastifyError | Error, log: Logger): { status: number; body: ErrorBody } {
  const fe = err as FastifyError;
  if (Array.isArray(fe.validation)) {
    const { field, message } = fieldOfValidation(fe.validation as AjvError[], fe.validationContext);
    return { status: 400, body: { error: 'EVALIDATION', message, field } };
  }
  if (err instanceof ValidationError)
    return { status: 400, body: { error: err.code, message: err.message, field: err.field } };
  if (err instanceof NotFoundError) return { status: 404, body: { error: err.code, message: err.message } };
  if (err instanceof ConflictError) return { status: 409, body: { error: err.code, message: err.message } };
  if (err instanceof NoSpaceError) return { status: 507, body: { error: err.code, message: err.message } };
  // fastify's own 4xx (malformed JSON, wrong content type, body too large): its messages name no internals.
  if (
    typeof fe.statusCode === 'number' &&
    fe.statusCode >= 400 &&
    fe.statusCode < 500 &&
    fe.code?.startsWith('FST_')
  )
    return {
      status: fe.statusCode,
      body: { error: 'EBADREQUEST', message: fe.message, ...(fe.statusCode === 400 && { field: 'body' }) },
    };
  log.error({ err }, 'request failed');
  return { status: 500, body: { error: 'EINTERNAL', message: 'internal error (see the daemon log)' } };
}

export function sendError(err: FastifyError | Error, _req: FastifyRequest, reply: FastifyReply, log: Logger) {
  const { status, body } = errorReply(err, log);
  return reply.code(status).type('application/json').send(body);
}
