import { randomBytes } from 'node:crypto';
import { open, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Temp files carry the writing node's name and a fixed suffix, so a later run on the same
 * node can find and remove what a crash left behind, and never another node's work.
 */
export function tempName(finalPath: string, nodeName: string): string {
  return join(
    dirname(finalPath),
    `.${basename(finalPath)}.${nodeName}.${randomBytes(4).toString('hex')}.partial`,
  );
}

/** Matches temp files made by `tempName` for this node. */
export function isOwnTemp(fileName: string, nodeName: string): boolean {
  const suffix = /\.([a-z0-9-]+)\.[0-9a-f]{8}\.partial$/.exec(fileName);
  return fileName.startsWith('.') && suffix?.[1] === nodeName;
}

/** Flushes a directory, so a rename inside it survives a crash. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Write to a temp name, fsync, rename over the final name, fsync the directory. */
export async function writeFileAtomic(path: string, data: string, nodeName: string): Promise<void> {
  const tmp = tempName(path, nodeName);
  const fh = await open(tmp, 'wx', 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await syncDir(dirname(path));
}
