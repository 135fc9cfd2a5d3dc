import type { CommandRunner } from '../../common/runner.js';
import type { DrbdState } from '../../drbd/index.js';
import { LV_FIELDS, type LvInfo, parseLvsReportRows } from '../../lvm/index.js';

export interface MountInfo {
  path: string;
  fstype: string;
}

/** One observation of the node, shared by every volume in a pass. */
export interface NodeView {
  /** LVs of the VG by name (hidden pool parts left out). */
  lvs: Map<string, LvInfo>;
  /** LVs whose report row could not be read, by name, with why. */
  oddLvs: Map<string, string>;
  /** DRBD state from the events2 stream; empty until the stream is ready. */
  drbd: DrbdState;
  drbdReady: boolean;
  /** Resources whose events2 lines could not be read, with why. */
  drbdOdd: Readonly<Record<string, string>>;
  /** Mounted block devices by device path, from /proc/self/mounts. */
  mounts: Map<string, MountInfo>;
}

/** The one LVM report of a pass: every LV of the VG, each row parsed on its own. */
export async function readVolumeGroup(
  runner: CommandRunner,
  vg: string,
  signal?: AbortSignal,
): Promise<{ lvs: Map<string, LvInfo>; odd: Map<string, string> }> {
  const r = await runner.run(
    'lvs',
    ['--reportformat', 'json', '--units', 'b', '--nosuffix', '-o', LV_FIELDS.join(','), vg],
    { readOnly: true, env: { LVM_SUPPRESS_FD_WARNINGS: '1' }, ...(signal && { signal }) },
  );
  const lvs = new Map<string, LvInfo>();
  const odd = new Map<string, string>();
  for (const row of parseLvsReportRows(r.stdout)) {
    if (row.ok) {
      if (!row.lv.name.startsWith('[')) lvs.set(row.lv.name, row.lv);
    } else if (row.name) odd.set(row.name, row.error);
  }
  return { lvs, odd };
}

/** `/proc/self/mounts`: device, mount point (octal escapes decoded), type. */
export function parseMounts(text: string): Map<string, MountInfo> {
  const out = new Map<string, MountInfo>();
  for (const line of text.split('\n')) {
    const [dev, path, fstype] = line.split(' ');
    if (!dev?.startsWith('/dev/') || path === undefined || fstype === undefined) continue;
    out.set(dev, { path: unescapeMount(path), fstype });
  }
  return out;
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}
