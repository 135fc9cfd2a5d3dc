import { createHash } from 'node:crypto';
import type { DrbdGeneration, ResourceSpec } from '../../drbd/index.js';
import { renderResourceFile } from '../../drbd/index.js';
import type { VolumeSpec } from '../api/schemas.js';
import type { EngineConfig } from './service.js';

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
  _generation: DrbdGeneration,
): ResourceSpec | null {
  if (!spec.peer) return null;
  const disk = lvPath(config, name);
  const hosts = [config.nodeName, spec.peer.node].sort();
  // Both replicas must render the same node ids (DRBD 9): ordered by host name.
  const nodeId = (host: string) => hosts.indexOf(host);
  return {
    name,
    protocol: 'C',
    port: spec.drbd.port,
    volumes: [{ volume: 0, minor: spec.drbd.minor }],
    nodes: [
      { hostname: config.nodeName, address: config.address, nodeId: nodeId(config.nodeName), disks: [disk] },
      { hostname: spec.peer.node, address: spec.peer.address, nodeId: nodeId(spec.peer.node), disks: [disk] },
    ],
    net: { ...NET_OPTIONS },
    disk: { 'on-io-error': 'detach' },
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
