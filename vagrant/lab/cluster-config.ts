/**
 * What makes a lab a cluster, as pure functions of the lab's addressing: the files the
 * lab writes for the controller (host side) and for each node's daemon (in the guest),
 * and the names those files have in the lab directory.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { inProject } from '../../common/paths.js';

export const DAEMON_PORT = 7680;
export const CONTROLLER_PORT = 7690;
export const VG = 'xlss';
export const THIN_POOL = 'pool';
/** Share of the VG given to the thin pool; the rest is for thick volumes and COW snapshots. */
export const THIN_POOL_PERCENT = 70;
/** Where every guest mounts the host directory that backups go to (NFS in production). */
export const BACKUP_MOUNT = '/srv/xlss-backups';
export const BACKUP_TAG = 'xlssbackups';
/** The daemon's config in a guest; setup.sh copies /var/lib/xlss/etc over /etc at every boot. */
export const GUEST_DAEMON_CONFIG = '/etc/xlss/daemon.yaml';
export const GUEST_DAEMON_TOKEN = '/etc/xlss/daemon.token';
export const GUEST_CONTROLLER_TOKEN = '/etc/xlss/controller.token';
/** The daemon bundle guests run (one file: node loads far fewer modules over 9p). */
export const DAEMON_BUNDLE = inProject('dist/xlss-daemon.mjs');

/** The cluster's files in the lab directory (names listed in labdir.ts LAB_FILE_PATTERNS). */
export function clusterFiles(dir: string) {
  return {
    controllerConfig: join(dir, 'controller.yaml'),
    controllerToken: join(dir, 'controller.token'),
    controllerSocket: join(dir, 'controller.sock'),
    database: join(dir, 'controller.db'),
    backups: join(dir, 'backups'),
    nodeToken: (node: string) => join(dir, `${node}.token`),
  };
}

/** A bearer token: 32 random bytes in hex (fits the daemon's and the controller's rules). */
export function newToken(): string {
  return randomBytes(32).toString('hex');
}

export interface ClusterNode {
  name: string;
  ip: string;
}

export function daemonUrl(node: ClusterNode): string {
  return `http://${node.ip}:${DAEMON_PORT}`;
}

export function controllerUrl(hostIp: string): string {
  return `http://${hostIp}:${CONTROLLER_PORT}`;
}

/** daemon.yaml of one guest. */
export function renderDaemonConfig(node: ClusterNode, hostIp: string): string {
  return stringify({
    nodeName: node.name,
    address: node.ip,
    listen: { host: '0.0.0.0', port: DAEMON_PORT },
    tokenFile: GUEST_DAEMON_TOKEN,
    stateDir: '/var/lib/xlss',
    vg: VG,
    thinPool: THIN_POOL,
    handlers: {
      fencePeer: inProject('systemd', 'xlss-fence-peer'),
      afterResyncTarget: inProject('systemd', 'xlss-after-resync-target'),
    },
    // The lab is small and slow: a pass every 10 s catches drift soon without hogging a guest.
    reconcileIntervalSeconds: 10,
    controller: { url: controllerUrl(hostIp), tokenFile: GUEST_CONTROLLER_TOKEN },
    labels: { lab: 'true' },
    logLevel: 'info',
  });
}

/** controller.yaml on the host side: every guest's daemon registered, fast failure detection. */
export function renderControllerConfig(dir: string, hostIp: string, nodes: ClusterNode[]): string {
  const f = clusterFiles(dir);
  return stringify({
    listen: { host: hostIp, port: CONTROLLER_PORT, socketPath: f.controllerSocket },
    tokenFile: f.controllerToken,
    databasePath: f.database,
    // Each node is polled every heartbeat for its volumes (deadline 0.4 s, doubling per
    // miss); facts, which cost the daemon LVM commands, every 5 s. A node is offline only
    // after 10 s of silence: daemons in TCG guests on a loaded 2-core host (load 11-15)
    // once answered in up to 7.7 s, and an offline Secondary gets replaced. A crashed
    // Primary is failed over sooner: suspect after two missed polls (about 1 s) and
    // confirmed by its peer's lost DRBD connection (DRBD's own detection, up to 1.5 s), so
    // a slow poll alone never fails anything over.
    heartbeatInterval: '500ms',
    nodeTimeout: '10s',
    // A path in the guests (the daemons write the backups): the share of <dir>/backups.
    defaultBackupTarget: BACKUP_MOUNT,
    nodes: nodes.map((n) => ({
      name: n.name,
      url: daemonUrl(n),
      address: n.ip,
      tokenFile: f.nodeToken(n.name),
    })),
    logLevel: 'info',
  });
}
