import { describe, expect, it } from 'vitest';
import type { ResourceState } from '../../drbd/index.js';
import { decodeLvAttr, type LvInfo } from '../../lvm/index.js';
import { planVolume, type VolumeFacts } from './plan.js';
import { sampleVolumeSpec } from './steady-pass.js';
import { newRecord } from './store.js';

const MiB = 1024 * 1024;
const thinLv = (size = 64 * MiB, tags = ['xlss']): LvInfo => ({
  uuid: 'u',
  name: 'vol0',
  vg: 'xlss',
  path: '/dev/xlss/vol0',
  attr: decodeLvAttr('Vwi-a-tz--'),
  sizeBytes: BigInt(size),
  tags,
  pool: 'pool',
  origin: null,
  originSizeBytes: null,
  dataPercent: 0,
  snapPercent: null,
  metadataPercent: null,
  active: true,
});

function res(o: {
  role?: 'Primary' | 'Secondary';
  disk?: string;
  conn?: string;
  peerRole?: string;
  peerDisk?: string;
  repl?: string;
}): ResourceState {
  return {
    name: 'vol0',
    role: o.role ?? 'Secondary',
    suspended: 'no',
    devices: { 0: { volume: 0, minor: 0, disk: (o.disk ?? 'UpToDate') as never, sizeKiB: 65496 } },
    connections: {
      1: {
        peerNodeId: 1,
        connection: (o.conn ?? 'Connected') as never,
        peerRole: (o.peerRole ?? 'Secondary') as never,
        peerDevices: {
          0: {
            volume: 0,
            replication: (o.repl ?? 'Established') as never,
            peerDisk: (o.peerDisk ?? 'UpToDate') as never,
          },
        },
      },
    },
  };
}

function facts(o: Partial<VolumeFacts> & { recordPatch?: object; specPatch?: object } = {}): VolumeFacts {
  const record = {
    ...newRecord('vol0', { ...sampleVolumeSpec(0), ...o.specPatch }),
    wiped: true,
    adjustedConfig: 'h1',
    ...o.recordPatch,
  };
  return {
    record,
    lv: thinLv(),
    lvOdd: null,
    res: res({ role: 'Primary' }),
    resOdd: null,
    mount: { path: '/mnt/xlss/vol0', fstype: 'ext4' },
    wantedConfig: 'h1',
    liveConfig: 'h1',
    ownerTag: 'xlss',
    thinPool: 'pool',
    ...o,
  };
}

/** A Primary whose peer is not connected (`conn`): peer role and disk unknown, no replication. */
const withoutPeer = (conn: string) =>
  res({ role: 'Primary', conn, peerRole: 'Unknown', peerDisk: 'DUnknown', repl: 'Off' });

