import { describe, expect, it } from 'vitest';
import { AGENT_BUNDLE, GUEST_SETUP, nbdArgs, qemuArgs } from './qemu.js';
import type { LabState, NodeState } from './state.js';

const state: Omit<LabState, 'nodes'> = {
  version: 1,
  dir: '/tmp/lab',
  netns: 'xlss-12345678',
  subnet: '10.77.0',
  hostIp: '10.77.0.1',
  kernel: '/boot/vmlinuz-6.1.0-1-amd64',
  initrd: '/tmp/lab/initrd.img',
  init: 'busybox',
  accel: 'tcg',
  memoryMiB: 768,
  diskBytes: '2147483648',
  createdAt: '2024-01-01T00:00:00.000Z',
  brokerPidFile: '/tmp/lab/broker.pid',
  brokerSocket: '/tmp/lab/broker.sock',
};

const node: Omit<NodeState, 'qemuArgs'> = {
  name: 'node2',
  index: 2,
  ip: '10.77.0.12',
  mac: '52:54:00:77:00:0c',
  tap: 'tap2',
  qemuPidFile: '/tmp/lab/node2/qemu.pid',
  nbdPidFile: '/tmp/lab/node2/nbd.pid',
  agentSocket: '/tmp/lab/node2/agent.sock',
  nbdSocket: '/tmp/lab/node2/nbd.sock',
  consoleLog: '/tmp/lab/node2/console.log',
  dataDisk: '/tmp/lab/node2/data.img',
  stateDisk: '/tmp/lab/node2/state.img',
  partitioned: false,
  diskFailed: false,
};

/** The value following `flag` each time it occurs. */
function values(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1] ?? ''] : []));
}

describe('qemuArgs', () => {
  it('uses TCG by default and KVM only when asked', () => {
    const tcg = qemuArgs(state, node);
    expect(values(tcg, '-accel')).toEqual(['tcg,thread=single']);
    expect(values(tcg, '-cpu')).toEqual(['max']);
    const kvm = qemuArgs({ ...state, accel: 'kvm' }, node);
    expect(values(kvm, '-accel')).toEqual(['kvm']);
    expect(values(kvm, '-cpu')).toEqual(['host']);
  });

  it('boots the lab kernel with node, address, agent and init on the command line', () => {
    const args = qemuArgs({ ...state, init: 'systemd' }, node);
    expect(values(args, '-kernel')).toEqual([state.kernel]);
    expect(values(args, '-initrd')).toEqual([state.initrd]);
    const [append] = values(args, '-append');
    const cmdline = (append ?? '').split(' ');
    expect(cmdline).toEqual(
      expect.arrayContaining([
        'console=ttyS0',
        'xlss.node=node2',
        'xlss.ip=10.77.0.12/24',
        `xlss.agent=${AGENT_BUNDLE}`,
        `xlss.setup=${GUEST_SETUP}`,
        'xlss.init=systemd',
        'xlss.share=hostroot',
      ]),
    );
    expect(AGENT_BUNDLE).toMatch(/\/dist\/lab-agent\.mjs$/);
  });

  it('serves the data disk through nbd and reports its errors to the guest', () => {
    const args = qemuArgs(state, node);
    expect(values(args, '-blockdev')).toEqual([
      `driver=nbd,node-name=data,server.type=unix,server.path=${node.nbdSocket},reconnect-delay=0`,
    ]);
    const devices = values(args, '-device');
    const data = devices.find((d) => d.includes('drive=data'));
    expect(data).toContain('serial=xlss-data');
    expect(data?.split(',')).toEqual(expect.arrayContaining(['werror=report', 'rerror=report']));
    expect(values(args, '-drive')).toEqual([
      `file=${node.stateDisk},format=raw,if=none,id=state,cache=writeback`,
    ]);
  });

  it('wires tap, MAC, agent socket, console, pid file and memory of the node', () => {
    const args = qemuArgs({ ...state, memoryMiB: 1024 }, node);
    expect(values(args, '-netdev')).toEqual(['tap,id=net0,ifname=tap2,script=no,downscript=no']);
    expect(values(args, '-device')).toContain('virtio-net-pci,netdev=net0,mac=52:54:00:77:00:0c');
    expect(values(args, '-chardev')).toEqual([
      'file,id=console,path=/tmp/lab/node2/console.log,append=on',
      'socket,id=agent,path=/tmp/lab/node2/agent.sock,server=on,wait=off',
    ]);
    expect(values(args, '-device')).toContain('virtserialport,chardev=agent,name=xlss.agent');
    expect(values(args, '-pidfile')).toEqual([node.qemuPidFile]);
    expect(values(args, '-m')).toEqual(['1024']);
    expect(values(args, '-name')).toEqual(['xlss-lab-node2,process=xlss-lab-node2']);
    expect(args).toContain('-daemonize');
    expect(args).toContain('-no-reboot');
  });

  it('is a pure function of the state', () => {
    expect(qemuArgs(state, node)).toEqual(qemuArgs(state, node));
  });
});

describe('nbdArgs', () => {
  it('serves the data disk on the node socket, forked, with a pid file', () => {
    const args = nbdArgs(node);
    expect(args).toEqual(
      expect.arrayContaining([
        '--fork',
        '--persistent',
        '--format=raw',
        `--pid-file=${node.nbdPidFile}`,
        `--socket=${node.nbdSocket}`,
      ]),
    );
    expect(args.at(-1)).toBe(node.dataDisk);
  });
});
