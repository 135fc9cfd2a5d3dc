import { describe, expect, it } from 'vitest';
import { decodeLvAttr } from './attr.js';
import { LvmReportError } from './errors.js';
import { fixture } from './fixtures.test-helpers.js';
import { parseLvsReport, parsePvsReport, parseVgsReport } from './report.js';

describe('parseVgsReport', () => {
  it('reads a real vgs capture', () => {
    expect(parseVgsReport(fixture('vgs.capvg.json'))).toEqual([
      {
        uuid: 'bxcj6w-YiOm-APOa-Gw60-oXPh-ivfJ-iA2cLc',
        name: 'capvg',
        attr: 'wz--n-',
        sizeBytes: 264241152n,
        freeBytes: 155189248n,
        extentBytes: 4194304n,
        extentCount: 63,
        freeExtentCount: 37,
        pvCount: 1,
        lvCount: 3,
        snapshotCount: 0,
        tags: ['xlss'],
      },
    ]);
  });

  it('reads a lab capture with thin and COW snapshots', () => {
    expect(parseVgsReport(fixture('vgs.lab.json'))[0]).toMatchObject({
      name: 'xlss',
      sizeBytes: 1069547520n,
      freeBytes: 666894336n,
      extentCount: 255,
      freeExtentCount: 159,
      lvCount: 8,
      snapshotCount: 1,
      tags: ['xlss'],
    });
  });

  it('reads a host with no VGs as an empty list', () => {
    expect(parseVgsReport(fixture('vgs.empty.json'))).toEqual([]);
  });
});

describe('parseLvsReport', () => {
  it('reads a real lvs capture of thick LVs, tags split and empty values as null', () => {
    const lvs = parseLvsReport(fixture('lvs.capvg-thick.json'));
    expect(lvs.map((l) => l.name)).toEqual(['untagged', 'vol1', 'vol2']);
    const vol1 = lvs[1];
    expect(vol1).toMatchObject({
      vg: 'capvg',
      path: '/dev/capvg/vol1',
      sizeBytes: 67108864n,
      tags: ['backup/daily', 'xlss', 'xlss:vol=vol1'],
      pool: null,
      origin: null,
      originSizeBytes: null,
      dataPercent: null,
      snapPercent: null,
      metadataPercent: null,
      active: null,
    });
    expect(vol1?.attr).toMatchObject({ volumeType: 'plain', state: 'unknown', open: null });
    expect(lvs[0]?.tags).toEqual([]);
  });

  it('reads thin pools, thin LVs and both kinds of snapshot (lab capture, real device-mapper)', () => {
    const lvs = parseLvsReport(fixture('lvs.lab.json'));
    const by = new Map(lvs.map((l) => [l.name, l]));
    expect(lvs.map((l) => l.name)).toEqual([
      'foreign',
      'pool',
      'thick1',
      'thick1-snap',
      'vol1',
      'vol1-snap1',
      'vol1-snap2',
      'vol2',
    ]);
    // A pool has no /dev path; real LVM fills snap_percent of pools and thin LVs too.
    expect(by.get('pool')).toMatchObject({
      path: null,
      sizeBytes: 268435456n,
      dataPercent: 3.12,
      snapPercent: 3.12,
      metadataPercent: 11.43,
      active: true,
    });
    expect(by.get('pool')?.attr).toMatchObject({ volumeType: 'thin-pool', open: true, zero: true });
    expect(by.get('vol1')).toMatchObject({
      pool: 'pool',
      origin: null,
      dataPercent: 1.56,
      tags: ['xlss', 'xlss:vol=vol1'],
    });
    // Active but not open: nothing holds a thin LV open until it is used.
    expect(by.get('vol1')?.attr).toMatchObject({ volumeType: 'thin', state: 'active', open: false });
    expect(by.get('vol1-snap1')).toMatchObject({
      pool: 'pool',
      origin: 'vol1',
      dataPercent: 0,
      active: true,
    });
    expect(by.get('vol1-snap1')?.attr.skipActivation).toBe(true);
    // Made without --ignoreactivationskip: inactive, no percentages, lv_active "".
    expect(by.get('vol1-snap2')).toMatchObject({ dataPercent: null, snapPercent: null, active: false });
    expect(by.get('vol1-snap2')?.attr).toMatchObject({ state: 'inactive', skipActivation: true });
    // A thick origin reports its own size as origin_size; its COW snapshot the origin's.
    expect(by.get('thick1')).toMatchObject({ originSizeBytes: 67108864n, origin: null });
    expect(by.get('thick1')?.attr).toMatchObject({ volumeType: 'origin', targetType: 'snapshot' });
    expect(by.get('thick1-snap')).toMatchObject({
      origin: 'thick1',
      sizeBytes: 16777216n,
      originSizeBytes: 67108864n,
      snapPercent: 50.24,
      dataPercent: 50.24,
    });
    expect(by.get('vol2')).toMatchObject({ active: false, tags: ['backup/daily', 'xlss', 'xlss:vol=vol2'] });
    expect(by.get('foreign')?.tags).toEqual([]);
  });

  it('reads hidden pool sub-LVs of lvs -a (bracketed names, no path)', () => {
    const hidden = parseLvsReport(fixture('lvs.lab-all.json')).filter((l) => l.name.startsWith('['));
    expect(hidden.map((l) => [l.name, l.attr.volumeType, l.path])).toEqual([
      ['[lvol0_pmspare]', 'metadata', null],
      ['[pool_tdata]', 'thin-pool-data', null],
      ['[pool_tmeta]', 'metadata', null],
    ]);
  });

  it('reads fresh LVs with real zero percentages, not null', () => {
    const lvs = parseLvsReport(fixture('lvs.lab-before-write.json'));
    expect(lvs.find((l) => l.name === 'thick1-snap')?.snapPercent).toBe(0);
    expect(lvs.find((l) => l.name === 'pool')?.dataPercent).toBe(0);
  });

  it('reads an empty report', () => {
    expect(parseLvsReport(fixture('lvs.empty.json'))).toEqual([]);
  });

  it('ignores fields it did not ask for', () => {
    const text = fixture('lvs.capvg-thick.json').replace(
      '"lv_name":"vol1",',
      '"lv_name":"vol1", "lv_new_field":"x",',
    );
    expect(parseLvsReport(text)[1]?.name).toBe('vol1');
  });
});

