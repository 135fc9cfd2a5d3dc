import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import type { DrbdGeneration, ResourceSpec } from './model.js';
import { renderResourceFile } from './render.js';

export interface ConfigFileIo {
  read(path: string): Promise<string | undefined>;
  write(path: string, content: string): Promise<void>;
}

const nodeIo: ConfigFileIo = {
  async read(path) {
    try {
      return await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  },
  async write(path, content) {
    await writeFileAtomic(path, content, { mode: 0o600, fsync: true });
  },
};

export interface WriteResourceFileOptions {
  configDir?: string;
  io?: ConfigFileIo;
}

/**
 * Writes `<configDir>/<name>.res` atomically (a reader never sees half a file) and only
 * when its content changes, so drbdadm adjust is not provoked for nothing. Mode 0600
 * because the file may hold the shared secret.
 */
export async function writeResourceFile(
  spec: ResourceSpec,
  generation: DrbdGeneration,
  options: WriteResourceFileOptions = {},
): Promise<{ path: string; changed: boolean }> {
  const content = renderResourceFile(spec, generation);
  const io = options.io ?? nodeIo;
  const path = join(options.configDir ?? '/etc/drbd.d', `${spec.name}.res`);
  if ((await io.read(path)) === content) return { path, changed: false };
  await io.write(path, content);
  return { path, changed: true };
}
