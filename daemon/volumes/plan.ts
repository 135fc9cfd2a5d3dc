import type { ConnectionInfo, DeviceState, PeerDeviceState, ResourceState } from '../../drbd/index.js';
import type { LvInfo } from '../../lvm/index.js';
import type { VolumeRecord } from './store.js';
import type { MountInfo } from './view.js';

/** One change the engine can make; apply runs one, then observes again. */
export type StepKind =
  | 'create-lv'
  | 'activate-lv'
  | 'wipe'
  | 'write-config'
  | 'extend-lv'
  | 'up'
  | 'adjust'
  | 'initial-sync'
  | 'drbd-resize'
  | 'resume-io'
  | 'fail-frozen-io'
  | 'connect'
  | 'promote'
  | 'mount'
  | 'grow-fs'
  | 'unmount'
  | 'demote'
  | 'down'
  | 'remove-lv'
  | 'remove-config'
  | 'forget';

/** What plan knows about one volume: its record and its slice of the node view. */
export interface VolumeFacts {
  record: VolumeRecord;
  lv: LvInfo | null;
  /** No LV in the report, but this engine created it since (lvcreate succeeded). */
  lvUnseen?: boolean;
  lvOdd: string | null;
  res: ResourceState | null;
  resOdd: string | null;
  mount: MountInfo | null;
  /** Hash of the `.res` the spec renders to; null without a peer. */
  wantedConfig: string | null;
  /** Hash of the live `.res` on disk; null when there is none. */
  liveConfig: string | null;
  ownerTag: string;
  thinPool: string;
}

export interface VolumePlan {
  steps: StepKind[];
  /** The volume cannot converge: why (it is marked failed; the others go on). */
  error: string | null;
  /** Converging, but waiting for something outside this node (the peer, a resync). */
  waiting: string | null;
}

const done = (): VolumePlan => ({ steps: [], error: null, waiting: null });
const step = (...steps: StepKind[]): VolumePlan => ({ steps, error: null, waiting: null });
const fail = (error: string): VolumePlan => ({ steps: [], error, waiting: null });
const wait = (waiting: string): VolumePlan => ({ steps: [], error: null, waiting });

export function peerOf(res: ResourceState | null): ConnectionInfo | null {
  return res ? (Object.values(res.connections)[0] ?? null) : null;
}
export function deviceOf(res: ResourceState | null): DeviceState | null {
  return res?.devices[0] ?? null;
}
export function peerDeviceOf(res: ResourceState | null): PeerDeviceState | null {
  return peerOf(res)?.peerDevices[0] ?? null;
}

/**
 * Primary, I/O suspended by DRBD's fencing, peer not connected: what a Primary looks like
 * after `fencing resource-and-stonith` froze it and no handler answer released it.
 * (8.4's events2 says `suspended:fencing`; `yes` is taken as the same.)
 */
export function frozenByFencing(res: ResourceState): boolean {
  return (
    res.role === 'Primary' && /fencing|^yes$/.test(res.suspended) && peerOf(res)?.connection !== 'Connected'
  );
}

/** Desired record × observed facts → the next steps for one volume. Pure. */
export function planVolume(f: VolumeFacts): VolumePlan {
  return f.record.deleting ? planDelete(f) : planPresent(f);
}

function planDelete(f: VolumeFacts): VolumePlan {
  // A Primary frozen by fencing that is being deleted (the controller failed it over and
  // cleans it up): its held writes must fail, never complete (they would be acknowledged
  // and then thrown away), and until they do, umount and demote hang in the kernel.
  if (f.res && frozenByFencing(f.res)) return step('fail-frozen-io');
  if (f.mount) return step('unmount');
  if (f.res?.role === 'Primary') return step('demote');
  if (f.res) return step('down');
  // An odd row still names an LV: leave it alone rather than guess.
  if (f.lvOdd) return fail(`LV ${f.record.name}: ${f.lvOdd}`);
  // Never forget a volume whose LV only lvcreate has vouched for: removal needs a report.
  if (f.lvUnseen) return wait('the LV just created is not in an LVM report yet');
  if (f.lv) {
    if (!f.lv.tags.includes(f.ownerTag)) return fail(`LV ${f.lv.name} is not tagged "${f.ownerTag}"`);
    // Its ends are zeroed before removal: that needs the device (inactive after a reboot
    // where nothing activated the VG).
    if (f.lv.active === false) return step('activate-lv');
    return step('remove-lv');
  }
  if (f.liveConfig !== null) return step('remove-config');
  return step('forget');
}

