import { currentLoad } from 'systeminformation';
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../common/fake-runner.js';
import { silentLogger } from '../common/log.js';
import {
  createNodeFacts,
  FACTS_MAX_AGE_MS,
  FACTS_REFRESH_MS,
  parseLsblkDisks,
  systemLoad,
} from './node-facts.js';

describe('parseLsblkDisks', () => {
  it('keeps whole disks, typed by transport and rotation', () => {
    const text = JSON.stringify({
      blockdevices: [
        { name: 'vda', size: 274877906944, rota: true, type: 'disk', tran: null },
        { name: 'nvme0n1', size: 1000204886016, rota: false, type: 'disk', tran: 'nvme' },
        { name: 'sdb', size: 480103981056, rota: false, type: 'disk', tran: 'sata' },
        { name: 'zram0', size: 0, rota: false, type: 'disk', tran: null },
        { name: 'sr0', size: 1073741312, rota: true, type: 'rom', tran: 'sata' },
        { name: 'drbd1', size: 67108864, rota: false, type: 'disk', tran: null },
      ],
    });
    expect(parseLsblkDisks(text)).toEqual([
      { name: 'vda', sizeBytes: 274877906944, type: 'HDD' },
      { name: 'nvme0n1', sizeBytes: 1000204886016, type: 'NVMe' },
      { name: 'sdb', sizeBytes: 480103981056, type: 'SSD' },
      { name: 'drbd1', sizeBytes: 67108864, type: 'SSD' },
    ]);
  });

  it('reads the all-strings output of old util-linux', () => {
    const text =
      '{"blockdevices": [{"name":"sda", "size":"500107862016", "rota":"1", "type":"disk", "tran":"sata"}]}';
    expect(parseLsblkDisks(text)).toEqual([{ name: 'sda', sizeBytes: 500107862016, type: 'HDD' }]);
  });

  it('throws on output that is not an lsblk report', () => {
    expect(() => parseLsblkDisks('{}')).toThrow(/blockdevices/);
    expect(() => parseLsblkDisks('vda 1G')).toThrow();
  });
});

describe('node facts under frequent heartbeats', () => {
  function facts() {
    const runner = new FakeRunner();
    let t = 0;
    const f = createNodeFacts({
      config: {
        nodeName: 'node1',
        address: '10.0.0.1',
        vg: 'xlss',
        thinPool: 'pool',
        labels: {},
        zone: null,
      } as never,
      runner,
      log: silentLogger,
      version: '0.0.0',
      engine: { ready: () => true, list: async () => [] },
      load: async () => ({ avg1: 0, cpus: 1 }),
      readFile: async () => {
        throw new Error('no drbd');
      },
      now: () => t,
    });
    return { f, runner, advance: (ms: number) => (t += ms) };
  }

  it('runs one observation for calls that overlap, and answers fresh facts from memory', async () => {
    const { f, runner } = facts();
    const [a, b] = await Promise.all([f.nodeInfo(), f.nodeInfo()]);
    expect(a).toEqual(b);
    const perObservation = runner.calls.length;
    expect(perObservation).toBeGreaterThan(0);
    await f.nodeInfo();
    expect(runner.calls.length).toBe(perObservation);
  });

  it('answers older facts at once and refreshes them behind; never answers facts past the max age', async () => {
    const { f, runner, advance } = facts();
    await f.nodeInfo();
    const perObservation = runner.calls.length;
    advance(FACTS_REFRESH_MS + 1);
    await f.nodeInfo();
    await new Promise((r) => setTimeout(r, 10));
    expect(runner.calls.length).toBe(2 * perObservation);
    advance(FACTS_MAX_AGE_MS + 1);
    await f.nodeInfo();
    expect(runner.calls.length).toBe(3 * perObservation);
  });
});

describe('systemLoad', () => {
  it('gives the figures systeminformation gave (load per CPU, CPU count) without loading it', async () => {
    const [ours, theirs] = await Promise.all([systemLoad(), currentLoad()]);
    expect(ours.cpus).toBe(theirs.cpus.length);
    // Both read /proc/loadavg within the same moment; the kernel updates it every 5 s.
    expect(ours.avg1).toBeCloseTo(theirs.avgLoad, 1);
    expect(ours.avg1).toBeGreaterThanOrEqual(0);
  });
});
