import { chmodSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { ValidationError } from '../../common/errors.js';

/**
 * How the host reaches a guest's TCP port: a unix socket in the lab directory per node
 * and port, served by a small forwarder that runs inside the lab's namespace (as a lab
 * service) and opens a TCP connection to 10.77.0.N:PORT for each client. The traffic
 * crosses the lab's bridge from its host address, so a partition of the node cuts it.
 */

/** Unix socket paths are limited to 107 bytes; leave room. */
const MAX_SOCKET_PATH = 100;

export function validPort(port: number | string, field = 'port'): number {
  const n = typeof port === 'number' ? port : /^\d{1,5}$/.test(port) ? Number(port) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new ValidationError(field, `must be a TCP port from 1 to 65535, got "${port}"`);
  return n;
}

/** The lab service that forwards `node`:`port` (one per node and port). */
export function forwardServiceName(node: string, port: number): string {
  return `fwd-${node}-${port}`;
}

export function forwardSocket(dir: string, node: string, port: number): string {
  const path = join(dir, `${forwardServiceName(node, port)}.sock`);
  if (path.length > MAX_SOCKET_PATH)
    throw new ValidationError('--dir', `the lab directory is too long for a unix socket path (${path})`);
  return path;
}

/** The body of `xlss lab forwarder`: listens on `socketPath`, connects each client to host:port. */
export function serveForward(socketPath: string, host: string, port: number): Promise<Server> {
  rmSync(socketPath, { force: true });
  const server = createServer((client) => {
    const upstream = connect({ host, port });
    client.pipe(upstream);
    upstream.pipe(client);
    // Either end failing ends both: the client sees its connection reset, as on TCP.
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      chmodSync(socketPath, 0o600);
      resolve(server);
    });
  });
}

export interface SocketResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One HTTP request over a unix socket (a lab forward). For tests and the CLI: the
 * answer is read whole; JSON bodies are sent with their content type.
 */
export function requestOverSocket(
  socketPath: string,
  opts: {
    method?: string;
    path: string;
    body?: unknown;
    headers?: Record<string, string>;
    timeoutMs?: number;
  },
): Promise<SocketResponse> {
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath,
        method: opts.method ?? 'GET',
        path: opts.path,
        headers: {
          host: 'lab',
          ...(payload !== undefined
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
            : {}),
          ...opts.headers,
        },
        timeout: opts.timeoutMs ?? 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`no answer over ${socketPath} within ${opts.timeoutMs ?? 30_000} ms`)),
    );
    req.on('error', reject);
    req.end(payload);
  });
}
