import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../common/fake-runner.js';
import { DrbdParseError } from './fields.js';
import { FIXTURES } from './testing.js';
import { detectDrbdVersions, generationOf, parseDrbdadmVersion, parseProcDrbd } from './version.js';

const fx = (p: string) => readFileSync(`${FIXTURES}version/${p}`, 'utf8');

describe('version', () => {
  it('parses /proc/drbd for 8.4 and 9', () => {
    expect(parseProcDrbd(fx('proc-drbd-8.4-syncsource.txt'))).toEqual({
      version: '8.4.11',
      api: 1,
      protoMin: 86,
      protoMax: 101,
    });
    expect(parseProcDrbd(fx('proc-drbd-9.txt'))).toEqual({
      version: '9.2.8',
      api: 2,
      protoMin: 86,
      protoMax: 122,
    });
    expect(() => parseProcDrbd('version: 8.4')).toThrow(DrbdParseError);
  });

  it('parses the real drbdadm --version output (no module loaded)', () => {
    expect(parseDrbdadmVersion(fx('drbdadm-version-9.22-nomodule.txt'))).toEqual({ utils: '9.22.0' });
    expect(parseDrbdadmVersion('DRBDADM_VERSION=9.28.0\nDRBD_KERNEL_VERSION=9.2.8\n')).toEqual({
      utils: '9.28.0',
      kernel: '9.2.8',
    });
    expect(() => parseDrbdadmVersion('DRBDADM_API_VERSION=2\n')).toThrow(DrbdParseError);
  });

  it('maps kernel versions to generations', () => {
    expect(generationOf('8.4.11')).toBe('8.4');
    expect(generationOf('9.2.8')).toBe('9');
    expect(() => generationOf('8.3.16')).toThrow(DrbdParseError);
  });

  it('detects both versions through injected reader and runner', async () => {
    const r = new FakeRunner().on('drbdadm', ['--version'], {
      stdout: fx('drbdadm-version-9.22-nomodule.txt'),
    });
    const read = async (p: string) => (p === '/proc/drbd' ? fx('proc-drbd-8.4-syncsource.txt') : '');
    expect(await detectDrbdVersions(r, read)).toEqual({
      kernel: '8.4.11',
      utils: '9.22.0',
      generation: '8.4',
    });
  });
});
