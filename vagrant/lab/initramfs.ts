import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { inProject } from '../../common/paths.js';
import type { CommandRunner } from '../../common/runner.js';
import type { Kernel } from './prereq.js';

/** Loaded in this order by the initramfs: just enough to mount the host's root over 9p. */
export const INITRAMFS_MODULES = [
  'kernel/drivers/virtio/virtio_ring.ko',
  'kernel/drivers/virtio/virtio.ko',
  'kernel/drivers/virtio/virtio_pci_legacy_dev.ko',
  'kernel/drivers/virtio/virtio_pci_modern_dev.ko',
  'kernel/drivers/virtio/virtio_pci.ko',
  'kernel/fs/netfs/netfs.ko',
  'kernel/fs/fscache/fscache.ko',
  'kernel/net/9p/9pnet.ko',
  'kernel/net/9p/9pnet_virtio.ko',
  'kernel/fs/9p/9p.ko',
  'kernel/fs/overlayfs/overlay.ko',
] as const;

export const INIT_SCRIPT = inProject('vagrant/lab/guest/init.sh');

/**
 * Builds the lab's initramfs (busybox, eleven modules, our /init) into `dir`, or reuses
 * the one built before for the same kernel and init script. Returns its path.
 */
export async function buildInitramfs(runner: CommandRunner, kernel: Kernel, dir: string): Promise<string> {
  const init = readFileSync(INIT_SCRIPT);
  const key = createHash('sha256').update(kernel.version).update(init).digest('hex').slice(0, 12);
  const out = join(dir, `initramfs-${key}.cpio`);
  if (existsSync(out)) return out;
  const tree = join(dir, 'initramfs-tree');
  rmSync(tree, { recursive: true, force: true });
  mkdirSync(join(tree, 'bin'), { recursive: true });
  mkdirSync(join(tree, 'modules'));
  copyFileSync('/bin/busybox', join(tree, 'bin/busybox'));
  copyFileSync(INIT_SCRIPT, join(tree, 'init'));
  const files = ['.', 'bin', 'bin/busybox', 'init', 'modules'];
  for (const mod of INITRAMFS_MODULES) {
    const name = mod.split('/').at(-1) as string;
    copyFileSync(join(kernel.modules, mod), join(tree, 'modules', name));
    files.push(`modules/${name}`);
  }
  const tmp = `${out}.tmp`;
  // cpio keeps the copied modes: init and busybox stay executable.
  chmodSync(join(tree, 'init'), 0o755);
  chmodSync(join(tree, 'bin/busybox'), 0o755);
  await runner.run('cpio', ['--quiet', '-o', '-H', 'newc', '-F', tmp], {
    cwd: tree,
    input: `${files.join('\n')}\n`,
  });
  renameSync(tmp, out);
  rmSync(tree, { recursive: true, force: true });
  return out;
}
