import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../common/errors.js';
import { CUTS_TABLE, cutsRuleset, describeNetem, netemArgs, netemSpec, nodePair } from './faults.js';

const NODES = ['node1', 'node2', 'node3'];

describe('nodePair', () => {
  it('sorts the two names so a cut has one spelling', () => {
    expect(nodePair('node2', 'node1', NODES)).toEqual(['node1', 'node2']);
    expect(nodePair('node1', 'node3', NODES)).toEqual(['node1', 'node3']);
  });

  it('refuses unknown nodes and a node paired with itself, naming the field', () => {
    expect(() => nodePair('node1', 'node9', NODES)).toThrow(/second node: no node "node9"/);
    expect(() => nodePair('x;rm', 'node1', NODES)).toThrow(/first node/);
    expect(() => nodePair('node2', 'node2', NODES)).toThrow(ValidationError);
  });

  it('takes "host", the lab\'s host side, as one end', () => {
    expect(nodePair('node2', 'host', NODES)).toEqual(['host', 'node2']);
    expect(() => nodePair('host', 'host', NODES)).toThrow(ValidationError);
  });
});

describe('netemSpec', () => {
  it('takes tc spellings of delay and loss', () => {
    expect(netemSpec({ delay: '50ms' })).toEqual({ delay: '50ms' });
    expect(netemSpec({ delay: '1.5s', loss: '0.5%' })).toEqual({ delay: '1.5s', loss: '0.5%' });
    expect(netemSpec({ loss: '100%' })).toEqual({ loss: '100%' });
  });

  it.each([
    [{ delay: '50' }, /--delay/],
    [{ delay: '50ms; reboot' }, /--delay/],
    [{ delay: '-5ms' }, /--delay/],
    [{ loss: '1' }, /--loss/],
    [{ loss: '101%' }, /--loss/],
    [{}, /give --delay, --loss/],
  ])('refuses %j', (input, message) => {
    expect(() => netemSpec(input)).toThrow(message);
  });
});

describe('netem arguments', () => {
  it('replace the root qdisc with netem', () => {
    expect(netemArgs('eth0', { delay: '50ms', loss: '1%' })).toEqual([
      'qdisc',
      'replace',
      'dev',
      'eth0',
      'root',
      'netem',
      'delay',
      '50ms',
      'loss',
      '1%',
    ]);
    expect(netemArgs('eth0', { loss: '1%' })).toEqual([
      'qdisc',
      'replace',
      'dev',
      'eth0',
      'root',
      'netem',
      'loss',
      '1%',
    ]);
    expect(describeNetem({ delay: '50ms', loss: '1%' })).toBe('delay 50ms loss 1%');
  });
});

describe('cutsRuleset', () => {
  const tap = (n: string) => `tap${n.slice(4)}`;

  it('drops frames between the two taps in both directions, and only those', () => {
    const script = cutsRuleset([['node1', 'node2']], tap);
    expect(script).toContain(`table bridge ${CUTS_TABLE} {`);
    expect(script).toContain('type filter hook forward priority 0; policy accept;');
    const drops = script.split('\n').filter((l) => l.includes('drop'));
    expect(drops).toEqual([
      '    iifname "tap1" oifname "tap2" drop comment "cut node1 node2"',
      '    iifname "tap2" oifname "tap1" drop comment "cut node1 node2"',
    ]);
  });

  it('cuts a node from the host side only: its frames to and from the bridge itself, not the forward path', () => {
    const script = cutsRuleset(
      [
        ['host', 'node2'],
        ['node1', 'node3'],
      ],
      tap,
    );
    expect(script).toContain('type filter hook input priority 0; policy accept;');
    expect(script).toContain('type filter hook output priority 0; policy accept;');
    const drops = script.split('\n').filter((l) => l.includes('drop'));
    expect(drops).toEqual([
      '    iifname "tap1" oifname "tap3" drop comment "cut node1 node3"',
      '    iifname "tap3" oifname "tap1" drop comment "cut node1 node3"',
      '    iifname "tap2" drop comment "cut host node2"',
      '    oifname "tap2" drop comment "cut host node2"',
    ]);
    // The chains come in that order: forward, input, output.
    expect(script.indexOf('hook input')).toBeLessThan(script.indexOf('iifname "tap2" drop'));
    expect(script.indexOf('hook output')).toBeLessThan(script.indexOf('oifname "tap2" drop'));
  });

  it('empties the table first, so applying it again or with fewer cuts is exact', () => {
    const script = cutsRuleset([], tap);
    expect(script.split('\n').slice(0, 2)).toEqual([
      `table bridge ${CUTS_TABLE}`,
      `flush table bridge ${CUTS_TABLE}`,
    ]);
    expect(script).not.toContain('drop');
    expect(
      cutsRuleset(
        [
          ['node1', 'node2'],
          ['node2', 'node3'],
        ],
        tap,
      ).match(/ drop /g),
    ).toHaveLength(4);
  });
});
