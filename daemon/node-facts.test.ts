import { describe, expect, it } from 'vitest';
import { silentLogger } from '../common/log.js';
import type { CommandRunner } from '../common/runner.js';
import type { DaemonConfig } from './config.js';
import { createNodeFacts, parseLsblkDisks } from './node-facts.js';

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

describe('nodeInfo', () => {
  it('reuses the slow facts for a few seconds, and measures again when a volume changes', async () => {
    const commands: string[] = [];
    // Every command fails (no VG, no lsblk): the facts say so, and the calls are counted.
    const runner = {
      run: async (command: string) => {
        commands.push(command);
        throw new Error(`${command}: not here`);
      },
      stream: () => {
        throw new Error('no streams');
      },
    } as unknown as CommandRunner;
    let volumes = [{ name: 'v1', state: 'creating', spec: { sizeBytes: 1 << 20 } }];
    let now = 0;
    const facts = createNodeFacts({
      config: {
        nodeName: 'node1',
        address: '10.0.0.1',
        vg: 'xlss',
        thinPool: 'pool',
        labels: {},
        zone: null,
        drbdGeneration: '8.4',
      } as unknown as DaemonConfig,
      runner,
      log: silentLogger,
      version: '0.1.0',
      engine: { ready: () => true, list: async () => volumes },
      load: async () => ({ avg1: 0, cpus: 1 }),
      readFile: async () => {
        throw new Error('no /proc/drbd');
      },
      now: () => now,
    });
    await facts.nodeInfo();
    const once = commands.length;
    expect(once).toBeGreaterThan(0);
    now = 4000;
    expect((await facts.nodeInfo()).volumes).toBe(1);
    expect(commands.length).toBe(once);
    volumes = [{ ...volumes[0], state: 'ready' } as (typeof volumes)[0]];
    await facts.nodeInfo();
    expect(commands.length).toBe(2 * once);
    now = 9100;
    await facts.nodeInfo();
    expect(commands.length).toBe(3 * once);
  });
});