function planPresent(f: VolumeFacts): VolumePlan {
  const { record, lv } = f;
  const spec = record.spec;
  if (f.lvOdd) return fail(`LV ${record.name}: ${f.lvOdd}`);
  if (!lv && !f.lvUnseen) return step('create-lv');
  if (lv) {
    if (!lv.tags.includes(f.ownerTag))
      return fail(`LV ${lv.vg}/${lv.name} exists but is not tagged "${f.ownerTag}": xlss does not touch it`);
    const isThin = lv.attr.volumeType === 'thin' && lv.origin === null;
    const isThick = lv.attr.volumeType === 'plain' || lv.attr.volumeType === 'origin';
    if (spec.thin ? !isThin || lv.pool !== f.thinPool : !isThick)
      return fail(
        `LV ${lv.name} is ${lv.attr.raw}, not the ${spec.thin ? `thin LV in ${f.thinPool}` : 'thick LV'} the spec wants`,
      );
    // After a reboot the LV may be inactive (nothing autoactivated the VG): no device for DRBD.
    if (lv.active === false) return step('activate-lv');
  }
  if (!record.wiped) return step('wipe');
  if (f.wantedConfig === null && f.liveConfig === null)
    return fail('no peer to replicate with: DRBD 8.4 needs exactly two nodes');
  if (f.wantedConfig !== null && f.liveConfig !== f.wantedConfig) return step('write-config');
  // An unseen LV was just made at the spec's size (lvcreate rounds up, never down).
  if (lv && lv.sizeBytes < BigInt(spec.sizeBytes)) return step('extend-lv');
  if (f.resOdd) return fail(`DRBD ${record.name}: ${f.resOdd}`);
  if (!f.res) return step('up');
  if (f.wantedConfig !== null && record.adjustedConfig !== f.wantedConfig) return step('adjust');

  const res = f.res;
  const dev = deviceOf(res);
  const peer = peerOf(res);
  const pd = peerDeviceOf(res);
  const connected = peer?.connection === 'Connected';
  if (!dev) return wait('DRBD device not attached yet');
  if (dev.disk === 'Diskless' || dev.disk === 'Failed')
    return fail(`DRBD disk is ${dev.disk}: the backing LV is detached`);

  // A Primary frozen by fencing (its peer lost): once the handler has given up, the
  // engine asks the controller again and resumes only on its allow.
  if (frozenByFencing(res)) {
    if (res.lastHelper?.helper === 'fence-peer' && res.lastHelper.status === undefined)
      return wait('I/O frozen: the fence-peer handler is asking the controller');
    return step('resume-io');
  }

  // DRBD never retries a connection it gave up on (StandAlone), e.g. after a handshake
  // broken off by a stale peer: seen in the lab when a failed-over Primary's old node came
  // back and connected to the new Primary just before its cleanup took it down. After a
  // split brain it stays for an operator.
  if (spec.peer && (!peer || peer.connection === 'StandAlone') && res.lastHelper?.helper !== 'split-brain')
    return step('connect');

  // A brand-new volume: both sides connected, both Inconsistent, no resync chosen by
  // DRBD. The side that is to be Primary decides (after checking its generation ids).
  if (
    spec.role === 'primary' &&
    res.role === 'Secondary' &&
    dev.disk === 'Inconsistent' &&
    connected &&
    pd?.replication === 'Established' &&
    pd.peerDisk === 'Inconsistent'
  )
    return step('initial-sync');

  if (record.drbdGrownTo < spec.sizeBytes) {
    // Connected is enough: the peer may have grown the device already (even while the
    // new area syncs); the step looks before it runs anything.
    if (connected) return step('drbd-resize');
    return wait('the peer is unreachable: DRBD grows when it returns');
  }

  if (spec.role === 'secondary') {
    if (f.mount) return step('unmount');
    if (res.role === 'Primary') return step('demote');
    return done();
  }
  if (res.role !== 'Primary') {
    if (dev.disk !== 'UpToDate') return wait(`local disk is ${dev.disk}; promotion waits for UpToDate`);
    if (peer?.peerRole === 'Primary') return wait('the peer is Primary');
    // Disconnected: only the promote API (with the controller's fencing) may go on alone.
    if (spec.peer && !connected) return wait('waiting for the peer before promotion');
    return step('promote');
  }
  if (spec.filesystem && spec.mountPoint && !f.mount) return step('mount');
  if (f.mount && record.fsGrownTo < spec.sizeBytes) return step('grow-fs');
  return done();
}
