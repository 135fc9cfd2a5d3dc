import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { execa } from 'execa';
import { XlssError } from './errors.js';
import { type Logger, silentLogger } from './log.js';

export interface RunOptions {
  /** Milliseconds before the process is killed; defaults to the runner's. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Written to the process's standard input. */
  input?: string;
  /** Return the result instead of throwing when the exit code is not 0. */
  reject?: boolean;
  /** Read-only calls (reports, status) are logged at debug level, changes at info. */
  readOnly?: boolean;
  env?: Record<string, string>;
  /** Working directory of the process. */
  cwd?: string;
}

export interface RunResult {
  command: string;
  args: readonly string[];
  stdout: string;
  stderr: string;
  exitCode: number;
  durationMs: number;
}

/** A long-lived process whose standard output is read line by line (e.g. `drbdsetup events2`). */
export interface LineStream {
  /** Each line of standard output, without its newline; ends when the process exits. */
  lines: AsyncIterable<string>;
  /** Resolves with the exit code (or rejects with a CommandError) once the process has ended. */
  exited: Promise<number>;
  /** Stops the process (SIGTERM). */
  stop(): void;
}

export interface StreamOptions {
  signal?: AbortSignal;
  env?: Record<string, string>;
}

/** The one way xlss starts a process. Implementations: {@link ExecaRunner}, FakeRunner, the lab's guest runner. */
export interface CommandRunner {
  run(command: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** Starts a long-lived process and reads its output line by line. No timeout. */
  stream(command: string, args: readonly string[], options?: StreamOptions): LineStream;
}

const STDERR_LIMIT = 2000;

/** Tools' output is parsed: always ask for it in the C locale. */
export function cLocale(env: Record<string, string> = {}): Record<string, string> {
  return { ...env, LC_ALL: 'C', LANG: 'C' };
}

export function trimStderr(stderr: string): string {
  const t = stderr.trim();
  return t.length > STDERR_LIMIT ? `${t.slice(0, STDERR_LIMIT)}…` : t;
}

/** A command that failed: exited non-zero, timed out, was aborted or could not start. */
export class CommandError extends XlssError {
  readonly command: string;
  readonly args: readonly string[];
  readonly exitCode: number | undefined;
  readonly stderr: string;
  readonly stdout: string;
  readonly timedOut: boolean;
  readonly aborted: boolean;

  constructor(init: {
    command: string;
    args: readonly string[];
    exitCode?: number | undefined;
    stderr?: string;
    stdout?: string;
    timedOut?: boolean;
    aborted?: boolean;
    signal?: string | undefined;
    cause?: unknown;
  }) {
    const stderr = trimStderr(init.stderr ?? '');
    const why = init.timedOut
      ? 'timed out'
      : init.aborted
        ? 'was aborted'
        : init.signal
          ? `was killed by ${init.signal}`
          : init.exitCode === undefined
            ? 'could not start'
            : `exited with ${init.exitCode}`;
    const causeMsg =
      init.exitCode === undefined && init.cause instanceof Error ? `: ${init.cause.message}` : '';
    super(
      'ECOMMAND',
      `${init.command} ${init.args.join(' ')} ${why}${stderr ? `: ${stderr}` : causeMsg}`.replace(
        /\s+/g,
        ' ',
      ),
      { cause: init.cause },
    );
    this.command = init.command;
    this.args = init.args;
    this.exitCode = init.exitCode;
    this.stderr = stderr;
    this.stdout = init.stdout ?? '';
    this.timedOut = init.timedOut ?? false;
    this.aborted = init.aborted ?? false;
  }
}

export interface ExecaRunnerOptions {
  logger?: Logger;
  /** Default per-call timeout in milliseconds. */
  timeoutMs?: number;
  /** Prepended to every call, e.g. `['nsenter', '-t', '1', '-m', '--']` in a container. */
  prefix?: readonly string[];
  /** Called after every call, e.g. to feed a duration histogram. */
  observe?: (command: string, outcome: 'ok' | 'error', seconds: number) => void;
}

/** Runs programs with execa: never a shell, always `LC_ALL=C`, always a timeout. */
export class ExecaRunner implements CommandRunner {
  private readonly log: Logger;
  private readonly timeoutMs: number;
  private readonly prefix: readonly string[];
  private readonly observe: ExecaRunnerOptions['observe'];

  constructor(options: ExecaRunnerOptions = {}) {
    this.log = (options.logger ?? silentLogger).child({ component: 'runner' });
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.prefix = options.prefix ?? [];
    this.observe = options.observe;
  }

