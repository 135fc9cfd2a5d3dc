import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findKernel } from './prereq.js';

let root = '';
let boot = '';
let modules = '';
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'xlss-prereq-'));
  boot = join(root, 'boot');
  modules = join(root, 'lib/modules');
  mkdirSync(boot, { recursive: true });
  mkdirSync(modules, { recursive: true });
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

function kernel(version: string, drbd: boolean): void {
  writeFileSync(join(boot, `vmlinuz-${version}`), '');
  mkdirSync(join(modules, version, 'kernel/drivers/block', drbd ? 'drbd' : 'loop'), { recursive: true });
}

describe('findKernel', () => {
  it('picks the newest kernel that has DRBD modules, comparing versions numerically', () => {
    kernel('6.1.0-9-amd64', true);
    kernel('6.1.0-10-amd64', true);
    kernel('6.12.0-1-amd64', false); // newest, but without drbd
    writeFileSync(join(boot, 'config-6.12.0-1-amd64'), '');
    writeFileSync(join(boot, 'initrd.img-6.1.0-10-amd64'), '');
    expect(findKernel(boot, modules)).toEqual({
      version: '6.1.0-10-amd64',
      vmlinuz: `${boot}/vmlinuz-6.1.0-10-amd64`,
      modules: `${modules}/6.1.0-10-amd64`,
    });
  });

  it('ignores a kernel whose modules are not installed at all', () => {
    kernel('5.10.0-1-amd64', true);
    writeFileSync(join(boot, 'vmlinuz-6.0.0-1-amd64'), '');
    expect(findKernel(boot, modules)?.version).toBe('5.10.0-1-amd64');
  });

  it('finds nothing without a kernel with DRBD, or without /boot', () => {
    kernel('6.1.0-1-amd64', false);
    expect(findKernel(boot, modules)).toBeUndefined();
    expect(findKernel(join(root, 'no-boot'), modules)).toBeUndefined();
  });
});
