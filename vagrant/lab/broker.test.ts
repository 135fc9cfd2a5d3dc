import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { XlssError } from '../../common/errors.js';
import { silentLogger } from '../../common/log.js';
import { CommandError } from '../../common/runner.js';
import { LabBroker } from './broker.js';
import { GuestRunner, LabClient } from './client.js';
import { type ExecRequest, type GuestToHost, type HostToGuest, lineReader } from './protocol.js';
import type { LabState, NodeState } from './state.js';

type Send = (msg: GuestToHost) => void;
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A stand-in for a guest's agent: answers pings, runs `exec` through `onExec`, records what it got. */
class FakeAgent {
  readonly received: HostToGuest[] = [];
  readonly sockets = new Set<Socket>();
  /** Changed to play an agent that restarted. */
  agentId = 'agent-1';
  onExec: (req: ExecRequest, send: Send, socket: Socket) => void = (req, send) =>
    send({ ev: 'exit', id: req.id, code: 0 });
  private readonly server: Server;

  constructor(
    readonly node: string,
    readonly path: string,
    readonly bootId = `boot-${node}`,
  ) {
    this.server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => {});
      const send: Send = (m) => {
        if (!socket.destroyed) socket.write(`${JSON.stringify(m)}\n`);
      };
      socket.on(
        'data',
        lineReader((raw) => {
          const m = raw as HostToGuest;
          this.received.push(m);
          if (m.op === 'ping')
            send({ ev: 'pong', id: m.id, node, bootId: this.bootId, agentId: this.agentId, uptimeS: 42 });
          else if (m.op === 'exec') this.onExec(m, send, socket);
        }),
      );
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(this.path, resolve));
  }

  close(): void {
    for (const s of this.sockets) s.destroy();
    this.server.close();
  }

  execs(): ExecRequest[] {
    return this.received.filter((m): m is ExecRequest => m.op === 'exec');
  }
}

function nodeState(dir: string, name: string, index: number): NodeState {
  return {
    name,
    index,
    ip: `10.77.0.${10 + index}`,
    mac: `52:54:00:77:00:0${index}`,
    tap: `tap${index}`,
    qemuPidFile: join(dir, `${name}.qemu.pid`),
    nbdPidFile: join(dir, `${name}.nbd.pid`),
    agentSocket: join(dir, `${name}.agent.sock`),
    nbdSocket: join(dir, `${name}.nbd.sock`),
    consoleLog: join(dir, `${name}.console.log`),
    dataDisk: join(dir, `${name}.data.img`),
    stateDisk: join(dir, `${name}.state.img`),
    qemuArgs: [],
    partitioned: false,
    diskFailed: false,
  };
}

async function until(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

let dir = '';
let agent: FakeAgent;
let broker: LabBroker;
let client: LabClient;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'xlss-broker-'));
  // node1 has an agent; node2's guest is down (nothing listens on its socket).
  const state: LabState = {
    version: 1,
    dir,
    netns: 'xlss-test',
    subnet: '10.77.0',
    hostIp: '10.77.0.1',
    kernel: '/boot/vmlinuz',
    initrd: join(dir, 'initrd'),
    init: 'busybox',
    accel: 'tcg',
    memoryMiB: 768,
    diskBytes: '0',
    createdAt: new Date().toISOString(),
    brokerPidFile: join(dir, 'broker.pid'),
    brokerSocket: join(dir, 'broker.sock'),
    nodes: [nodeState(dir, 'node1', 1), nodeState(dir, 'node2', 2)],
  };
  agent = new FakeAgent('node1', state.nodes[0]?.agentSocket ?? '');
  await agent.listen();
  broker = new LabBroker(state, silentLogger);
  await broker.listen();
  client = new LabClient(state.brokerSocket);
  await until('node1 to connect', async () => (await client.status()).some((n) => n.connected));
});

