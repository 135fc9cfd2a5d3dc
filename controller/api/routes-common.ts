import { type Static, Type } from 'typebox';
import { ErrorBody, Name } from './schemas.js';

export const NameParams = Type.Object({ name: Name }, { additionalProperties: false });
export type NameParams = Static<typeof NameParams>;

export const JobParams = Type.Object(
  { id: Type.String({ pattern: '^[A-Za-z0-9._:-]{1,100}$' }) },
  { additionalProperties: false },
);

/** The error answers every route may give besides its own (ErrorBody for each). */
export const errorResponses = {
  400: ErrorBody,
  401: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  500: ErrorBody,
  507: ErrorBody,
};

export const NoContent = Type.Null();
