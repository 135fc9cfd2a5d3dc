import type { CheckedPolicy } from './policy.js';
import { nextRunAt } from './policy.js';

export interface ScheduledVolume {
  volume: string;
  policy: CheckedPolicy;
}

export interface QueueEntry {
  volume: string;
  dueAt: number;
  policy: CheckedPolicy;
}

/**
 * The backup queue: every volume with a policy, ordered by when its next backup is due
 * (ties by name, so the order is stable). Pure: the caller passes the clock and the
 * persisted last-run and first-seen times.
 */
export function planQueue(
  volumes: readonly ScheduledVolume[],
  lastRuns: Readonly<Record<string, number>>,
  nowMs: number,
  firstSeen: Readonly<Record<string, number>> = {},
): QueueEntry[] {
  return volumes
    .map((v) => ({
      volume: v.volume,
      policy: v.policy,
      dueAt: nextRunAt(v.policy.schedule, lastRuns[v.volume] ?? null, nowMs, firstSeen[v.volume] ?? null),
    }))
    .sort((a, b) => a.dueAt - b.dueAt || (a.volume < b.volume ? -1 : a.volume > b.volume ? 1 : 0));
}

/** The entries due at `nowMs`, in queue order. */
export function dueEntries(queue: readonly QueueEntry[], nowMs: number): QueueEntry[] {
  return queue.filter((e) => e.dueAt <= nowMs);
}
