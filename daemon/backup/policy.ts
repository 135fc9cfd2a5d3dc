import { Cron } from 'croner';
import { ValidationError } from '../../common/errors.js';
import type { BackupPolicy } from '../api/schemas.js';
import { validateTargetDir } from './names.js';

/** A policy whose schedule has been checked: exactly one of an interval or a cron pattern. */
export type Schedule = { kind: 'interval'; seconds: number } | { kind: 'cron'; cron: Cron };

export interface CheckedPolicy {
  schedule: Schedule;
  retain: number;
  target: string;
}

/**
 * Checks a spec's backup policy. `field` names where it came from (e.g. `backup`) so the
 * error points at the key to fix. Cron patterns are read in UTC.
 */
export function checkPolicy(policy: BackupPolicy, field = 'backup'): CheckedPolicy {
  const hasInterval = policy.intervalSeconds !== undefined;
  const hasCron = policy.cron !== undefined;
  if (hasInterval === hasCron) throw new ValidationError(field, 'set exactly one of intervalSeconds or cron');
  if (!Number.isInteger(policy.retain) || policy.retain < 1 || policy.retain > 1000)
    throw new ValidationError(`${field}.retain`, 'must be an integer from 1 to 1000');
  const target = validateTargetDir(policy.target, `${field}.target`);
  if (hasInterval) {
    const seconds = policy.intervalSeconds as number;
    if (!Number.isInteger(seconds) || seconds < 60)
      throw new ValidationError(`${field}.intervalSeconds`, 'must be an integer of at least 60');
    return { schedule: { kind: 'interval', seconds }, retain: policy.retain, target };
  }
  let cron: Cron;
  try {
    cron = new Cron(policy.cron as string, { paused: true, timezone: 'UTC' });
  } catch (err) {
    throw new ValidationError(
      `${field}.cron`,
      `"${policy.cron}" is not a cron pattern: ${(err as Error).message}`,
    );
  }
  if (cron.nextRun() === null) throw new ValidationError(`${field}.cron`, `"${policy.cron}" never fires`);
  return { schedule: { kind: 'cron', cron }, retain: policy.retain, target };
}

/**
 * When a volume's next backup is due. Every slot missed since `lastRunMs` collapses into
 * one run at `nowMs`: the result is never earlier than now, and after that run the next
 * slot is counted from it. Never run before: an interval policy is due at once (a volume
 * gets its first backup soon after the policy appears); a cron policy at its first slot
 * after the policy was first seen (`firstSeenMs`), so a slot missed while the daemon was
 * down still runs once.
 */
export function nextRunAt(
  schedule: Schedule,
  lastRunMs: number | null,
  nowMs: number,
  firstSeenMs: number | null = null,
): number {
  if (schedule.kind === 'interval') {
    if (lastRunMs === null) return nowMs;
    return Math.max(nowMs, lastRunMs + schedule.seconds * 1000);
  }
  const after = new Date(lastRunMs ?? firstSeenMs ?? nowMs);
  const slot = schedule.cron.nextRun(after);
  // A pattern that fires no more (a date in the past) is never due.
  if (slot === null) return Number.POSITIVE_INFINITY;
  return Math.max(nowMs, slot.getTime());
}
