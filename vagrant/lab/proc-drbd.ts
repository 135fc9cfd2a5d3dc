/**
 * DRBD 8.4's /proc/drbd, one minor at a time: what the lab tests read on a guest to see
 * roles, disks, frozen I/O and the out-of-sync figure of the bitmap, independently of
 * the daemon's own view (which comes from events2).
 */

/** One minor of DRBD 8.4's /proc/drbd: connection, roles, disks, I/O flags, out of sync. */
export interface ProcDrbd {
  cs: string;
  role: string;
  peerRole: string;
  disk: string;
  peerDisk: string;
  /** I/O suspended (the first flag is `s`, as when fencing froze it). */
  suspended: boolean;
  /** Out of sync, in bytes (8.4 prints KiB). */
  oosBytes: number;
}

/** Parses `minor`'s two lines of DRBD 8.4's /proc/drbd; undefined if the minor is absent. */
export function parseProcDrbd(text: string, minor: number): ProcDrbd | undefined {
  const head = new RegExp(
    `^\\s*${minor}: cs:(\\S+) ro:([^/\\s]+)/(\\S+) ds:([^/\\s]+)/(\\S+) \\S+ (\\S+)\\n(.*)$`,
    'm',
  ).exec(text);
  if (!head) return undefined;
  const [, cs, role, peerRole, disk, peerDisk, flags, stats] = head as unknown as string[];
  const oos = /\boos:(\d+)/.exec(stats ?? '');
  return {
    cs: cs as string,
    role: role as string,
    peerRole: peerRole as string,
    disk: disk as string,
    peerDisk: peerDisk as string,
    suspended: (flags ?? '').startsWith('s'),
    oosBytes: Number(oos?.[1] ?? 0) * 1024,
  };
}
