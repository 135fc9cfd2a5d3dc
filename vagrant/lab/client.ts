import { createConnection } from 'node:net';
import { XlssError } from '../../common/errors.js';
import {
  CommandError,
  type CommandRunner,
  cLocale,
  type LineStream,
  type RunOptions,
  type RunResult,
  type StreamOptions,
} from '../../common/runner.js';
import { type BrokerToClient, type ClientRequest, lineReader, type NodeLink } from './protocol.js';

/** How long a command may run on a guest when the caller does not say. */
export const DEFAULT_EXEC_TIMEOUT_MS = 600_000;
/** How much longer than the command's own timeout the client waits for the guest to report it. */
export const EXEC_DEADLINE_GRACE_MS = 30_000;
export const STATUS_DEADLINE_MS = 10_000;

export interface ExecOptions {
  /** Standard input; bytes pass unchanged. */
  stdin?: string | Uint8Array;
  env?: Record<string, string>;
  /** The guest kills the command (its whole process group) after this long; default 10 min. */
  timeoutMs?: number;
  /** No timeout and no deadline: a long-lived stream that the caller stops with `signal`. */
  unbounded?: boolean;
  signal?: AbortSignal;
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** null when the command was killed by a signal or the guest went away. */
  exitCode: number | null;
  signal: string | null;
  error?: string;
}

/** Talks to the lab's broker: runs commands on guests and reads the agents' status. */
export class LabClient {
  constructor(
    readonly brokerSocket: string,
    private readonly deadlineGraceMs = EXEC_DEADLINE_GRACE_MS,
  ) {}

  private request(
    req: ClientRequest,
    onMsg: (m: BrokerToClient) => void,
    opts: { signal?: AbortSignal | undefined; deadlineMs?: number | undefined } = {},
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const { signal, deadlineMs } = opts;
      const sock = createConnection(this.brokerSocket);
      const abort = () => sock.destroy();
      signal?.addEventListener('abort', abort, { once: true });
      // Every request ends: a guest or broker that stops answering fails it, never hangs it.
      const timer =
        deadlineMs !== undefined
          ? setTimeout(() => {
              reject(
                new XlssError(
                  'ELABTIMEOUT',
                  `${req.op === 'exec' ? `${req.node}: ${req.argv[0]}` : req.op}: no answer from the lab within ${deadlineMs / 1000} s`,
                ),
              );
              sock.destroy();
            }, deadlineMs)
          : undefined;
      sock.on('connect', () => sock.write(`${JSON.stringify(req)}\n`));
      sock.on(
        'data',
        lineReader((m) => onMsg(m as BrokerToClient)),
      );
      sock.on('error', (err) =>
        reject(
          new XlssError('ELABBROKER', `cannot reach the lab broker at ${this.brokerSocket}: ${err.message}`, {
            cause: err,
          }),
        ),
      );
      sock.on('close', () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', abort);
        resolve();
      });
    });
  }

  async status(): Promise<NodeLink[]> {
    let nodes: NodeLink[] = [];
    await this.request(
      { op: 'status' },
      (m) => {
        if (m.ev === 'status') nodes = m.nodes;
      },
      { deadlineMs: STATUS_DEADLINE_MS },
    );
    return nodes;
  }

  async exec(node: string, argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let exit: Extract<BrokerToClient, { ev: 'exit' }> | undefined;
    let brokerError: string | undefined;
    const timeoutMs = opts.unbounded ? undefined : (opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS);
    await this.request(
      {
        op: 'exec',
        node,
        argv,
        ...(opts.stdin !== undefined ? { stdin: Buffer.from(opts.stdin).toString('base64') } : {}),
        ...(opts.env ? { env: opts.env } : {}),
        ...(timeoutMs ? { timeoutMs } : {}),
      },
      (m) => {
        if (m.ev === 'stdout' || m.ev === 'stderr') {
          const chunk = Buffer.from(m.data, 'base64');
          (m.ev === 'stdout' ? out : err).push(chunk);
          (m.ev === 'stdout' ? opts.onStdout : opts.onStderr)?.(chunk);
        } else if (m.ev === 'exit') exit = m;
        else if (m.ev === 'error') brokerError = m.message;
      },
      {
        signal: opts.signal,
        deadlineMs: timeoutMs !== undefined ? timeoutMs + this.deadlineGraceMs : undefined,
      },
    );
    if (brokerError) throw new XlssError('ELABEXEC', brokerError);
    if (!exit) {
      if (opts.signal?.aborted)
        return { stdout: '', stderr: '', exitCode: null, signal: 'SIGTERM', error: 'aborted' };
      throw new XlssError('ELABEXEC', `${node}: the broker closed the connection without an exit status`);
    }
    return {
      stdout: Buffer.concat(out).toString(),
      stderr: Buffer.concat(err).toString(),
      exitCode: exit.code,
      signal: exit.signal ?? null,
      ...(exit.error ? { error: exit.error } : {}),
    };
  }
}

/** A CommandRunner whose commands run on one lab guest: the adapters, pointed at a real node. */
export class GuestRunner implements CommandRunner {
  constructor(
    readonly client: LabClient,
    readonly node: string,
    private readonly defaultTimeoutMs = 120_000,
  ) {}

  async run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const started = performance.now();
    const r = await this.client.exec(this.node, [command, ...args], {
      ...(options.input !== undefined ? { stdin: options.input } : {}),
      env: cLocale(options.env),
      timeoutMs: options.timeoutMs ?? this.defaultTimeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const durationMs = performance.now() - started;
    if (r.exitCode === null || r.exitCode === 127) {
      throw new CommandError({
        command,
        args,
        exitCode: r.exitCode ?? undefined,
        stderr: r.stderr || r.error || '',
        stdout: r.stdout,
        timedOut: r.error === 'timed out',
        aborted: options.signal?.aborted ?? false,
      });
    }
    if (r.exitCode !== 0 && options.reject !== false)
      throw new CommandError({ command, args, exitCode: r.exitCode, stderr: r.stderr, stdout: r.stdout });
    return { command, args, stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode, durationMs };
  }

  stream(command: string, args: readonly string[], options: StreamOptions = {}): LineStream {
    const controller = new AbortController();
    options.signal?.addEventListener('abort', () => controller.abort(), { once: true });
    const queue: string[] = [];
    let wake: (() => void) | undefined;
    let done = false;
    let partial = '';
    const exited = this.client
      .exec(this.node, [command, ...args], {
        env: cLocale(options.env),
        unbounded: true,
        signal: controller.signal,
        onStdout: (chunk) => {
          const parts = (partial + chunk.toString()).split('\n');
          partial = parts.pop() ?? '';
          queue.push(...parts);
          wake?.();
        },
      })
      .then((r) => r.exitCode ?? -1)
      .finally(() => {
        // A last line without its newline is still a line (as ExecaRunner yields it).
        if (partial) queue.push(partial);
        partial = '';
        done = true;
        wake?.();
      });
    exited.catch(() => {});
    async function* lines(): AsyncGenerator<string> {
      for (;;) {
        const line = queue.shift();
        if (line !== undefined) {
          yield line;
          continue;
        }
        if (done) return;
        await new Promise<void>((r) => {
          wake = r;
        });
        wake = undefined;
      }
    }
    return { lines: lines(), exited, stop: () => controller.abort() };
  }
}
