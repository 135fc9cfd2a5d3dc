import { createHash } from 'node:crypto';
import { access, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import type { CommandRunner } from '../../common/runner.js';
import { wrapperConfig } from './resource.js';

/**
 * The live `.res` files (drbdConfigDir, e.g. /etc/drbd.d) and the one-resource wrapper
 * each drbdadm call reads (`<stateDir>/drbd/<name>.conf`). A new `.res` is written to a
 * temporary name in the same directory (not matched by `*.res`), checked by drbdadm
 * there, and only then renamed over the live one.
 */
export class DrbdConfigFiles {
  private readonly wrapperDir: string;
  /** sha256 of each live file as last read or written. */
  private readonly live = new Map<string, string>();

  constructor(
    private readonly configDir: string,
    stateDir: string,
    private readonly runner: CommandRunner,
  ) {
    this.wrapperDir = join(stateDir, 'drbd');
  }

  resPath(name: string): string {
    return join(this.configDir, `${name}.res`);
  }

  wrapperPath(name: string): string {
    return join(this.wrapperDir, `${name}.conf`);
  }

  private tmpPath(name: string): string {
    return join(this.configDir, `.xlss-${name}.res.tmp`);
  }

  /** Reads the live files of these volumes once (and drops leftover temp files). */
  async init(names: readonly string[]): Promise<void> {
    await mkdir(this.configDir, { recursive: true });
    await mkdir(this.wrapperDir, { recursive: true, mode: 0o700 });
    for (const name of names) {
      await rm(this.tmpPath(name), { force: true });
      await writeFileAtomic(this.wrapperPath(name), wrapperConfig(this.resPath(name)), {
        mode: 0o600,
        fsync: true,
      });
      try {
        this.live.set(name, hashOf(await readFile(this.resPath(name), 'utf8')));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        this.live.delete(name);
      }
    }
  }

  /** Whether the live `.res` is on disk now (it may vanish behind our back: /etc lost). */
  async present(name: string): Promise<boolean> {
    try {
      await access(this.resPath(name));
      return true;
    } catch {
      return false;
    }
  }

  liveHash(name: string): string | null {
    return this.live.get(name) ?? null;
  }

  /** Check first, then replace atomically; a file drbdadm rejects never goes live. */
  async install(name: string, text: string): Promise<void> {
    const tmp = this.tmpPath(name);
    const tmpWrapper = join(this.wrapperDir, `.${name}.check.conf`);
    await writeFileAtomic(tmp, text, { mode: 0o600, fsync: true });
    // The wrappers need no fsync: the check's is removed right after, and init() writes
    // every volume's again at each start (a crash may lose them; nothing else).
    await writeFileAtomic(tmpWrapper, wrapperConfig(tmp), { mode: 0o600, fsync: false });
    try {
      await this.runner.run('drbdadm', ['-c', tmpWrapper, 'dump', name], { readOnly: true });
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    } finally {
      await rm(tmpWrapper, { force: true });
    }
    await writeFileAtomic(this.wrapperPath(name), wrapperConfig(this.resPath(name)), {
      mode: 0o600,
      fsync: false,
    });
    await rename(tmp, this.resPath(name));
    this.live.set(name, hashOf(text));
  }

  async remove(name: string): Promise<void> {
    await rm(this.resPath(name), { force: true });
    await rm(this.tmpPath(name), { force: true });
    await rm(this.wrapperPath(name), { force: true });
    this.live.delete(name);
  }
}

export function hashOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
