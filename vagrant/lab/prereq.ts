import { existsSync, readdirSync } from 'node:fs';
import { XlssError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { CommandRunner } from '../../common/runner.js';

/** Debian packages the lab needs on the host (the guests use the host's own root). */
export const LAB_PACKAGES = [
  'qemu-system-x86',
  'qemu-utils',
  'linux-image-amd64',
  'lvm2',
  // LVM runs thin_check whenever it activates a thin pool; lvm2 only recommends it.
  'thin-provisioning-tools',
  'drbd-utils',
  'busybox-static',
  'cpio',
  'iproute2',
  'e2fsprogs',
  'util-linux',
  // `lab partition A B`: nftables rules on the lab's bridge cut one link only.
  'nftables',
] as const;

const REQUIRED_FILES: [string, string][] = [
  ['/usr/bin/qemu-system-x86_64', 'qemu-system-x86'],
  ['/usr/bin/qemu-nbd', 'qemu-utils'],
  ['/bin/busybox', 'busybox-static'],
  ['/usr/bin/cpio', 'cpio'],
  ['/sbin/ip', 'iproute2'],
  ['/sbin/lvm', 'lvm2'],
  ['/usr/sbin/thin_check', 'thin-provisioning-tools'],
  ['/usr/sbin/drbdadm', 'drbd-utils'],
  ['/sbin/mkfs.ext4', 'e2fsprogs'],
  ['/usr/bin/lsblk', 'util-linux'],
  ['/usr/sbin/nft', 'nftables'],
];

export interface Kernel {
  version: string;
  vmlinuz: string;
  modules: string;
}

/** The newest Debian kernel installed in /boot that has the modules the lab needs. */
export function findKernel(boot = '/boot', modulesRoot = '/lib/modules'): Kernel | undefined {
  let names: string[] = [];
  try {
    names = readdirSync(boot);
  } catch {
    return undefined;
  }
  const versions = names
    .filter((n) => n.startsWith('vmlinuz-'))
    .map((n) => n.slice('vmlinuz-'.length))
    .filter((v) => existsSync(`${modulesRoot}/${v}/kernel/drivers/block/drbd`))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const version = versions.at(-1);
  if (!version) return undefined;
  return { version, vmlinuz: `${boot}/vmlinuz-${version}`, modules: `${modulesRoot}/${version}` };
}

function missingPackages(): string[] {
  const missing = REQUIRED_FILES.filter(([file]) => !existsSync(file)).map(([, pkg]) => pkg);
  if (!findKernel()) missing.push('linux-image-amd64');
  return [...new Set(missing)];
}

/**
 * Checks what the lab needs up front and says in one message how to fix it. With
 * `install` (XLSS_LAB_INSTALL=1) it installs the missing Debian packages itself.
 */
export async function checkPrerequisites(opts: {
  runner: CommandRunner;
  log: Logger;
  install: boolean;
}): Promise<Kernel> {
  if (process.getuid?.() !== 0)
    throw new XlssError('ELABPREREQ', 'the lab needs root (network namespaces, taps): run it as root');
  let missing = missingPackages();
  if (missing.length > 0 && opts.install) {
    opts.log.warn({ packages: missing }, 'installing the lab packages (this takes a few minutes)');
    process.stderr.write(`xlss lab: installing ${missing.join(' ')} …\n`);
    const env = { DEBIAN_FRONTEND: 'noninteractive' };
    await opts.runner.run('apt-get', ['update'], { timeoutMs: 600_000, env });
    await opts.runner.run('apt-get', ['install', '-y', '--no-install-recommends', ...LAB_PACKAGES], {
      timeoutMs: 1_200_000,
      env,
    });
    missing = missingPackages();
  }
  if (missing.length > 0)
    throw new XlssError(
      'ELABPREREQ',
      `the lab needs these Debian packages: ${missing.join(' ')}. Install them with ` +
        `"apt-get install -y ${LAB_PACKAGES.join(' ')}", or run with XLSS_LAB_INSTALL=1 to let xlss do it`,
    );
  if (!existsSync('/dev/net/tun'))
    throw new XlssError('ELABPREREQ', 'the lab needs /dev/net/tun (the tun kernel module) for its network');
  const kernel = findKernel();
  if (!kernel) throw new XlssError('ELABPREREQ', 'no kernel with DRBD modules in /boot');
  return kernel;
}
