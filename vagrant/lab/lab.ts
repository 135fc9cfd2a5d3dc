import {
  closeSync,
  existsSync,
  ftruncateSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { XlssError } from '../../common/errors.js';
import { type Logger, silentLogger } from '../../common/log.js';
import { inProject, projectRoot } from '../../common/paths.js';
import { type CommandRunner, startDetached } from '../../common/runner.js';
import { type ExecResult, LabClient } from './client.js';
import {
  CONTROLLER_SERVICE,
  controllerClient,
  makeBackupsDir,
  setUpNode,
  waitNodesOnline,
  writeClusterFiles,
} from './cluster.js';
import { clusterFiles } from './cluster-config.js';
import { hostAddress, type LabConfig, netnsFor, nodeAddressing, SAFE_PATH } from './config.js';
import { cutsRuleset, describeNetem, type NetemSpec, netemArgs, nodePair, samePair } from './faults.js';
import { forwardServiceName, forwardSocket, validPort } from './forward.js';
import { buildInitramfs } from './initramfs.js';
import { probeKvm } from './kvm.js';
import {
  acquireLock,
  createLabDir,
  entryExists,
  releaseLock,
  removeLabDir,
  settledLabDir,
} from './labdir.js';
import { LabNetwork } from './network.js';
import { checkPrerequisites } from './prereq.js';
import { cmdlineOf, isLabProcess, labProcesses } from './procs.js';
import type { NodeLink } from './protocol.js';
import { nbdArgs, qemuArgs } from './qemu.js';
import {
  serviceFiles,
  startSupervisor,
  stopSupervisor,
  supervisorPid,
  validServiceName,
} from './services.js';
import {
  findNode,
  type LabState,
  livePid,
  type NodeState,
  readState,
  requireState,
  type ServiceState,
  writeState,
} from './state.js';

export const XLSS_BIN = inProject('bin/xlss.js');

export interface LabDeps {
  runner: CommandRunner;
  log?: Logger;
  /** Progress lines for people ("node2 ready after 9.1 s"). */
  progress?: (line: string) => void;
}

export interface NodeStatus {
  name: string;
  ip: string;
  /** qemu is running. */
  running: boolean;
  /** The guest's agent answers. */
  ready: boolean;
  partitioned: boolean;
  /** Nodes this one is cut from (`lab partition A B`). */
  cutFrom?: string[];
  /** The degradation of its link in force (`lab netem`), e.g. "delay 50ms loss 1%". */
  netem?: string;
  diskFailed: boolean;
  /** Cluster labs: the controller's view of the node's daemon (online, suspect, offline, ...). */
  daemon?: string;
  bootId?: string;
  uptimeS?: number;
}

const BOOT_TIMEOUT_MS = 240_000;

function tail(file: string): string {
  try {
    return summarizeConsole(readFileSync(file, 'utf8'));
  } catch {
    return '(no console output)';
  }
}

const NOTABLE = /xlss-|panic|error|cannot|can't|not found|no such file|failed|unable/i;
const STACK = /^\[\s*\d+\.\d+\]\s+(\?|[A-Z0-9]{2,3}:|Code:|<\/?TASK>|[a-z_0-9.]+\+0x)/;

/**
 * What a person needs from a console that ended a boot: the lines that say what went
 * wrong (ours, panics, errors) and then the last few lines, without kernel stack dumps.
 */
export function summarizeConsole(text: string, last = 10): string {
  const lines = text.split('\n').filter((l) => l.trim() && !STACK.test(l));
  const notable = lines.filter((l) => NOTABLE.test(l)).slice(-15);
  const end = lines.slice(-last).filter((l) => !notable.includes(l));
  const out = [...notable, ...(end.length ? ['…', ...end] : [])];
  return out.length > 0 ? out.join('\n') : '(no console output)';
}

function sparseFile(path: string, bytes: bigint): void {
  const fd = openSync(path, 'wx', 0o600);
  try {
    ftruncateSync(fd, Number(bytes));
  } finally {
    closeSync(fd);
  }
}

/**
 * Kills `pid` if it is still a process of the lab in `dir` (checked again right before
 * the signal: the pid may have been reused since it was found) and waits until it is gone.
 */
async function killAndWait(
  pid: number | undefined,
  dir: string,
  signal: NodeJS.Signals = 'SIGKILL',
): Promise<void> {
  if (pid === undefined) return;
  const argv = cmdlineOf(pid);
  if (!argv || !isLabProcess(argv, dir)) return;
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await sleep(50);
  }
}

