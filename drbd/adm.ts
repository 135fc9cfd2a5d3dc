import { ValidationError } from '../common/errors.js';
import { type Logger, silentLogger } from '../common/log.js';
import { CommandError, type CommandRunner, type RunResult } from '../common/runner.js';
import type { ConnectionState } from './enums.js';
import {
  classifyDrbdFailure,
  DrbdCommandError,
  DrbdNotConnectedError,
  DrbdResourceUnknownError,
} from './errors.js';
import type { DrbdGeneration } from './model.js';
import { parseStatus } from './status.js';
import { validateResourceName } from './validate.js';

export interface DrbdAdmOptions {
  runner: CommandRunner;
  generation: DrbdGeneration;
  /** Passed as `-c`; drbdadm's default (/etc/drbd.conf) when absent. */
  configFile?: string;
  logger?: Logger;
  /** Per-call timeout; wait-connect takes its own. */
  timeoutMs?: number;
}

export interface VerbResult {
  /** False when DRBD was already in the asked-for state and nothing was done. */
  changed: boolean;
}

// "Can not disconnect a StandAlone device" / already disconnected (DRBD 9).
const SS_ALREADY_STANDALONE = -9;
// "Device has a net-config (use disconnect first)" (DRBD 9 connect when connected).
const ERR_NET_CONFIGURED = 125;
// "Local address(port) already in use.": what a real 8.4 kernel answers to connect while
// the resource is already Connecting or Connected (its own listener holds the port), but
// also when another resource holds the port; so it only counts after a status check.
const ERR_LOCAL_ADDR = 102;
// "Invalid configuration request" + "unknown connection": 8.4 disconnect of a StandAlone
// resource, and equally of one that is not up at all.
const ERR_INVALID_REQUEST = 162;

/** drbdadm verbs for one generation. Every resource name is validated before anything runs. */
export class DrbdAdm {
  private readonly runner: CommandRunner;
  private readonly generation: DrbdGeneration;
  private readonly configFile: string | undefined;
  private readonly log: Logger;
  private readonly timeoutMs: number;

