/**
 * Answers to the fence-peer question "may I, Primary of `volume` at `epoch`, go on
 * without my peer?". Pure: the core runs the outdate on the peer when told to, then
 * asks again with the result.
 */
import type { FenceAsk } from '../daemon/api/schemas.js';
import type { NodeHealth } from './health.js';
import type { ReplicaRecord, VolumeRecord } from './store/store.js';

export type FenceStep =
  | { kind: 'answer'; allow: boolean; reason: string; recordOutdated: boolean }
  /** Reach the peer's daemon and run outdate there, then decide again. */
  | { kind: 'outdate-peer' };

export function decideFence(
  ask: FenceAsk,
  volume: VolumeRecord | null,
  peer: ReplicaRecord | undefined,
  peerHealth: NodeHealth,
  outdateResult: 'not-tried' | 'outdated' | 'unreachable' | 'refused',
): FenceStep {
  const no = (reason: string): FenceStep => ({ kind: 'answer', allow: false, reason, recordOutdated: false });
  if (!volume) return no(`volume ${ask.volume} is unknown to the controller`);
  if (volume.primary !== ask.node)
    return no(`${ask.node} is not the Primary of record (${volume.primary ?? 'none'})`);
  if (ask.epoch !== volume.epoch)
    return no(`${ask.node} holds epoch ${ask.epoch}, current is ${volume.epoch}`);
  if (!peer)
    return {
      kind: 'answer',
      allow: true,
      reason: `dead: ${ask.peer} is no replica of ${ask.volume}`,
      recordOutdated: false,
    };
  if (peer.outdatedAtEpoch !== null && peer.outdatedAtEpoch >= volume.epoch)
    return {
      kind: 'answer',
      allow: true,
      reason: `outdated: ${ask.peer} is recorded outdated at epoch ${peer.outdatedAtEpoch}`,
      recordOutdated: false,
    };
  if (outdateResult === 'not-tried') return { kind: 'outdate-peer' };
  if (outdateResult === 'outdated')
    return {
      kind: 'answer',
      allow: true,
      reason: `outdated: ${ask.peer}'s daemon outdated its disk`,
      recordOutdated: true,
    };
  if (outdateResult === 'unreachable' && peerHealth === 'offline')
    return {
      kind: 'answer',
      allow: true,
      reason: `dead: ${ask.peer} is offline by heartbeat; recorded outdated`,
      recordOutdated: true,
    };
  return no(`${ask.peer} is ${peerHealth} and not confirmed outdated (${outdateResult}); stay frozen`);
}
