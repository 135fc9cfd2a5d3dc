/**
 * The floor for a new replicated thin volume on two lab nodes: the bare LVM and DRBD
 * commands it needs, run by hand one after the other and each timed inside its guest
 * (guest/time-commands.mjs, so the lab's exec round trip is not counted). The same
 * commands the daemon runs, its safety checks included (issue 7 requires them): on both
 * nodes lvcreate (thin, tagged), blockdev --getsize64 (where the device ends) and the two
 * 8 MiB wipes at the LV's ends, `drbdadm dump` of
 * the `.res` (the check before it goes live), `dump-md` (create-md only without valid
 * metadata), create-md, up; then on the Primary wait-connect, get-gi (no initial sync
 * only for two new disks), new-current-uuid --clear-bitmap, primary. The sum is the
 * baseline of the daemon's provisioning time; the daemon runs both nodes at once.
 */
import { inProject } from '../../common/paths.js';
import { DEFAULT_RESYNC_RATES, diskOptions, NET_OPTIONS } from '../../daemon/volumes/resource.js';
import { renderResourceFile } from '../../drbd/index.js';
import type { Lab } from '../../vagrant/lab/lab.js';
import type { NodeState } from '../../vagrant/lab/state.js';

const TIME_COMMANDS = inProject('test/bench/guest/time-commands.mjs');
export const BENCH_VG = 'xlss';
export const BENCH_POOL = 'pool';

const MiB = 1024 * 1024;
/** What the daemon zeroes at each end of a new LV (daemon/volumes/steps.ts). */
const WIPE_MIB = 8;

interface Timing {
  argv: string[];
  ms: number;
  exitCode: number | null;
  check: boolean;
  stderr: string;
}

/** An argument vector, or a look whose non-zero exit is an answer (dump-md on a new disk). */
export type GuestCommand = string[] | { argv: string[]; check: true };

/** Runs `commands` on `node` one after the other; throws naming the first that failed. */
export async function timeInGuest(lab: Lab, node: string, commands: GuestCommand[]): Promise<Timing[]> {
  const r = await lab.exec(node, ['node', TIME_COMMANDS, JSON.stringify(commands)], { timeoutMs: 300_000 });
  if (r.exitCode !== 0) throw new Error(`${node}: time-commands exited ${r.exitCode}: ${r.stderr.trim()}`);
  const { timings } = JSON.parse(r.stdout) as { timings: Timing[] };
  const failed = timings.find((t) => t.exitCode !== 0 && !t.check);
  if (failed)
    throw new Error(`${node}: ${failed.argv.join(' ')} exited ${failed.exitCode}: ${failed.stderr.trim()}`);
  if (timings.length !== commands.length) throw new Error(`${node}: only ${timings.length} commands ran`);
  return timings;
}

async function writeGuestFile(lab: Lab, node: string, path: string, text: string): Promise<void> {
  const r = await lab.exec(node, ['tee', path], { stdin: text, timeoutMs: 60_000 });
  if (r.exitCode !== 0) throw new Error(`${node}: cannot write ${path}: ${r.stderr.trim()}`);
}

async function run(lab: Lab, node: string, argv: string[]): Promise<string> {
  const r = await lab.exec(node, argv, { timeoutMs: 120_000 });
  if (r.exitCode !== 0)
    throw new Error(`${node}: ${argv.join(' ')} exited ${r.exitCode}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

export interface BareProvision {
  /** Sum of every command's time in its guest. */
  seconds: number;
  commands: number;
}

/**
 * Provisions `name` by hand on `primary` and `secondary` (minor/port outside the
 * controller's ranges), checks both UpToDate and one Primary, then removes it again.
 */
export async function bareProvision(
  lab: Lab,
  [primary, secondary]: [NodeState, NodeState],
  name: string,
  drbd: { minor: number; port: number },
  sizeBytes: number,
): Promise<BareProvision> {
  const conf = `/tmp/${name}.conf`;
  const disk = `/dev/${BENCH_VG}/${name}`;
  const text = `global {\n  usage-count no;\n}\n${renderResourceFile(
    {
      name,
      protocol: 'C',
      port: drbd.port,
      volumes: [{ volume: 0, minor: drbd.minor }],
      nodes: [primary, secondary].map((n, i) => ({
        hostname: n.name,
        address: n.ip,
        nodeId: i,
        disks: [disk],
      })),
      net: { ...NET_OPTIONS },
      disk: diskOptions(DEFAULT_RESYNC_RATES),
    },
    '8.4',
  )}`;
  const adm = (...args: string[]) => ['drbdadm', '-c', conf, ...args];
  const sizeMiB = Math.ceil(sizeBytes / MiB);
  const wipe =
    `dd if=/dev/zero of=${disk} bs=1M count=${WIPE_MIB} oflag=direct conv=notrunc status=none`.split(' ');
  const prepare: GuestCommand[] = [
    [
      ...`lvcreate --yes --type thin --addtag xlss --name ${name}`.split(' '),
      ...`--virtualsize ${sizeBytes}b --thinpool ${BENCH_POOL} ${BENCH_VG}`.split(' '),
    ],
    // The daemon zeroes where the device ends, as blockdev says (not a report's size).
    ['blockdev', '--getsize64', disk],
    wipe,
    [...wipe, `seek=${sizeMiB - WIPE_MIB}`],
    adm('dump', name),
    // A new LV has no metadata: dump-md says so with a non-zero exit.
    { argv: adm('dump-md', name), check: true },
    adm('create-md', '--force', name),
    adm('up', name),
  ];
  for (const n of [primary, secondary]) await writeGuestFile(lab, n.name, conf, text);
  try {
    const timings = [
      ...(await timeInGuest(lab, primary.name, prepare)),
      ...(await timeInGuest(lab, secondary.name, prepare)),
      ...(await timeInGuest(lab, primary.name, [
        adm('wait-connect', name),
        adm('get-gi', name),
        adm('--', '--clear-bitmap', 'new-current-uuid', `${name}/0`),
        adm('primary', name),
      ])),
    ];
    // A usable replicated volume: both disks UpToDate, this side Primary (checked, not timed).
    const dstate = await run(lab, primary.name, adm('dstate', name));
    const role = await run(lab, primary.name, adm('role', name));
    if (dstate !== 'UpToDate/UpToDate' || !role.startsWith('Primary/'))
      throw new Error(`${name} by hand ended ${role} ${dstate}, not Primary and UpToDate/UpToDate`);
    return { seconds: timings.reduce((s, t) => s + t.ms, 0) / 1000, commands: timings.length };
  } finally {
    for (const n of [primary, secondary]) {
      await lab.exec(n.name, adm('down', name), { timeoutMs: 120_000 });
      await lab.exec(n.name, ['lvremove', '--yes', `${BENCH_VG}/${name}`], { timeoutMs: 120_000 });
      await lab.exec(n.name, ['rm', '-f', conf], { timeoutMs: 60_000 });
    }
  }
}
