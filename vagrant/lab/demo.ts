import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import { inProject } from '../../common/paths.js';
import type { CommandRunner } from '../../common/runner.js';
import {
  DrbdAdm,
  parseStatus,
  type ResourceSpec,
  type ResourceState,
  renderResourceFile,
} from '../../drbd/index.js';
import { Lvm } from '../../lvm/index.js';
import { GuestRunner } from './client.js';
import { DISK_SERIAL, diskById, labConfig } from './config.js';
import { Lab } from './lab.js';
import type { LabState } from './state.js';

export const WRITER = inProject('vagrant/lab/guest/writer.mjs');
export const VERIFY = inProject('vagrant/lab/guest/verify.mjs');

const VG = 'xlss';
const POOL = 'pool';
const VOLUME = 'demo';
const DATA_DISK = diskById(DISK_SERIAL.data);
const MiB = 1024n * 1024n;

export interface DemoResult {
  /** Seconds from the crash of the Primary to `drbdadm primary` succeeding on the survivor. */
  promoteS: number;
  acknowledged: number;
  acknowledgedLost: number;
  redundancyRestored: boolean;
}

export interface DemoOptions {
  dir: string;
  keep: boolean;
  install: boolean;
  /** Acknowledged writes to wait for before the crash. */
  writesBeforeCrash?: number;
}

/** A two-node resource of the demo's kind (the synchrony test varies name, protocol, port). */
export function resource(
  state: LabState,
  names: [string, string],
  opts: { name?: string; protocol?: 'A' | 'B' | 'C'; port?: number; minor?: number } = {},
): ResourceSpec {
  const name = opts.name ?? VOLUME;
  return {
    name,
    protocol: opts.protocol ?? 'C',
    port: opts.port ?? 7789,
    volumes: [{ volume: 0, minor: opts.minor ?? 0 }],
    nodes: names.map((n) => {
      const node = state.nodes.find((x) => x.name === n);
      if (!node) throw new Error(`no ${n} in the lab`);
      return { hostname: n, address: node.ip, disks: [`/dev/${VG}/${name}`] };
    }),
    // Detect a dead peer within a second or two: ping every 1 s, give up after 0.5 s.
    net: { 'ping-int': 1, 'ping-timeout': 5, 'connect-int': 1, timeout: 9 },
    disk: { 'on-io-error': 'detach' },
  };
}

/** What DRBD says of a resource (the demo's by default) on one node. */
export async function drbdStatus(runner: CommandRunner, name = VOLUME): Promise<ResourceState | undefined> {
  const r = await runner.run('drbdsetup', ['status', name, '--verbose', '--statistics'], {
    reject: false,
    readOnly: true,
  });
  if (r.exitCode !== 0) return undefined;
  return parseStatus(r.stdout).find((s) => s.name === name);
}

export function bothUpToDate(s: ResourceState | undefined): boolean {
  if (!s) return false;
  const local = s.devices[0]?.disk === 'UpToDate';
  const conns = Object.values(s.connections);
  return (
    local &&
    conns.length === 1 &&
    conns.every((c) => c.connection === 'Connected' && c.peerDevices[0]?.peerDisk === 'UpToDate')
  );
}

export async function until<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined | false>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(300);
  }
}

/** Carves volumes on a node: a VG on the data disk, a thin pool, a thin LV per name. */
export async function carve(
  runner: CommandRunner,
  log: Logger,
  sizeBytes: bigint,
  names: string[] = [VOLUME],
): Promise<void> {
  const lvm = new Lvm({ runner, logger: log });
  await lvm.createVg(VG, [DATA_DISK], { wipeSignatures: true });
  await lvm.createThinPool({ vg: VG, name: POOL, sizeBytes: 512n * MiB });
  for (const name of names) await lvm.createThinLv({ vg: VG, name, pool: POOL, virtualSizeBytes: sizeBytes });
}

/** `drbdadm primary` on `runner`, tried until it succeeds (the peer's loss must be seen first). */
export async function promoteWhenPossible(adm: DrbdAdm, name: string, log: Logger, timeoutMs = 60_000) {
  await until(`${name} to become Primary`, timeoutMs, async () =>
    adm
      .primary(name)
      .then(() => true)
      .catch((e) => {
        log.debug({ volume: name, err: errorMessage(e) }, 'promotion not possible yet');
        return false;
      }),
  );
}

export async function writeRes(runner: CommandRunner, spec: ResourceSpec): Promise<void> {
  // Rendered here, written there: tee takes the file on stdin, no shell involved.
  await runner.run('tee', [`/etc/drbd.d/${spec.name}.res`], { input: renderResourceFile(spec, '8.4') });
}

/**
 * The lab demo (`npm start`): a replicated volume, a crash of its Primary under write
 * load, promotion of the Secondary, a check that no acknowledged write was lost, and
 * redundancy restored on a third node.
 */
