import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import type { ControllerClient } from '../../../controller/cli/api-client.js';
import { HttpDaemonClient } from '../../../controller/daemon-http.js';
import { controllerClient } from '../../../vagrant/lab/cluster.js';
import { clusterFiles, DAEMON_PORT, daemonUrl } from '../../../vagrant/lab/cluster-config.js';
import type { LabOptionsInput } from '../../../vagrant/lab/config.js';
import { XLSS_BIN } from '../../../vagrant/lab/lab.js';
import { findNode } from '../../../vagrant/lab/state.js';
import { until } from '../../../vagrant/lab/until.js';
import { type LabFixture, useLab } from './lab.js';

export interface XlssResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ClusterFixture extends LabFixture {
  /** The lab's controller REST API, over its unix socket in the lab directory. */
  controller(): ControllerClient;
  /** A node's daemon REST API, through a lab forward to NODE:7680, with the node's token. */
  daemon(node: string): Promise<HttpDaemonClient>;
  /**
   * Runs the real `xlss` binary against this lab's controller (XLSS_CONTROLLER and
   * XLSS_TOKEN_FILE set; never the user's context file). Does not throw on a non-zero exit.
   */
  xlss(args: string[], opts?: { timeoutMs?: number }): Promise<XlssResult>;
  /** Like xlss(), but throws with stderr unless it exits 0; returns stdout. */
  xlssOk(args: string[], opts?: { timeoutMs?: number }): Promise<string>;
  /** Environment that points the CLI at this lab's controller. */
  env(): Record<string, string>;
}

/** Polls `probe` until it gives a value: the lab's `until`, with the arguments in test order. */
export function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
  intervalMs = 500,
): Promise<T> {
  return until(what, timeoutMs, probe, intervalMs);
}

/**
 * useLab with the cluster on: a daemon in every guest (VG `xlss`, thin pool `pool`), the
 * controller as the lab's `controller` service, every node online before the tests run.
 */
export function useCluster(
  name: string,
  options: Omit<LabOptionsInput, 'dir' | 'cluster'> = {},
): ClusterFixture {
  const fixture = useLab(name, { ...options, cluster: true });
  const dir = () => fixture.lab().dir;
  const token = () => readFileSync(clusterFiles(dir()).controllerToken, 'utf8').trim();
  const env = () => ({
    XLSS_CONTROLLER: `unix:${clusterFiles(dir()).controllerSocket}`,
    XLSS_TOKEN_FILE: clusterFiles(dir()).controllerToken,
    XLSS_CONTEXT: `${dir()}/no-context.json`,
  });
  const xlss = async (args: string[], opts: { timeoutMs?: number } = {}): Promise<XlssResult> => {
    const r = await execa(process.execPath, [XLSS_BIN, ...args], {
      env: env(),
      reject: false,
      timeout: opts.timeoutMs ?? 300_000,
    });
    return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
  };
  return {
    ...fixture,
    env,
    controller: () => controllerClient(dir(), token(), 30_000),
    daemon: async (node) => {
      const n = findNode(fixture.lab().state(), node);
      const socketPath = await fixture.lab().forward(node, DAEMON_PORT);
      return new HttpDaemonClient(
        { name: node, url: daemonUrl(n), tokenFile: clusterFiles(dir()).nodeToken(node), socketPath },
        { timeoutMs: 30_000 },
      );
    },
    xlss,
    xlssOk: async (args, opts) => {
      const r = await xlss(args, opts);
      if (r.exitCode !== 0)
        throw new Error(`xlss ${args.join(' ')} exited ${r.exitCode}: ${r.stderr.trim() || r.stdout.trim()}`);
      return r.stdout;
    },
  };
}

/** The controller's events of an automatic failover, in the order they must come. */
export const FAILOVER_TIMELINE = [
  'failover.detected',
  'failover.fenced',
  'failover.promoted',
  'failover.mounted',
  'replica.added',
] as const;
