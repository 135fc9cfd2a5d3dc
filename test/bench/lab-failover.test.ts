import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { inProject } from '../../common/paths.js';
import { diskWrittenKiB } from './lab-failover.js';

const syncSource = readFileSync(inProject('test/fixtures/drbd/version/proc-drbd-8.4-syncsource.txt'), 'utf8');

describe('diskWrittenKiB (the resync figure reads /proc/drbd of DRBD 8.4)', () => {
  it('reads the dw: counter of the wanted minor only', () => {
    expect(diskWrittenKiB(syncSource, 0)).toBe(0);
    const two = `${syncSource}10: cs:SyncTarget ro:Secondary/Primary ds:Inconsistent/UpToDate C r-----\n    ns:0 nr:4096 dw:4096 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:0\n`;
    expect(diskWrittenKiB(two, 10)).toBe(4096);
    expect(diskWrittenKiB(two, 0)).toBe(0);
  });

  it('throws for a minor /proc/drbd does not show (no figure from a missing counter)', () => {
    expect(() => diskWrittenKiB(syncSource, 1)).toThrow(/minor 1/);
  });
});