afterEach(() => {
  broker.close();
  agent.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('LabBroker and LabClient', () => {
  it('reports which agents are connected, with their boot id', async () => {
    expect(await client.status()).toEqual([
      { node: 'node1', connected: true, bootId: 'boot-node1', uptimeS: 42 },
      { node: 'node2', connected: false },
    ]);
  });

  it('relays a command, its stdin and env, and returns stdout, stderr and exit code', async () => {
    agent.onExec = (req, send) => {
      send({ ev: 'stdout', id: req.id, data: b64('hel') });
      send({ ev: 'stderr', id: req.id, data: b64('warn\n') });
      send({ ev: 'stdout', id: req.id, data: b64('lo\n') });
      send({ ev: 'exit', id: req.id, code: 3, signal: null });
    };
    const chunks: string[] = [];
    const r = await client.exec('node1', ['lvs', '-a'], {
      stdin: 'input',
      env: { A: 'b' },
      timeoutMs: 5000,
      onStdout: (c) => chunks.push(c.toString()),
    });
    expect(r).toEqual({ stdout: 'hello\n', stderr: 'warn\n', exitCode: 3, signal: null });
    expect(chunks).toEqual(['hel', 'lo\n']);
    const [req] = agent.execs();
    expect(req).toMatchObject({ op: 'exec', argv: ['lvs', '-a'], env: { A: 'b' }, timeoutMs: 5000 });
    expect(Buffer.from(req?.stdin ?? '', 'base64').toString()).toBe('input');
  });

  it('runs commands of several clients at once, each getting its own output', async () => {
    agent.onExec = (req, send) => {
      setTimeout(
        () => {
          send({ ev: 'stdout', id: req.id, data: b64(req.argv.join(' ')) });
          send({ ev: 'exit', id: req.id, code: 0 });
        },
        req.argv[0] === 'slow' ? 100 : 0,
      );
    };
    const [a, b] = await Promise.all([
      client.exec('node1', ['slow', '1']),
      client.exec('node1', ['fast', '2']),
    ]);
    expect(a.stdout).toBe('slow 1');
    expect(b.stdout).toBe('fast 2');
  });

  it('refuses an unknown node, naming it', async () => {
    const err = await client.exec('node9', ['true']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(XlssError);
    expect((err as XlssError).message).toBe('no node "node9" in the lab');
  });

  it('refuses a node whose agent is not connected', async () => {
    const err = await client.exec('node2', ['true']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(XlssError);
    expect((err as XlssError).message).toBe('node2 is not reachable (down or still booting)');
    expect(agent.execs()).toEqual([]);
  });

  it('tells the agent to kill a command whose client went away', async () => {
    agent.onExec = () => {}; // runs until killed
    const ac = new AbortController();
    const pending = client.exec('node1', ['sleep', '100'], { signal: ac.signal });
    await until('the agent to get the command', () => agent.execs().length === 1);
    ac.abort();
    const r = await pending;
    expect(r).toMatchObject({ exitCode: null, error: 'aborted' });
    await until('the agent to get kill', () => agent.received.some((m) => m.op === 'kill'));
    expect(agent.received.find((m) => m.op === 'kill')).toEqual({ op: 'kill', id: agent.execs()[0]?.id });
  });

  it('does not send kill for a command that has finished', async () => {
    await client.exec('node1', ['true']);
    await sleep(100);
    expect(agent.received.some((m) => m.op === 'kill')).toBe(false);
  });

  it('ends a running command with an error naming the node when the agent link drops', async () => {
    agent.onExec = (_req, _send, socket) => setTimeout(() => socket.destroy(), 20);
    const r = await client.exec('node1', ['sleep', '100']);
    expect(r.exitCode).toBeNull();
    expect(r.error).toBe('lost the connection to node1');
    // The broker reconnects to the agent by itself.
    await until('node1 to reconnect', async () => (await client.status())[0]?.connected === true);
    agent.onExec = (_req, _send, socket) => setTimeout(() => socket.destroy(), 20);
    const err = await new GuestRunner(client, 'node1').run('sleep', ['100']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect((err as CommandError).message).toContain('lost the connection to node1');
  });

  it('fails a running command at once when the agent restarts (it has forgotten the command)', async () => {
    agent.onExec = () => {}; // never answers
    const started = Date.now();
    const running = client.exec('node1', ['sleep', '100'], { timeoutMs: 60_000 });
    await until('the command to reach the agent', () => agent.execs().length === 1);
    agent.agentId = 'agent-2';
    const r = await running;
    expect(r.exitCode).toBeNull();
    expect(r.error).toMatch(/node1 restarted/);
    // The broker pings every second: well before the command's own timeout.
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('gives up on a command the guest never answers, at its deadline', async () => {
    agent.onExec = () => {};
    const impatient = new LabClient(join(dir, 'broker.sock'), 100);
    const started = Date.now();
    const err = await impatient.exec('node1', ['sleep', '100'], { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(XlssError);
    expect((err as XlssError).code).toBe('ELABTIMEOUT');
    expect((err as XlssError).message).toContain('node1: sleep');
    expect(Date.now() - started).toBeLessThan(2000);
    // The agent is told to stop what it cannot report on.
    await until('the kill to reach the agent', () => agent.received.some((m) => m.op === 'kill'));
  });

  it('passes bytes that are not text through stdin unchanged', async () => {
    const bytes = Buffer.from([0, 0xff, 0xfe, 0x80, 0x0a, 0xc3]);
    await client.exec('node1', ['cat'], { stdin: bytes, timeoutMs: 5000 });
    expect(Buffer.from(agent.execs()[0]?.stdin ?? '', 'base64').equals(bytes)).toBe(true);
  });

  it('survives a client that sends something that is not a request', async () => {
    const { createConnection } = await import('node:net');
    const sock = createConnection(join(dir, 'broker.sock'));
    await new Promise((r) => sock.once('connect', r));
    sock.write('null\n');
    await sleep(50);
    sock.destroy();
    const bad = createConnection(join(dir, 'broker.sock'));
    let reply = '';
    bad.on('data', (d) => {
      reply += d.toString();
    });
    bad.write('{"op":"exec","node":"node1"}\n');
    await new Promise((r) => bad.once('close', r));
    expect(JSON.parse(reply)).toEqual({ ev: 'error', message: 'bad request' });
    expect((await client.status())[0]?.connected).toBe(true);
  });

  it('says so when the broker is not running', async () => {
    const err = await new LabClient(join(dir, 'nothing.sock')).status().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(XlssError);
    expect((err as XlssError).message).toContain(
      `cannot reach the lab broker at ${join(dir, 'nothing.sock')}`,
    );
  });
});

describe('GuestRunner', () => {
  it('runs a command on the node with LC_ALL=C and returns its output', async () => {
    agent.onExec = (req, send) => {
      send({ ev: 'stdout', id: req.id, data: b64('ok\n') });
      send({ ev: 'exit', id: req.id, code: 0 });
    };
    const r = await new GuestRunner(client, 'node1').run('lvs', ['--units', 'b'], {
      input: 'x',
      env: { LC_ALL: 'de' },
    });
    expect(r).toMatchObject({ command: 'lvs', args: ['--units', 'b'], stdout: 'ok\n', exitCode: 0 });
    const [req] = agent.execs();
    expect(req?.argv).toEqual(['lvs', '--units', 'b']);
    expect(req?.env).toMatchObject({ LC_ALL: 'C', LANG: 'C' });
    expect(req?.timeoutMs).toBe(120_000);
    expect(Buffer.from(req?.stdin ?? '', 'base64').toString()).toBe('x');
  });

  it('throws a CommandError on a non-zero exit, or returns it with reject: false', async () => {
    agent.onExec = (req, send) => {
      send({ ev: 'stderr', id: req.id, data: b64('  Volume group "xlss" not found\n') });
      send({ ev: 'exit', id: req.id, code: 5 });
    };
    const runner = new GuestRunner(client, 'node1');
    const err = await runner.run('vgs', ['xlss']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect(err).toMatchObject({
      command: 'vgs',
      args: ['xlss'],
      exitCode: 5,
      stderr: 'Volume group "xlss" not found',
    });
    const r = await runner.run('vgs', ['xlss'], { reject: false });
    expect(r.exitCode).toBe(5);
  });

  it('reports a program that could not start (127) and a timeout as CommandErrors', async () => {
    const runner = new GuestRunner(client, 'node1');
    agent.onExec = (req, send) => send({ ev: 'exit', id: req.id, code: 127, error: 'spawn nope ENOENT' });
    const missing = await runner.run('nope', [], { reject: false }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(CommandError);
    expect((missing as CommandError).message).toContain('spawn nope ENOENT');
    agent.onExec = (req, send) =>
      send({ ev: 'exit', id: req.id, code: null, signal: 'SIGTERM', error: 'timed out' });
    const slow = await runner.run('sleep', ['9'], { timeoutMs: 10 }).catch((e: unknown) => e);
    expect(slow).toMatchObject({ timedOut: true });
  });

  it('streams lines as they come, including a last line without a newline', async () => {
    agent.onExec = (req, send) => {
      send({ ev: 'stdout', id: req.id, data: b64('1\n2') });
      setTimeout(() => {
        send({ ev: 'stdout', id: req.id, data: b64('3\n4') });
        send({ ev: 'exit', id: req.id, code: 7 });
      }, 30);
    };
    const s = new GuestRunner(client, 'node1').stream('writer', ['/dev/drbd0']);
    const lines: string[] = [];
    for await (const l of s.lines) lines.push(l);
    expect(lines).toEqual(['1', '23', '4']);
    await expect(s.exited).resolves.toBe(7);
    expect(agent.execs()[0]?.argv).toEqual(['writer', '/dev/drbd0']);
  });

  it('stop() ends the stream and the agent is told to kill the command', async () => {
    agent.onExec = (req, send) => send({ ev: 'stdout', id: req.id, data: b64('first\n') });
    const s = new GuestRunner(client, 'node1').stream('writer', []);
    const it = s.lines[Symbol.asyncIterator]();
    expect((await it.next()).value).toBe('first');
    s.stop();
    expect((await it.next()).done).toBe(true);
    await expect(s.exited).resolves.toBe(-1);
    await until('the agent to get kill', () => agent.received.some((m) => m.op === 'kill'));
  });
});
