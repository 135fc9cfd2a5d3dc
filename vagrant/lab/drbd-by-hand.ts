import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { CommandRunner } from '../../common/runner.js';
import {
  type DrbdAdm,
  parseStatus,
  type ResourceSpec,
  type ResourceState,
  renderResourceFile,
} from '../../drbd/index.js';
import { Lvm } from '../../lvm/index.js';
import { DISK_SERIAL, diskById } from './config.js';
import type { LabState } from './state.js';
import { until } from './until.js';

export { VERIFY, WRITER } from './failover-scenario.js';
// The synchrony test drives DRBD itself; these are its tools.
export { until };

const VG = 'xlss';
const POOL = 'pool';
const VOLUME = 'demo';
const DATA_DISK = diskById(DISK_SERIAL.data);
const MiB = 1024n * 1024n;

/** A two-node resource (the synchrony test varies name, protocol, port). */
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
