import type { DrbdGeneration } from './model.js';

/** How an option's value is checked and written. Ranges follow drbd.conf(5) and drbdsetup(8). */
export type OptionKind =
  | { kind: 'int'; min: number; max: number }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'bool' }
  | { kind: 'size' }
  | { kind: 'alg' }
  /** A count in a range, or one of a few words (DRBD's quorum values: a number, off, majority, all). */
  | { kind: 'countOrEnum'; min: number; max: number; values: readonly string[] };

export interface OptionDef {
  type: OptionKind;
  /** Generations that accept the option; both when absent. */
  only?: DrbdGeneration;
  /** Why the other generation lacks it, for the error message. */
  onlyWhy?: string;
}

const int = (min: number, max: number): OptionDef => ({ type: { kind: 'int', min, max } });
const oneOf = (...values: string[]): OptionDef => ({ type: { kind: 'enum', values } });
const bool: OptionDef = { type: { kind: 'bool' } };
const size: OptionDef = { type: { kind: 'size' } };
const alg: OptionDef = { type: { kind: 'alg' } };
const countOr = (min: number, max: number, ...values: string[]): OptionDef => ({
  type: { kind: 'countOrEnum', min, max, values },
});
const QUORUM_ONLY_9 = 'DRBD 8.4 has no quorum; there the controller arbitrates through fencing';
const quorum9 = (def: OptionDef): OptionDef => ({ ...def, only: '9', onlyWhy: QUORUM_ONLY_9 });

/**
 * The `net {}` options we let callers set. protocol, fencing (9), shared-secret and
 * cram-hmac-alg have their own fields in the spec so they are not listed here.
 */
export const NET_OPTIONS: Readonly<Record<string, OptionDef>> = {
  'after-sb-0pri': oneOf(
    'disconnect',
    'discard-younger-primary',
    'discard-older-primary',
    'discard-zero-changes',
    'discard-least-changes',
    'discard-local',
    'discard-remote',
  ),
  'after-sb-1pri': oneOf(
    'disconnect',
    'consensus',
    'violently-as0p',
    'discard-secondary',
    'call-pri-lost-after-sb',
  ),
  'after-sb-2pri': oneOf('disconnect', 'violently-as0p', 'call-pri-lost-after-sb'),
  // Dual-primary is never wanted by xlss: one writer per volume is the whole safety story.
  'allow-two-primaries': bool,
  'always-asbp': bool,
  'connect-int': int(1, 120),
  'csums-alg': alg,
  'data-integrity-alg': alg,
  'ko-count': int(0, 200),
  'max-buffers': int(32, 131072),
  'max-epoch-size': int(1, 20000),
  'ping-int': int(1, 120),
  // Tenths of a second.
  'ping-timeout': int(1, 300),
  'rcvbuf-size': size,
  'rr-conflict': oneOf('disconnect', 'call-pri-lost', 'violently'),
  'sndbuf-size': size,
  'tcp-cork': bool,
  // Tenths of a second.
  timeout: int(1, 600),
  'use-rle': bool,
  'verify-alg': alg,
};

/** The `disk {}` options we let callers set; fencing (8.4) has its own spec field. */
export const DISK_OPTIONS: Readonly<Record<string, OptionDef>> = {
  'al-extents': int(67, 65534),
  'al-updates': bool,
  'c-delay-target': int(1, 100),
  'c-fill-target': size,
  'c-max-rate': size,
  'c-min-rate': size,
  'c-plan-ahead': int(0, 300),
  'disk-barrier': bool,
  'disk-drain': bool,
  'disk-flushes': bool,
  // Tenths of a second; 0 disables it.
  'disk-timeout': int(0, 6000),
  'md-flushes': bool,
  'on-io-error': oneOf('pass_on', 'call-local-io-error', 'detach'),
  'read-balancing': oneOf(
    'prefer-local',
    'prefer-remote',
    'round-robin',
    'least-pending',
    'when-congested-remote',
    '32K-striping',
    '64K-striping',
    '128K-striping',
    '256K-striping',
    '512K-striping',
    '1M-striping',
  ),
  'resync-rate': size,
};

/**
 * The resource `options {}` we let callers set (drbd.conf-9.0(5), "Section options").
 * Value sets and ranges are the ones drbdadm 9.22's parser accepts: quorum and
 * quorum-minimum-redundancy take off, majority, all or 1 to 32.
 */
export const RESOURCE_OPTIONS: Readonly<Record<string, OptionDef>> = {
  'auto-promote': { ...bool, only: '9', onlyWhy: 'DRBD 8.4 never promotes on open' },
  // Also in 8.4's options section (drbd.conf-8.4(5)).
  'on-no-data-accessible': oneOf('io-error', 'suspend-io'),
  'on-no-quorum': quorum9(oneOf('io-error', 'suspend-io')),
  'on-suspended-primary-outdated': quorum9(oneOf('disconnect', 'force-secondary')),
  quorum: quorum9(countOr(1, 32, 'off', 'majority', 'all')),
  'quorum-minimum-redundancy': quorum9(countOr(1, 32, 'off', 'majority', 'all')),
};
