import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/**
 * The checkout's root (where xlss's package.json is), found the same way whether this
 * runs compiled from dist/ or as TypeScript under vitest.
 */
export function projectRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'xlss') {
      root = dir;
      return dir;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the xlss checkout above this module');
    dir = up;
  }
}

/** A path inside the checkout. */
export function inProject(...parts: string[]): string {
  return join(projectRoot(), ...parts);
}
