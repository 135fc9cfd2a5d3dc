import { describe, expect, it } from 'vitest';
import { ValidationError } from '../common/errors.js';
import type { DrbdGeneration, ResourceSpec } from './model.js';
import { sampleSpec, sampleSpec9 } from './testing.js';
import { validateResourceName, validateResourceSpec } from './validate.js';

function fieldOf(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err.field;
    throw err;
  }
  throw new Error('no ValidationError');
}

function bad(mutate: (s: ResourceSpec) => void, generation: DrbdGeneration = '8.4'): string {
  const s = generation === '9' ? sampleSpec9() : sampleSpec();
  mutate(s);
  return fieldOf(() => validateResourceSpec(s, generation));
}

const node = (s: ResourceSpec, i: number) => s.nodes[i] as ResourceSpec['nodes'][number];

describe('validateResourceSpec', () => {
  it('accepts the sample for both generations', () => {
    expect(() => validateResourceSpec(sampleSpec(), '8.4')).not.toThrow();
    expect(() => validateResourceSpec(sampleSpec9(), '9')).not.toThrow();
  });

  it.each([
    ['quote', 'vol"1'],
    ['single quote', "vol'1"],
    ['brace', 'vol}'],
    ['semicolon', 'vol;1'],
    ['newline', 'vol\n1'],
    ['hash', 'vol#1'],
    ['space', 'vol 1'],
    ['leading dash', '-vol1'],
    ['reserved all', 'all'],
    ['empty', ''],
    ['too long', 'v'.repeat(49)],
  ])('rejects a resource name with %s', (_why, name) => {
    expect(bad((s) => (s.name = name))).toBe('name');
  });

  it.each([
    ['protocol', (s: ResourceSpec) => (s.protocol = 'D' as 'C')],
    ['port', (s: ResourceSpec) => (s.port = 0)],
    ['port', (s: ResourceSpec) => (s.port = 65536)],
    ['volumes', (s: ResourceSpec) => (s.volumes = [])],
    ['volumes[0].minor', (s: ResourceSpec) => (s.volumes = [{ volume: 0, minor: 1048576 }])],
    ['volumes[0].minor', (s: ResourceSpec) => (s.volumes = [{ volume: 0, minor: -1 }])],
    ['volumes[0].minor', (s: ResourceSpec) => (s.volumes = [{ volume: 0, minor: 1.5 }])],
    ['nodes', (s: ResourceSpec) => (s.nodes = s.nodes.slice(0, 1))],
    ['nodes[1].hostname', (s: ResourceSpec) => (node(s, 1).hostname = 'node2')],
    ['nodes[1].hostname', (s: ResourceSpec) => (node(s, 1).hostname = 'NODE2')],
    ['nodes[0].hostname', (s: ResourceSpec) => (node(s, 0).hostname = '-node')],
    ['nodes[0].hostname', (s: ResourceSpec) => (node(s, 0).hostname = 'node{')],
    ['nodes[1].address', (s: ResourceSpec) => (node(s, 1).address = '10.0.0.300')],
    ['nodes[1].address', (s: ResourceSpec) => (node(s, 1).address = 'example.com')],
    ['nodes[1].address', (s: ResourceSpec) => (node(s, 1).address = 'fe80::1%eth0')],
    ['nodes[1].address', (s: ResourceSpec) => (node(s, 1).address = '10.0.0.1;')],
    ['nodes[1].address', (s: ResourceSpec) => (node(s, 1).address = '0.0.0.0')],
    [
      'nodes[1].address',
      (s: ResourceSpec) => {
        node(s, 0).address = '10.0.0.1';
        node(s, 0).port = 7001;
      },
    ],
    ['nodes[0].port', (s: ResourceSpec) => (node(s, 0).port = 70000)],
    ['nodes[0].disks', (s: ResourceSpec) => (node(s, 0).disks = [])],
    ['nodes[0].disks[0]', (s: ResourceSpec) => (node(s, 0).disks = ['relative/dev'])],
    ['nodes[0].disks[0]', (s: ResourceSpec) => (node(s, 0).disks = ['/etc/passwd'])],
    ['nodes[0].disks[0]', (s: ResourceSpec) => (node(s, 0).disks = ['/dev/../etc/shadow'])],
    ['nodes[0].disks[0]', (s: ResourceSpec) => (node(s, 0).disks = ['/dev/x;\n}'])],
    ['net.bogus', (s: ResourceSpec) => (s.net = { bogus: 1 })],
    ['net.ping-int', (s: ResourceSpec) => (s.net = { 'ping-int': '1' })],
    ['net.ping-int', (s: ResourceSpec) => (s.net = { 'ping-int': 500 })],
    ['net.after-sb-0pri', (s: ResourceSpec) => (s.net = { 'after-sb-0pri': 'discard-everything' })],
    ['net.allow-two-primaries', (s: ResourceSpec) => (s.net = { 'allow-two-primaries': true })],
    ['net.tcp-cork', (s: ResourceSpec) => (s.net = { 'tcp-cork': 'yes' })],
    ['disk.on-io-error', (s: ResourceSpec) => (s.disk = { 'on-io-error': 'detach; }' })],
    ['disk.resync-rate', (s: ResourceSpec) => (s.disk = { 'resync-rate': '100 M' })],
    ['disk.resync-rate', (s: ResourceSpec) => (s.disk = { 'resync-rate': '100T' })],
    ['sharedSecret', (s: ResourceSpec) => (s.sharedSecret = 'a"b')],
    ['sharedSecret', (s: ResourceSpec) => (s.sharedSecret = 'a#b')],
    ['sharedSecret', (s: ResourceSpec) => (s.sharedSecret = 'x'.repeat(65))],
    ['cramHmacAlg', (s: ResourceSpec) => (s.cramHmacAlg = 'sha256;')],
    ['cramHmacAlg', (s: ResourceSpec) => delete s.cramHmacAlg],
    ['fencing', (s: ResourceSpec) => (s.fencing = 'stonith' as 'dont-care')],
    ['handlers.fence-peer', (s: ResourceSpec) => (s.handlers = { 'fence-peer': 'fence-peer.sh' })],
    ['handlers.fence-peer', (s: ResourceSpec) => (s.handlers = { 'fence-peer': '/usr/bin/fence peer' })],
    ['handlers.fence-peer', (s: ResourceSpec) => (s.handlers = { 'fence-peer': '/usr/bin/x"; rm -rf /' })],
    ['handlers.fence-peer', (s: ResourceSpec) => (s.handlers = { 'fence-peer': '/usr/../bin/sh' })],
    ['handlers.fence-peer', (s: ResourceSpec) => (s.handlers = { 'fence-peer': '/usr/bin/x\nsplit-brain' })],
    ['handlers.fence-peer', (s: ResourceSpec) => (s.handlers = { 'split-brain': '/usr/bin/x' })],
    ['handlers.whatever', (s: ResourceSpec) => (s.handlers = { whatever: '/x' } as ResourceSpec['handlers'])],
    [
      'handlers.unfence-peer',
      (s: ResourceSpec) => (s.handlers = { 'fence-peer': '/x', 'unfence-peer': '/y' }),
    ],
    // DRBD 8.4 has no quorum and never auto-promotes: drbdadm-84 refuses both keywords.
    ['options.quorum', (s: ResourceSpec) => (s.options = { quorum: 'off' })],
    ['options.on-no-quorum', (s: ResourceSpec) => (s.options = { 'on-no-quorum': 'suspend-io' })],
    ['options.auto-promote', (s: ResourceSpec) => (s.options = { 'auto-promote': false })],
    ['options.on-no-data-accessible', (s: ResourceSpec) => (s.options = { 'on-no-data-accessible': 'hang' })],
  ])('names %s', (field, mutate) => {
    expect(bad(mutate)).toBe(field);
  });

  const third = (s: ResourceSpec) =>
    s.nodes.push({ hostname: 'node3', address: '10.0.0.3', nodeId: 2, disks: ['/dev/xlss/vol1'] });

  it.each([
    ['options.bogus', (s: ResourceSpec) => (s.options = { bogus: 'yes' })],
    ['options.quorum', (s: ResourceSpec) => (s.options = { quorum: 'most' })],
    ['options.quorum', (s: ResourceSpec) => (s.options = { quorum: 'majority; }' })],
    ['options.quorum', (s: ResourceSpec) => (s.options = { quorum: 0 })],
    ['options.quorum', (s: ResourceSpec) => (s.options = { quorum: 33 })],
    ['options.quorum', (s: ResourceSpec) => (s.options = { quorum: 1.5 })],
    ['options.quorum', (s: ResourceSpec) => (s.options = { quorum: true })],
    // One of two is not more than half: both halves of a split could write.
    ['options.quorum', (s: ResourceSpec) => (s.options = { quorum: 1 })],
    ['options.quorum', (s: ResourceSpec) => (s.options = { quorum: 3 })],
    [
      'options.quorum-minimum-redundancy',
      (s: ResourceSpec) => (s.options = { 'quorum-minimum-redundancy': 1 }),
    ],
    [
      'options.quorum-minimum-redundancy',
      (s: ResourceSpec) => (s.options = { 'quorum-minimum-redundancy': 'any' }),
    ],
    ['options.on-no-quorum', (s: ResourceSpec) => (s.options = { 'on-no-quorum': 'freeze' })],
    [
      'options.on-suspended-primary-outdated',
      (s: ResourceSpec) => (s.options = { 'on-suspended-primary-outdated': 'secondary' }),
    ],
    ['options.auto-promote', (s: ResourceSpec) => (s.options = { 'auto-promote': 'no' })],
  ])('names %s for DRBD 9', (field, mutate) => {
    expect(bad(mutate, '9')).toBe(field);
  });

  it('says why DRBD 8.4 refuses quorum options', () => {
    const s = sampleSpec();
    s.options = { quorum: 'majority' };
    expect(() => validateResourceSpec(s, '8.4')).toThrow(
      'options.quorum: is not supported by DRBD 8.4 (DRBD 8.4 has no quorum; there the controller arbitrates through fencing)',
    );
  });

  it('accepts the quorum values drbdadm 9 accepts, and 8.4 its own options', () => {
    const ok = (options: ResourceSpec['options'], nodes = 2) => {
      const s = sampleSpec9();
      if (nodes === 3) third(s);
      s.options = options;
      expect(() => validateResourceSpec(s, '9')).not.toThrow();
    };
    for (const quorum of ['off', 'majority', 'all']) ok({ quorum, 'quorum-minimum-redundancy': quorum });
    ok({ quorum: 2, 'quorum-minimum-redundancy': 2 });
    ok({ quorum: 2, 'quorum-minimum-redundancy': 3 }, 3);
    ok({
      'auto-promote': true,
      'on-no-quorum': 'io-error',
      'on-no-data-accessible': 'io-error',
      'on-suspended-primary-outdated': 'force-secondary',
    });
    const oneOfThree = (s: ResourceSpec) => {
      third(s);
      s.options = { quorum: 1 };
    };
    expect(bad(oneOfThree, '9')).toBe('options.quorum');
    const s84 = sampleSpec();
    s84.options = { 'on-no-data-accessible': 'suspend-io' };
    expect(() => validateResourceSpec(s84, '8.4')).not.toThrow();
  });

  it('requires exactly two nodes for 8.4 and unique node ids for 9', () => {
    const three = (s: ResourceSpec) =>
      s.nodes.push({ hostname: 'node3', address: '10.0.0.3', nodeId: 2, disks: ['/dev/xlss/vol1'] });
    expect(bad(three)).toBe('nodes');
    expect(() => {
      const s = sampleSpec9();
      three(s);
      validateResourceSpec(s, '9');
    }).not.toThrow();
    expect(bad((s) => delete node(s, 0).nodeId, '9')).toBe('nodes[0].nodeId');
    expect(bad((s) => (node(s, 1).nodeId = 1), '9')).toBe('nodes[1].nodeId');
    expect(bad((s) => (node(s, 0).nodeId = 32), '9')).toBe('nodes[0].nodeId');
  });

  it('validateResourceName returns good names', () => {
    expect(validateResourceName('pvc-1234.data_0')).toBe('pvc-1234.data_0');
    expect(fieldOf(() => validateResourceName('--force', 'resource'))).toBe('resource');
  });
});
