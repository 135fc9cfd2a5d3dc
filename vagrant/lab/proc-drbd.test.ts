import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseProcDrbd } from './proc-drbd.js';

const fixture = (name: string) =>
  readFileSync(
    new URL(`../../test/fixtures/drbd/version/proc-drbd-8.4-${name}.txt`, import.meta.url),
    'utf8',
  );

describe('parseProcDrbd', () => {
  it('reads a connected Primary', () => {
    expect(parseProcDrbd(fixture('diskless-primary'), 0)).toEqual({
      cs: 'Connected',
      role: 'Primary',
      peerRole: 'Secondary',
      disk: 'Diskless',
      peerDisk: 'UpToDate',
      suspended: false,
      oosBytes: 0,
    });
  });

  it('reads the out-of-sync KiB of a sync source as bytes, past the progress lines', () => {
    const p = parseProcDrbd(fixture('syncsource'), 0);
    expect(p?.cs).toBe('SyncSource');
    expect(p?.peerDisk).toBe('Inconsistent');
    expect(p?.oosBytes).toBe(28268 * 1024);
  });

  it('reads a disconnected Secondary; the first I/O flag is not s', () => {
    const p = parseProcDrbd(fixture('wfconnection'), 0);
    expect(p).toMatchObject({ cs: 'WFConnection', role: 'Secondary', peerRole: 'Unknown', suspended: false });
    expect(p?.oosBytes).toBe(131032 * 1024);
  });

  it('sees suspended I/O and finds the right minor among several', () => {
    const text = [
      'version: 8.4.11 (api:1/proto:86-101)',
      ' 0: cs:Connected ro:Secondary/Primary ds:UpToDate/UpToDate C r-----',
      '    ns:0 nr:8 dw:8 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:0',
      ' 12: cs:WFConnection ro:Primary/Unknown ds:UpToDate/Outdated C s-----',
      '    ns:4 nr:0 dw:44 dr:0 al:1 bm:0 lo:0 pe:1 ua:0 ap:1 ep:1 wo:f oos:40',
      '',
    ].join('\n');
    expect(parseProcDrbd(text, 12)).toEqual({
      cs: 'WFConnection',
      role: 'Primary',
      peerRole: 'Unknown',
      disk: 'UpToDate',
      peerDisk: 'Outdated',
      suspended: true,
      oosBytes: 40 * 1024,
    });
    expect(parseProcDrbd(text, 2)).toBeUndefined();
    // Minor 2 must not match the line of minor 12.
    expect(parseProcDrbd(text.replace(' 12:', '  2:'), 2)?.role).toBe('Primary');
  });
});
