import type { CommandRunner } from '../common/runner.js';
import { DrbdParseError } from './fields.js';
import type { DrbdGeneration } from './model.js';

export interface KernelVersion {
  version: string;
  api: number;
  protoMin: number;
  protoMax: number;
}

/** Parses the first line of /proc/drbd, e.g. `version: 8.4.11 (api:1/proto:86-101)`. */
export function parseProcDrbd(text: string): KernelVersion {
  const m = /^version: (\d+\.\d+\.\d+(?:[-.][0-9A-Za-z.]+)?) \(api:(\d+)\/proto:(\d+)-(\d+)\)/m.exec(text);
  if (!m) throw new DrbdParseError('no version line in /proc/drbd', text.split('\n')[0] ?? '');
  return { version: m[1] as string, api: Number(m[2]), protoMin: Number(m[3]), protoMax: Number(m[4]) };
}

export interface DrbdadmVersion {
  utils: string;
  /** Absent when no DRBD module is loaded (drbdadm prints `DRBD_KERNEL_VERSION=0`). */
  kernel?: string;
}

/** Parses `drbdadm --version` (shell-style KEY=value lines). */
export function parseDrbdadmVersion(text: string): DrbdadmVersion {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) vars[m[1] as string] = m[2] as string;
  }
  const utils = vars.DRBDADM_VERSION;
  if (!utils || !/^\d+\.\d+\.\d+/.test(utils))
    throw new DrbdParseError('no DRBDADM_VERSION', text.slice(0, 200));
  const k = vars.DRBD_KERNEL_VERSION;
  return { utils, ...(k && k !== '0' && /^\d+\.\d+\.\d+/.test(k) && { kernel: k }) };
}

export function generationOf(kernelVersion: string): DrbdGeneration {
  if (kernelVersion.startsWith('8.4.')) return '8.4';
  if (/^9\./.test(kernelVersion)) return '9';
  throw new DrbdParseError('unsupported DRBD kernel version', kernelVersion);
}

export interface DrbdVersions {
  kernel: string;
  utils: string;
  generation: DrbdGeneration;
}

/**
 * Kernel version from /proc/drbd (the module must be loaded), utils from drbdadm.
 * `readFile` is injected so tests and containers can point it elsewhere.
 */
export async function detectDrbdVersions(
  runner: CommandRunner,
  readFile: (path: string) => Promise<string>,
): Promise<DrbdVersions> {
  const kernel = parseProcDrbd(await readFile('/proc/drbd')).version;
  const r = await runner.run('drbdadm', ['--version'], { readOnly: true, reject: false });
  // drbdadm --version exits non-zero on some builds without a module; its output is still complete.
  const utils = parseDrbdadmVersion(r.stdout).utils;
  return { kernel, utils, generation: generationOf(kernel) };
}