  constructor(options: DrbdAdmOptions) {
    this.runner = options.runner;
    this.generation = options.generation;
    if (options.configFile !== undefined && !/^\/[A-Za-z0-9_./+-]*$/.test(options.configFile)) {
      throw new ValidationError('configFile', 'must be an absolute path');
    }
    this.configFile = options.configFile;
    this.log = (options.logger ?? silentLogger).child({ component: 'drbdadm' });
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  private args(rest: string[]): string[] {
    return this.configFile ? ['-c', this.configFile, ...rest] : rest;
  }

  private async exec(resource: string, rest: string[], timeoutMs = this.timeoutMs): Promise<RunResult> {
    const result = await this.runner.run('drbdadm', this.args(rest), { timeoutMs, reject: false });
    if (result.exitCode !== 0) {
      const err = new CommandError({
        command: 'drbdadm',
        args: result.args,
        exitCode: result.exitCode,
        stderr: result.stderr,
        stdout: result.stdout,
      });
      throw classifyDrbdFailure(resource, err);
    }
    return result;
  }

  private async simple(verb: string, resource: string, extra: string[] = []): Promise<VerbResult> {
    const res = validateResourceName(resource, 'resource');
    await this.exec(res, [verb, ...extra, res]);
    return { changed: true };
  }

  /**
   * Writes fresh metadata. Without `force` drbdadm asks before overwriting and, with no
   * terminal to answer, fails; callers pass force only for a brand-new backing device.
   */
  async createMd(resource: string, options: { force: boolean; maxPeers?: number }): Promise<VerbResult> {
    const extra: string[] = [];
    if (options.force) extra.push('--force');
    if (options.maxPeers !== undefined) {
      if (this.generation !== '9') throw new ValidationError('maxPeers', 'is only supported by DRBD 9');
      if (!Number.isInteger(options.maxPeers) || options.maxPeers < 1 || options.maxPeers > 31) {
        throw new ValidationError('maxPeers', 'must be an integer from 1 to 31');
      }
      extra.push(`--max-peers=${options.maxPeers}`);
    }
    return this.simple('create-md', resource, extra);
  }

  /**
   * Applies the activity log of a disk whose node crashed while Primary (drbdmeta calls its
   * metadata "unclean" until then). The resource must be down.
   */
  async applyAl(resource: string): Promise<VerbResult> {
    return this.simple('apply-al', resource);
  }

  /** Brings the resource up; when it is already up, converges it with `adjust` instead. */
  async up(resource: string): Promise<VerbResult> {
    const res = validateResourceName(resource, 'resource');
    try {
      await this.exec(res, ['up', res]);
      return { changed: true };
    } catch (err) {
      if (!(err instanceof DrbdCommandError) || err instanceof DrbdResourceUnknownError) throw err;
      if (!(await this.isConfigured(res))) throw err;
      this.log.debug({ resource: res }, 'already up; adjusting');
      await this.exec(res, ['adjust', res]);
      return { changed: false };
    }
  }

  /** Takes the resource down; succeeds when it was not up. */
  async down(resource: string): Promise<VerbResult> {
    const res = validateResourceName(resource, 'resource');
    try {
      await this.exec(res, ['down', res]);
      return { changed: true };
    } catch (err) {
      // Only the kernel's "no such resource" counts: a name missing from the config stays an error.
      if (err instanceof DrbdResourceUnknownError && !/not defined in your config/.test(err.stderr)) {
        return { changed: false };
      }
      throw err;
    }
  }

  /** Whether the kernel knows the resource; `drbdsetup status` fails for one that is not up. */
  async isConfigured(resource: string): Promise<boolean> {
    const res = validateResourceName(resource, 'resource');
    const r = await this.runner.run('drbdsetup', ['status', res], {
      timeoutMs: this.timeoutMs,
      reject: false,
      readOnly: true,
    });
    return r.exitCode === 0;
  }

  /**
   * The resource's connection states from `drbdsetup status --verbose`, or undefined when
   * the kernel does not know the resource. A StandAlone 8.4 resource lists no connection.
   */
  async connectionStates(resource: string): Promise<ConnectionState[] | undefined> {
    const res = validateResourceName(resource, 'resource');
    const r = await this.runner.run('drbdsetup', ['status', res, '--verbose'], {
      timeoutMs: this.timeoutMs,
      reject: false,
      readOnly: true,
    });
    if (r.exitCode !== 0) return undefined;
    const [state] = parseStatus(r.stdout);
    return state ? Object.values(state.connections).map((c) => c.connection) : [];
  }

  adjust(resource: string): Promise<VerbResult> {
    return this.simple('adjust', resource);
  }

  /** `force` overrides DRBD's refusal to promote without UpToDate data: only for the first promotion. */
  primary(resource: string, options: { force?: boolean } = {}): Promise<VerbResult> {
    return this.simple('primary', resource, options.force === true ? ['--force'] : []);
  }

  secondary(resource: string): Promise<VerbResult> {
    return this.simple('secondary', resource);
  }

  async connect(resource: string): Promise<VerbResult> {
    try {
      return await this.simple('connect', resource);
    } catch (err) {
      if (!(err instanceof DrbdCommandError)) throw err;
      if (err.drbdCode === ERR_NET_CONFIGURED || /already connected/i.test(err.stderr))
        return { changed: false };
      if (err.drbdCode === ERR_LOCAL_ADDR) {
        const states = await this.connectionStates(err.resource);
        if (states?.some((c) => c !== 'StandAlone')) return { changed: false };
      }
      throw err;
    }
  }

  /** Succeeds unchanged when already StandAlone; a resource that is not up is DrbdResourceUnknownError. */
  async disconnect(resource: string): Promise<VerbResult> {
    try {
      return await this.simple('disconnect', resource);
    } catch (err) {
      if (!(err instanceof DrbdCommandError)) throw err;
      if (err.drbdCode === SS_ALREADY_STANDALONE || /No such connection/i.test(err.stderr)) {
        return { changed: false };
      }
      if (err.drbdCode === ERR_INVALID_REQUEST && /unknown connection/.test(err.stderr)) {
        if ((await this.connectionStates(err.resource)) !== undefined) return { changed: false };
        throw new DrbdResourceUnknownError(err.resource, err.cause as CommandError, err.drbdCode);
      }
      throw err;
    }
  }

  outdate(resource: string): Promise<VerbResult> {
    return this.simple('outdate', resource);
  }

  resize(resource: string): Promise<VerbResult> {
    return this.simple('resize', resource);
  }

  invalidate(resource: string): Promise<VerbResult> {
    return this.simple('invalidate', resource);
  }

  resumeIo(resource: string): Promise<VerbResult> {
    return this.simple('resume-io', resource);
  }

  /**
   * Drops the backing disk at once, even with I/O pending or frozen. On a Primary frozen by
   * fencing with no peer, a resume-io after it fails the held writes (EIO: "neither local
   * nor remote data") instead of completing them: only for a copy being thrown away.
   */
  forceDetach(resource: string): Promise<VerbResult> {
    return this.simple('detach', resource, ['--force']);
  }

  /**
   * Marks both sides in sync without a resync (brand-new, zeroed or thin volumes).
   * drbdadm 9 insists on a volume (`res/vnr`); 8.4 accepts the same form.
   */
  async newCurrentUuidClearBitmap(resource: string, volume = 0): Promise<VerbResult> {
    const res = validateResourceName(resource, 'resource');
    if (!Number.isInteger(volume) || volume < 0 || volume > 65534) {
      throw new ValidationError('volume', 'must be an integer from 0 to 65534');
    }
    await this.exec(res, ['--', '--clear-bitmap', 'new-current-uuid', `${res}/${volume}`]);
    return { changed: true };
  }

  /**
   * Waits until the resource is connected. drbdadm takes `wait-connect` for both
   * generations (for 9 it runs `drbdsetup wait-connect-resource`). 8.4's wait-connect
   * also returns 0 at once for a StandAlone resource, so the state is checked after it.
   */
  async waitConnect(resource: string, options: { timeoutMs: number }): Promise<VerbResult> {
    const res = validateResourceName(resource, 'resource');
    const r = await this.exec(res, ['wait-connect', res], options.timeoutMs);
    const states = await this.connectionStates(res);
    if (!states?.some((c) => c === 'Connected')) {
      const cause = new CommandError({
        command: 'drbdadm',
        args: r.args,
        exitCode: r.exitCode,
        stderr: `wait-connect returned while the connection is ${states?.join(',') || 'StandAlone'}`,
      });
      throw new DrbdNotConnectedError(res, cause);
    }
    return { changed: false };
  }
}
