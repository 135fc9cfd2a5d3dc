/**
 * The lab's guest agent: runs in every lab guest (under busybox init, respawned if it
 * dies) and runs the commands the host asks for over a virtio-serial port, streaming
 * their output back. It never touches the guest's network, so `xlss lab exec` works on
 * a partitioned node too. Bundled into one file at build time: every module node loads
 * over 9p costs start-up time under emulation.
 */
import { randomBytes } from 'node:crypto';
import { openSync, read, readdirSync, readFileSync, write } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { startProcess } from '../../common/runner.js';
import { PortWriter } from './port-writer.js';
import { type GuestToHost, type HostToGuest, lineReader } from './protocol.js';

const PORT_NAME = 'xlss.agent';

function findPort(): string | undefined {
  const dir = '/sys/class/virtio-ports';
  let entries: string[] = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return undefined;
  }
  for (const e of entries) {
    try {
      if (readFileSync(`${dir}/${e}/name`, 'utf8').trim() === PORT_NAME) return `/dev/${e}`;
    } catch {
      // a port without a name
    }
  }
  return undefined;
}

const node = readFileSync('/proc/sys/kernel/hostname', 'utf8').trim();
const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
const uptime = (): number => Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);

/** This agent process: a restarted agent has forgotten the commands it ran, and the broker must know. */
const agentId = randomBytes(8).toString('hex');

type Running = ReturnType<typeof startProcess>;
const running = new Map<number, Running>();
let fd: number | undefined;

const port = new PortWriter(
  (buf) =>
    new Promise((resolve, reject) => {
      if (fd === undefined) {
        resolve(buf.length);
        return;
      }
      write(fd, buf, 0, buf.length, null, (err, n) => (err ? reject(err) : resolve(n)));
    }),
  1024 * 1024,
);

/** Queues a message for the host; false when the port is behind and producers should pause. */
function send(msg: GuestToHost): boolean {
  return port.push(Buffer.from(`${JSON.stringify(msg)}\n`));
}

/** Signals the command's whole process group (it runs in its own), not just its leader. */
function killGroup(child: Running, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is gone
  }
}

function stop(child: Running): void {
  killGroup(child, 'SIGTERM');
  setTimeout(() => killGroup(child, 'SIGKILL'), 2000).unref();
}

/** Forwards a stream of the command to the host, pausing it while the port is behind. */
function forward(
  stream: NodeJS.ReadableStream | null | undefined,
  ev: 'stdout' | 'stderr',
  id: number,
): void {
  stream?.on('data', (d: Buffer) => {
    if (!send({ ev, id, data: d.toString('base64') })) {
      stream.pause();
      void port.drained().then(() => stream.resume());
    }
  });
}

function exec(req: Extract<HostToGuest, { op: 'exec' }>): void {
  const [cmd, ...args] = req.argv;
  if (!cmd) {
    send({ ev: 'exit', id: req.id, code: 2, error: 'empty command' });
    return;
  }
  const child = startProcess(cmd, args, {
    ...(req.stdin !== undefined ? { input: Buffer.from(req.stdin, 'base64') } : {}),
    ...(req.env ? { env: req.env } : {}),
    detached: true,
  });
  running.set(req.id, child);
  let timedOut = false;
  const timer = req.timeoutMs
    ? setTimeout(() => {
        timedOut = true;
        killGroup(child, 'SIGKILL');
      }, req.timeoutMs)
    : undefined;
  forward(child.stdout, 'stdout', req.id);
  forward(child.stderr, 'stderr', req.id);
  child.then((r) => {
    clearTimeout(timer);
    running.delete(req.id);
    const notStarted = r.exitCode === undefined && !r.signal;
    send({
      ev: 'exit',
      id: req.id,
      code: notStarted ? 127 : (r.exitCode ?? null),
      signal: r.signal ?? null,
      ...(notStarted || timedOut ? { error: timedOut ? 'timed out' : String(r.cause ?? r.message) } : {}),
    });
  });
}

function handle(msg: unknown): void {
  const m = msg as HostToGuest;
  if (m.op === 'exec') exec(m);
  else if (m.op === 'kill') {
    const child = running.get(m.id);
    if (child) stop(child);
  } else if (m.op === 'ping') send({ ev: 'pong', id: m.id, node, bootId, agentId, uptimeS: uptime() });
}

async function serve(): Promise<void> {
  let path = findPort();
  while (!path) {
    await sleep(200);
    path = findPort();
  }
  // One descriptor for the agent's life: closing the port would discard what the host
  // has queued, so EOF (no host connected) is waited out with a short sleep instead.
  fd = openSync(path, 'r+');
  // Announced at once, so the broker fails what an agent before us was running.
  send({ ev: 'hello', node, bootId, agentId, uptimeS: uptime() });
  const onData = lineReader(handle);
  const buf = Buffer.alloc(65536);
  for (;;) {
    const n = await new Promise<number>((resolve) =>
      read(fd as number, buf, 0, buf.length, null, (err, bytes) => resolve(err ? -1 : bytes)),
    );
    if (n > 0) onData(buf.subarray(0, n));
    else await sleep(n === 0 ? 100 : 500);
  }
}

process.on('SIGTERM', () => {
  for (const child of running.values()) killGroup(child, 'SIGKILL');
  process.exit(0);
});
console.log(`xlss-agent: started on ${node} (${bootId}) at ${uptime()} s`);
void serve();
