import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../common/errors.js';
import { writeResourceFile } from './config-file.js';
import { sampleSpec } from './testing.js';

describe('writeResourceFile', () => {
  it('writes once, then reports unchanged, then rewrites on change', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xlss-drbd-'));
    const first = await writeResourceFile(sampleSpec(), '8.4', { configDir: dir });
    expect(first).toEqual({ path: join(dir, 'vol1.res'), changed: true });
    const mtime = statSync(first.path).mtimeMs;
    expect(await writeResourceFile(sampleSpec(), '8.4', { configDir: dir })).toEqual({
      path: first.path,
      changed: false,
    });
    expect(statSync(first.path).mtimeMs).toBe(mtime);
    expect(statSync(first.path).mode & 0o777).toBe(0o600);
    const s = sampleSpec();
    s.protocol = 'B';
    expect((await writeResourceFile(s, '8.4', { configDir: dir })).changed).toBe(true);
    expect(readFileSync(first.path, 'utf8')).toContain('protocol B;');
  });

  it('writes nothing for an invalid spec', async () => {
    const writes: string[] = [];
    const io = { read: async () => undefined, write: async (p: string) => void writes.push(p) };
    const s = sampleSpec();
    s.name = '../../etc/passwd';
    await expect(writeResourceFile(s, '8.4', { io })).rejects.toThrow(ValidationError);
    expect(writes).toEqual([]);
  });
});
