import { rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../../common/log.js';
import {
  type BrokerToClient,
  type ClientRequest,
  type GuestToHost,
  type HostToGuest,
  lineReader,
  type NodeLink,
} from './protocol.js';
import type { LabState } from './state.js';

interface Pending {
  client: Socket;
  /** The agent (boot id and agent id) the command was sent to. */
  instance: string | undefined;
}

/**
 * One link to a guest's agent. qemu serves the agent's port on a unix socket that takes
 * one client, so the broker holds that connection for everyone and reconnects after the
 * guest crashes or boots again.
 */
class GuestLink {
  socket: Socket | undefined;
  connected = false;
  bootId: string | undefined;
  /** Boot id and agent id of the agent last heard from: a new one has forgotten earlier commands. */
  instance: string | undefined;
  uptimeS: number | undefined;
  readonly pending = new Map<number, Pending>();
  private stopped = false;
  private pingId = 0;

  constructor(
    readonly node: string,
    private readonly path: string,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.socket?.destroy();
  }

  private connect(): void {
    if (this.stopped) return;
    const socket = createConnection(this.path);
    this.socket = socket;
    socket.on('connect', () => {
      this.log.debug({ node: this.node }, 'connected to the guest agent socket');
      // The agent answers once it runs; until then the guest is booting.
      this.send({ op: 'ping', id: --this.pingId });
    });
    socket.on(
      'data',
      lineReader((m) => this.onMessage(m as GuestToHost)),
    );
    socket.on('error', () => {});
    socket.on('close', () => {
      if (this.connected) this.log.info({ node: this.node }, 'guest agent link lost');
      this.connected = false;
      this.socket = undefined;
      this.failPending(() => true, `lost the connection to ${this.node}`);
      setTimeout(() => this.connect(), 250);
    });
  }

  /** Ends the matching pending commands at once with `error` (their agent is gone). */
  private failPending(which: (p: Pending) => boolean, error: string): void {
    for (const [id, p] of this.pending) {
      if (!which(p)) continue;
      this.pending.delete(id);
      writeTo(p.client, { ev: 'exit', code: null, error });
      p.client.end();
    }
  }

  send(msg: HostToGuest): boolean {
    if (!this.socket || this.socket.destroyed) return false;
    this.socket.write(`${JSON.stringify(msg)}\n`);
    return true;
  }

  private onMessage(m: GuestToHost): void {
    if (m.ev === 'hello' || m.ev === 'pong') {
      if (!this.connected || this.bootId !== m.bootId)
        this.log.info({ node: this.node, bootId: m.bootId }, 'guest agent ready');
      const instance = `${m.bootId}/${m.agentId ?? ''}`;
      if (instance !== this.instance) {
        // The guest rebooted or its agent restarted: what was sent before will never end.
        this.failPending(
          (p) => p.instance !== instance,
          `${this.node} restarted (its agent or the guest) while the command ran`,
        );
        this.instance = instance;
      }
      this.connected = true;
      this.bootId = m.bootId;
      this.uptimeS = m.uptimeS;
      return;
    }
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.ev === 'exit') {
      this.pending.delete(m.id);
      writeTo(p.client, {
        ev: 'exit',
        code: m.code,
        signal: m.signal ?? null,
        ...(m.error ? { error: m.error } : {}),
      });
      p.client.end();
    } else writeTo(p.client, { ev: m.ev, data: m.data });
  }

  status(): NodeLink {
    return {
      node: this.node,
      connected: this.connected,
      ...(this.bootId ? { bootId: this.bootId } : {}),
      ...(this.uptimeS !== undefined ? { uptimeS: this.uptimeS } : {}),
    };
  }

  /** Asks a connected agent for a fresh hello, so a reboot is seen without waiting for traffic. */
  refresh(): void {
    this.send({ op: 'ping', id: --this.pingId });
  }
}

function writeTo(client: Socket, msg: BrokerToClient): void {
  if (!client.destroyed) client.write(`${JSON.stringify(msg)}\n`);
}

/** The lab's broker: lets any number of clients run commands on any guest at once. */
export class LabBroker {
  private readonly links = new Map<string, GuestLink>();
  private server: Server | undefined;
  private refresher: NodeJS.Timeout | undefined;
  private nextId = 1;

  constructor(
    private readonly state: LabState,
    private readonly log: Logger,
  ) {
    for (const n of state.nodes) this.links.set(n.name, new GuestLink(n.name, n.agentSocket, log));
  }

  async listen(): Promise<void> {
    rmSync(this.state.brokerSocket, { force: true });
    const server = createServer((client) => this.onClient(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.state.brokerSocket, () => resolve());
    });
    for (const link of this.links.values()) link.start();
    // A guest that was rebooted answers pings with a new boot id.
    this.refresher = setInterval(() => {
      for (const link of this.links.values()) link.refresh();
    }, 1000).unref();
    this.log.info({ socket: this.state.brokerSocket }, 'lab broker listening');
  }

  close(): void {
    clearInterval(this.refresher);
    this.server?.close();
    for (const link of this.links.values()) link.stop();
  }

  private onClient(client: Socket): void {
    let handled = false;
    client.on('error', () => {});
    client.on(
      'data',
      lineReader((msg) => {
        if (handled) return;
        handled = true;
        this.handle(client, msg as ClientRequest);
      }),
    );
  }

  private handle(client: Socket, req: ClientRequest): void {
    if (req.op === 'status') {
      writeTo(client, { ev: 'status', nodes: [...this.links.values()].map((l) => l.status()) });
      client.end();
      return;
    }
    if (req.op !== 'exec' || !Array.isArray(req.argv) || req.argv.length === 0) {
      writeTo(client, { ev: 'error', message: 'bad request' });
      client.end();
      return;
    }
    const link = this.links.get(req.node);
    if (!link) {
      writeTo(client, { ev: 'error', message: `no node "${req.node}" in the lab` });
      client.end();
      return;
    }
    if (!link.connected) {
      writeTo(client, { ev: 'error', message: `${req.node} is not reachable (down or still booting)` });
      client.end();
      return;
    }
    const id = this.nextId++;
    link.pending.set(id, { client, instance: link.instance });
    client.on('close', () => {
      // The client went away first: stop what it started.
      if (link.pending.delete(id)) link.send({ op: 'kill', id });
    });
    link.send({
      op: 'exec',
      id,
      argv: req.argv,
      ...(req.stdin !== undefined ? { stdin: req.stdin } : {}),
      ...(req.env ? { env: req.env } : {}),
      ...(req.timeoutMs ? { timeoutMs: req.timeoutMs } : {}),
    });
  }
}
