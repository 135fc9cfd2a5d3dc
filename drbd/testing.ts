import { fileURLToPath } from 'node:url';
import type { ResourceSpec } from './model.js';

/** Test helpers shared by the drbd unit tests. */
export const FIXTURES = fileURLToPath(new URL('../test/fixtures/drbd/', import.meta.url));

/** The spec whose rendering was checked with drbdadm dump (see the fixtures README). */
export function sampleSpec(): ResourceSpec {
  return {
    name: 'vol1',
    protocol: 'C',
    port: 7000,
    volumes: [{ volume: 0, minor: 10 }],
    nodes: [
      { hostname: 'node2', address: 'fd00::2', nodeId: 1, disks: ['/dev/xlss/vol1'] },
      { hostname: 'node1', address: '10.0.0.1', port: 7001, nodeId: 0, disks: ['/dev/xlss/vol1'] },
    ],
    net: {
      'ping-int': 1,
      'ping-timeout': 5,
      timeout: 10,
      'connect-int': 1,
      'after-sb-0pri': 'discard-zero-changes',
      'after-sb-1pri': 'discard-secondary',
      'after-sb-2pri': 'disconnect',
      'allow-two-primaries': false,
    },
    disk: { 'on-io-error': 'detach', 'resync-rate': '100M', 'al-updates': true },
    sharedSecret: 's3cr3t',
    cramHmacAlg: 'sha256',
    fencing: 'resource-and-stonith',
    handlers: {
      'fence-peer': '/usr/lib/xlss/fence-peer',
      'after-resync-target': '/usr/lib/xlss/unfence-peer',
      'split-brain': '/usr/lib/drbd/notify-split-brain.sh',
    },
  };
}

export function sampleSpec9(): ResourceSpec {
  const s = sampleSpec();
  s.handlers = {
    'fence-peer': '/usr/lib/xlss/fence-peer',
    'unfence-peer': '/usr/lib/xlss/unfence-peer',
    'split-brain': '/usr/lib/drbd/notify-split-brain.sh',
  };
  return s;
}
