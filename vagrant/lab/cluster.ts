/**
 * `xlss lab up` without --bare: a daemon on every guest and the controller on the host
 * side of the lab's network, the nodes registered, so the admin CLI works right after.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage, XlssError } from '../../common/errors.js';
import { inProject } from '../../common/paths.js';
import type { NodeView } from '../../controller/api/schemas.js';
import { ControllerClient } from '../../controller/cli/api-client.js';
import { type ControllerContext, contextFilePath, writeContextFile } from '../../controller/cli/context.js';
import {
  clusterFiles,
  controllerUrl,
  GUEST_CONTROLLER_TOKEN,
  GUEST_DAEMON_CONFIG,
  GUEST_DAEMON_TOKEN,
  newToken,
  renderControllerConfig,
  renderDaemonConfig,
  THIN_POOL,
  THIN_POOL_PERCENT,
  VG,
} from './cluster-config.js';
import type { Lab } from './lab.js';
import type { LabState, NodeState } from './state.js';

export const CONTROLLER_SERVICE = 'controller';
const CLUSTER_NODE_SCRIPT = inProject('vagrant/lab/guest/cluster-node.sh');
/** How long `up` waits for every daemon to report to the controller (TCG guests are slow). */
const ONLINE_TIMEOUT_MS = 300_000;

/** Where the guest keeps a file that must survive a crash: setup.sh copies it over /etc at boot. */
function onStateDisk(etcPath: string): string {
  return `/var/lib/xlss${etcPath}`;
}

function writeSecret(path: string, text: string): void {
  writeFileSync(path, `${text}\n`, { mode: 0o600, flag: 'wx' });
}

/** The host-side files of the cluster: tokens (mode 600), the controller's config, the backups dir. */
export function writeClusterFiles(state: LabState): {
  controllerToken: string;
  nodeTokens: Map<string, string>;
} {
  const f = clusterFiles(state.dir);
  const controllerToken = newToken();
  writeSecret(f.controllerToken, controllerToken);
  const nodeTokens = new Map<string, string>();
  for (const n of state.nodes) {
    const token = newToken();
    nodeTokens.set(n.name, token);
    writeSecret(f.nodeToken(n.name), token);
  }
  writeFileSync(f.controllerConfig, renderControllerConfig(state.dir, state.hostIp, state.nodes), {
    mode: 0o600,
    flag: 'wx',
  });
  return { controllerToken, nodeTokens };
}

/** The backup share's host directory; qemu needs it before the guests boot. */
export function makeBackupsDir(dir: string): void {
  mkdirSync(clusterFiles(dir).backups, { mode: 0o700 });
}

/**
 * Written to a temporary file, fsynced, renamed, and the directory fsynced: the lab crashes
 * its nodes, and a crash 6 s after setup once left daemon.yaml and both tokens empty (the
 * data was still in the guest's page cache), so the daemon never started again.
 */
async function writeGuestFile(lab: Lab, node: string, path: string, text: string): Promise<void> {
  const script =
    'umask 077 && d="$(dirname "$0")" && mkdir -p "$d" && cat > "$0.tmp" && sync "$0.tmp" && mv -f "$0.tmp" "$0" && sync "$d"';
  const r = await lab.exec(node, ['sh', '-c', script, onStateDisk(path)], { stdin: text, timeoutMs: 60_000 });
  if (r.exitCode !== 0)
    throw new XlssError('ELABCLUSTER', `${node}: cannot write ${path}: ${r.stderr.trim() || r.error}`);
}

/** One node: its config and tokens, its VG and thin pool, its daemon started under init. */
export async function setUpNode(
  lab: Lab,
  state: LabState,
  node: NodeState,
  tokens: { controller: string; node: string },
): Promise<void> {
  await writeGuestFile(lab, node.name, GUEST_DAEMON_TOKEN, `${tokens.node}\n`);
  await writeGuestFile(lab, node.name, GUEST_CONTROLLER_TOKEN, `${tokens.controller}\n`);
  await writeGuestFile(lab, node.name, GUEST_DAEMON_CONFIG, renderDaemonConfig(node, state.hostIp));
  const r = await lab.exec(
    node.name,
    ['sh', CLUSTER_NODE_SCRIPT, VG, THIN_POOL, String(THIN_POOL_PERCENT), state.init],
    { timeoutMs: 120_000 },
  );
  if (r.exitCode !== 0)
    throw new XlssError(
      'ELABCLUSTER',
      `${node.name}: node setup failed (exit ${r.exitCode}): ${r.stderr.trim() || r.error}`,
    );
}

/** A client of this lab's controller, through its unix socket in the lab directory. */
export function controllerClient(dir: string, token: string, timeoutMs = 10_000): ControllerClient {
  const socketPath = clusterFiles(dir).controllerSocket;
  return new ControllerClient(
    { baseUrl: 'http://controller', socketPath, token, display: socketPath },
    timeoutMs,
  );
}

/** What `xlss lab up` writes to the admin CLI's context file. */
export function contextFor(state: Pick<LabState, 'dir' | 'hostIp'>): ControllerContext {
  const f = clusterFiles(state.dir);
  return {
    controller: controllerUrl(state.hostIp),
    socketPath: f.controllerSocket,
    tokenFile: f.controllerToken,
  };
}

/** Waits until the controller sees every node online; says which are not when it gives up. */
export async function waitNodesOnline(
  client: ControllerClient,
  names: string[],
  timeoutMs = ONLINE_TIMEOUT_MS,
): Promise<NodeView[]> {
  const deadline = Date.now() + timeoutMs;
  let last = 'the controller did not answer';
  for (;;) {
    try {
      const nodes = await client.listNodes();
      const missing = names.filter((n) => nodes.find((v) => v.name === n)?.health !== 'online');
      if (missing.length === 0) return nodes;
      last = missing
        .map((m) => `${m} ${nodes.find((v) => v.name === m)?.health ?? 'not registered'}`)
        .join(', ');
    } catch (err) {
      last = errorMessage(err);
    }
    if (Date.now() > deadline)
      throw new XlssError(
        'ELABCLUSTER',
        `the daemons did not all come online in ${timeoutMs / 1000} s (${last}); ` +
          'see controller.log in the lab directory and /var/lib/xlss/daemon.log in the guests',
      );
    await sleep(500);
  }
}

/** After `up`: the admin CLI reaches this lab's controller without flags. */
export function writeLabContext(state: Pick<LabState, 'dir' | 'hostIp'>, path = contextFilePath()): string {
  writeContextFile(contextFor(state), path);
  return path;
}

/**
 * After `down`: the context file goes only if it points to this lab's controller (another
 * lab's, or a real cluster's, stays). Returns whether it was removed.
 */
export function removeLabContext(dir: string, path = contextFilePath()): boolean {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return false;
  }
  const f = clusterFiles(dir);
  const ctx = doc as Partial<ControllerContext> | null;
  if (ctx?.socketPath !== f.controllerSocket || ctx.tokenFile !== f.controllerToken) return false;
  rmSync(path, { force: true });
  return true;
}
