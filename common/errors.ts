/** Base of every error xlss raises on purpose; `code` is stable and machine-readable. */
export class XlssError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Bad input: names the field so the user can fix it. Raised before any command runs. */
export class ValidationError extends XlssError {
  readonly field: string;
  constructor(field: string, message: string) {
    super('EVALIDATION', `${field}: ${message}`);
    this.field = field;
  }
}

/** Bad usage of the CLI (exit code 2). */
export class UsageError extends XlssError {
  constructor(message: string) {
    super('EUSAGE', message);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Not found (HTTP 404): the named object does not exist. */
export class NotFoundError extends XlssError {
  constructor(what: string, name: string) {
    super('ENOTFOUND', `${what} "${name}" not found`);
  }
}

/** The request conflicts with the current state (HTTP 409); the message says why. */
export class ConflictError extends XlssError {
  constructor(message: string) {
    super('ECONFLICT', message);
  }
}

/** Not enough space (HTTP 507); the message names what is short and what is free. */
export class NoSpaceError extends XlssError {
  constructor(message: string) {
    super('ENOSPACE', message);
  }
}
