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
