import { open, stat } from 'node:fs/promises';
import { XlssError } from '../../common/errors.js';
import type { CommandRunner } from '../../common/runner.js';
import { validateDevicePath } from '../../lvm/names.js';

const MiB = 1024 * 1024;
/** Every filesystem, partition table, LVM label and LUKS header has a signature in here. */
const HEAD_BYTES = MiB;
const SAMPLES = 16;

/** Size in bytes of a block device (asked of the kernel) or of a regular file (tests). */
export async function deviceSize(path: string, runner: CommandRunner): Promise<number> {
  const st = await stat(path);
  if (st.isFile()) return st.size;
  if (!st.isBlockDevice()) throw new XlssError('EDEVICE', `${path} is neither a block device nor a file`);
  const { stdout } = await runner.run('blockdev', ['--getsize64', validateDevicePath(path)], {
    readOnly: true,
  });
  const size = Number(stdout.trim());
  if (!Number.isSafeInteger(size) || size < 0)
    throw new XlssError('EDEVICE', `blockdev printed "${stdout.trim()}" for ${path}`);
  return size;
}

/**
 * The restore precondition's "empty": the first MiB (where every signature lives), the
 * last MiB of the usable area (where some, e.g. md and DRBD's own, live at the end) and
 * one MiB at each sixteenth read as zeros. Returns the first non-zero offset, or null.
 * A sample, not a proof: it finds any filesystem and any bulk data, not a lone block.
 */
export async function firstNonZero(path: string, usableBytes: number): Promise<number | null> {
  const starts = new Set<number>([0, Math.max(0, usableBytes - MiB)]);
  for (let i = 1; i < SAMPLES; i++) starts.add(Math.floor((usableBytes * i) / SAMPLES / 4096) * 4096);
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    for (const start of [...starts].sort((a, b) => a - b)) {
      const len = Math.min(HEAD_BYTES, usableBytes - start);
      if (len <= 0) continue;
      const { bytesRead } = await fh.read(buf, 0, len, start);
      for (let i = 0; i < bytesRead; i++) if (buf[i] !== 0) return start + i;
    }
    return null;
  } finally {
    await fh.close();
  }
}
