/** Response schemas shared by every route: the error statuses a route can answer with. */
import type { TSchema } from 'typebox';
import { ErrorBody } from './schemas.js';

const ERROR_STATUSES = [400, 401, 404, 409, 500, 502, 507] as const;

/** `ok` plus ErrorBody for every error status, so errors are serialized through a schema too. */
export function responses<T extends Record<number, TSchema>>(ok: T): T & Record<number, TSchema> {
  const all: Record<number, TSchema> = { ...ok };
  for (const s of ERROR_STATUSES) all[s] = ErrorBody;
  return all as T & Record<number, TSchema>;
}