  async run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const [file, ...pre] = this.prefix.length > 0 ? [...this.prefix, command] : [command];
    const fullArgs = [...pre, ...args];
    const started = performance.now();
    const result = await execa(file as string, fullArgs, {
      shell: false,
      reject: false,
      stripFinalNewline: false,
      env: cLocale(options.env),
      extendEnv: true,
      timeout: options.timeoutMs ?? this.timeoutMs,
      cancelSignal: options.signal,
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      ...(options.input !== undefined ? { input: options.input } : { stdin: 'ignore' }),
    });
    const durationMs = performance.now() - started;
    const stdout = String(result.stdout ?? '');
    const stderr = String(result.stderr ?? '');
    const exitCode = result.exitCode;
    const failed = result.failed;
    this.observe?.(command, failed ? 'error' : 'ok', durationMs / 1000);
    const fields = { command, args, exitCode, durationMs: Math.round(durationMs) };
    if (failed) this.log.debug({ ...fields, stderr: trimStderr(stderr) }, 'command failed');
    else if (options.readOnly) this.log.debug(fields, 'command');
    else this.log.info(fields, 'command');

    if (result.timedOut || result.isCanceled || exitCode === undefined) {
      throw new CommandError({
        command,
        args,
        exitCode,
        stderr,
        stdout,
        timedOut: result.timedOut,
        aborted: result.isCanceled,
        signal: result.signal,
        cause: result.cause ?? result,
      });
    }
    if (exitCode !== 0 && options.reject !== false) {
      throw new CommandError({ command, args, exitCode, stderr, stdout });
    }
    return { command, args, stdout, stderr, exitCode, durationMs };
  }

  stream(command: string, args: readonly string[], options: StreamOptions = {}): LineStream {
    const [file, ...pre] = this.prefix.length > 0 ? [...this.prefix, command] : [command];
    const child = execa(file as string, [...pre, ...args], {
      shell: false,
      reject: false,
      stdin: 'ignore',
      buffer: false,
      env: cLocale(options.env),
      cancelSignal: options.signal,
    });
    this.log.info({ command, args, pid: child.pid }, 'stream started');
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-STDERR_LIMIT);
    });
    const exited = child.then((r) => {
      this.log.info({ command, args, exitCode: r.exitCode, signal: r.signal }, 'stream ended');
      if (r.exitCode === undefined && !r.isCanceled && !r.isTerminated) {
        throw new CommandError({ command, args, stderr, cause: r.cause });
      }
      return r.exitCode ?? -1;
    });
    exited.catch(() => {});
    return {
      lines: child.iterable({ from: 'stdout', preserveNewlines: false }) as AsyncIterable<string>,
      exited,
      stop: () => {
        child.kill('SIGTERM');
      },
    };
  }
}

/**
 * A process whose output the caller forwards as it comes (the lab's guest agent runs
 * operators' commands this way). Same rules as the runner: no shell, LC_ALL=C.
 */
export function startProcess(
  command: string,
  args: readonly string[],
  options: {
    input?: string | Uint8Array;
    env?: Record<string, string>;
    timeoutMs?: number;
    /** Own process group, so the whole group can be signalled (`kill(-pid)`). */
    detached?: boolean;
  } = {},
) {
  return execa(command, [...args], {
    shell: false,
    reject: false,
    buffer: false,
    env: cLocale(options.env),
    ...(options.detached ? { detached: true } : {}),
    ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
    ...(options.input !== undefined ? { input: options.input } : { stdin: 'ignore' }),
  });
}

/**
 * Starts a process that outlives its caller (the lab's broker): own session, output
 * appended to `logFile`, not waited for. Returns its pid.
 */
export async function startDetached(
  command: string,
  args: readonly string[],
  options: { logFile: string; env?: Record<string, string> },
): Promise<number> {
  // node's own spawn, not execa: execa keeps a handle on the child that holds the
  // caller's event loop open for as long as the child lives.
  const out = openSync(options.logFile, 'a');
  try {
    const child = spawn(command, [...args], {
      shell: false,
      detached: true,
      stdio: ['ignore', out, out],
      env: { ...process.env, ...cLocale(options.env) },
    });
    // A program that cannot start reports it in an 'error' event, which would be
    // uncaught (and crash the caller) without a listener.
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) => reject(new CommandError({ command, args, cause: err })));
    });
    child.on('error', () => {});
    const pid = child.pid;
    if (pid === undefined) throw new CommandError({ command, args, cause: new Error('no pid') });
    child.unref();
    return pid;
  } finally {
    closeSync(out);
  }
}
