import { afterEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../common/errors.js';
import {
  DEFAULT_LAB_DIR,
  defaultLabDir,
  hostAddress,
  labConfig,
  netnsFor,
  nodeAddressing,
} from './config.js';

function refusal(fn: () => unknown): ValidationError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ValidationError);
  return err as ValidationError;
}

describe('labConfig', () => {
  const saved = process.env.XLSS_LAB_DIR;
  afterEach(() => {
    if (saved === undefined) delete process.env.XLSS_LAB_DIR;
    else process.env.XLSS_LAB_DIR = saved;
  });

  it('has defaults', () => {
    delete process.env.XLSS_LAB_DIR;
    expect(labConfig()).toEqual({
      dir: DEFAULT_LAB_DIR,
      nodes: 3,
      diskBytes: 2n * 1024n ** 3n,
      stateDiskBytes: 64n * 1024n ** 2n,
      memoryMiB: 768,
      init: 'busybox',
      accel: 'tcg',
      kernelArgs: [],
      subnet: '10.77.0',
      cluster: false,
    });
  });

  it('takes extra kernel parameters one by one and refuses anything that is not one', () => {
    expect(labConfig({ kernelArgs: ' xlss.setup=/x/y.sh  debug ' }).kernelArgs).toEqual([
      'xlss.setup=/x/y.sh',
      'debug',
    ]);
    for (const bad of ['a="b c"', "x='y'", 'init=/bin/sh;reboot', 'x=$(id)'])
      expect(() => labConfig({ kernelArgs: bad }), bad).toThrow(/^--kernel-args: /);
  });

  it('takes the directory from XLSS_LAB_DIR, an explicit dir wins', () => {
    process.env.XLSS_LAB_DIR = '/tmp/xlss-env-lab';
    expect(defaultLabDir()).toBe('/tmp/xlss-env-lab');
    expect(labConfig().dir).toBe('/tmp/xlss-env-lab');
    expect(labConfig({ dir: '/tmp/other' }).dir).toBe('/tmp/other');
  });

  it('accepts every valid option, from strings or numbers, and resolves the dir', () => {
    expect(
      labConfig({
        dir: '/tmp/a/../b',
        nodes: '9',
        disk: '64MiB',
        memory: '16384',
        init: 'systemd',
        accel: 'kvm',
      }),
    ).toMatchObject({
      dir: '/tmp/b',
      nodes: 9,
      diskBytes: 64n * 1024n ** 2n,
      memoryMiB: 16384,
      init: 'systemd',
      accel: 'kvm',
    });
    expect(labConfig({ dir: '/tmp/x', nodes: 1, memory: 256 })).toMatchObject({ nodes: 1, memoryMiB: 256 });
  });

  it.each([
    [{ nodes: '0' }, '--nodes', 'must be a whole number from 1 to 9, got "0"'],
    [{ nodes: '10' }, '--nodes', 'got "10"'],
    [{ nodes: '2.5' }, '--nodes', 'got "2.5"'],
    [{ nodes: ' 3' }, '--nodes', 'got " 3"'],
    [{ nodes: '' }, '--nodes', 'got ""'],
    [{ nodes: 2.5 }, '--nodes', 'got "2.5"'],
    [{ disk: '12XB' }, '--disk', '"12XB" is not a size'],
    [{ disk: '63MiB' }, '--disk', 'must be at least 64MiB'],
    [{ memory: '1' }, '--memory', 'must be a whole number from 256 to 16384, got "1"'],
    [{ memory: '16385' }, '--memory', 'got "16385"'],
    [{ memory: '1G' }, '--memory', 'got "1G"'],
    [{ init: 'foo' }, '--init', 'must be "busybox" or "systemd", got "foo"'],
    [{ accel: 'foo' }, '--accel', 'must be "tcg" or "kvm", got "foo"'],
    [{ dir: '/tmp/a,b' }, '--dir', 'may hold only letters, digits and . _ - + /'],
    [{ dir: '/tmp/a b' }, '--dir', '"/tmp/a b"'],
    [{ dir: '/tmp/a:b' }, '--dir', 'may hold only'],
    [{ dir: '/tmp/ä' }, '--dir', 'may hold only'],
  ])('refuses %j naming %s', (input, field, why) => {
    const err = refusal(() => labConfig({ dir: '/tmp/xlss-ok', ...input }));
    expect(err.field).toBe(field);
    expect(err.message).toContain(`${field}: `);
    expect(err.message).toContain(why);
  });
});

describe('netnsFor', () => {
  it('is stable for a directory and distinct for different ones', () => {
    const a = netnsFor('/var/tmp/xlss-lab');
    expect(netnsFor('/var/tmp/xlss-lab')).toBe(a);
    expect(a).toMatch(/^xlss-[0-9a-f]{8}$/);
    expect(a.length).toBeLessThanOrEqual(15);
    const names = new Set(
      ['/a', '/b', '/var/tmp/xlss-lab-demo', '/var/tmp/xlss-lab', '/tmp/x/'].map(netnsFor),
    );
    expect(names.size).toBe(5);
  });
});

describe('nodeAddressing', () => {
  it('gives each node its own name, address, MAC and tap', () => {
    expect(nodeAddressing('10.77.0', 1)).toEqual({
      name: 'node1',
      index: 1,
      ip: '10.77.0.11',
      mac: '52:54:00:77:00:0b',
      tap: 'tap1',
    });
    expect(nodeAddressing('10.77.0', 9)).toMatchObject({
      ip: '10.77.0.19',
      mac: '52:54:00:77:00:13',
      tap: 'tap9',
    });
    const all = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => nodeAddressing('10.77.0', i));
    for (const key of ['name', 'ip', 'mac', 'tap'] as const)
      expect(new Set(all.map((n) => n[key])).size).toBe(9);
    expect(all.every((n) => n.ip !== hostAddress('10.77.0'))).toBe(true);
  });

  it('puts the host at .1', () => {
    expect(hostAddress('10.77.0')).toBe('10.77.0.1');
  });
});