describe('parsePvsReport', () => {
  it('reads a real pvs capture', () => {
    expect(parsePvsReport(fixture('pvs.capvg.json'))).toEqual([
      {
        uuid: 'eYZg4A-uldd-sO6B-3yet-NGEl-815l-a9X8Sd',
        name: '/dev/loop0',
        vg: 'capvg',
        attr: 'a--',
        sizeBytes: 264241152n,
        freeBytes: 155189248n,
        deviceSizeBytes: 268435456n,
        tags: [],
      },
    ]);
    expect(parsePvsReport(fixture('pvs.empty.json'))).toEqual([]);
  });

  it('reads lab captures: the kernel name of a PV made from a by-id alias, and a PV in no VG', () => {
    expect(parsePvsReport(fixture('pvs.lab.json'))[0]).toMatchObject({
      name: '/dev/vdb',
      vg: 'xlss',
      sizeBytes: 1069547520n,
      deviceSizeBytes: 1073741824n,
    });
    expect(parsePvsReport(fixture('pvs.lab-novg.json'))[0]).toMatchObject({
      name: '/dev/vdb',
      vg: null,
      attr: '---',
    });
  });

  it('reads a PV in no VG as vg null', () => {
    const text = fixture('pvs.capvg.json').replace('"vg_name":"capvg"', '"vg_name":""');
    expect(parsePvsReport(text)[0]?.vg).toBeNull();
  });
});

