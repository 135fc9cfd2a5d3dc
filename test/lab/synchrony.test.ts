import { describe, expect, it } from 'vitest';
import { createLogger } from '../../common/log.js';
import { DrbdAdm } from '../../drbd/index.js';
import {
  bothUpToDate,
  carve,
  drbdStatus,
  promoteWhenPossible,
  resource,
  until,
  VERIFY,
  WRITER,
  writeRes,
} from '../../vagrant/lab/drbd-by-hand.js';
import { useLab } from './helpers/lab.js';

// Proof that a write is acknowledged only once both disks have it, with a negative
// control in the same run: the replication link is slowed down (netem on the Primary's
// outgoing traffic), a writer acknowledges numbered O_SYNC writes, the Primary's node is
// crashed and the peer promoted. Protocol A must lose acknowledged writes (they were
// still queued on the dead node), protocol C none. If A loses none, this test could not
// tell the two apart and fails.
const { lab, runner, sh } = useLab('ln-sync', { nodes: 2, disk: '1GiB' });
const log = createLogger({ level: process.env.XLSS_LOG_LEVEL ?? 'warn' });
const MiB = 1024n * 1024n;
// Under TCG the writer manages some 20 writes a second: 300 ms keeps several in flight.
const DELAY = '300ms';
const ACKS_BEFORE_CRASH = 25;

interface Round {
  protocol: 'A' | 'C';
  acknowledged: number;
  lost: number;
  promoteS: number;
}

async function round(protocol: 'A' | 'C', primary: string, secondary: string, minor: number): Promise<Round> {
  const name = `sync${protocol.toLowerCase()}`;
  const spec = resource(lab().state(), [primary, secondary] as [string, string], {
    name,
    protocol,
    port: 7790 + minor,
    minor,
  });
  // The delay must not look like a dead peer to DRBD (ping-timeout is in tenths of a second):
  // a dropped connection would let protocol C acknowledge writes the peer never got.
  spec.net = { ...spec.net, 'ping-timeout': 20 };
  const [p, s] = [runner(primary), runner(secondary)];
  const adm = (r: typeof p) => new DrbdAdm({ runner: r, generation: '8.4', logger: log });
  await Promise.all([writeRes(p, spec), writeRes(s, spec)]);
  await Promise.all([adm(p).createMd(name, { force: true }), adm(s).createMd(name, { force: true })]);
  await Promise.all([adm(p).up(name), adm(s).up(name)]);
  await until(`${name} connected`, 60_000, async () =>
    Object.values((await drbdStatus(p, name))?.connections ?? {}).some((c) => c.connection === 'Connected'),
  );
  await adm(p).newCurrentUuidClearBitmap(name);
  await until(`${name} UpToDate on both`, 60_000, async () => bothUpToDate(await drbdStatus(p, name)));
  await adm(p).primary(name);

  // Slow the replication link only now: the set-up above needs no delay.
  await lab().netem(primary, { delay: DELAY });
  expect(await sh(primary, 'tc qdisc show dev eth0')).toContain(`netem`);

  const device = `/dev/drbd${minor}`;
  const acked: number[] = [];
  const writer = p.stream('node', [WRITER, device, '100000']);
  const reading = (async () => {
    for await (const line of writer.lines) if (/^\d+$/.test(line)) acked.push(Number(line));
  })();
  await until(
    `${ACKS_BEFORE_CRASH} acknowledged writes`,
    120_000,
    async () => acked.length >= ACKS_BEFORE_CRASH,
  );
  // Crash right after a report: every number the writer printed (also those still in the
  // pipe) was acknowledged by the device before the node died.
  const crashAt = performance.now();
  await lab().crash(primary);
  writer.stop();
  await reading.catch(() => {});
  const counted = [...acked];
  await promoteWhenPossible(adm(s), name, log);
  const promoteS = (performance.now() - crashAt) / 1000;
  const max = (counted.at(-1) ?? 0) + 50;
  const { intact } = JSON.parse(
    (await s.run('node', [VERIFY, device, String(max)], { readOnly: true })).stdout,
  ) as {
    intact: number[];
  };
  const present = new Set(intact);
  const lost = counted.filter((seq) => !present.has(seq)).length;
  process.stderr.write(
    `[ln-sync] protocol ${protocol}: ${counted.length} acknowledged, ${lost} lost, promote_s=${promoteS.toFixed(1)}\n`,
  );
  return { protocol, acknowledged: counted.length, lost, promoteS };
}

describe('synchronous replication', () => {
  it('loses acknowledged writes with protocol A and none with protocol C', async () => {
    const size = 64n * MiB;
    await Promise.all([
      carve(runner('node1'), log, size, ['synca', 'syncc']),
      carve(runner('node2'), log, size, ['synca', 'syncc']),
    ]);
    // Protocol A: node1 is Primary and crashes.
    const a = await round('A', 'node1', 'node2', 0);
    // node1 comes back (without the delay) and is the Secondary of the protocol C round.
    await lab()
      .netem('node1', undefined)
      .catch(() => {});
    await lab().start('node1');
    await sh('node1', 'lvm vgchange -ay xlss >/dev/null');
    const c = await round('C', 'node2', 'node1', 1);

    expect(a.acknowledged).toBeGreaterThanOrEqual(ACKS_BEFORE_CRASH);
    expect(c.acknowledged).toBeGreaterThanOrEqual(ACKS_BEFORE_CRASH);
    expect(c.lost, 'protocol C lost acknowledged writes').toBe(0);
    expect(a.lost, 'protocol A lost nothing either: the test cannot tell A from C').toBeGreaterThan(0);
  });
});
