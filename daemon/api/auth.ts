import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Checks `Authorization: Bearer <token>` in constant time: both sides are hashed to
 * equal-length digests first, so neither the length nor a common prefix leaks.
 */
export function bearerMatcher(token: string): (header: string | undefined) => boolean {
  const want = createHash('sha256').update(token).digest();
  return (header) => {
    const m = /^Bearer ([\x21-\x7e]+)$/.exec(header ?? '');
    const got = createHash('sha256')
      .update(m?.[1] ?? '')
      .digest();
    return timingSafeEqual(want, got) && m !== null;
  };
}
