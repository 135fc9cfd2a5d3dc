import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ResourceSpec } from '../../drbd/index.js';
import { renderResourceFile } from '../../drbd/index.js';
import { FIXTURES } from '../../drbd/testing.js';
import { drbd9ResourceOptions, renderVolumeResource, resourceOf, withResourceOptions } from './resource.js';
import { sampleVolumeSpec, testEngineConfig } from './steady-pass.js';

const config = testEngineConfig('/tmp/xlss-resource-test');
const golden = (file: string) => readFileSync(`${FIXTURES}render/${file}`, 'utf8');

function pair(generation: '8.4' | '9'): ResourceSpec {
  const res = resourceOf(config, 'vol0', sampleVolumeSpec(0), generation);
  if (!res) throw new Error('sample volume has a peer');
  return res;
}

/** The pair plus a third replica (a tiebreaker), as a controller could place one on DRBD 9. */
function withThirdNode(res: ResourceSpec): ResourceSpec {
  const third = { hostname: 'node3', address: '10.0.0.3', nodeId: 2, disks: ['/dev/xlss/vol0'] };
  return withResourceOptions({ ...res, nodes: [...res.nodes, third] }, '9');
}

describe('resource options of a volume', () => {
  it('keeps a two-node DRBD 9 resource out of quorum and promotion by open', () => {
    expect(drbd9ResourceOptions(2)).toEqual({ 'auto-promote': false, quorum: 'off' });
  });

  it('gives a resource with a third node majority quorum that freezes rather than fails I/O', () => {
    for (const nodes of [3, 4, 5]) {
      expect(drbd9ResourceOptions(nodes)).toEqual({
        'auto-promote': false,
        quorum: 'majority',
        'on-no-quorum': 'suspend-io',
        'on-no-data-accessible': 'suspend-io',
      });
    }
  });

  it('renders the two-node DRBD 9 file drbdadm 9 accepted: fencing in net, handlers, quorum off', () => {
    const text = renderVolumeResource(config, 'vol0', sampleVolumeSpec(0), '9')?.text;
    expect(text).toBe(golden('vol0-pair-9.res'));
    expect(text).toContain('  options {\n    auto-promote no;\n    quorum off;\n  }\n');
    expect(text).toMatch(/ {2}net \{[^}]*fencing resource-and-stonith;[^}]*\}/);
    expect(text).toContain('fence-peer "/usr/lib/xlss/xlss-fence-peer";');
    // drbdadm dump of the same file (see the fixtures README) keeps every option.
    const dump = golden('vol0-pair-9.dump.txt');
    expect(dump).toMatch(/options \{\s+auto-promote\s+no;\s+quorum\s+off;\s+\}/);
    expect(dump).toMatch(/fencing\s+resource-and-stonith;/);
  });

  it('renders the three-node DRBD 9 file drbdadm 9 accepted, with majority quorum and fencing', () => {
    const three = withThirdNode(pair('9'));
    const text = renderResourceFile(three, '9');
    expect(text).toBe(golden('vol0-three-9.res'));
    expect(text).toContain('    quorum majority;\n');
    expect(text).toContain('    on-no-quorum suspend-io;\n');
    expect(text).toContain('fencing resource-and-stonith;');
    expect(golden('vol0-three-9.dump.txt')).toMatch(/quorum\s+majority;/);
  });

  it('leaves the DRBD 8.4 file as it was: no options section', () => {
    const text = renderVolumeResource(config, 'vol0', sampleVolumeSpec(0), '8.4')?.text;
    expect(text).toBe(golden('vol0-pair-8.4.res'));
    expect(text).not.toContain('options');
    expect(pair('8.4').options).toBeUndefined();
  });

  it("bounds the resync with the daemon's rates, in disk {} on both generations", () => {
    const fast = testEngineConfig('/tmp/xlss-resource-test', { resync: { minRate: '40M', maxRate: '1G' } });
    for (const generation of ['8.4', '9'] as const) {
      const text = renderVolumeResource(fast, 'vol0', sampleVolumeSpec(0), generation)?.text ?? '';
      const disk = /\n {2}disk \{\n([^}]*)\}/.exec(text)?.[1] ?? '';
      expect(disk).toContain('c-min-rate 40M;');
      expect(disk).toContain('c-max-rate 1G;');
      expect(disk).toContain('c-fill-target 1M;');
      expect(disk).toContain('c-plan-ahead 20;');
    }
    // The defaults, as drbdadm 9 read them back.
    expect(golden('vol0-pair-9.dump.txt')).toMatch(/c-min-rate\s+10M;/);
  });

  it('renders the same DRBD 9 file on both replicas, options included', () => {
    const peerConfig = testEngineConfig('/tmp/xlss-resource-test', {
      nodeName: 'node2',
      address: '10.0.0.2',
    });
    const peerSpec = sampleVolumeSpec(0, { peer: { node: 'node1', address: '10.0.0.1' } });
    expect(renderVolumeResource(peerConfig, 'vol0', peerSpec, '9')?.text).toBe(golden('vol0-pair-9.res'));
  });
});
