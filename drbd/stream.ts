import { EventEmitter } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { XlssError } from '../common/errors.js';
import { type Logger, silentLogger } from '../common/log.js';
import type { CommandRunner, LineStream } from '../common/runner.js';
import { applyEvents2Event, type Events2Event, parseEvents2Line } from './events2.js';
import type { DrbdState } from './state.js';

export interface DrbdEventStreamOptions {
  runner: CommandRunner;
  logger?: Logger;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Injected so tests need not wait for real back-off. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface DrbdEventStreamEvents {
  /** The first full dump after a (re)start has been read. */
  ready: [state: DrbdState];
  /** A live event changed the state. */
  change: [state: DrbdState, event: Events2Event];
  /** The process ended or printed garbage; state is discarded until the next dump. */
  'not-ready': [reason: string];
}

/** `drbdsetup events2` flags accepted by both drbdsetup (9) and drbdsetup-84 per their man pages. */
export const EVENTS2_ARGS = ['events2', '--statistics', 'all'] as const;

/** Rejected by {@link DrbdEventStream.waitFor} when the predicate did not hold in time. */
export class DrbdWaitTimeoutError extends XlssError {
  constructor(timeoutMs: number) {
    super('EDRBD_WAIT_TIMEOUT', `DRBD state did not reach the expected condition within ${timeoutMs} ms`);
  }
}

/**
 * One supervised `drbdsetup events2` process holding the current DRBD state. Readers see
 * `undefined` until the first `exists -`; when the process dies it is restarted with
 * back-off (1 s doubling to 30 s) and the state is rebuilt from the fresh dump, because
 * events missed in between cannot be replayed.
 */
export class DrbdEventStream extends EventEmitter<DrbdEventStreamEvents> {
  private readonly runner: CommandRunner;
  private readonly log: Logger;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private state: DrbdState | undefined;
  /** Resources whose last line could not be read, with why: their state is not trusted. */
  private odd: Record<string, string> = {};
  private abort: AbortController | undefined;
  private current: LineStream | undefined;
  private loopDone: Promise<void> | undefined;
  /** How many times the process has been started; for logs and tests. */
  starts = 0;

  constructor(options: DrbdEventStreamOptions) {
    super();
    this.runner = options.runner;
    this.log = (options.logger ?? silentLogger).child({ component: 'drbd-events2' });
    this.minBackoffMs = options.minBackoffMs ?? 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.sleep = options.sleep ?? ((ms, signal) => delay(ms, undefined, { signal }));
  }

  get ready(): boolean {
    return this.state !== undefined;
  }

  /**
   * Resources named on a line that could not be parsed (an unknown state value, a cut
   * line), with the reason. Their state in {@link snapshot} may be stale; the rest of the
   * stream goes on. Cleared when the stream restarts or the resource is destroyed.
   */
  oddities(): Readonly<Record<string, string>> {
    return this.odd;
  }

  /** The current state, or undefined while not ready. Do not mutate it. */
  snapshot(): DrbdState | undefined {
    return this.state;
  }

  start(): void {
    if (this.abort) return;
    this.abort = new AbortController();
    this.loopDone = this.loop(this.abort.signal);
  }

  async stop(): Promise<void> {
    const abort = this.abort;
    if (!abort) return;
    abort.abort();
    this.current?.stop();
    await this.loopDone;
    this.abort = undefined;
    this.markNotReady('stopped');
  }

  private markNotReady(reason: string): void {
    this.odd = {};
    if (this.state === undefined) return;
    this.state = undefined;
    this.emit('not-ready', reason);
  }

  private async loop(signal: AbortSignal): Promise<void> {
    let backoff = this.minBackoffMs;
    while (!signal.aborted) {
      const reason = await this.runOnce(signal, () => {
        backoff = this.minBackoffMs;
      });
      this.markNotReady(reason);
      if (signal.aborted) break;
      this.log.warn({ reason, backoffMs: backoff }, 'events2 ended; restarting');
      try {
        await this.sleep(backoff, signal);
      } catch {
        break;
      }
      backoff = Math.min(backoff * 2, this.maxBackoffMs);
    }
  }

  /** Runs one process to its end; returns why it ended. */
  private async runOnce(signal: AbortSignal, onReady: () => void): Promise<string> {
    let stream: LineStream;
    try {
      stream = this.runner.stream('drbdsetup', [...EVENTS2_ARGS], { signal });
    } catch (err) {
      return `could not start: ${(err as Error).message}`;
    }
    this.starts++;
    this.current = stream;
    let pending: DrbdState = {};
    let live = false;
    try {
      for await (const line of stream.lines) {
        if (signal.aborted) break;
        if (line.trim() === '') continue;
        let event: Events2Event;
        try {
          event = parseEvents2Line(line);
        } catch (err) {
          const resource = /(?:^|\s)name:([^\s]+)/.exec(line)?.[1];
          if (resource !== undefined) {
            // One resource's odd line (a state value this parser does not know) makes
            // only that resource untrusted; the stream and every other resource go on.
            this.log.error({ err, line, resource }, 'bad events2 line for one resource');
            this.odd = { ...this.odd, [resource]: (err as Error).message };
            if (live && this.state)
              this.emit('change', this.state, { object: 'end-of-dump', kind: 'exists' });
            continue;
          }
          // A line that names no resource cannot be pinned on one: start over.
          this.log.error({ err, line }, 'bad events2 line');
          stream.stop();
          return `parse error: ${(err as Error).message}`;
        }
        if (!live) {
          if (event.object === 'end-of-dump') {
            live = true;
            this.state = pending;
            onReady();
            this.emit('ready', pending);
          } else {
            pending = applyEvents2Event(pending, event);
          }
          continue;
        }
        if (event.object === 'resource' && event.kind === 'destroy' && this.odd[event.resource]) {
          const { [event.resource]: _gone, ...rest } = this.odd;
          this.odd = rest;
        }
        this.state = applyEvents2Event(this.state ?? {}, event);
        this.emit('change', this.state, event);
      }
      const code = await stream.exited;
      return `exited with ${code}`;
    } catch (err) {
      return `failed: ${(err as Error).message}`;
    } finally {
      this.current = undefined;
    }
  }

  /** Resolves with the first ready state satisfying `predicate` (possibly the current one). */
  waitFor(
    predicate: (state: DrbdState) => boolean,
    options: { timeoutMs: number; signal?: AbortSignal },
  ): Promise<DrbdState> {
    return new Promise((resolve, reject) => {
      if (this.state && predicate(this.state)) {
        resolve(this.state);
        return;
      }
      const check = (state: DrbdState) => {
        let ok = false;
        try {
          ok = predicate(state);
        } catch (err) {
          cleanup();
          reject(err);
          return;
        }
        if (ok) {
          cleanup();
          resolve(state);
        }
      };
      const onAbort = () => {
        cleanup();
        reject(options.signal?.reason ?? new Error('aborted'));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new DrbdWaitTimeoutError(options.timeoutMs));
      }, options.timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.off('ready', check);
        this.off('change', check);
        options.signal?.removeEventListener('abort', onAbort);
      };
      if (options.signal?.aborted) {
        onAbort();
        return;
      }
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.on('ready', check);
      this.on('change', check);
    });
  }
}
