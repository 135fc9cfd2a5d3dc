import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { alive, cmdlineOf, isLabProcess, startTimeOf } from './procs.js';

const dir = '/var/tmp/xlss-lab';

describe('isLabProcess', () => {
  it.each([
    [['/usr/bin/qemu-system-x86_64', '-name', 'x', '-pidfile', `${dir}/node1.qemu.pid`]],
    [['qemu-nbd', '--fork', `--pid-file=${dir}/node2.nbd.pid`, `--socket=${dir}/node2.nbd.sock`]],
    [['/usr/bin/node', '/src/xlss/bin/xlss.js', 'lab', 'broker', '--dir', dir]],
  ])("accepts the lab's own program %j", (argv) => {
    expect(isLabProcess(argv, dir)).toBe(true);
  });

  it.each([
    ['a qemu of another lab', ['qemu-system-x86_64', '-pidfile', '/var/tmp/other/node1.qemu.pid']],
    ['a qemu merely mentioning the dir', ['qemu-system-x86_64', '-drive', `file=${dir}/node1.data.img`]],
    [
      'a qemu with a pid file in a subdirectory',
      ['qemu-system-x86_64', '-pidfile', `${dir}/x/node1.qemu.pid`],
    ],
    ['a qemu with a pid file of another name', ['qemu-system-x86_64', '-pidfile', `${dir}/other.pid`]],
    ['a qemu with a relative pid file', ['qemu-system-x86_64', '-pidfile', 'node1.qemu.pid']],
    ['a qemu-nbd of a prefix-sharing dir', ['qemu-nbd', `--pid-file=${dir}-x/node1.nbd.pid`]],
    ['rm naming the dir', ['rm', '-rf', dir]],
    ['a broker of another dir', ['node', '/src/bin/xlss.js', 'lab', 'broker', '--dir', `${dir}2`]],
    ['another xlss command', ['node', '/src/bin/xlss.js', 'lab', 'up', '--dir', dir]],
    ['a broker with extra arguments', ['node', '/src/bin/xlss.js', 'lab', 'broker', '--dir', dir, 'x']],
    ['an empty command line', []],
  ])('refuses %s', (_what, argv) => {
    expect(isLabProcess(argv, dir)).toBe(false);
  });
});

describe('process identity', () => {
  it('reads the command line and start time of a live process, nothing of a dead one', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    await new Promise((r) => child.once('spawn', r));
    const pid = child.pid as number;
    try {
      expect(cmdlineOf(pid)).toEqual(['sleep', '30']);
      expect(startTimeOf(pid)).toMatch(/^\d+$/);
      expect(startTimeOf(pid)).toBe(startTimeOf(pid));
      expect(alive(pid)).toBe(true);
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    expect(cmdlineOf(pid)).toBeUndefined();
    expect(startTimeOf(pid)).toBeUndefined();
    expect(alive(pid)).toBe(false);
  });
});