/** The qemu lab: boots, breaks and cleans up a cluster of guests with real LVM and DRBD. */
export class Lab {
  private readonly runner: CommandRunner;
  private readonly log: Logger;
  private readonly progress: (line: string) => void;

  constructor(
    readonly dir: string,
    deps: LabDeps,
  ) {
    this.runner = deps.runner;
    this.log = (deps.log ?? silentLogger).child({ component: 'lab' });
    this.progress = deps.progress ?? (() => {});
  }

  state(): LabState {
    return requireState(this.dir);
  }

  client(): LabClient {
    return new LabClient(this.state().brokerSocket);
  }

  /** Anything of a lab in this directory still alive? */
  private alive(state: LabState): boolean {
    return (
      livePid(state.brokerPidFile) !== undefined ||
      state.nodes.some((n) => livePid(n.qemuPidFile) !== undefined || livePid(n.nbdPidFile) !== undefined)
    );
  }

  async up(config: LabConfig, opts: { install?: boolean } = {}): Promise<LabState> {
    const started = performance.now();
    // The guests find the checkout by its path on the kernel command line, split at spaces.
    for (const [what, path] of [
      ['the checkout', projectRoot()],
      ['node', process.execPath],
    ] as const)
      if (!SAFE_PATH.test(path))
        throw new XlssError(
          'ELABPATH',
          `the lab cannot use ${what} at ${path}: its path may hold only letters, digits and . _ - + /`,
        );
    const kernel = await checkPrerequisites({
      runner: this.runner,
      log: this.log,
      install: opts.install ?? false,
    });
    if (entryExists(this.dir)) {
      // Only a directory this tool made is looked into; anything else is refused below.
      await settledLabDir(this.dir);
      acquireLock(this.dir);
      const existing = readState(this.dir);
      if (existing && this.alive(existing)) {
        releaseLock(this.dir);
        throw new XlssError(
          'ELABRUNNING',
          `a lab is already running in ${this.dir} (${existing.nodes.length} nodes, up since ${existing.createdAt}); ` +
            'stop it with "xlss lab down" or use another --dir',
        );
      }
      this.progress('cleaning up what a previous lab left behind');
      await this.down();
    }
    createLabDir(this.dir);
    try {
      return await this.boot(config, kernel, started);
    } catch (err) {
      this.progress('up failed: stopping what it started');
      await this.down().catch((e: unknown) =>
        this.log.error({ dir: this.dir, err: e }, 'could not clean up after a failed up'),
      );
      throw err;
    } finally {
      if (entryExists(this.dir)) releaseLock(this.dir);
    }
  }

