import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../common/fake-runner.js';
import type { DrbdState } from './state.js';
import { DrbdEventStream, DrbdWaitTimeoutError } from './stream.js';

const DUMP_1 = [
  'exists resource name:r0 role:Secondary suspended:no',
  'exists connection name:r0 peer-node-id:0 conn-name:peer connection:Connected role:Primary',
  'exists device name:r0 volume:0 minor:0 disk:UpToDate',
  'exists peer-device name:r0 peer-node-id:0 conn-name:peer volume:0 replication:Established peer-disk:UpToDate',
  'exists -',
  'change connection name:r0 peer-node-id:0 conn-name:peer connection:NetworkFailure role:Unknown',
];
const DUMP_2 = [
  'exists resource name:r0 role:Primary suspended:no',
  'exists device name:r0 volume:0 minor:0 disk:UpToDate',
  'exists -',
];

/** Sleeps that resolve at once the first `free` times, then wait for the stream to stop. */
function testSleep(free: number) {
  const waits: number[] = [];
  const sleep = (ms: number, signal: AbortSignal) => {
    waits.push(ms);
    if (waits.length <= free) return Promise.resolve();
    return new Promise<void>((_r, reject) =>
      signal.addEventListener('abort', () => reject(new Error('aborted'))),
    );
  };
  return { waits, sleep };
}

describe('DrbdEventStream', () => {
  it('restarts after the process exits and rebuilds state from the fresh dump', async () => {
    const runner = new FakeRunner().onStream('drbdsetup', DUMP_1, 1).onStream('drbdsetup', DUMP_2, 0);
    const { waits, sleep } = testSleep(1);
    const s = new DrbdEventStream({ runner, sleep });
    const readies: DrbdState[] = [];
    const notReady: string[] = [];
    const changes: DrbdState[] = [];
    s.on('ready', (st) => readies.push(st));
    s.on('not-ready', (why) => notReady.push(why));
    s.on('change', (st) => changes.push(st));
    expect(s.ready).toBe(false);
    s.start();
    const st = await s.waitFor((x) => x.r0?.role === 'Primary', { timeoutMs: 2000 });
    // The old connection came from the dead process and must be gone, not merged.
    expect(st.r0?.connections).toEqual({});
    expect(st.r0?.devices[0]?.disk).toBe('UpToDate');
    expect(readies).toHaveLength(2);
    expect(readies[0]?.r0?.connections['0']?.connection).toBe('Connected');
    expect(changes[0]?.r0?.connections['0']?.connection).toBe('NetworkFailure');
    expect(notReady[0]).toBe('exited with 1');
    expect(runner.argsOf('drbdsetup')).toEqual([
      ['events2', '--statistics', 'all'],
      ['events2', '--statistics', 'all'],
    ]);
    await s.stop();
    expect(s.ready).toBe(false);
    expect(waits[0]).toBe(1000);
  });

  it('backs off from 1 s doubling to 30 s while the process keeps failing', async () => {
    const runner = new FakeRunner();
    for (let i = 0; i < 8; i++) runner.onStream('drbdsetup', [], 1);
    const { waits, sleep } = testSleep(7);
    const s = new DrbdEventStream({ runner, sleep });
    s.start();
    await new Promise((r) => setTimeout(r, 50));
    await s.stop();
    expect(waits).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it('is not ready before the first full dump', async () => {
    const runner = new FakeRunner().onStream('drbdsetup', DUMP_1.slice(0, 3), 0);
    const { sleep } = testSleep(0);
    const s = new DrbdEventStream({ runner, sleep });
    s.start();
    await new Promise((r) => setTimeout(r, 20));
    expect(s.ready).toBe(false);
    expect(s.snapshot()).toBeUndefined();
    await expect(s.waitFor(() => true, { timeoutMs: 20 })).rejects.toThrow(DrbdWaitTimeoutError);
    await s.stop();
  });

  it('marks only the named resource odd on a value it does not know, and goes on', async () => {
    const runner = new FakeRunner().onStream('drbdsetup', [
      ...DUMP_1,
      'change resource name:r9 role:Bogus',
      'change resource name:r0 role:Primary',
    ]);
    const s = new DrbdEventStream({ runner });
    const notReady: string[] = [];
    s.on('not-ready', (w) => notReady.push(w));
    s.start();
    await s.waitFor((x) => x.r0?.role === 'Primary', { timeoutMs: 2000 });
    expect(s.oddities()).toEqual({ r9: expect.stringMatching(/unknown role value "Bogus"/) });
    expect(notReady).toEqual([]);
    await s.stop();
  });

  it('drops state and restarts on a line that names no resource', async () => {
    const runner = new FakeRunner()
      .onStream('drbdsetup', [...DUMP_1.slice(0, 5), 'change resource role:Bogus'], 0)
      .onStream('drbdsetup', DUMP_2, 0);
    const { sleep } = testSleep(1);
    const s = new DrbdEventStream({ runner, sleep });
    const notReady: string[] = [];
    s.on('not-ready', (w) => notReady.push(w));
    s.start();
    await s.waitFor((x) => x.r0?.role === 'Primary', { timeoutMs: 2000 });
    expect(notReady[0]).toMatch(/^parse error: /);
    await s.stop();
  });

  it('waitFor honours an abort signal', async () => {
    const s = new DrbdEventStream({ runner: new FakeRunner() });
    const ac = new AbortController();
    const p = s.waitFor(() => true, { timeoutMs: 10_000, signal: ac.signal });
    ac.abort(new Error('cancelled'));
    await expect(p).rejects.toThrow('cancelled');
  });
});
