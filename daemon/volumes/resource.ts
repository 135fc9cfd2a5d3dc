import { createHash } from 'node:crypto';
import type { DrbdGeneration, OptionValue, ResourceSpec } from '../../drbd/index.js';
import { renderResourceFile } from '../../drbd/index.js';
import type { VolumeSpec } from '../api/schemas.js';
import type { EngineConfig, ResyncRates } from './service.js';

/**
 * Fast failure detection (drbd.conf(5)): ping every 1 s, a missing ping answer counts
 * after 0.5 s (ping-timeout is in tenths), a missing write ack after 0.9 s. drbd.conf
 * requires `timeout` (tenths) below both connect-int and ping-int (seconds) times ten.
 */
export const NET_OPTIONS = {
  'ping-int': 1,
  'ping-timeout': 5,
  timeout: 9,
  'connect-int': 1,
  // Split-brain recovery only where no data can be lost; two Primaries never auto-resolve.
  'after-sb-0pri': 'discard-zero-changes',
  'after-sb-1pri': 'discard-secondary',
  'after-sb-2pri': 'disconnect',
} as const;

/**
 * Resync bounds unless daemon.yaml says otherwise. DRBD's own c-min-rate (250 KiB/s) is
 * all a resync keeps while the volume sees any application I/O (measured in the lab: a
 * full sync under a small writer ran at 236 KiB/s), days for a large volume; 10 MiB/s is
 * a small share of a 10 GbE link or an SSD. c-max-rate stays at DRBD's 100 MiB/s.
 */
export const DEFAULT_RESYNC_RATES: ResyncRates = { minRate: '10M', maxRate: '100M' };

/**
 * `disk {}` of every resource: detach a failing backing disk (the peer serves I/O), and
 * the dynamic resync controller (c-plan-ahead 2 s, DRBD's default) with the daemon's
 * bounds and 1 MiB in flight (DRBD's 50 KiB starves a resync over a link with latency).
 */
export function diskOptions(resync: ResyncRates): Record<string, OptionValue> {
  return {
    'on-io-error': 'detach',
    'c-plan-ahead': 20,
    'c-fill-target': '1M',
    'c-min-rate': resync.minRate,
    'c-max-rate': resync.maxRate,
  };
}

/**
 * DRBD 9's resource options for a resource of `nodeCount` nodes, all with a disk, whose
 * arbiter is the controller (DRBD 8.4 has no `options` for this; it gets none).
 *
 * - `auto-promote no`: the daemon promotes and demotes on the controller's word; a mount
 *   or an open for writing must never make a node Primary by itself (9 defaults to yes).
 * - Two nodes: `quorum off`, said explicitly. A lone survivor of a two-node resource is
 *   never a majority, and DRBD only keeps quorum for the last node standing when its
 *   peer left gracefully (was marked Outdated), not when it crashed; so `quorum majority`
 *   would freeze the survivor of every crash and make failover impossible. One writer is
 *   kept by `fencing resource-and-stonith` instead, as on 8.4: the Primary that loses its
 *   peer freezes I/O and its fence-peer handler asks the controller.
 * - Three nodes or more (a third, tiebreaking replica): `quorum majority` with
 *   `on-no-quorum suspend-io`, so a Primary cut off from the majority freezes instead of
 *   failing writes with EIO (which would turn the tenant's filesystem read-only until a
 *   remount); `on-no-data-accessible` follows `on-no-quorum`, as drbd.conf-9.0(5) asks,
 *   because it takes precedence. Fencing stays on as well: quorum keeps a minority from
 *   writing, the controller still decides who is promoted.
 * `on-suspended-primary-outdated` keeps its default (`disconnect`, needs 9.1.7 to set):
 * a frozen former Primary stays isolated until the controller's cleanup of a returning
 * node turns it into a Secondary.
 */
export function drbd9ResourceOptions(nodeCount: number): Record<string, OptionValue> {
  const promoteByDaemon = { 'auto-promote': false };
  if (nodeCount < 3) return { ...promoteByDaemon, quorum: 'off' };
  return {
    ...promoteByDaemon,
    quorum: 'majority',
    'on-no-quorum': 'suspend-io',
    'on-no-data-accessible': 'suspend-io',
  };
}

/** `res` with the resource options its node count calls for on `generation` (none on 8.4). */
export function withResourceOptions(res: ResourceSpec, generation: DrbdGeneration): ResourceSpec {
  if (generation !== '9') return res;
  return { ...res, options: drbd9ResourceOptions(res.nodes.length) };
}

/** The LV (and DRBD backing disk) of a volume. */
export function lvPath(config: EngineConfig, name: string): string {
  return `/dev/${config.vg}/${name}`;
}

export function drbdDevice(minor: number): string {
  return `/dev/drbd${minor}`;
}

/**
 * The DRBD resource of a volume. Fencing and handlers come from the engine's own config,
 * never from the spec: a request cannot turn them off or point them elsewhere.
 * Returns null when there is no peer to render (DRBD 8.4 needs exactly two nodes).
 */
export function resourceOf(
  config: EngineConfig,
  name: string,
  spec: VolumeSpec,
  generation: DrbdGeneration,
): ResourceSpec | null {
  if (!spec.peer) return null;
  const disk = lvPath(config, name);
  const hosts = [config.nodeName, spec.peer.node].sort();
  // Both replicas must render the same node ids (DRBD 9): ordered by host name.
  const nodeId = (host: string) => hosts.indexOf(host);
  const res: ResourceSpec = {
    name,
    protocol: 'C',
    port: spec.drbd.port,
    volumes: [{ volume: 0, minor: spec.drbd.minor }],
    nodes: [
      { hostname: config.nodeName, address: config.address, nodeId: nodeId(config.nodeName), disks: [disk] },
      { hostname: spec.peer.node, address: spec.peer.address, nodeId: nodeId(spec.peer.node), disks: [disk] },
    ],
    net: { ...NET_OPTIONS },
    disk: diskOptions(config.resync),
    sharedSecret: spec.drbd.secret,
    cramHmacAlg: 'sha256',
    // Mandatory: a Primary that loses its peer freezes I/O until the fence-peer handler
    // (which asks the controller) answers. DRBD forbids this with protocol A; xlss uses C.
    fencing: 'resource-and-stonith',
    handlers: {
      'fence-peer': config.handlers.fencePeer,
      'after-resync-target': config.handlers.afterResyncTarget,
    },
  };
  return withResourceOptions(res, generation);
}

/** The `.res` text and its hash, or null without a peer. */
export function renderVolumeResource(
  config: EngineConfig,
  name: string,
  spec: VolumeSpec,
  generation: DrbdGeneration,
): { text: string; hash: string } | null {
  const res = resourceOf(config, name, spec, generation);
  if (!res) return null;
  const text = renderResourceFile(res, generation);
  return { text, hash: createHash('sha256').update(text).digest('hex') };
}

/**
 * The small file `drbdadm -c` reads for one resource: no phoning home, and the live
 * `.res` by include, so every command addresses exactly one resource's config and one
 * broken file cannot stop the others.
 */
export function wrapperConfig(resFile: string): string {
  return `# Written by xlss.\nglobal {\n  usage-count no;\n}\ninclude "${resFile}";\n`;
}
