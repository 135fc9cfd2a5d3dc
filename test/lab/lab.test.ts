import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { inProject } from '../../common/paths.js';
import { netnsFor } from '../../vagrant/lab/config.js';
import { cmdlineOf, isLabProcess, labProcesses } from '../../vagrant/lab/procs.js';
import { qemuOf, useLab } from './helpers/lab.js';

const XLSS = inProject('bin/xlss.js');
const lab = useLab('lab', { nodes: 2, disk: '256MiB' });
const dir = '/var/tmp/xlss-lab-test-lab';
const cli = (...args: string[]) =>
  execa(process.execPath, [XLSS, 'lab', '--dir', dir, ...args], { reject: false });

describe('the qemu lab', () => {
  it('runs commands on a node and passes output and exit code through', async () => {
    const r = await cli('exec', 'node1', '--', 'sh', '-c', 'uname -n; echo oops >&2; exit 7');
    // The command ran (its own output), and its exit code came back.
    expect(r.stdout.trim()).toBe('node1');
    expect(r.exitCode).toBe(7);
    expect(r.stderr).toContain('oops');
    const missing = await cli('exec', 'node1', '--', 'no-such-program');
    expect(missing.exitCode).toBe(127);
    expect(missing.stderr).toMatch(/no-such-program/);
    const stdin = await execa(
      process.execPath,
      [XLSS, 'lab', '--dir', dir, 'exec', '--stdin', 'node2', '--', 'wc', '-c'],
      {
        input: 'twelve bytes',
      },
    );
    expect(stdin.stdout.trim()).toBe('12');
  });

  it('gives each node a data disk, a state disk, kernel modules and its own address', async () => {
    const out = await lab.sh(
      'node2',
      'readlink -f /dev/disk/by-id/virtio-xlss-data; blockdev --getsize64 /dev/disk/by-id/virtio-xlss-data; ' +
        'mountpoint -q /var/lib/xlss && echo state-mounted; head -1 /proc/drbd; ip -4 -o addr show eth0',
    );
    expect(out).toMatch(/^\/dev\/vd[a-z]\n268435456\nstate-mounted\nversion: 8\.4\.\d+/);
    expect(out).toContain('10.77.0.12/24');
    // The nodes reach each other over the lab network.
    await lab.sh('node1', 'busybox ping -c1 -W2 10.77.0.12 >/dev/null');
  });

  it('refuses a second lab in the same directory, and a demo there, leaving the lab running', async () => {
    const r = await cli('up', '--nodes', '1');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/already running in \/var\/tmp\/xlss-lab-test-lab/);
    const demo = await cli('demo');
    expect(demo.exitCode).toBe(1);
    expect(demo.stdout).toMatch(/already running in \/var\/tmp\/xlss-lab-test-lab/);
    expect((await lab.lab().status()).every((n) => n.ready)).toBe(true);
  });

  it('refuses to take over or remove a directory it did not create, and kills nothing there', async () => {
    const foreign = '/var/tmp/xlss-lab-test-ls-foreign';
    const link = '/var/tmp/xlss-lab-test-ls-link';
    const x = (d: string, ...args: string[]) =>
      execa(process.execPath, [XLSS, 'lab', '--dir', d, ...args], { reject: false });
    mkdirSync(foreign, { mode: 0o700 });
    writeFileSync(`${foreign}/precious`, 'keep');
    // A program that looks like a lab's qemu for this directory (as "down" would kill in
    // a lab it made): here it must survive, the directory being none of the lab's.
    const fakeQemu = '/var/tmp/xlss-lab-test-ls-bin/qemu-system-x86_64';
    mkdirSync('/var/tmp/xlss-lab-test-ls-bin', { recursive: true });
    copyFileSync('/bin/sh', fakeQemu);
    const bystander = execa(
      fakeQemu,
      ['-c', 'while :; do sleep 1; done', '-pidfile', `${foreign}/node1.qemu.pid`],
      { reject: false, stdio: 'ignore' },
    );
    for (let i = 0; i < 50 && cmdlineOf(bystander.pid as number)?.[0] !== fakeQemu; i++) await sleep(20);
    expect(isLabProcess(cmdlineOf(bystander.pid as number) ?? [], foreign)).toBe(true);
    try {
      symlinkSync(foreign, link);
      for (const d of [foreign, link]) {
        const up = await x(d, 'up', '--nodes', '1');
        expect(up.exitCode, up.stderr).toBe(1);
        expect(up.stderr).toMatch(/refusing to use/);
        const down = await x(d, 'down');
        expect(down.exitCode, down.stderr).toBe(1);
        expect(down.stderr).toMatch(/refusing to use/);
      }
      expect(readFileSync(`${foreign}/precious`, 'utf8')).toBe('keep');
      expect(cmdlineOf(bystander.pid as number)?.[0]).toBe(fakeQemu);
    } finally {
      bystander.kill('SIGKILL');
      await bystander;
      rmSync(link, { force: true });
      rmSync(foreign, { recursive: true, force: true });
      rmSync('/var/tmp/xlss-lab-test-ls-bin', { recursive: true, force: true });
    }
  });

  it('crashes a node at once and boots it again with its state disk intact', async () => {
    await lab.sh('node1', 'echo survived > /var/lib/xlss/marker && sync && echo lost > /tmp/overlay-file');
    const before = (await lab.lab().status()).find((n) => n.name === 'node1');
    // The qemu the CLI kills is the one the lab started for node1, and only that one.
    const qemu1 = qemuOf(lab.lab(), 'node1');
    const qemu2 = qemuOf(lab.lab(), 'node2');
    expect(await cli('crash', 'node1')).toMatchObject({ exitCode: 0 });
    expect(cmdlineOf(qemu1.pid)).toBeUndefined();
    expect(cmdlineOf(qemu2.pid)).toEqual(qemu2.argv);
    const crashed = (await lab.lab().status()).find((n) => n.name === 'node1');
    expect(crashed).toMatchObject({ running: false, ready: false });
    expect((await cli('exec', 'node1', '--', 'true')).exitCode).not.toBe(0);
    expect(await cli('start', 'node1')).toMatchObject({ exitCode: 0 });
    const after = (await lab.lab().status()).find((n) => n.name === 'node1');
    expect(after?.ready).toBe(true);
    expect(after?.bootId).not.toBe(before?.bootId);
    expect(qemuOf(lab.lab(), 'node1').pid).not.toBe(qemu1.pid);
    expect(
      await lab.sh('node1', 'cat /var/lib/xlss/marker; ls /tmp/overlay-file 2>/dev/null || echo gone'),
    ).toBe('survived\ngone\n');
  });

  it('partitions a node from the network and heals it, while exec keeps working', async () => {
    expect(await cli('partition', 'node2')).toMatchObject({ exitCode: 0 });
    const cut = await lab.lab().exec('node1', ['busybox', 'ping', '-c1', '-W1', '10.77.0.12']);
    expect(cut.exitCode).not.toBe(0);
    expect((await cli('exec', 'node2', '--', 'true')).exitCode).toBe(0);
    expect((await cli('status', '--output', 'json')).stdout).toContain('"partitioned": true');
    expect(await cli('heal', 'node2')).toMatchObject({ exitCode: 0 });
    await lab.sh(
      'node1',
      'for i in 1 2 3 4 5; do busybox ping -c1 -W1 10.77.0.12 >/dev/null && exit 0; done; exit 1',
    );
  });

  it('makes a data disk fail every I/O and work again', async () => {
    const dd = [
      'dd',
      'if=/dev/disk/by-id/virtio-xlss-data',
      'of=/dev/null',
      'bs=4096',
      'count=1',
      'iflag=direct',
    ];
    expect((await lab.lab().exec('node2', dd)).exitCode).toBe(0);
    expect(await cli('disk-fail', 'node2')).toMatchObject({ exitCode: 0 });
    const failed = await lab.lab().exec('node2', dd);
    expect(failed.exitCode).not.toBe(0);
    expect(failed.stderr).toMatch(/Input\/output error/);
    expect(await cli('disk-heal', 'node2')).toMatchObject({ exitCode: 0 });
    await lab.sh(
      'node2',
      'for i in 1 2 3 4 5 6 7 8 9 10; do dd if=/dev/disk/by-id/virtio-xlss-data of=/dev/null bs=4096 count=1 iflag=direct 2>/dev/null && exit 0; sleep 0.5; done; exit 1',
    );
  });

  it('lets one of two racing ups have a directory, and cleans up after the winner is killed midway', async () => {
    const other = '/var/tmp/xlss-lab-test-killed';
    const up = () =>
      execa(process.execPath, [XLSS, 'lab', '--dir', other, 'up', '--nodes', '1', '--disk', '128MiB'], {
        reject: false,
      });
    const down = () => execa(process.execPath, [XLSS, 'lab', '--dir', other, 'down'], { reject: false });
    const qemuRunning = () =>
      labProcesses(other).some((pid) => cmdlineOf(pid)?.[0]?.includes('qemu-system') === true);
    const ups = [up(), up()];
    try {
      // One of them loses at once: the directory exists (or is locked) already.
      const loser = await Promise.race(ups.map((p, i) => p.then(() => i)));
      const lost = await (ups[loser] as ReturnType<typeof up>);
      expect(lost.exitCode).toBe(1);
      expect(lost.stderr).toMatch(/exists already|another xlss lab process|already running/);
      const winner = ups[1 - loser] as ReturnType<typeof up>;
      for (let i = 0; i < 300 && !qemuRunning(); i++) await sleep(100);
      expect(qemuRunning()).toBe(true);
      winner.kill('SIGKILL');
      await winner;
      expect(labProcesses(other).length).toBeGreaterThan(0);
      const d = await down();
      expect(d.exitCode, d.stderr).toBe(0);
      expect(labProcesses(other)).toEqual([]);
      expect(existsSync(other)).toBe(false);
      expect((await execa('ip', ['netns', 'list'])).stdout).not.toContain(netnsFor(other));
    } finally {
      for (const p of ups) p.kill('SIGKILL');
      await Promise.all(ups);
      await down();
    }
  });

  it('reports a guest that fails to boot with the tail of its console', async () => {
    const other = '/var/tmp/xlss-lab-test-noboot';
    const lab = (...args: string[]) =>
      execa(process.execPath, [XLSS, 'lab', '--dir', other, ...args], { reject: false });
    const r = await lab(
      'up',
      '--nodes',
      '1',
      '--disk',
      '128MiB',
      '--kernel-args',
      'xlss.setup=/nonexistent/setup.sh',
    );
    try {
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/node1 stopped while booting; its console says:/);
      expect(r.stderr).toMatch(/nonexistent\/setup\.sh/);
      expect(r.stderr).toMatch(/Kernel panic/);
      // The failed up cleaned up after itself.
      expect(existsSync(other)).toBe(false);
      expect(labProcesses(other)).toEqual([]);
    } finally {
      expect((await lab('down')).exitCode).toBe(0);
    }
  });

  it('goes down cleanly and idempotently', async () => {
    expect(await cli('down')).toMatchObject({ exitCode: 0 });
    expect(existsSync(dir)).toBe(false);
    const ns = await execa('ip', ['netns', 'list']);
    expect(ns.stdout).not.toContain(netnsFor(dir));
    expect(await cli('down')).toMatchObject({ exitCode: 0 });
    expect((await cli('status')).stderr).toMatch(/no lab is running/);
  });
});
