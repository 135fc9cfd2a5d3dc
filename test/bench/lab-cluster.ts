/**
 * The bench's cluster lab: `Lab.up` with the cluster on (a daemon in every guest, the
 * controller on the host side), and the ways in that the lab figures use: the
 * controller's client, each daemon's REST API through a lab forward, and the real
 * `xlss` binary pointed at this lab's controller.
 */
import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import type { Logger } from '../../common/log.js';
import type { CommandRunner } from '../../common/runner.js';
import type { ControllerClient } from '../../controller/cli/api-client.js';
import { controllerClient } from '../../vagrant/lab/cluster.js';
import { clusterFiles, DAEMON_PORT } from '../../vagrant/lab/cluster-config.js';
import { labConfig } from '../../vagrant/lab/config.js';
import { Lab, XLSS_BIN } from '../../vagrant/lab/lab.js';
import { findNode, type NodeState } from '../../vagrant/lab/state.js';
import type { DaemonAccess } from './lab-daemon-provision.js';

export interface BenchCluster {
  lab: Lab;
  node(name: string): NodeState;
  controller: ControllerClient;
  daemon(node: string): Promise<DaemonAccess>;
  /** `xlss <args>` against this lab's controller; throws with stderr unless it exits 0. */
  xlss(args: string[], timeoutMs?: number): Promise<string>;
}

export async function upBenchCluster(
  dir: string,
  nodes: number,
  deps: { runner: CommandRunner; log: Logger; progress?: (line: string) => void },
): Promise<BenchCluster> {
  const lab = new Lab(dir, deps);
  await lab.down();
  await lab.up(labConfig({ dir, nodes, disk: '1GiB', cluster: true }), {
    install: process.env.XLSS_LAB_INSTALL === '1',
  });
  return openBenchCluster(lab);
}

/** The ways into a cluster lab that is up already. */
export function openBenchCluster(lab: Lab): BenchCluster {
  const dir = lab.dir;
  const files = clusterFiles(dir);
  const env = {
    XLSS_CONTROLLER: `unix:${files.controllerSocket}`,
    XLSS_TOKEN_FILE: files.controllerToken,
    XLSS_CONTEXT: `${dir}/no-context.json`,
  };
  return {
    lab,
    node: (name) => findNode(lab.state(), name),
    controller: controllerClient(dir, readFileSync(files.controllerToken, 'utf8').trim(), 30_000),
    daemon: async (name) => ({
      node: findNode(lab.state(), name),
      socketPath: await lab.forward(name, DAEMON_PORT),
      token: readFileSync(files.nodeToken(name), 'utf8').trim(),
    }),
    xlss: async (args, timeoutMs = 300_000) => {
      const r = await execa(process.execPath, [XLSS_BIN, ...args], {
        env,
        reject: false,
        timeout: timeoutMs,
      });
      if (r.exitCode !== 0)
        throw new Error(
          `xlss ${args.join(' ')} exited ${r.exitCode}: ${String(r.stderr).trim() || String(r.stdout).trim()}`,
        );
      return String(r.stdout);
    },
  };
}