  private async boot(
    config: LabConfig,
    kernel: Awaited<ReturnType<typeof checkPrerequisites>>,
    started: number,
  ): Promise<LabState> {
    const initrd = await buildInitramfs(this.runner, kernel, this.dir);
    if (config.accel === 'kvm') {
      this.progress('probing KVM');
      await probeKvm(this.runner, { kernel: kernel.vmlinuz, initrd });
    }
    const netns = netnsFor(this.dir);
    const base = {
      version: 1 as const,
      dir: this.dir,
      netns,
      subnet: config.subnet,
      hostIp: hostAddress(config.subnet),
      kernel: kernel.vmlinuz,
      initrd,
      init: config.init,
      accel: config.accel,
      kernelArgs: config.kernelArgs,
      memoryMiB: config.memoryMiB,
      diskBytes: String(config.diskBytes),
      createdAt: new Date().toISOString(),
      brokerPidFile: join(this.dir, 'broker.pid'),
      brokerSocket: join(this.dir, 'broker.sock'),
      ...(config.cluster ? { cluster: true } : {}),
    };
    const nodes: NodeState[] = [];
    for (let i = 1; i <= config.nodes; i++) {
      const a = nodeAddressing(config.subnet, i);
      const f = (suffix: string) => join(this.dir, `${a.name}${suffix}`);
      const partial = {
        ...a,
        qemuPidFile: f('.qemu.pid'),
        nbdPidFile: f('.nbd.pid'),
        agentSocket: f('.agent.sock'),
        nbdSocket: f('.nbd.sock'),
        consoleLog: f('.console.log'),
        dataDisk: f('.data.img'),
        stateDisk: f('.state.img'),
        partitioned: false,
        diskFailed: false,
      };
      nodes.push({ ...partial, qemuArgs: qemuArgs(base, partial) });
    }
    const state: LabState = { ...base, nodes };
    // Written before anything starts, so "down" finds everything even if we die midway.
    writeState(state);

    const net = new LabNetwork(this.runner, netns);
    await net.create(
      state.hostIp,
      nodes.map((n) => n.tap),
    );
    makeBackupsDir(this.dir);
    for (const n of nodes) {
      sparseFile(n.dataDisk, config.diskBytes);
      sparseFile(n.stateDisk, config.stateDiskBytes);
    }
    await Promise.all(nodes.map((n) => this.startNbd(n)));
    await this.startBroker(state);
    this.progress(
      `booting ${nodes.length} node${nodes.length > 1 ? 's' : ''} (${config.accel.toUpperCase()})`,
    );
    await Promise.all(nodes.map((n) => this.startQemu(state, n)));
    await this.waitReady(
      state,
      nodes.map((n) => n.name),
      new Map(),
      started,
    );
    if (config.cluster) await this.startCluster(state);
    this.progress(`lab up in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return state;
  }

  /** Daemons on every guest, the controller on the host side; returns once every node is online. */
  private async startCluster(state: LabState): Promise<void> {
    const started = performance.now();
    const secs = () => ((performance.now() - started) / 1000).toFixed(1);
    const tokens = writeClusterFiles(state);
    this.progress('setting up the nodes: VG, thin pool, daemon config; starting the daemons');
    await Promise.all(
      state.nodes.map((n) =>
        setUpNode(this, state, n, {
          controller: tokens.controllerToken,
          node: tokens.nodeTokens.get(n.name) as string,
        }),
      ),
    );
    this.progress(`nodes set up after ${secs()} s; starting the controller`);
    await this.runService(CONTROLLER_SERVICE, [
      process.execPath,
      XLSS_BIN,
      'controller',
      '--config',
      clusterFiles(this.dir).controllerConfig,
    ]);
    await waitNodesOnline(
      controllerClient(this.dir, tokens.controllerToken),
      state.nodes.map((n) => n.name),
    );
    this.progress(`controller up, ${state.nodes.length} daemons online after ${secs()} s`);
  }

  /** The controller's view of each node (health), or undefined when it is not a cluster lab or does not answer. */
  async daemonHealth(): Promise<Map<string, string> | undefined> {
    const state = this.state();
    if (!state.cluster) return undefined;
    try {
      const token = readFileSync(clusterFiles(this.dir).controllerToken, 'utf8').trim();
      const nodes = await controllerClient(this.dir, token, 3000).listNodes();
      return new Map(nodes.map((n) => [n.name, n.health]));
    } catch (err) {
      this.log.debug({ err }, 'controller did not answer');
      return new Map(state.nodes.map((n) => [n.name, 'no controller']));
    }
  }

  private async startNbd(n: NodeState): Promise<void> {
    rmSync(n.nbdSocket, { force: true });
    await this.runner.run('qemu-nbd', nbdArgs(n), { timeoutMs: 30_000 });
  }

  private async startBroker(state: LabState): Promise<void> {
    rmSync(state.brokerSocket, { force: true });
    const pid = await startDetached(process.execPath, [XLSS_BIN, 'lab', 'broker', '--dir', state.dir], {
      logFile: join(state.dir, 'broker.log'),
      env: { XLSS_LOG_LEVEL: 'info' },
    });
    writeFileSync(state.brokerPidFile, `${pid}\n`);
    for (let i = 0; i < 200; i++) {
      if (existsSync(state.brokerSocket)) return;
      if (livePid(state.brokerPidFile) === undefined) break;
      await sleep(50);
    }
    throw new XlssError(
      'ELABBROKER',
      `the lab broker did not start:\n${tail(join(state.dir, 'broker.log'))}`,
    );
  }

  private async startQemu(state: LabState, n: NodeState): Promise<void> {
    rmSync(n.agentSocket, { force: true });
    const net = new LabNetwork(this.runner, state.netns);
    const [cmd, args] = net.wrap('qemu-system-x86_64', n.qemuArgs);
    await this.runner.run(cmd, args, { timeoutMs: 60_000 });
  }

  /** Waits until every named node's agent answers with a boot id other than `previous`. */
  private async waitReady(
    state: LabState,
    names: string[],
    previous: Map<string, string | undefined>,
    started: number,
  ): Promise<void> {
    const client = new LabClient(state.brokerSocket);
    const waiting = new Set(names);
    const deadline = Date.now() + BOOT_TIMEOUT_MS;
    while (waiting.size > 0) {
      const links = await client.status();
      for (const name of [...waiting]) {
        const link = links.find((l) => l.node === name);
        if (link?.connected && link.bootId && link.bootId !== previous.get(name)) {
          waiting.delete(name);
          this.progress(`${name} ready after ${((performance.now() - started) / 1000).toFixed(1)} s`);
          continue;
        }
        const n = findNode(state, name);
        if (livePid(n.qemuPidFile) === undefined)
          throw new XlssError(
            'ELABBOOT',
            `${name} stopped while booting; its console says:\n${tail(n.consoleLog)}`,
          );
      }
      if (waiting.size === 0) break;
      if (Date.now() > deadline) {
        const name = [...waiting][0] as string;
        const hint = state.accel === 'kvm' ? ' (KVM was asked for: try without --accel kvm)' : '';
        throw new XlssError(
          'ELABBOOT',
          `${[...waiting].join(', ')} did not become ready in ${BOOT_TIMEOUT_MS / 1000} s${hint}; ` +
            `${name}'s console ends with:\n${tail(findNode(state, name).consoleLog)}`,
        );
      }
      await sleep(200);
    }
  }

  async status(): Promise<NodeStatus[]> {
    const state = this.state();
    let links: NodeLink[] = [];
    if (livePid(state.brokerPidFile) !== undefined) links = await new LabClient(state.brokerSocket).status();
    const daemons = await this.daemonHealth();
    return state.nodes.map((n) => {
      const link = links.find((l) => l.node === n.name);
      const running = livePid(n.qemuPidFile) !== undefined;
      return {
        name: n.name,
        ip: n.ip,
        running,
        ready: running && (link?.connected ?? false),
        partitioned: n.partitioned,
        cutFrom: (state.cuts ?? [])
          .filter((c) => c.includes(n.name))
          .map((c) => (c[0] === n.name ? c[1] : c[0])),
        ...(state.netem?.[n.name] ? { netem: describeNetem(state.netem[n.name] as NetemSpec) } : {}),
        diskFailed: livePid(n.nbdPidFile) === undefined,
        ...(daemons ? { daemon: daemons.get(n.name) ?? 'not registered' } : {}),
        ...(link?.bootId && running ? { bootId: link.bootId } : {}),
        ...(link?.uptimeS !== undefined && running ? { uptimeS: link.uptimeS } : {}),
      };
    });
  }

  async exec(node: string, argv: string[], opts: Parameters<LabClient['exec']>[2] = {}): Promise<ExecResult> {
    const state = this.state();
    findNode(state, node);
    return new LabClient(state.brokerSocket).exec(node, argv, opts);
  }

  /**
   * The guest dies at once, as on a power cut: qemu is killed, nothing is flushed.
   * Returns the pid of the qemu it killed (undefined when the node was not running).
   */
  async crash(name: string): Promise<number | undefined> {
    const n = findNode(this.state(), name);
    const pid = livePid(n.qemuPidFile);
    await killAndWait(pid, this.dir, 'SIGKILL');
    this.log.info({ node: name, pid }, 'crashed node');
    return pid;
  }

  /** Boots a stopped node again with the same disks; waits until it is ready. */
  async start(name: string): Promise<void> {
    const started = performance.now();
    const state = this.state();
    const n = findNode(state, name);
    if (livePid(n.qemuPidFile) !== undefined) {
      this.progress(`${name} is running already`);
      return;
    }
    const before = (await new LabClient(state.brokerSocket).status()).find((l) => l.node === name)?.bootId;
    if (livePid(n.nbdPidFile) === undefined && !n.diskFailed) await this.startNbd(n);
    await this.startQemu(state, n);
    await this.waitReady(state, [name], new Map([[name, before]]), started);
    await this.applyNetem(name);
  }

  private update(name: string, change: Partial<NodeState>): void {
    const state = this.state();
    const n = findNode(state, name);
    Object.assign(n, change);
    writeState(state);
  }

  async partition(name: string): Promise<void> {
    const state = this.state();
    await new LabNetwork(this.runner, state.netns).partition(findNode(state, name).tap);
    this.update(name, { partitioned: true });
  }

  async heal(name: string): Promise<void> {
    const state = this.state();
    await new LabNetwork(this.runner, state.netns).heal(findNode(state, name).tap);
    this.update(name, { partitioned: false });
  }

  /** The node's data disk starts failing every read and write (its qemu-nbd server dies). */
  async diskFail(name: string): Promise<void> {
    const n = findNode(this.state(), name);
    await killAndWait(livePid(n.nbdPidFile), this.dir, 'SIGKILL');
    this.update(name, { diskFailed: true });
  }

  async diskHeal(name: string): Promise<void> {
    const n = findNode(this.state(), name);
    if (livePid(n.nbdPidFile) === undefined) await this.startNbd(n);
    this.update(name, { diskFailed: false });
  }

  /**
   * Stops everything and removes the namespace and the lab's files. Idempotent, and
   * works after the lab tool itself crashed: it also finds the lab's processes by their
   * command lines. Refuses a directory the lab did not create (no mark), and kills and
   * removes only what is the lab's own.
   */
  async down(): Promise<void> {
    const exists = entryExists(this.dir);
    if (exists) {
      await settledLabDir(this.dir);
      acquireLock(this.dir);
    }
    const state = exists ? readState(this.dir) : undefined;
    if (exists) await this.stopAllServices(state);
    const pids = new Set<number>();
    if (state) {
      for (const f of [state.brokerPidFile, ...state.nodes.flatMap((n) => [n.qemuPidFile, n.nbdPidFile])]) {
        const pid = livePid(f);
        if (pid) pids.add(pid);
      }
    }
    for (const pid of labProcesses(this.dir)) pids.add(pid);
    await Promise.all([...pids].map((pid) => killAndWait(pid, this.dir, 'SIGKILL')));
    await new LabNetwork(this.runner, state?.netns ?? netnsFor(this.dir)).destroy();
    if (exists) {
      const left = removeLabDir(this.dir);
      if (left.length > 0) {
        releaseLock(this.dir);
        throw new XlssError(
          'ELABDIR',
          `left ${this.dir} in place: it holds files the lab did not make (${left.slice(0, 5).join(', ')})`,
        );
      }
    }
    this.log.info({ dir: this.dir, killed: pids.size }, 'lab down');
  }
  // Faults between two nodes and degraded links (see faults.ts).

  /** Cuts the link between two nodes only; both still reach the host side and the others. */
  async partitionPair(a: string, b: string): Promise<void> {
    const state = this.state();
    const pair = nodePair(
      a,
      b,
      state.nodes.map((n) => n.name),
    );
    const cuts = (state.cuts ?? []).filter((c) => !samePair(c, pair));
    await this.applyCuts(state, [...cuts, pair]);
    this.log.info({ nodes: pair }, 'cut the link between two nodes');
  }

  async healPair(a: string, b: string): Promise<void> {
    const state = this.state();
    const pair = nodePair(
      a,
      b,
      state.nodes.map((n) => n.name),
    );
    await this.applyCuts(
      state,
      (state.cuts ?? []).filter((c) => !samePair(c, pair)),
    );
    this.log.info({ nodes: pair }, 'healed the link between two nodes');
  }

  private async applyCuts(state: LabState, cuts: LabState['cuts'] & object): Promise<void> {
    const script = cutsRuleset(cuts, (name) => findNode(state, name).tap);
    const net = new LabNetwork(this.runner, state.netns);
    const [cmd, args] = net.wrap('nft', ['-f', '-']);
    await this.runner.run(cmd, args, { input: script, timeoutMs: 30_000 });
    const fresh = this.state();
    fresh.cuts = cuts;
    writeState(fresh);
  }

  /** Degrades a node's outgoing traffic (tc netem in the guest); `undefined` clears it. */
  async netem(name: string, spec: NetemSpec | undefined): Promise<void> {
    const state = this.state();
    findNode(state, name);
    const netem = { ...(state.netem ?? {}) };
    if (spec) netem[name] = spec;
    else delete netem[name];
    state.netem = netem;
    writeState(state);
    if (spec) await this.applyNetem(name);
    else {
      const r = await this.exec(name, ['tc', 'qdisc', 'del', 'dev', 'eth0', 'root'], { timeoutMs: 30_000 });
      if (r.exitCode !== 0 && !/handle of zero|No such file|Invalid handle/i.test(r.stderr))
        throw new XlssError('ELABNETEM', `${name}: tc could not clear netem: ${r.stderr.trim() || r.error}`);
    }
    this.log.info({ node: name, netem: spec ?? 'cleared' }, 'netem');
  }

  /** Puts the node's netem from the lab state in force (after a boot the guest has none). */
  private async applyNetem(name: string): Promise<void> {
    const spec = this.state().netem?.[name];
    if (!spec) return;
    const r = await this.exec(name, ['tc', ...netemArgs('eth0', spec)], { timeoutMs: 30_000 });
    if (r.exitCode !== 0)
      throw new XlssError('ELABNETEM', `${name}: tc netem failed: ${r.stderr.trim() || r.error}`);
  }

  // Host-side services (see services.ts and forward.ts).

  /**
   * Starts `argv` supervised inside the lab's namespace (restarted when it exits),
   * output to NAME.log in the lab directory. A service of that name running already
   * is refused.
   */
  async runService(name: string, argv: string[]): Promise<ServiceState> {
    validServiceName(name);
    if (argv.length === 0) throw new XlssError('EVALIDATION', 'command: give the command to run after --');
    const state = this.state();
    const files = serviceFiles(this.dir, name);
    const pid = supervisorPid(this.dir, name, files.pidFile);
    if (pid !== undefined)
      throw new XlssError('ELABSERVICE', `service ${name} is running already (pid ${pid}); stop it first`);
    const service = await startSupervisor(state, XLSS_BIN, name, argv);
    const fresh = this.state();
    fresh.services = { ...(fresh.services ?? {}), [name]: service };
    writeState(fresh);
    this.log.info({ service: name, argv }, 'service started');
    return service;
  }

  /** Stops a service and its process; false when it was not running. */
  async stopService(name: string): Promise<boolean> {
    validServiceName(name);
    const state = this.state();
    const files = state.services?.[name] ?? serviceFiles(this.dir, name);
    const stopped = await stopSupervisor(this.dir, name, files.pidFile);
    const fresh = this.state();
    if (fresh.services) delete fresh.services[name];
    writeState(fresh);
    this.log.info({ service: name, stopped }, 'service stopped');
    return stopped;
  }

  services(): ServiceStatus[] {
    const state = this.state();
    return Object.entries(state.services ?? {}).map(([name, s]) => {
      const pid = supervisorPid(this.dir, name, s.pidFile);
      return { name, ...s, running: pid !== undefined, ...(pid !== undefined ? { pid } : {}) };
    });
  }

  /**
   * A unix socket in the lab directory that reaches `node`:`port` over the lab's network
   * (a forwarder service in the namespace). Idempotent: the same path while it runs.
   */
  async forward(node: string, port: number): Promise<string> {
    const state = this.state();
    const n = findNode(state, node);
    const p = validPort(port);
    const name = forwardServiceName(n.name, p);
    const socket = forwardSocket(this.dir, n.name, p);
    if (
      supervisorPid(this.dir, name, serviceFiles(this.dir, name).pidFile) !== undefined &&
      existsSync(socket)
    )
      return socket;
    await this.stopService(name);
    rmSync(socket, { force: true });
    await this.runService(name, [process.execPath, XLSS_BIN, 'lab', 'forwarder', socket, `${n.ip}:${p}`]);
    for (let i = 0; i < 250; i++) {
      if (existsSync(socket)) return socket;
      await sleep(40);
    }
    throw new XlssError(
      'ELABFORWARD',
      `the forwarder for ${node}:${p} did not start; see ${serviceFiles(this.dir, name).logFile}`,
    );
  }

  /** Every service: those in the state and any pidfile left without an entry (a crash between the two). */
  private async stopAllServices(state: LabState | undefined): Promise<void> {
    const byName = new Map(Object.entries(state?.services ?? {}).map(([name, s]) => [name, s.pidFile]));
    for (const f of readdirSync(this.dir)) {
      const m = /^([a-z][a-z0-9-]*)\.service\.pid$/.exec(f);
      if (m?.[1] && !byName.has(m[1])) byName.set(m[1], join(this.dir, f));
    }
    await Promise.all([...byName].map(([name, pidFile]) => stopSupervisor(this.dir, name, pidFile, 2000)));
  }
}

export interface ServiceStatus extends ServiceState {
  name: string;
  running: boolean;
  pid?: number;
}
