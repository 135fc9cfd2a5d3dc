import { readFileSync } from 'node:fs';
import {
  CommandError,
  type CommandRunner,
  type LineStream,
  type RunOptions,
  type RunResult,
  type StreamOptions,
} from './runner.js';

export interface FakeResponse {
  stdout?: string;
  stderr?: string;
  exitCode?: number;
  /** Read stdout from this file (a captured fixture). */
  stdoutFile?: string;
}

export interface RecordedCall {
  command: string;
  args: readonly string[];
  options: RunOptions;
}

type Matcher = (command: string, args: readonly string[]) => boolean;

/**
 * For unit tests: records every call and replays canned output. Rules are tried
 * newest first; a call that matches no rule fails the test loudly.
 */
export class FakeRunner implements CommandRunner {
  readonly calls: RecordedCall[] = [];
  private readonly rules: { match: Matcher; response: FakeResponse | FakeResponse[]; once: boolean }[] = [];

  /** Answer calls of `command` whose args start with `argsPrefix` (or match a predicate). */
  on(
    command: string,
    argsPrefix: readonly string[] | Matcher,
    response: FakeResponse | FakeResponse[],
  ): this {
    return this.addRule(command, argsPrefix, response, false);
  }

  /** Like {@link on}, but the rule is used up by its first match. Newest rules win, so a `once` added after an `on` for the same call answers first, then the `on` takes over. */
  once(command: string, argsPrefix: readonly string[] | Matcher, response: FakeResponse): this {
    return this.addRule(command, argsPrefix, response, true);
  }

  private addRule(
    command: string,
    argsPrefix: readonly string[] | Matcher,
    response: FakeResponse | FakeResponse[],
    once: boolean,
  ): this {
    const match: Matcher =
      typeof argsPrefix === 'function'
        ? (c, a) => c === command && argsPrefix(c, a)
        : (c, a) => c === command && argsPrefix.every((p, i) => a[i] === p);
    this.rules.unshift({ match, response: Array.isArray(response) ? [...response] : response, once });
    return this;
  }

  /** The argument lists of every call to `command`, in order. */
  argsOf(command: string): (readonly string[])[] {
    return this.calls.filter((c) => c.command === command).map((c) => c.args);
  }

  async run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    this.calls.push({ command, args: [...args], options });
    const idx = this.rules.findIndex((r) => r.match(command, args));
    const rule = this.rules[idx];
    if (!rule) throw new Error(`FakeRunner: unexpected call: ${command} ${args.join(' ')}`);
    let response: FakeResponse;
    if (Array.isArray(rule.response)) {
      // A sequence: each call takes the next answer, the last one repeats.
      response = (rule.response.length > 1 ? rule.response.shift() : rule.response[0]) ?? {};
    } else {
      response = rule.response;
    }
    if (rule.once) this.rules.splice(idx, 1);
    const stdout = response.stdoutFile ? readFileSync(response.stdoutFile, 'utf8') : (response.stdout ?? '');
    const stderr = response.stderr ?? '';
    const exitCode = response.exitCode ?? 0;
    if (exitCode !== 0 && options.reject !== false) {
      throw new CommandError({ command, args, exitCode, stderr, stdout });
    }
    return { command, args, stdout, stderr, exitCode, durationMs: 0 };
  }

  /** Queued outputs for {@link stream}: each started stream takes the next one. */
  private readonly streams: { command: string; lines: string[]; exitCode: number }[] = [];

  /** The next `stream(command, …)` yields these lines, then exits with `exitCode`. */
  onStream(command: string, lines: string[], exitCode = 0): this {
    this.streams.push({ command, lines, exitCode });
    return this;
  }

  stream(command: string, args: readonly string[], options: StreamOptions = {}): LineStream {
    this.calls.push({ command, args: [...args], options: {} });
    const idx = this.streams.findIndex((s) => s.command === command);
    const queued = idx >= 0 ? this.streams.splice(idx, 1)[0] : undefined;
    if (!queued) throw new Error(`FakeRunner: unexpected stream: ${command} ${args.join(' ')}`);
    let stopped = false;
    let resolveExit: (code: number) => void = () => {};
    const exited = new Promise<number>((r) => {
      resolveExit = r;
    });
    const signal = options.signal;
    async function* lines(): AsyncGenerator<string> {
      for (const line of queued?.lines ?? []) {
        if (stopped || signal?.aborted) break;
        await Promise.resolve();
        yield line;
      }
      resolveExit(queued?.exitCode ?? 0);
    }
    return {
      lines: lines(),
      exited,
      stop: () => {
        stopped = true;
        resolveExit(-1);
      },
    };
  }
}
