import type { CommandRunner, LineStream, RunOptions, RunResult, StreamOptions } from '../../common/runner.js';

const MINUTE = 60_000;
/** Changes that suspend a device or rewrite a whole disk: never killed half-way. */
export const NEVER_KILL = 7 * 24 * 60 * MINUTE;
/** LVM commands that change device-mapper tables. */
const LVM_CHANGES: ReadonlySet<string> = new Set(['lvcreate', 'lvremove', 'lvchange', 'lvrename']);

/**
 * How long a command may take. Reports are quick; a change that suspends I/O (lvextend,
 * `drbdadm resize`, filesystem growth) or writes a whole device (mkfs) gets no practical
 * deadline and no abort: killing it half-way is worse than waiting.
 */
export function deadlineOf(
  command: string,
  args: readonly string[],
): { timeoutMs: number; abortable: boolean } {
  const verb = command === 'drbdadm' ? args.find((a) => !a.startsWith('-') && !a.startsWith('/')) : undefined;
  if (command === 'lvextend' || command === 'lvresize' || verb === 'resize')
    return { timeoutMs: NEVER_KILL, abortable: false };
  if (command === 'resize2fs' || command === 'xfs_growfs' || command.startsWith('mkfs.'))
    return { timeoutMs: NEVER_KILL, abortable: false };
  if (command === 'dd') return { timeoutMs: 10 * MINUTE, abortable: false };
  if (command === 'lvs' || command === 'vgs' || command === 'blkid')
    return { timeoutMs: MINUTE, abortable: true };
  // Every LVM change runs to its end. Seen with -vvvv in a lab guest: `lvcreate --snapshot`
  // suspends the origin (with a filesystem freeze) around the pool's create_snap message,
  // and `lvremove` sends a thin pool's delete message in its suspend phase; a COW
  // snapshot's removal or activation suspends its origin. Killed there, the device stays
  // suspended and every write to it (and the DRBD device above it) hangs.
  if (LVM_CHANGES.has(command)) return { timeoutMs: NEVER_KILL, abortable: false };
  if (command === 'mount' || command === 'umount') return { timeoutMs: 2 * MINUTE, abortable: false };
  return { timeoutMs: 2 * MINUTE, abortable: false };
}

/** A signal that never fires: for callers that never stop a command half-way. */
const NEVER_ABORTED = new AbortController().signal;

/**
 * The one runner with the deadlines above, for a caller with no abort of its own (the
 * backup service): its snapshot commands must not get the runner's default deadline.
 */
export function withDeadlines(inner: CommandRunner): DeadlineRunner {
  return new DeadlineRunner(inner, NEVER_ABORTED, () => undefined);
}

/**
 * The engine's view of the one runner: every call gets the deadline that fits it, the
 * engine's abort signal where stopping half-way is harmless, and its duration recorded.
 */
export class DeadlineRunner implements CommandRunner {
  constructor(
    private readonly inner: CommandRunner,
    private readonly signal: AbortSignal,
    private readonly observe: (command: string, outcome: 'ok' | 'error', seconds: number) => void,
  ) {}

  async run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const d = deadlineOf(command, args);
    const signal = options.signal ?? (d.abortable || options.readOnly ? this.signal : undefined);
    const started = performance.now();
    let outcome: 'ok' | 'error' = 'error';
    try {
      const r = await this.inner.run(command, args, {
        ...options,
        // An adapter's own default deadline never cuts a change that must not be cut.
        timeoutMs: d.timeoutMs === NEVER_KILL ? NEVER_KILL : (options.timeoutMs ?? d.timeoutMs),
        ...(signal && { signal }),
      });
      outcome = r.exitCode === 0 ? 'ok' : 'error';
      return r;
    } finally {
      this.observe(command, outcome, (performance.now() - started) / 1000);
    }
  }

  stream(command: string, args: readonly string[], options: StreamOptions = {}): LineStream {
    return this.inner.stream(command, args, { ...options, signal: options.signal ?? this.signal });
  }
}
