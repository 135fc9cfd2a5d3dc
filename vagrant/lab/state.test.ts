import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { XlssError } from '../../common/errors.js';
import { findNode, type LabState, livePid, readState, requireState, statePath, writeState } from './state.js';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'xlss-state-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function labState(d: string, names = ['node1', 'node2']): LabState {
  return {
    version: 1,
    dir: d,
    netns: 'xlss-abcdef01',
    subnet: '10.77.0',
    hostIp: '10.77.0.1',
    kernel: '/boot/vmlinuz',
    initrd: `${d}/initrd.img`,
    init: 'busybox',
    accel: 'tcg',
    memoryMiB: 768,
    diskBytes: '2147483648',
    createdAt: '2024-01-01T00:00:00.000Z',
    brokerPidFile: `${d}/broker.pid`,
    brokerSocket: `${d}/broker.sock`,
    nodes: names.map((name, i) => ({
      name,
      index: i + 1,
      ip: `10.77.0.${11 + i}`,
      mac: `52:54:00:77:00:0${i}`,
      tap: `tap${i + 1}`,
      qemuPidFile: `${d}/${name}/qemu.pid`,
      nbdPidFile: `${d}/${name}/nbd.pid`,
      agentSocket: `${d}/${name}/agent.sock`,
      nbdSocket: `${d}/${name}/nbd.sock`,
      consoleLog: `${d}/${name}/console.log`,
      dataDisk: `${d}/${name}/data.img`,
      stateDisk: `${d}/${name}/state.img`,
      qemuArgs: ['-m', '768'],
      partitioned: i === 1,
      diskFailed: false,
    })),
  };
}

function thrown(fn: () => unknown): XlssError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(XlssError);
  return err as XlssError;
}

describe('lab state file', () => {
  it('round-trips through state.json', () => {
    const s = labState(dir);
    writeState(s);
    expect(statePath(dir)).toBe(join(dir, 'state.json'));
    expect(readState(dir)).toEqual(s);
    expect(requireState(dir)).toEqual(s);
  });

  it('reads nothing when there is no lab', () => {
    expect(readState(dir)).toBeUndefined();
    const err = thrown(() => requireState(dir));
    expect(err.code).toBe('ENOLAB');
    expect(err.message).toBe(`no lab is running in ${dir}; start one with "xlss lab up"`);
  });

  it('refuses corrupt JSON with a message pointing at "xlss lab down"', () => {
    writeFileSync(statePath(dir), '{"version":1,"nod');
    const err = thrown(() => readState(dir));
    expect(err.code).toBe('ELABSTATE');
    expect(err.message).toContain(statePath(dir));
    expect(err.message).toContain('not valid JSON');
    expect(err.message).toContain('xlss lab down');
  });

  it.each([
    ['{}'],
    ['{"version":2,"nodes":[],"netns":"x"}'],
    ['{"version":1,"netns":"x"}'],
    ['null'],
    ['[]'],
  ])('refuses %s as not a lab state file', (text) => {
    writeFileSync(statePath(dir), text);
    const err = thrown(() => readState(dir));
    expect(err.code).toBe('ELABSTATE');
    expect(err.message).toContain('xlss lab down');
  });

  it('refuses a state file that others could have written', () => {
    writeState(labState(dir));
    chmodSync(statePath(dir), 0o666);
    expect(thrown(() => readState(dir)).message).toMatch(/not trusted/);
    chmodSync(statePath(dir), 0o600);
    chmodSync(dir, 0o777);
    expect(thrown(() => readState(dir)).message).toMatch(/not trusted/);
  });

  it('findNode finds a node, and names the nodes there are when it does not', () => {
    const s = labState(dir, ['node1', 'node2', 'node3']);
    expect(findNode(s, 'node2').ip).toBe('10.77.0.12');
    const err = thrown(() => findNode(s, 'node7'));
    expect(err.code).toBe('ENONODE');
    expect(err.message).toBe('no node "node7" in the lab (nodes: node1, node2, node3)');
  });
});

describe('livePid', () => {
  const children: ReturnType<typeof spawn>[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
  });

  it('gives the pid of a live process whose command line is the expected one', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    children.push(child);
    await new Promise((r) => child.once('spawn', r));
    const file = join(dir, 'live.pid');
    writeFileSync(file, `${child.pid}\n`);
    expect(livePid(file, (argv) => argv.join(' ') === 'sleep 30')).toBe(child.pid);
  });

  it("gives nothing for a live process that is not the lab's (a reused pid)", async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    children.push(child);
    await new Promise((r) => child.once('spawn', r));
    const file = join(dir, 'node1.qemu.pid');
    writeFileSync(file, `${child.pid}\n`);
    // The default check wants a qemu whose -pidfile is this file.
    expect(livePid(file)).toBeUndefined();
  });

  it('gives nothing for a dead process', async () => {
    const child = spawn('true', [], { stdio: 'ignore' });
    await new Promise((r) => child.once('exit', r));
    const file = join(dir, 'dead.pid');
    writeFileSync(file, String(child.pid));
    expect(livePid(file)).toBeUndefined();
  });

  it.each([['garbage'], [''], ['1'], ['0'], ['-5'], ['12.5']])(
    'gives nothing for a pid file holding %j',
    (text) => {
      const file = join(dir, 'bad.pid');
      writeFileSync(file, text);
      expect(livePid(file)).toBeUndefined();
    },
  );

  it('gives nothing for a missing pid file', () => {
    expect(livePid(join(dir, 'missing.pid'))).toBeUndefined();
  });
});
