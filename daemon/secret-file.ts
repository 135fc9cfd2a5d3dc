import { readFileSync, statSync } from 'node:fs';
import { ValidationError } from '../common/errors.js';

/** Owner of secret files: the daemon's own user (root in production). */
function currentUid(): number {
  return typeof process.getuid === 'function' ? process.getuid() : 0;
}

/**
 * Reads a bearer token (or TLS key) from a file that only its owner can read. A file
 * that group or others can read or write is refused before it is ever read: a token
 * that leaked through its mode is no secret.
 */
export function readSecretFile(path: string, field: string, options: { minLength?: number } = {}): string {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ValidationError(field, `cannot read ${path} (${code})`);
  }
  if (!st.isFile()) throw new ValidationError(field, `${path} is not a regular file`);
  if ((st.mode & 0o077) !== 0)
    throw new ValidationError(
      field,
      `${path} has mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}; it must be readable by its owner only (chmod 600)`,
    );
  if (st.uid !== currentUid())
    throw new ValidationError(field, `${path} is owned by uid ${st.uid}, not by the daemon's user`);
  const text = readFileSync(path, 'utf8').trim();
  const min = options.minLength ?? 1;
  if (text.length < min) throw new ValidationError(field, `${path} holds less than ${min} characters`);
  return text;
}

/** Bearer tokens: printable ASCII without spaces, at least 16 characters. */
export function readTokenFile(path: string, field: string): string {
  const token = readSecretFile(path, field, { minLength: 16 });
  if (!/^[\x21-\x7e]+$/.test(token))
    throw new ValidationError(field, `${path} must hold one token of printable characters without spaces`);
  return token;
}