describe('malformed reports', () => {
  const lvs = fixture('lvs.capvg-thick.json');
  const cases: [string, string, RegExp][] = [
    ['empty output', '', /lvs report: output is empty/],
    ['truncated output', lvs.slice(0, lvs.length / 2), /not valid JSON \(truncated\?\)/],
    ['not an envelope', '[]', /expected \{"report"/],
    [
      'an empty report list (what a bad -o prints)',
      fixture('errors/vgs-bogus-field.stdout'),
      /"report" is an empty list/,
    ],
    ['the wrong section', '{"report":[{"vg":[]}]}', /report\[0\] has no "lv" list/],
    ['a row that is not an object', '{"report":[{"lv":["x"]}]}', /lv\[0\] is not an object/],
    ['a missing field', lvs.replace('"lv_size":"8388608", ', ''), /lv\[0\] is missing field "lv_size"/],
    [
      'a field that is not a string',
      lvs.replace('"lv_size":"8388608"', '"lv_size":8388608'),
      /lv\[0\]\.lv_size is not a string/,
    ],
    [
      'a size with a unit',
      lvs.replace('"lv_size":"8388608"', '"lv_size":"8.00m"'),
      /lv\[0\]\.lv_size "8.00m" is not a whole number of bytes/,
    ],
    [
      'a bad percentage',
      lvs.replace('"data_percent":""', '"data_percent":"n/a"'),
      /lv\[0\]\.data_percent "n\/a" is not a percentage/,
    ],
    ['an empty name', lvs.replace('"lv_name":"untagged"', '"lv_name":""'), /lv\[0\]\.lv_name is empty/],
    [
      'an unknown lv_attr letter',
      lvs.replace('"-wi-XX----"', '"Qwi-XX----"'),
      /unknown volume type "Q" at position 1/,
    ],
  ];
  for (const [what, text, message] of cases) {
    it(`rejects ${what}`, () => {
      const err = (() => {
        try {
          parseLvsReport(text);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(LvmReportError);
      expect((err as Error).message).toMatch(message);
    });
  }

  it('rejects a bad count in vgs', () => {
    const text = fixture('vgs.capvg.json').replace('"pv_count":"1"', '"pv_count":"one"');
    expect(() => parseVgsReport(text)).toThrow(/vgs report: vg\[0\]\.pv_count "one" is not a count/);
  });
});

describe('decodeLvAttr', () => {
  it('decodes every position of an active open thin volume', () => {
    expect(decodeLvAttr('Vwi-aotz--')).toEqual({
      raw: 'Vwi-aotz--',
      volumeType: 'thin',
      permissions: 'writeable',
      allocationPolicy: 'inherited',
      allocationLocked: false,
      fixedMinor: false,
      state: 'active',
      open: true,
      targetType: 'thin',
      zero: true,
      health: 'ok',
      skipActivation: false,
    });
  });

  it('decodes locked allocation, fixed minor, suspended, partial and skip activation', () => {
    expect(decodeLvAttr('srCms-s-pk')).toMatchObject({
      volumeType: 'snapshot',
      permissions: 'read-only',
      allocationPolicy: 'contiguous',
      allocationLocked: true,
      fixedMinor: true,
      state: 'suspended',
      open: false,
      targetType: 'snapshot',
      zero: false,
      health: 'partial',
      skipActivation: true,
    });
  });

  it('decodes thin pool failure states', () => {
    expect(decodeLvAttr('twi-cotzD-')).toMatchObject({
      volumeType: 'thin-pool',
      state: 'thin-pool-check-needed',
      health: 'out-of-data-space',
    });
    expect(decodeLvAttr('twi-aotzF-').health).toBe('failed');
    expect(decodeLvAttr('swi-I-s---').state).toBe('invalid-snapshot');
  });

  it.each([
    ['too short', '-wi-a----', /must be 10 characters/],
    ['bad permissions', '-xi-a-----', /unknown permissions "x" at position 2/],
    ['bad allocation', '-wz-a-----', /unknown allocation policy "z" at position 3/],
    ['bad state', '-wi-q-----', /unknown state "q" at position 5/],
    ['bad health', '-wi-a---q-', /unknown health "q" at position 9/],
    ['bad skip flag', '-wi-a----x', /unknown skip activation "x" at position 10/],
  ])('rejects %s', (_what, raw, message) => {
    expect(() => decodeLvAttr(raw)).toThrow(message);
  });
});
