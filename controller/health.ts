/**
 * Heartbeats: polls each node's daemon for its volumes (the liveness check, cheap for the
 * daemon: its last observation) and, less often, for its facts (VG, disks, load: the
 * daemon runs LVM commands for those). Keeps each node's latest view of its volumes. A
 * node is suspect after SUSPECT_AFTER_MISSED polls missed in a row (one late answer from
 * a busy node is forgiven) and offline once nothing was heard from it for
 * `nodeTimeoutMs`; one good poll brings it back online.
 */

import type { NodeInfo, VolumeStatus } from '../daemon/api/schemas.js';
import type { DaemonClient } from './daemon-client.js';

export type NodeHealth = 'online' | 'suspect' | 'offline' | 'unknown';

export interface NodeObservation {
  node: string;
  health: NodeHealth;
  /** Last successful poll (controller clock, ms); null before the first one. */
  lastOkAt: number | null;
  /** Polls missed in a row since the last good one. */
  missedPolls: number;
  facts: NodeInfo | null;
  /** The node's own view of its volumes, from its last successful poll. */
  volumes: Map<string, VolumeStatus>;
  /** When the request that produced `facts` started (reservations older than this are counted). */
  factsAt: number | null;
  /**
   * Per volume: when a poll first showed its DRBD connection lost after an earlier poll
   * showed it Connected (controller clock). Absent while connected, and for a connection
   * never seen up (a new volume still connecting is not a lost peer).
   */
  connectionLostAt: Map<string, number>;
}

const isConnected = (v: VolumeStatus | undefined) => v?.observed.drbd?.connection === 'Connected';

export interface HealthOptions {
  heartbeatIntervalMs: number;
  nodeTimeoutMs: number;
  /** Deadline of one poll; default 0.8 heartbeat (a poll ends before the next beat). */
  pollTimeoutMs?: number;
  /** Facts are asked again when older than this; default 5 heartbeats, at least 5 s. */
  factsIntervalMs?: number;
  now: () => number;
}

/**
 * Heard from within the node timeout: good enough to place on, sync from or switch over
 * to (a busy node's late answers make it suspect for a moment). Never enough on its own
 * to fail a node over: that takes offline, or suspect confirmed by the peer's DRBD view.
 */
export function reachable(h: NodeHealth): boolean {
  return h === 'online' || h === 'suspect';
}

/** Polls missed in a row that make a node suspect. */
export const SUSPECT_AFTER_MISSED = 2;

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
  if (o.lastOkAt === null) return 'unknown';
  return o.missedPolls >= SUSPECT_AFTER_MISSED ? 'suspect' : 'online';
}

type Record_ = NodeObservation & { watchedSince: number; factsInFlight: Promise<boolean> | null };

export class HealthMonitor {
  private readonly observations = new Map<string, Record_>();
  readonly pollTimeoutMs: number;
  private readonly factsIntervalMs: number;

  constructor(private readonly options: HealthOptions) {
    this.pollTimeoutMs = Math.max(
      options.pollTimeoutMs ?? Math.floor(options.heartbeatIntervalMs * 0.8),
      100,
    );
    this.factsIntervalMs = options.factsIntervalMs ?? Math.max(5 * options.heartbeatIntervalMs, 5000);
  }

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
      connectionLostAt: new Map(),
      watchedSince: this.options.now(),
      factsInFlight: null,
    });
  }

  forget(node: string): void {
    this.observations.delete(node);
  }

  private record(node: string): Record_ {
    this.watch(node);
    return this.observations.get(node) as Record_;
  }

  /** One heartbeat: the node's volumes within the poll deadline, or a missed poll. */
  async poll(client: DaemonClient): Promise<NodeObservation> {
    const o = this.record(client.node);
    try {
      const volumes = await client.listVolumes(AbortSignal.timeout(this.deadlineFor(o.missedPolls)));
      const at = this.options.now();
      const before = o.volumes;
      o.volumes = new Map(volumes.map((v) => [v.name, v]));
      for (const [name, v] of o.volumes) {
        if (isConnected(v)) o.connectionLostAt.delete(name);
        else if (isConnected(before.get(name))) o.connectionLostAt.set(name, at);
      }
      for (const name of o.connectionLostAt.keys()) if (!o.volumes.has(name)) o.connectionLostAt.delete(name);
      o.lastOkAt = at;
      o.missedPolls = 0;
      // A node is reported online with its facts (placement needs them), so the first
      // good poll waits for them.
      if (o.facts === null) await this.refreshFacts(client);
    } catch {
      o.missedPolls++;
    }
    o.health = healthOf(o, o.watchedSince, this.options.now(), this.options.nodeTimeoutMs);
    return o;
  }

  /**
   * The deadline of a node's next poll: the poll timeout, doubled for each poll missed in
   * a row, up to half the node timeout. A node that is only slow (a busy lab guest) gets
   * answers through and stays online; a dead one is suspect after two short waits.
   */
  deadlineFor(missedPolls: number): number {
    const cap = Math.max(this.pollTimeoutMs, Math.floor(this.options.nodeTimeoutMs / 2));
    return Math.min(this.pollTimeoutMs * 2 ** Math.min(missedPolls, 16), cap);
  }

  /** Whether the node's facts are older than the facts interval (or missing). */
  factsDue(node: string): boolean {
    const o = this.record(node);
    return o.factsAt === null || this.options.now() - o.factsAt >= this.factsIntervalMs;
  }

  /**
   * The node's facts, asked with the node timeout as deadline (they cost the daemon LVM
   * commands); one request per node at a time. A failure is not a missed heartbeat.
   * Resolves true when new facts arrived.
   */
  refreshFacts(client: DaemonClient): Promise<boolean> {
    const o = this.record(client.node);
    if (o.factsInFlight) return o.factsInFlight;
    const startedAt = this.options.now();
    const p = client
      .nodeInfo(AbortSignal.timeout(this.options.nodeTimeoutMs))
      .then(
        (facts) => {
          o.facts = facts;
          o.factsAt = startedAt;
          return true;
        },
        () => false,
      )
      .finally(() => {
        o.factsInFlight = null;
      });
    o.factsInFlight = p;
    return p;
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
