import { SYNCING_STATES } from '../../drbd/index.js';
import type { ObservedVolume, VolumeState, VolumeStatus } from '../api/schemas.js';
import { deviceOf, peerDeviceOf, peerOf, type VolumeFacts, type VolumePlan } from './plan.js';

/** What the API shows for one volume: spec, observed state, why it is not ready. */
export function volumeStatus(f: VolumeFacts, plan: VolumePlan | null, error: string | null): VolumeStatus {
  const observed = observedOf(f);
  const d = observed.drbd;
  const reason = error ?? plan?.error ?? null;
  let state: VolumeState;
  if (f.record.deleting) state = 'deleting';
  else if (reason) state = 'failed';
  else if (!f.lv || !d || (d.disk === 'Inconsistent' && d.syncPercent === null)) state = 'provisioning';
  else if (d.syncPercent !== null) state = 'syncing';
  else if (f.record.spec.peer && (d.connection !== 'Connected' || d.peerDisk !== 'UpToDate'))
    state = 'degraded';
  else if ((plan?.steps.length ?? 0) > 0 || plan?.waiting) state = 'provisioning';
  else state = 'ready';
  const progress =
    d && d.syncPercent !== null
      ? {
          operation: 'resync',
          percent: d.syncPercent,
          detail: `${d.replication}, ${d.outOfSyncBytes} bytes out of sync`,
        }
      : null;
  return {
    name: f.record.name,
    spec: f.record.spec,
    state,
    error: reason ?? (plan?.waiting ? `waiting: ${plan.waiting}` : null),
    observed,
    epoch: f.record.epoch,
    lastBackupAt: null,
    progress,
  };
}

function observedOf(f: VolumeFacts): ObservedVolume {
  const dev = deviceOf(f.res);
  const peer = peerOf(f.res);
  const pd = peerDeviceOf(f.res);
  const syncing = pd !== null && SYNCING_STATES.includes(pd.replication);
  return {
    lv: f.lv?.path
      ? { path: f.lv.path, sizeBytes: Number(f.lv.sizeBytes), thin: f.lv.attr.volumeType === 'thin' }
      : null,
    drbd:
      f.res && dev
        ? {
            minor: dev.minor ?? f.record.spec.drbd.minor,
            role: f.res.role,
            disk: dev.disk,
            suspended: f.res.suspended !== 'no',
            connection: peer?.connection ?? 'StandAlone',
            peerRole: peer?.peerRole ?? 'Unknown',
            peerDisk: pd?.peerDisk ?? 'DUnknown',
            replication: pd?.replication ?? 'Off',
            outOfSyncBytes: (pd?.outOfSyncKiB ?? 0) * 1024,
            syncPercent: syncing ? (pd?.resyncDonePercent ?? 0) : null,
            splitBrain: f.res.lastHelper?.helper === 'split-brain',
          }
        : null,
    mount: f.mount ? { path: f.mount.path, fstype: f.mount.fstype } : null,
  };
}
