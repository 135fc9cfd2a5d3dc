import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { XlssError } from '../../common/errors.js';
import type { LabAccel, LabInit } from './config.js';
import type { NetemSpec, NodePair } from './faults.js';
import { cmdlineOf, isLabProcess } from './procs.js';

export interface NodeState {
  name: string;
  index: number;
  ip: string;
  mac: string;
  tap: string;
  qemuPidFile: string;
  nbdPidFile: string;
  agentSocket: string;
  nbdSocket: string;
  consoleLog: string;
  dataDisk: string;
  stateDisk: string;
  /** How qemu was started, so `lab start` boots the node again the same way. */
  qemuArgs: string[];
  partitioned: boolean;
  diskFailed: boolean;
}

export interface LabState {
  version: 1;
  dir: string;
  netns: string;
  subnet: string;
  hostIp: string;
  kernel: string;
  initrd: string;
  init: LabInit;
  accel: LabAccel;
  /** Extra kernel parameters (`lab up --kernel-args`). */
  kernelArgs?: string[];
  memoryMiB: number;
  diskBytes: string;
  createdAt: string;
  brokerPidFile: string;
  brokerSocket: string;
  nodes: NodeState[];
  /** Links cut between two nodes only (`lab partition A B`). */
  cuts?: NodePair[];
  /** Degraded links by node (`lab netem`), applied again when a node boots. */
  netem?: Record<string, NetemSpec>;
  /** Daemons in the guests and the controller service (`lab up` without --bare). */
  cluster?: boolean;
  /** Processes started in the lab's namespace (`lab run`, `lab forward`), by name. */
  services?: Record<string, ServiceState>;
}

export interface ServiceState {
  argv: string[];
  pidFile: string;
  logFile: string;
  startedAt: string;
}

export function statePath(dir: string): string {
  return join(dir, 'state.json');
}

export function readState(dir: string): LabState | undefined {
  const path = statePath(dir);
  if (!existsSync(path)) return undefined;
  // qemu's arguments come from this file: only one that nobody else could have written counts.
  const uid = process.getuid?.() ?? 0;
  for (const p of [dir, path]) {
    const st = lstatSync(p);
    if (st.isSymbolicLink() || st.uid !== uid || (st.mode & 0o022) !== 0)
      throw new XlssError(
        'ELABSTATE',
        `lab state ${path} is not trusted: ${p} is a symbolic link, not owned by uid ${uid} or writable by others`,
      );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new XlssError('ELABSTATE', `lab state ${path} is not valid JSON; run "xlss lab down" to clean up`, {
      cause: err,
    });
  }
  const s = (parsed ?? {}) as Partial<LabState>;
  if (s.version !== 1 || !Array.isArray(s.nodes) || typeof s.netns !== 'string')
    throw new XlssError('ELABSTATE', `lab state ${path} is not a lab state file; run "xlss lab down"`);
  return s as LabState;
}

export function writeState(state: LabState): void {
  writeFileAtomic.sync(statePath(state.dir), `${JSON.stringify(state, null, 2)}\n`);
}

export function requireState(dir: string): LabState {
  const state = readState(dir);
  if (!state) throw new XlssError('ENOLAB', `no lab is running in ${dir}; start one with "xlss lab up"`);
  return state;
}

export function findNode(state: LabState, name: string): NodeState {
  const node = state.nodes.find((n) => n.name === name);
  if (!node)
    throw new XlssError(
      'ENONODE',
      `no node "${name}" in the lab (nodes: ${state.nodes.map((n) => n.name).join(', ')})`,
    );
  return node;
}

/** The pid a pid file holds, if it holds one. */
export function readPidFile(pidFile: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads a pid file and gives the pid if that process is alive and is the lab's: its
 * command line must be what the lab started for this directory (`matches`), since a
 * pid in a file may since have gone to any other process.
 */
export function livePid(
  pidFile: string,
  matches: (argv: string[]) => boolean = (argv) => isLabProcess(argv, dirname(pidFile)),
): number | undefined {
  const pid = readPidFile(pidFile);
  if (pid === undefined) return undefined;
  const argv = cmdlineOf(pid);
  return argv && matches(argv) ? pid : undefined;
}
