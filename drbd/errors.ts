import { XlssError } from '../common/errors.js';
import { CommandError } from '../common/runner.js';

/** A drbdadm/drbdsetup failure, with what the tool said. */
export class DrbdCommandError extends XlssError {
  readonly resource: string;
  readonly exitCode: number | undefined;
  readonly stderr: string;
  /** DRBD's own code from `Failure: (N)` or `State change failed: (N)`, when it printed one. */
  readonly drbdCode: number | undefined;
  constructor(code: string, resource: string, cause: CommandError, drbdCode: number | undefined) {
    super(code, `${resource}: ${cause.message}`, { cause });
    this.resource = resource;
    this.exitCode = cause.exitCode;
    this.stderr = cause.stderr;
    this.drbdCode = drbdCode;
  }
}

/** The resource is not in the config for this host, or not configured in the kernel. */
export class DrbdResourceUnknownError extends DrbdCommandError {
  constructor(resource: string, cause: CommandError, drbdCode?: number) {
    super('EDRBD_UNKNOWN_RESOURCE', resource, cause, drbdCode);
  }
}

/** The operation needs a connection to the peer (resync, verify, invalidate, …). */
export class DrbdNotConnectedError extends DrbdCommandError {
  constructor(resource: string, cause: CommandError, drbdCode?: number) {
    super('EDRBD_NOT_CONNECTED', resource, cause, drbdCode);
  }
}

/** Promotion refused because a peer is Primary (and dual-primary is off). */
export class DrbdPeerPrimaryError extends DrbdCommandError {
  constructor(resource: string, cause: CommandError, drbdCode?: number) {
    super('EDRBD_PEER_PRIMARY', resource, cause, drbdCode);
  }
}

/** Promotion refused because no UpToDate data is reachable (local or peer). */
export class DrbdNoUpToDateDataError extends DrbdCommandError {
  constructor(resource: string, cause: CommandError, drbdCode?: number) {
    super('EDRBD_NO_UPTODATE_DATA', resource, cause, drbdCode);
  }
}

/** Promotion refused while the peer is not known to be Outdated (fencing did not succeed). */
export class DrbdPeerNotOutdatedError extends DrbdCommandError {
  constructor(resource: string, cause: CommandError, drbdCode?: number) {
    super('EDRBD_PEER_NOT_OUTDATED', resource, cause, drbdCode);
  }
}

/** Demotion or down refused because the device is open (mounted, in use). */
export class DrbdDeviceInUseError extends DrbdCommandError {
  constructor(resource: string, cause: CommandError, drbdCode?: number) {
    super('EDRBD_DEVICE_IN_USE', resource, cause, drbdCode);
  }
}

// Kernel-side codes printed by drbdsetup as "State change failed: (N) …" (drbd_strings.c).
const SS_TWO_PRIMARIES = -1;
const SS_NO_UP_TO_DATE_DISK = -2;
const SS_PRIMARY_NOP = -7;
const SS_DEVICE_IN_USE = -12;
const SS_NO_NET_CONFIG = -13;
const SS_NEED_CONNECTION = -15;
const SS_O_VOL_PEER_PRI = -20;
// "Failure: (N) …" codes (drbd_limits / drbd_nl): unknown resource / minor.
const ERR_MINOR_INVALID = 127;
const ERR_RES_NOT_KNOWN = 158;

export function drbdCodeOf(stderr: string): number | undefined {
  const m = /(?:State change failed|Failure): \((-?\d+)\)/.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

/**
 * Turns a failed drbdadm call into a named error when both the exit code and the message
 * say what happened; anything else stays a plain {@link DrbdCommandError}.
 */
export function classifyDrbdFailure(resource: string, err: unknown): Error {
  if (!(err instanceof CommandError) || err.exitCode === undefined || err.exitCode === 0) {
    return err instanceof Error ? err : new Error(String(err));
  }
  const s = err.stderr;
  const code = drbdCodeOf(s);
  if (
    /not defined in your config/.test(s) ||
    /No such resource|Unknown resource|unknown minor|minor not available/i.test(s) ||
    code === ERR_RES_NOT_KNOWN ||
    code === ERR_MINOR_INVALID
  ) {
    return new DrbdResourceUnknownError(resource, err, code);
  }
  if (code === SS_TWO_PRIMARIES || code === SS_O_VOL_PEER_PRI)
    return new DrbdPeerPrimaryError(resource, err, code);
  if (code === SS_NO_UP_TO_DATE_DISK) return new DrbdNoUpToDateDataError(resource, err, code);
  if (code === SS_PRIMARY_NOP) return new DrbdPeerNotOutdatedError(resource, err, code);
  if (code === SS_DEVICE_IN_USE) return new DrbdDeviceInUseError(resource, err, code);
  if (code === SS_NEED_CONNECTION || code === SS_NO_NET_CONFIG)
    return new DrbdNotConnectedError(resource, err, code);
  return new DrbdCommandError('EDRBD_COMMAND', resource, err, code);
}
