import { describe, expect, it } from 'vitest';
import { ValidationError } from '../common/errors.js';
import {
  validateDevicePath,
  validateDevicePaths,
  validateLvName,
  validateLvPath,
  validateTag,
  validateVgName,
} from './names.js';
import { lvmBytesArg, roundToExtent, validateBytes } from './size.js';

const injections = ['-ffoo', '--config=devices{filter=["a|.*|"]}', '-y', '--', '-'];

describe('VG and LV names', () => {
  it.each(['xlss', 'vg0', 'a.b_c+d-e', 'x'.repeat(127), 'A1'])('accepts %s', (name) => {
    expect(validateVgName(name)).toBe(name);
    expect(validateLvName(name)).toBe(name);
  });

  it.each([
    ...injections,
    '',
    '.',
    '..',
    'x'.repeat(128),
    'has space',
    'new\nline',
    'tab\t',
    'a/b',
    '../etc',
    'ümlaut',
    'semi;colon',
    '$(reboot)',
  ])('rejects %j for VG and LV', (name) => {
    expect(() => validateVgName(name)).toThrow(ValidationError);
    expect(() => validateLvName(name)).toThrow(ValidationError);
  });

  it.each([
    'snapshot',
    'snapshot1',
    'pvmove0',
    'a_tdata',
    'pool_tmeta',
    'x_rimage_0',
    'lvol0_pmspare',
    'a_vorigin',
    'a_cdata',
    'a_mlog',
  ])('rejects reserved LV name %s (but it is a fine VG name)', (name) => {
    expect(() => validateLvName(name)).toThrow(/reserved by LVM/);
    expect(validateVgName(name)).toBe(name);
  });

  it('rejects non-strings', () => {
    expect(() => validateVgName(42)).toThrow(/vg: must be a string/);
    expect(() => validateLvName(undefined, 'name')).toThrow(/name: must be a string/);
  });

  it('names the field', () => {
    expect(() => validateLvName('-x', 'origin')).toThrow(/^origin: /);
  });

  it('refuses a VG/LV pair whose device-mapper name is too long (hyphens doubled)', () => {
    expect(validateLvPath('v', 'x'.repeat(125))).toEqual({ vg: 'v', lv: 'x'.repeat(125) });
    expect(() => validateLvPath('v', 'x'.repeat(126))).toThrow(/too long for a device-mapper name/);
    expect(() => validateLvPath('v-g', 'x'.repeat(123))).toThrow(/128 > 127/);
  });
});

describe('tags', () => {
  it.each(['xlss', 'xlss:vol=vol1', 'backup/daily', 'a_b+c.d-e!f&g#h', 'x'.repeat(1024)])(
    'accepts %s',
    (tag) => {
      expect(validateTag(tag)).toBe(tag);
    },
  );
  it.each([...injections, '', 'a b', 'a,b', 'a\nb', 'x'.repeat(1025), 'a@b', 'a"b'])('rejects %j', (tag) => {
    expect(() => validateTag(tag)).toThrow(ValidationError);
  });
});

describe('device paths', () => {
  it.each(['/dev/vdb', '/dev/disk/by-id/virtio-data1', '/dev/mapper/x-y', '/dev/nvme0n1p1'])(
    'accepts %s',
    (p) => {
      expect(validateDevicePath(p)).toBe(p);
    },
  );
  it.each([
    ...injections,
    'vdb',
    'dev/vdb',
    '/dev',
    '/dev/',
    '/etc/passwd',
    '/dev/../etc/passwd',
    '/dev/./vdb',
    '/dev/-ffoo',
    '/dev/vd b',
    '/dev/vdb\n',
    '/dev//vdb',
  ])('rejects %j', (p) => {
    expect(() => validateDevicePath(p)).toThrow(ValidationError);
  });
  it('rejects an empty list and repeats', () => {
    expect(() => validateDevicePaths([])).toThrow(/non-empty/);
    expect(() => validateDevicePaths(['/dev/vdb', '/dev/vdb'])).toThrow(/repeat/);
    expect(() => validateDevicePaths(['/dev/vdb', '-y'])).toThrow(/devices\[1\]/);
  });
});

describe('sizes', () => {
  it('accepts positive bigints and safe integers', () => {
    expect(validateBytes(1n)).toBe(1n);
    expect(validateBytes(4096)).toBe(4096n);
  });
  it.each([0n, -1n, 0, -5, 1.5, Number.MAX_SAFE_INTEGER + 2, '10G', '-1', null, undefined])(
    'rejects %s',
    (v) => {
      expect(() => validateBytes(v)).toThrow(ValidationError);
    },
  );
  it('rounds up to whole extents', () => {
    const extent = 4n * 1024n * 1024n;
    expect(roundToExtent(1n, extent)).toBe(extent);
    expect(roundToExtent(extent, extent)).toBe(extent);
    expect(roundToExtent(extent + 1n, extent)).toBe(2n * extent);
  });
  it('passes bytes with an explicit unit', () => {
    expect(lvmBytesArg(8388608n)).toBe('8388608b');
  });
});
