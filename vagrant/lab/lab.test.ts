import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startDetached } from '../../common/runner.js';
import { summarizeConsole } from './lab.js';
import { labProcesses } from './procs.js';

let dir = '';
let bin = '';
const pids: number[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'xlss-procs-'));
  // Outside the lab dir: the program's own path must not be what matches.
  bin = mkdtempSync(join(tmpdir(), 'xlss-bin-'));
});
afterEach(() => {
  for (const pid of pids.splice(0))
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  rmSync(dir, { recursive: true, force: true });
  rmSync(bin, { recursive: true, force: true });
});

async function started(program: string, args: string[]): Promise<number> {
  const pid = await startDetached(program, args, { logFile: join(bin, 'log') });
  pids.push(pid);
  // Until exec has replaced the forked node, /proc shows the parent's command line.
  for (let i = 0; i < 100; i++) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] === program) break;
    } catch {
      break;
    }
    await sleep(20);
  }
  return pid;
}

/** A stand-in for one of the lab's programs: a shell copied under that program's name. */
async function standIn(name: string, args: string[]): Promise<number> {
  const prog = join(bin, name);
  if (!existsSync(prog)) copyFileSync('/bin/sh', prog);
  return started(prog, ['-c', 'while :; do sleep 1; done', ...args]);
}

describe('labProcesses', () => {
  it("finds the lab's qemu and qemu-nbd by their pid files in the directory, not other programs", async () => {
    const qemu = await standIn('qemu-system-x86_64', ['-pidfile', `${dir}/node1.qemu.pid`]);
    const nbd = await standIn('qemu-nbd', [`--pid-file=${dir}/node1.nbd.pid`]);
    // Not the lab's: another program naming the same file, or qemu with a file elsewhere.
    const other = await standIn('tail', ['-pidfile', `${dir}/node1.qemu.pid`]);
    const sub = await standIn('qemu-system-x86_64', ['-pidfile', `${dir}/sub/node1.qemu.pid`]);
    const found = labProcesses(dir);
    expect(found).toContain(qemu);
    expect(found).toContain(nbd);
    expect(found).not.toContain(other);
    expect(found).not.toContain(sub);
    expect(found).not.toContain(process.pid);
  });

  it('does not find a lab program of another directory that shares a prefix', async () => {
    const elsewhere = `${dir}-other`;
    const ours = await standIn('qemu-nbd', [`--pid-file=${elsewhere}/node1.nbd.pid`]);
    expect(labProcesses(dir)).not.toContain(ours);
    expect(labProcesses(elsewhere)).toContain(ours);
  });
});

describe('summarizeConsole', () => {
  it('keeps what went wrong and the last lines, without kernel stack dumps', () => {
    const text = [
      '[    1.0] virtio_blk virtio2: [vda] 131072 512-byte logical blocks',
      'xlss-setup: network setup failed',
      '[    2.6] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000200',
      '[    2.6] Call Trace:',
      '[    2.6]  <TASK>',
      '[    2.6]  dump_stack_lvl+0x44/0x5c',
      '[    2.6]  ? do_fault+0x1a7/0x410',
      '[    2.6] RIP: 0033:0x7f35f622f409',
      '[    2.6] Code: 00 4c 8b 05',
      '[    2.7] Kernel Offset: 0x21000000 from 0xffffffff81000000',
    ].join('\n');
    const s = summarizeConsole(text);
    expect(s.split('\n').slice(0, 2)).toEqual([
      'xlss-setup: network setup failed',
      '[    2.6] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000200',
    ]);
    expect(s).not.toMatch(/dump_stack|do_fault|RIP:|Code:|<TASK>/);
    expect(s).toMatch(/Kernel Offset/);
    expect(summarizeConsole('')).toBe('(no console output)');
  });
});