describe('planVolume', () => {
  const rows: [string, VolumeFacts, string[] | { error: RegExp } | { waiting: RegExp }][] = [
    ['converged: nothing', facts(), []],
    ['no LV: create it', facts({ lv: null, res: null, mount: null, liveConfig: null }), ['create-lv']],
    [
      'LV created this pass, not in a report yet: wipe it, never lvcreate again',
      facts({
        lv: null,
        lvUnseen: true,
        res: null,
        mount: null,
        liveConfig: null,
        recordPatch: { wiped: false },
      }),
      ['wipe'],
    ],
    [
      'LV created this pass, wiped: config and DRBD go on without a report',
      facts({ lv: null, lvUnseen: true, res: null, mount: null }),
      ['up'],
    ],
    [
      'LV not wiped yet: wipe before anything DRBD',
      facts({ res: null, mount: null, recordPatch: { wiped: false } }),
      ['wipe'],
    ],
    ['no live .res (e.g. /etc lost): write it', facts({ liveConfig: null }), ['write-config']],
    ['.res differs: write it', facts({ liveConfig: 'old' }), ['write-config']],
    ['resource down: up', facts({ res: null, mount: null }), ['up']],
    ['config written but not adjusted', facts({ recordPatch: { adjustedConfig: 'old' } }), ['adjust']],
    [
      'fresh pair, this side to be Primary: initial sync decision',
      facts({ res: res({ disk: 'Inconsistent', peerDisk: 'Inconsistent' }), mount: null }),
      ['initial-sync'],
    ],
    [
      'fresh pair, this side Secondary: waits for the other',
      facts({
        res: res({ disk: 'Inconsistent', peerDisk: 'Inconsistent' }),
        mount: null,
        specPatch: { role: 'secondary' },
      }),
      [],
    ],
    ['UpToDate Secondary, peer Secondary: promote', facts({ res: res({}), mount: null }), ['promote']],
    [
      'Primary whose DRBD gave up on its peer (StandAlone): connect again',
      facts({
        res: withoutPeer('StandAlone'),
      }),
      ['connect'],
    ],
    [
      'StandAlone after a split brain: left for an operator',
      facts({
        res: {
          ...withoutPeer('StandAlone'),
          lastHelper: { helper: 'split-brain', status: 0 },
        },
      }),
      [],
    ],
    [
      'peer Primary: never promote',
      facts({ res: res({ peerRole: 'Primary' }), mount: null }),
      { waiting: /peer is Primary/ },
    ],
    [
      'Outdated disk: never promote',
      facts({ res: res({ disk: 'Outdated' }), mount: null }),
      { waiting: /Outdated/ },
    ],
    [
      "disconnected: promotion is the controller's (API) call",
      facts({
        res: res({ conn: 'Connecting', peerRole: 'Unknown', peerDisk: 'DUnknown', repl: 'Off' }),
        mount: null,
      }),
      { waiting: /peer before promotion/ },
    ],
    ['Primary, not mounted: mount', facts({ mount: null }), ['mount']],
    ['spec secondary, mounted: unmount first', facts({ specPatch: { role: 'secondary' } }), ['unmount']],
    ['spec secondary, Primary: demote', facts({ mount: null, specPatch: { role: 'secondary' } }), ['demote']],
    [
      'bigger spec: grow the LV',
      facts({
        specPatch: { sizeBytes: 128 * MiB },
        recordPatch: { drbdGrownTo: 64 * MiB, fsGrownTo: 64 * MiB },
      }),
      ['extend-lv'],
    ],
    [
      'LV grown: DRBD next',
      facts({
        lv: thinLv(128 * MiB),
        specPatch: { sizeBytes: 128 * MiB },
        recordPatch: { drbdGrownTo: 64 * MiB, fsGrownTo: 64 * MiB },
      }),
      ['drbd-resize'],
    ],
    [
      'LV grown, peer away: waits and says so',
      facts({
        lv: thinLv(128 * MiB),
        res: withoutPeer('Connecting'),
        specPatch: { sizeBytes: 128 * MiB },
        recordPatch: { drbdGrownTo: 64 * MiB, fsGrownTo: 64 * MiB },
      }),
      { waiting: /peer is unreachable/ },
    ],
    [
      'DRBD grown: the filesystem last',
      facts({
        lv: thinLv(128 * MiB),
        specPatch: { sizeBytes: 128 * MiB },
        recordPatch: { drbdGrownTo: 128 * MiB, fsGrownTo: 64 * MiB },
      }),
      ['grow-fs'],
    ],
    [
      'odd LV row: failed, named',
      facts({ lvOdd: 'lv_attr "Xwi-a-----": unknown volume type "X"' }),
      { error: /unknown volume type/ },
    ],
    [
      'LV without the owner tag: never touched',
      facts({ lv: thinLv(64 * MiB, []) }),
      { error: /not tagged "xlss"/ },
    ],
    ['odd DRBD line: failed, named', facts({ resOdd: 'unknown disk value "Weird"' }), { error: /Weird/ }],
    ['thick spec over a thin LV: failed', facts({ specPatch: { thin: false } }), { error: /thick LV/ }],
    ['delete: unmount first', facts({ recordPatch: { deleting: true } }), ['unmount']],
    [
      'delete of a Primary frozen by fencing: fail its held writes before anything (umount would hang)',
      facts({
        res: {
          ...withoutPeer('Connecting'),
          suspended: 'fencing',
        },
        recordPatch: { deleting: true },
      }),
      ['fail-frozen-io'],
    ],
    [
      'delete of an LV no report has shown yet: waits (never forgets it)',
      facts({ mount: null, res: null, lv: null, lvUnseen: true, recordPatch: { deleting: true } }),
      { waiting: /not in an LVM report/ },
    ],
    ['delete: then Secondary', facts({ mount: null, recordPatch: { deleting: true } }), ['demote']],
    ['delete: then down', facts({ mount: null, res: res({}), recordPatch: { deleting: true } }), ['down']],
    [
      'delete: then the LV',
      facts({ mount: null, res: null, recordPatch: { deleting: true } }),
      ['remove-lv'],
    ],
    [
      'delete after a reboot that left the LV inactive: activate it before its ends are zeroed',
      facts({ mount: null, res: null, lv: { ...thinLv(), active: false }, recordPatch: { deleting: true } }),
      ['activate-lv'],
    ],
    [
      'present after a reboot that left the LV inactive: activate it before DRBD needs the device',
      facts({ mount: null, res: null, lv: { ...thinLv(), active: false } }),
      ['activate-lv'],
    ],
    [
      'delete: then the config',
      facts({ mount: null, res: null, lv: null, recordPatch: { deleting: true } }),
      ['remove-config'],
    ],
    [
      'delete: .res already gone',
      facts({ mount: null, res: null, lv: null, liveConfig: null, recordPatch: { deleting: true } }),
      ['forget'],
    ],
  ];
  it.each(rows)('%s', (_name, f, want) => {
    const plan = planVolume(f);
    if (Array.isArray(want)) {
      expect(plan.error).toBeNull();
      expect(plan.steps).toEqual(want);
    } else if ('error' in want) {
      expect(plan.steps).toEqual([]);
      expect(plan.error).toMatch(want.error);
    } else {
      expect(plan.steps).toEqual([]);
      expect(plan.waiting).toMatch(want.waiting);
    }
  });
});
