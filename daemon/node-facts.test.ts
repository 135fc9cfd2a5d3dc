import { describe, expect, it } from 'vitest';
import { parseLsblkDisks } from './node-facts.js';

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
