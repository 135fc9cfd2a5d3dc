import { afterAll, beforeAll } from 'vitest';
import { createLogger } from '../../../common/log.js';
import { ExecaRunner } from '../../../common/runner.js';
import { GuestRunner, type LabClient } from '../../../vagrant/lab/client.js';
import { type LabOptionsInput, labConfig } from '../../../vagrant/lab/config.js';
import { Lab } from '../../../vagrant/lab/lab.js';
import { alive, cmdlineOf } from '../../../vagrant/lab/procs.js';
import { findNode, livePid } from '../../../vagrant/lab/state.js';

export interface LabFixture {
  /** The running lab (throws before beforeAll has booted it). */
  lab(): Lab;
  /** A CommandRunner whose commands run on `node`: point the adapters at it. */
  runner(node: string): GuestRunner;
  /** Runs a command on a node and returns stdout; throws with stderr when it fails. */
  sh(node: string, script: string): Promise<string>;
  /**
   * Crashes `node` and proves it: the qemu killed is the one this lab started for that
   * node (pid from its pid file, command line naming the node and that pid file), and it
   * is gone afterwards. Returns the pid killed.
   */
  crash(node: string): Promise<number>;
}

/** The running qemu of `node` in `lab`, checked by its command line, or an error saying why not. */
export function qemuOf(lab: Lab, node: string): { pid: number; argv: string[] } {
  const n = findNode(lab.state(), node);
  const pid = livePid(n.qemuPidFile);
  const argv = pid !== undefined ? cmdlineOf(pid) : undefined;
  if (pid === undefined || !argv) throw new Error(`${node}: no qemu of this lab is running`);
  if (!argv.includes(`xlss-lab-${node},process=xlss-lab-${node}`) || !argv.includes(n.qemuPidFile))
    throw new Error(`${node}: pid ${pid} is not this lab's qemu for the node: ${argv.join(' ')}`);
  return { pid, argv };
}

/**
 * Boots a lab once for the calling test file (in its own directory and namespace) and
 * tears it down after, even when a test failed. A lab that cannot start fails the file:
 * lab tests never skip.
 */
export function useLab(name: string, options: Omit<LabOptionsInput, 'dir'> = {}): LabFixture {
  if (!/^[a-z0-9-]+$/.test(name))
    throw new Error(`lab name "${name}" must be lowercase letters, digits and -`);
  const config = labConfig({
    ...options,
    dir: `/var/tmp/xlss-lab-test-${name}`,
    disk: options.disk ?? '1GiB',
  });
  const log = createLogger({ level: process.env.XLSS_LOG_LEVEL ?? 'warn' });
  const lab = new Lab(config.dir, {
    runner: new ExecaRunner({ logger: log }),
    log,
    progress: (line) => process.stderr.write(`[lab ${name}] ${line}\n`),
  });
  let client: LabClient | undefined;
  let booted = false;

  beforeAll(async () => {
    await lab.down();
    await lab.up(config, { install: process.env.XLSS_LAB_INSTALL === '1' });
    client = lab.client();
    booted = true;
  }, 600_000);

  afterAll(async () => {
    if (process.env.XLSS_LAB_KEEP === '1') return;
    await lab.down();
  }, 120_000);

  const requireClient = (): LabClient => {
    if (!booted || !client) throw new Error('the lab is not up');
    return client;
  };

  return {
    lab: () => {
      requireClient();
      return lab;
    },
    runner: (node) => new GuestRunner(requireClient(), node),
    sh: async (node, script) => {
      const r = await requireClient().exec(node, ['sh', '-c', script], { timeoutMs: 300_000 });
      if (r.exitCode !== 0)
        throw new Error(
          `${node}: sh -c '${script}' exited ${r.exitCode}: ${r.stderr.trim() || r.error || ''}`,
        );
      return r.stdout;
    },
    crash: async (node) => {
      requireClient();
      const { pid } = qemuOf(lab, node);
      const killed = await lab.crash(node);
      if (killed !== pid) throw new Error(`${node}: crash killed pid ${killed}, not its qemu ${pid}`);
      if (alive(pid) && cmdlineOf(pid) !== undefined) throw new Error(`${node}: qemu ${pid} still runs`);
      return pid;
    },
  };
}