export async function runDemo(
  opts: DemoOptions,
  deps: { log: Logger; runner: CommandRunner; say: (s: string) => void },
) {
  const { log, say } = deps;
  const lab = new Lab(opts.dir, { runner: deps.runner, log, progress: say });
  const t0 = performance.now();
  // Outside the try: a lab already running in the directory is refused, never torn down
  // (a failed up cleans up after itself).
  await lab.up(labConfig({ dir: opts.dir, nodes: 3, disk: '1GiB' }), { install: opts.install });
  try {
    const state = lab.state();
    const client = lab.client();
    const on = (n: string) => new GuestRunner(client, n);
    const [n1, n2, n3] = [on('node1'), on('node2'), on('node3')];
    const adm = (r: CommandRunner) => new DrbdAdm({ runner: r, generation: '8.4', logger: log });
    const size = 64n * MiB;

    say('carving a 64 MiB thin volume on node1 and node2 (LVM)');
    await Promise.all([carve(n1, log, size), carve(n2, log, size)]);
    say('replicating it with DRBD protocol C between node1 and node2');
    const spec = resource(state, ['node1', 'node2']);
    await Promise.all([writeRes(n1, spec), writeRes(n2, spec)]);
    await Promise.all([adm(n1).createMd(VOLUME, { force: true }), adm(n2).createMd(VOLUME, { force: true })]);
    await Promise.all([adm(n1).up(VOLUME), adm(n2).up(VOLUME)]);
    await until('node1 and node2 to connect', 60_000, async () => {
      const s = await drbdStatus(n1);
      return s && Object.values(s.connections).some((c) => c.connection === 'Connected');
    });
    // Both sides are new and thin (all zeroes): nothing to sync.
    await adm(n1).newCurrentUuidClearBitmap(VOLUME);
    await until('both disks UpToDate', 60_000, async () => bothUpToDate(await drbdStatus(n1)));
    await adm(n1).primary(VOLUME);
    say('node1 is Primary, node2 is Secondary, both UpToDate');

    const target = opts.writesBeforeCrash ?? 40;
    say(`writing numbered records on node1 with O_SYNC; crashing node1 after ${target} acknowledged writes`);
    const acked: number[] = [];
    const writer = n1.stream('node', [WRITER, '/dev/drbd0', '4000']);
    const reading = (async () => {
      for await (const line of writer.lines) if (/^\d+$/.test(line)) acked.push(Number(line));
    })();
    await until(`${target} acknowledged writes`, 120_000, async () => acked.length >= target);
    const crashAt = performance.now();
    await lab.crash('node1');
    writer.stop();
    await reading.catch(() => {});
    const lastAcked = acked.length;
    say(`crashed node1 with ${lastAcked} writes acknowledged; promoting node2`);

    await promoteWhenPossible(adm(n2), VOLUME, log);
    // Stopped here: the figure is the time to a Primary, not to data read back.
    const promoteS = (performance.now() - crashAt) / 1000;
    const verify = JSON.parse(
      (await n2.run('node', [VERIFY, '/dev/drbd0', String(lastAcked + 50)], { readOnly: true })).stdout,
    ) as { intact: number[] };
    const intact = new Set(verify.intact);
    const lost = acked.filter((seq) => !intact.has(seq)).length;
    say(
      `node2 is Primary ${promoteS.toFixed(1)} s after the crash; ${verify.intact.length} records intact, ` +
        `${lost} of ${lastAcked} acknowledged writes lost`,
    );

    say('restoring redundancy: node3 replaces node1 as the Secondary (full sync of 64 MiB)');
    let redundancyRestored = false;
    try {
      await carve(n3, log, size);
      const spec2 = resource(state, ['node2', 'node3']);
      await Promise.all([writeRes(n2, spec2), writeRes(n3, spec2)]);
      await adm(n3).createMd(VOLUME, { force: true });
      await adm(n3).up(VOLUME);
      await adm(n2).adjust(VOLUME);
      await until('node3 to be UpToDate', 300_000, async () => bothUpToDate(await drbdStatus(n2)));
      const onThird = JSON.parse(
        (await n3.run('node', [VERIFY, `/dev/${VG}/${VOLUME}`, String(lastAcked + 50)], { readOnly: true }))
          .stdout,
      ) as { intact: number[] };
      redundancyRestored = acked.every((seq) => onThird.intact.includes(seq));
      say(`node3 UpToDate with ${onThird.intact.length} records intact`);
    } catch (err) {
      say(`could not restore redundancy: ${errorMessage(err)}`);
    }
    say(`demo took ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    return {
      promoteS,
      acknowledged: lastAcked,
      acknowledgedLost: lost,
      redundancyRestored,
    } satisfies DemoResult;
  } finally {
    if (!opts.keep) await lab.down();
  }
}

/** Printed before the demo line: what the figure measures until the controller detects crashes. */
export function promoteLine(r: Pick<DemoResult, 'promoteS'>): string {
  return `xlss demo: promote_s=${r.promoteS.toFixed(1)} (crash to Primary on the survivor; controller detection comes with the controller)`;
}

/** The one line scripts read; failover_s is promote_s until the controller detects the crash. */
export function demoLine(r: DemoResult): string {
  return `xlss demo: ok failover_s=${r.promoteS.toFixed(1)} acknowledged_lost=${r.acknowledgedLost} redundancy_restored=${r.redundancyRestored ? 'yes' : 'no'}`;
}
