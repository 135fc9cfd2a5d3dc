import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { ValidationError } from '../../common/errors.js';
import { parseSize } from '../../common/size.js';

export type LabInit = 'busybox' | 'systemd';
export type LabAccel = 'tcg' | 'kvm';

export interface LabConfig {
  /** Where everything of this lab lives: state, disks, sockets, logs. */
  dir: string;
  nodes: number;
  diskBytes: bigint;
  stateDiskBytes: bigint;
  memoryMiB: number;
  init: LabInit;
  accel: LabAccel;
  /** Extra kernel parameters for every guest (debugging); later ones override ours. */
  kernelArgs: string[];
  /** First three octets of the lab's private /24, inside its own network namespace. */
  subnet: string;
  /**
   * A daemon on every guest and the controller on the host side, nodes registered
   * (`xlss lab up`); false: bare guests (`--bare`, and lab tests unless they ask).
   */
  cluster: boolean;
}

/**
 * Paths the lab hands to qemu and to the guests: qemu's option strings split at commas,
 * the kernel command line at spaces, so only these characters are let through.
 */
export const SAFE_PATH = /^\/[A-Za-z0-9._/+-]+$/;

export const DEFAULT_LAB_DIR = '/var/tmp/xlss-lab';

/** The lab's private /24 (first three octets); the Vagrantfile and README use the same. */
export const LAB_SUBNET = '10.77.0';

/**
 * Serial numbers of a node's disks, so the node finds them by id whatever their order:
 * /dev/disk/by-id/virtio-<serial> (qemu lab, Vagrant on libvirt; Vagrant on VirtualBox
 * gets the same links from provision.sh).
 */
export const DISK_SERIAL = { data: 'xlss-data', state: 'xlss-state' } as const;

export function diskById(serial: string): string {
  return `/dev/disk/by-id/virtio-${serial}`;
}

export function defaultLabDir(): string {
  return process.env.XLSS_LAB_DIR || DEFAULT_LAB_DIR;
}

export interface LabOptionsInput {
  dir?: string | undefined;
  nodes?: string | number | undefined;
  disk?: string | undefined;
  memory?: string | number | undefined;
  init?: string | undefined;
  accel?: string | undefined;
  kernelArgs?: string | undefined;
  cluster?: boolean | undefined;
}

function intInRange(value: string | number, field: string, min: number, max: number): number {
  const n = typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ValidationError(field, `must be a whole number from ${min} to ${max}, got "${value}"`);
  return n;
}

/** Validates what a user asked of `xlss lab up`; nothing runs before this passes. */
export function labConfig(input: LabOptionsInput = {}): LabConfig {
  const dir = resolve(input.dir ?? defaultLabDir());
  if (!SAFE_PATH.test(dir))
    throw new ValidationError('--dir', `"${dir}" may hold only letters, digits and . _ - + /`);
  const nodes = intInRange(input.nodes ?? 3, '--nodes', 1, 9);
  const diskBytes = parseSize(input.disk ?? '2GiB', '--disk');
  if (diskBytes < 64n * 1024n ** 2n) throw new ValidationError('--disk', 'must be at least 64MiB');
  const memoryMiB = intInRange(input.memory ?? 768, '--memory', 256, 16384);
  const init = input.init ?? 'busybox';
  if (init !== 'busybox' && init !== 'systemd')
    throw new ValidationError('--init', `must be "busybox" or "systemd", got "${init}"`);
  const accel = input.accel ?? 'tcg';
  if (accel !== 'tcg' && accel !== 'kvm')
    throw new ValidationError('--accel', `must be "tcg" or "kvm", got "${accel}"`);
  const kernelArgs = (input.kernelArgs ?? '').split(/\s+/).filter(Boolean);
  for (const a of kernelArgs)
    if (!/^[A-Za-z0-9_.-]+(=[A-Za-z0-9_.,:/=+-]*)?$/.test(a))
      throw new ValidationError('--kernel-args', `"${a}" is not a kernel parameter (key or key=value)`);
  return {
    dir,
    kernelArgs,
    nodes,
    diskBytes,
    stateDiskBytes: 64n * 1024n ** 2n,
    memoryMiB,
    init,
    accel,
    subnet: LAB_SUBNET,
    cluster: input.cluster ?? false,
  };
}

/** The network namespace of the lab in `dir`: one per directory, so labs never collide. */
export function netnsFor(dir: string): string {
  return `xlss-${createHash('sha1').update(dir).digest('hex').slice(0, 8)}`;
}

export interface NodeAddressing {
  name: string;
  index: number;
  ip: string;
  mac: string;
  tap: string;
}

export function nodeAddressing(subnet: string, index: number): NodeAddressing {
  const hex = (10 + index).toString(16).padStart(2, '0');
  return {
    name: `node${index}`,
    index,
    ip: `${subnet}.${10 + index}`,
    mac: `52:54:00:77:00:${hex}`,
    tap: `tap${index}`,
  };
}

export function hostAddress(subnet: string): string {
  return `${subnet}.1`;
}
