import { inProject } from '../../common/paths.js';
import { BACKUP_TAG, clusterFiles } from './cluster-config.js';
import { DISK_SERIAL } from './config.js';
import type { LabState, NodeState } from './state.js';

export const AGENT_BUNDLE = inProject('dist/lab-agent.mjs');
export const GUEST_SETUP = inProject('vagrant/lab/guest/setup.sh');

/**
 * The qemu command line of one lab guest (a pure function of the lab's state, so a
 * crashed node boots again exactly as before). The guest's root is the host's, read-only
 * over 9p; the data disk comes through qemu-nbd so it can be made to fail.
 */
export function qemuArgs(state: Omit<LabState, 'nodes'>, node: Omit<NodeState, 'qemuArgs'>): string[] {
  const cmdline = [
    'console=ttyS0',
    'quiet',
    'panic=-1',
    'xlss.share=hostroot',
    `xlss.setup=${GUEST_SETUP}`,
    `xlss.node=${node.name}`,
    `xlss.ip=${node.ip}/24`,
    `xlss.agent=${AGENT_BUNDLE}`,
    `xlss.nodejs=${process.execPath}`,
    `xlss.init=${state.init}`,
    ...(state.kernelArgs ?? []),
  ].join(' ');
  const accel =
    state.accel === 'kvm'
      ? ['-accel', 'kvm', '-cpu', 'host']
      : ['-accel', 'tcg,thread=single', '-cpu', 'max'];
  return [
    '-name',
    `xlss-lab-${node.name},process=xlss-lab-${node.name}`,
    '-machine',
    'q35',
    ...accel,
    '-m',
    String(state.memoryMiB),
    '-smp',
    '1',
    '-display',
    'none',
    '-no-reboot',
    '-daemonize',
    '-pidfile',
    node.qemuPidFile,
    '-kernel',
    state.kernel,
    '-initrd',
    state.initrd,
    '-append',
    cmdline,
    '-virtfs',
    'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
    // The backup target every node reaches (NFS in production): read-write, shared.
    '-virtfs',
    `local,path=${backupsDir(state.dir)},mount_tag=${BACKUP_TAG},security_model=passthrough,multidevs=remap`,
    '-chardev',
    `file,id=console,path=${node.consoleLog},append=on`,
    '-serial',
    'chardev:console',
    '-device',
    'virtio-serial-pci',
    '-chardev',
    `socket,id=agent,path=${node.agentSocket},server=on,wait=off`,
    '-device',
    'virtserialport,chardev=agent,name=xlss.agent',
    '-drive',
    `file=${node.stateDisk},format=raw,if=none,id=state,cache=writeback`,
    '-device',
    `virtio-blk-pci,drive=state,serial=${DISK_SERIAL.state}`,
    '-blockdev',
    `driver=nbd,node-name=data,server.type=unix,server.path=${node.nbdSocket},reconnect-delay=0`,
    '-device',
    `virtio-blk-pci,drive=data,serial=${DISK_SERIAL.data},werror=report,rerror=report`,
    '-netdev',
    `tap,id=net0,ifname=${node.tap},script=no,downscript=no`,
    '-device',
    `virtio-net-pci,netdev=net0,mac=${node.mac}`,
    '-device',
    'virtio-rng-pci',
  ];
}

function backupsDir(dir: string): string {
  return clusterFiles(dir).backups;
}

/** qemu-nbd serving a node's data disk on a unix socket; killing it makes the disk fail. */
export function nbdArgs(node: Pick<NodeState, 'nbdPidFile' | 'nbdSocket' | 'dataDisk'>): string[] {
  return [
    '--fork',
    '--persistent',
    '--shared=4',
    '--format=raw',
    '--cache=writeback',
    '--discard=unmap',
    `--pid-file=${node.nbdPidFile}`,
    `--socket=${node.nbdSocket}`,
    node.dataDisk,
  ];
}
