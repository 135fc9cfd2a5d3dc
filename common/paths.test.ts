import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { inProject, projectRoot } from './paths.js';

const checkout = resolve(fileURLToPath(import.meta.url), '../..');

describe('projectRoot', () => {
  it("finds the checkout holding xlss's package.json", () => {
    expect(projectRoot()).toBe(checkout);
    const pkg = JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { name: string };
    expect(pkg.name).toBe('xlss');
    // Cached: the same answer again.
    expect(projectRoot()).toBe(checkout);
  });

  it('inProject joins a path inside the checkout', () => {
    expect(inProject('bin', 'xlss.js')).toBe(join(checkout, 'bin', 'xlss.js'));
    expect(existsSync(inProject('common', 'paths.ts'))).toBe(true);
    expect(inProject()).toBe(checkout);
  });
});
