import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../common/errors.js';
import { renderResourceFile } from './render.js';
import { FIXTURES, sampleSpec, sampleSpec9 } from './testing.js';

describe('renderResourceFile', () => {
  it('renders DRBD 8.4 syntax exactly as the file drbdadm-84 dump accepted', () => {
    expect(renderResourceFile(sampleSpec(), '8.4')).toBe(
      readFileSync(`${FIXTURES}render/vol1-8.4.res`, 'utf8'),
    );
  });

  it('renders DRBD 9 syntax exactly as the file drbdadm dump accepted', () => {
    expect(renderResourceFile(sampleSpec9(), '9')).toBe(readFileSync(`${FIXTURES}render/vol1-9.res`, 'utf8'));
  });

  it('puts fencing in disk for 8.4 and in net for 9', () => {
    const r84 = renderResourceFile(sampleSpec(), '8.4');
    const r9 = renderResourceFile(sampleSpec9(), '9');
    expect(r84).toMatch(/disk \{[^}]*fencing resource-and-stonith;[^}]*\}/);
    expect(r9).toMatch(/net \{[^}]*fencing resource-and-stonith;[^}]*\}/);
    expect(r9).toContain('node-id 0;');
    expect(r84).not.toContain('node-id');
    expect(r9).toContain('connection-mesh {\n    hosts node1 node2;\n  }');
  });

  it('is deterministic whatever order nodes and options come in', () => {
    const a = sampleSpec();
    const b = sampleSpec();
    b.nodes.reverse();
    b.net = Object.fromEntries(Object.entries(b.net ?? {}).reverse());
    expect(renderResourceFile(b, '8.4')).toBe(renderResourceFile(a, '8.4'));
  });

  it('always writes allow-two-primaries no', () => {
    const s = sampleSpec();
    s.net = {};
    expect(renderResourceFile(s, '8.4')).toContain('allow-two-primaries no;');
  });

  it('renders volume blocks for several volumes in 8.4', () => {
    const s = sampleSpec();
    s.volumes = [
      { volume: 0, minor: 10 },
      { volume: 1, minor: 11 },
    ];
    for (const n of s.nodes) n.disks = ['/dev/xlss/a', '/dev/xlss/b'];
    const out = renderResourceFile(s, '8.4');
    expect(out).toContain('    volume 1 {\n      device /dev/drbd11 minor 11;\n      disk /dev/xlss/b;\n');
  });

  it('renders resource options first, sorted, and only when there are some', () => {
    const s = sampleSpec9();
    s.options = { quorum: 'majority', 'on-no-quorum': 'suspend-io', 'auto-promote': false };
    expect(renderResourceFile(s, '9')).toContain(
      'resource vol1 {\n  options {\n    auto-promote no;\n    on-no-quorum suspend-io;\n    quorum majority;\n  }\n  net {\n',
    );
    s.options = {};
    expect(renderResourceFile(s, '9')).toBe(renderResourceFile(sampleSpec9(), '9'));
    expect(renderResourceFile(sampleSpec9(), '9')).not.toContain('options');
  });

  it('renders a numeric quorum for three nodes', () => {
    const s = sampleSpec9();
    s.nodes.push({ hostname: 'node3', address: '10.0.0.3', nodeId: 2, disks: ['/dev/xlss/vol1'] });
    s.options = { quorum: 2 };
    expect(renderResourceFile(s, '9')).toContain('  options {\n    quorum 2;\n  }\n');
  });

  it('renders the option 8.4 has and refuses quorum for 8.4 instead of writing what drbdadm-84 rejects', () => {
    const s = sampleSpec();
    s.options = { 'on-no-data-accessible': 'suspend-io' };
    expect(renderResourceFile(s, '8.4')).toContain(
      '  options {\n    on-no-data-accessible suspend-io;\n  }\n',
    );
    // fixtures/drbd/adm/quorum-option-8.4.*: drbdadm-84 exits 10 on `quorum` in options.
    expect(readFileSync(`${FIXTURES}adm/quorum-option-8.4.stderr.txt`, 'utf8')).toContain("but got 'quorum'");
    s.options = { quorum: 'off' };
    expect(() => renderResourceFile(s, '8.4')).toThrow(/options\.quorum: is not supported by DRBD 8\.4/);
  });

  it('refuses to render an invalid spec', () => {
    const s = sampleSpec();
    s.name = 'x; }';
    expect(() => renderResourceFile(s, '8.4')).toThrow(ValidationError);
  });
});
