/**
 * The pieces of a failover under write load on a cluster lab, shared by the demo
 * (`npm start`) and the controller's lab tests: a volume made through the controller, a
 * writer on its Primary that reports every acknowledged O_SYNC record, a probe on the
 * survivor that reports the first O_SYNC write that succeeds on the mounted volume, the
 * check of every acknowledged record on the new Primary, and the controller's timeline.
 */
import { inProject } from '../../common/paths.js';
import type { EventView, VolumeView } from '../../controller/api/schemas.js';
import type { ControllerClient } from '../../controller/cli/api-client.js';
import type { GuestRunner } from './client.js';
import { until } from './until.js';

export const WRITER = inProject('vagrant/lab/guest/writer.mjs');
export const VERIFY = inProject('vagrant/lab/guest/verify.mjs');
export const PROBE = inProject('vagrant/lab/guest/probe-writable.mjs');
export const FOLLOW_WRITER = inProject('vagrant/lab/guest/follow-writer.mjs');

/** Waits until the volume is ready (both replicas UpToDate, Primary mounted). */
export async function waitReady(
  client: ControllerClient,
  name: string,
  timeoutMs = 300_000,
): Promise<VolumeView> {
  let seen: VolumeView | undefined;
  return until(`${name} to be ready`, timeoutMs, async () => {
    seen = await client.getVolume(name);
    if (seen.phase === 'failed' || seen.phase === 'lost')
      throw new Error(`${name} is ${seen.phase}: ${seen.message ?? ''}`);
    return seen.phase === 'ready' && seen.primary !== null ? seen : undefined;
  }).catch((err: Error) => {
    throw new Error(
      `${err.message} (last seen: ${seen ? `${seen.phase} ${seen.message ?? ''}` : 'nothing'})`,
    );
  });
}

export interface RecordWriter {
  /** Sequence numbers whose O_SYNC write returned on the Primary, in order. */
  acked: number[];
  /** Stops reading (the writer dies with its node, or is told to stop). */
  stop(): Promise<void>;
}

/** Starts the numbered-record writer on `file` (created first) on the node of `runner`. */
export async function startWriter(runner: GuestRunner, file: string, count = 100_000): Promise<RecordWriter> {
  await runner.run('touch', [file]);
  return readAcks(runner.stream('node', [WRITER, file, String(count)]));
}

/**
 * Starts a writer on the node of `runner` that writes records numbered from `base` to
 * `mountPoint/file` (which must exist on the volume) only while the volume is mounted
 * there, opening the file for each record: one per replica node, the records follow the
 * Primary through a planned switchover. Resolves once the writer runs.
 */
export async function startFollowWriter(
  runner: GuestRunner,
  mountPoint: string,
  file: string,
  base: number,
  intervalMs = 100,
): Promise<RecordWriter> {
  const stream = runner.stream('node', [FOLLOW_WRITER, mountPoint, file, String(base), String(intervalMs)]);
  let started: () => void = () => {};
  const running = new Promise<void>((r) => {
    started = r;
  });
  const writer = readAcks(stream, (line) => {
    if (line === 'waiting') started();
  });
  await Promise.race([running, writer.ended]);
  return writer;
}

function readAcks(
  stream: { lines: AsyncIterable<string>; stop(): void },
  other: (line: string) => void = () => {},
): RecordWriter & { ended: Promise<void> } {
  const acked: number[] = [];
  const reading = (async () => {
    for await (const line of stream.lines) {
      if (/^\d+$/.test(line)) acked.push(Number(line));
      else other(line);
    }
  })();
  return {
    ended: reading.catch(() => {}),
    acked,
    stop: async () => {
      stream.stop();
      await reading.catch(() => {});
    },
  };
}

export interface WritableProbe {
  /** Resolves with the host's clock (performance.now()) when the first write succeeded. */
  writableAt: Promise<number>;
  stop(): void;
}

/**
 * Starts the writable probe on a node and waits until it runs (so that the start of a
 * node process under emulation is not counted in a failover time).
 */
export async function startProbe(runner: GuestRunner, mountPoint: string): Promise<WritableProbe> {
  const probe = runner.stream('node', [PROBE, mountPoint, '50']);
  let started: () => void = () => {};
  const running = new Promise<void>((r) => {
    started = r;
  });
  const writableAt = (async () => {
    for await (const line of probe.lines) {
      if (line === 'waiting') started();
      if (line === 'writable') return performance.now();
    }
    throw new Error(`the writable probe on ${mountPoint} ended without a successful write`);
  })();
  writableAt.catch(() => {});
  await Promise.race([running, writableAt.then(() => undefined)]);
  return { writableAt, stop: () => probe.stop() };
}

/** Reads the records back on `runner`'s node and counts the acknowledged ones missing. */
export async function countLost(
  runner: GuestRunner,
  file: string,
  acked: readonly number[],
): Promise<{ lost: number; intact: number }> {
  const max = (acked.at(-1) ?? 0) + 50;
  const out = await runner.run('node', [VERIFY, file, String(max)], { readOnly: true });
  const intact = new Set((JSON.parse(out.stdout) as { intact: number[] }).intact);
  return { lost: acked.filter((seq) => !intact.has(seq)).length, intact: intact.size };
}

/** The volume's events after `sinceId`, as lines with their time relative to `originMs` (epoch ms). */
export function timelineLines(events: readonly EventView[], originMs: number): string[] {
  return events.map((e) => {
    const dt = ((Date.parse(e.at) - originMs) / 1000).toFixed(1);
    return `+${dt.padStart(5)} s  ${e.type.padEnd(26)} ${e.node ?? '-'}  ${e.message}`;
  });
}

/** The node of a replica that is UpToDate and connected, other than `exclude`, if any. */
export function upToDateReplicaOtherThan(v: VolumeView, exclude: readonly string[]): string | undefined {
  return v.replicas.find(
    (r) => !exclude.includes(r.node) && r.disk === 'UpToDate' && r.connection === 'Connected',
  )?.node;
}
