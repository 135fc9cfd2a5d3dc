/**
 * Provisioning time straight through the two daemons' REST APIs (no controller, so its
 * polling is not in it): PUT the Primary's and the Secondary's spec at once, then poll
 * both daemons until the volume is usable (both disks UpToDate, connected, one side
 * Primary). Measured on the host from the first PUT to the answer that showed it usable.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { VolumeSpec, VolumeStatus } from '../../daemon/api/schemas.js';
import { requestOverSocket } from '../../vagrant/lab/forward.js';
import type { NodeState } from '../../vagrant/lab/state.js';

/** A daemon's REST API through a lab forward (unix socket), with its bearer token. */
export interface DaemonAccess {
  node: NodeState;
  socketPath: string;
  token: string;
}

export async function daemonCall<T>(
  d: DaemonAccess,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const r = await requestOverSocket(d.socketPath, {
    method,
    path,
    body,
    headers: { authorization: `Bearer ${d.token}` },
    timeoutMs: 60_000,
  });
  if (r.status >= 300) throw new Error(`${d.node.name}: ${method} ${path}: ${r.status} ${r.body}`);
  return (r.body ? JSON.parse(r.body) : null) as T;
}

function specFor(
  self: 'primary' | 'secondary',
  peer: NodeState,
  drbd: { minor: number; port: number },
  sizeBytes: number,
): VolumeSpec {
  return {
    sizeBytes,
    thin: true,
    peer: { node: peer.name, address: peer.ip },
    drbd: { ...drbd, secret: 'YmVuY2gtc2VjcmV0LWJ4LTEyMzQ' },
    role: self,
    epoch: 1,
    // No filesystem: the bare baseline makes none either.
    filesystem: null,
    mountPoint: null,
    backup: null,
  };
}

const usable = (p: VolumeStatus | null, s: VolumeStatus | null) =>
  p?.observed.drbd?.role === 'Primary' &&
  p.observed.drbd.disk === 'UpToDate' &&
  p.observed.drbd.peerDisk === 'UpToDate' &&
  s?.observed.drbd?.disk === 'UpToDate' &&
  s.observed.drbd.connection === 'Connected';

/** Seconds from the PUTs to a usable replicated volume; deletes it again after. */
export async function daemonProvision(
  [primary, secondary]: [DaemonAccess, DaemonAccess],
  name: string,
  drbd: { minor: number; port: number },
  sizeBytes: number,
  timeoutMs = 300_000,
): Promise<number> {
  const path = `/v1/volumes/${name}`;
  const get = (d: DaemonAccess) => daemonCall<VolumeStatus>(d, 'GET', path).catch(() => null);
  const t = performance.now();
  try {
    await Promise.all([
      daemonCall(primary, 'PUT', path, specFor('primary', secondary.node, drbd, sizeBytes)),
      daemonCall(secondary, 'PUT', path, specFor('secondary', primary.node, drbd, sizeBytes)),
    ]);
    for (;;) {
      const [p, s] = await Promise.all([get(primary), get(secondary)]);
      if (usable(p, s)) return (performance.now() - t) / 1000;
      if (p?.state === 'failed' || s?.state === 'failed')
        throw new Error(`${name} failed: ${p?.error ?? ''} ${s?.error ?? ''}`);
      if (performance.now() - t > timeoutMs)
        throw new Error(
          `${name} not usable after ${timeoutMs / 1000} s: ${JSON.stringify([p?.observed, s?.observed])}`,
        );
      await sleep(100);
    }
  } finally {
    for (const d of [primary, secondary])
      await daemonCall(d, 'DELETE', `${path}?force=true`).catch(() => undefined);
  }
}
