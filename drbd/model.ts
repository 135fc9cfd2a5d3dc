/** Which DRBD kernel generation a file or command targets; their config syntax and verbs differ. */
export type DrbdGeneration = '8.4' | '9';

export type Protocol = 'A' | 'B' | 'C';

export type FencingPolicy = 'dont-care' | 'resource-only' | 'resource-and-stonith';

export const HANDLER_NAMES = [
  'after-resync-target',
  'before-resync-source',
  'before-resync-target',
  'disconnected',
  'fence-peer',
  'initial-split-brain',
  'local-io-error',
  'out-of-sync',
  'pri-lost',
  'pri-lost-after-sb',
  'pri-on-incon-degr',
  'quorum-lost',
  'split-brain',
  'unfence-peer',
] as const;
export type HandlerName = (typeof HANDLER_NAMES)[number];

/** Handlers DRBD 8.4 does not know; drbdadm-84 would reject the file. */
export const HANDLERS_9_ONLY: readonly HandlerName[] = [
  'before-resync-source',
  'disconnected',
  'out-of-sync',
  'quorum-lost',
  'unfence-peer',
];

export type OptionValue = string | number | boolean;

export interface DrbdVolume {
  /** Volume number inside the resource (0 for the usual one-volume resource). */
  volume: number;
  minor: number;
}

export interface DrbdNode {
  /** Must equal the node's `uname -n`: DRBD picks its own `on` section by it. */
  hostname: string;
  address: string;
  /** Defaults to the resource's port. */
  port?: number;
  /** Required for DRBD 9, ignored for 8.4. */
  nodeId?: number;
  /** Backing device per volume, same order as `ResourceSpec.volumes`. */
  disks: string[];
}

export interface ResourceSpec {
  name: string;
  protocol: Protocol;
  port: number;
  volumes: DrbdVolume[];
  nodes: DrbdNode[];
  /** `net {}` options by their drbd.conf name, e.g. `{ 'ping-int': 1 }`. */
  net?: Record<string, OptionValue>;
  /** `disk {}` options by their drbd.conf name, e.g. `{ 'on-io-error': 'detach' }`. */
  disk?: Record<string, OptionValue>;
  /**
   * Resource `options {}` by their drbd.conf name, e.g. `{ quorum: 'majority' }`. Quorum
   * and auto-promote exist only in DRBD 9; validation refuses them for 8.4.
   */
  options?: Record<string, OptionValue>;
  sharedSecret?: string;
  cramHmacAlg?: string;
  fencing?: FencingPolicy;
  handlers?: Partial<Record<HandlerName, string>>;
}
