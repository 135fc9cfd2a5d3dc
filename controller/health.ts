/**
 * Heartbeats: polls every node's daemon (facts and volumes) and keeps each node's
 * latest view of its volumes. A node is suspect after a missed poll and offline once
 * nothing was heard from it for `nodeTimeoutMs`; one good poll brings it back online.
 */

import type { NodeInfo, VolumeStatus } from '../daemon/api/schemas.js';
import type { DaemonClient } from './daemon-client.js';

export type NodeHealth = 'online' | 'suspect' | 'offline' | 'unknown';

export interface NodeObservation {
  node: string;
  health: NodeHealth;
  /** Last successful poll (controller clock, ms); null before the first one. */
  lastOkAt: number | null;
  missedPolls: number;
  facts: NodeInfo | null;
  /** The node's own view of its volumes, from its last successful poll. */
  volumes: Map<string, VolumeStatus>;
  /** When the poll that produced `facts` started (reservations older than this are counted). */
  factsAt: number | null;
}

export interface HealthOptions {
  heartbeatIntervalMs: number;
  nodeTimeoutMs: number;
  now: () => number;
}

/** Pure: a node's health from its poll record. */
export function healthOf(
  o: Pick<NodeObservation, 'lastOkAt' | 'missedPolls'>,
  watchedSince: number,
  now: number,
  nodeTimeoutMs: number,
): NodeHealth {
  if (o.missedPolls === 0 && o.lastOkAt !== null) return 'online';
  const silentSince = o.lastOkAt ?? watchedSince;
  if (now - silentSince >= nodeTimeoutMs) return 'offline';
  return o.lastOkAt === null ? 'unknown' : 'suspect';
}

export class HealthMonitor {
  private readonly observations = new Map<string, NodeObservation & { watchedSince: number }>();

  constructor(private readonly options: HealthOptions) {}

  watch(node: string): void {
    if (this.observations.has(node)) return;
    this.observations.set(node, {
      node,
      health: 'unknown',
      lastOkAt: null,
      missedPolls: 0,
      facts: null,
      volumes: new Map(),
      factsAt: null,
      watchedSince: this.options.now(),
    });
  }

  forget(node: string): void {
    this.observations.delete(node);
  }

  /** One heartbeat: facts and volumes, both within one poll period. */
  async poll(client: DaemonClient): Promise<NodeObservation> {
    this.watch(client.node);
    const o = this.observations.get(client.node) as NodeObservation & { watchedSince: number };
    const startedAt = this.options.now();
    // Half the node timeout, not one heartbeat: a busy daemon (a lab guest under emulation
    // answers in about a second) still answers in time, and a node is offline only when
    // it missed polls for the whole timeout.
    const deadlineMs = Math.max(
      this.options.heartbeatIntervalMs,
      Math.floor(this.options.nodeTimeoutMs / 2),
      100,
    );
    const signal = AbortSignal.timeout(deadlineMs);
    try {
      const [facts, volumes] = await Promise.all([client.nodeInfo(signal), client.listVolumes(signal)]);
      o.facts = facts;
      o.factsAt = startedAt;
      o.volumes = new Map(volumes.map((v) => [v.name, v]));
      o.lastOkAt = this.options.now();
      o.missedPolls = 0;
    } catch {
      o.missedPolls++;
    }
    o.health = healthOf(o, o.watchedSince, this.options.now(), this.options.nodeTimeoutMs);
    return o;
  }

  get(node: string): NodeObservation | undefined {
    return this.observations.get(node);
  }

  health(node: string): NodeHealth {
    return this.observations.get(node)?.health ?? 'unknown';
  }

  all(): NodeObservation[] {
    return [...this.observations.values()];
  }
}
