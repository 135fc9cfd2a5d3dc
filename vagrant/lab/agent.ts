/**
 * The lab's guest agent: runs in every lab guest (under busybox init, respawned if it
 * dies) and runs the commands the host asks for over a virtio-serial port, streaming
 * their output back. It never touches the guest's network, so `xlss lab exec` works on
 * a partitioned node too. Bundled into one file at build time: every module node loads
 * over 9p costs start-up time under emulation.
 */
import { openSync, read, readdirSync, readFileSync, write } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { startProcess } from '../../common/runner.js';
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

type Running = ReturnType<typeof startProcess>;
const running = new Map<number, Running>();
let fd: number | undefined;

function send(msg: GuestToHost): void {
  if (fd === undefined) return;
  // Lost output when the host has gone is fine: the host's side is gone too.
  write(fd, `${JSON.stringify(msg)}\n`, () => {});
}

function exec(req: Extract<HostToGuest, { op: 'exec' }>): void {
  const [cmd, ...args] = req.argv;
  if (!cmd) {
    send({ ev: 'exit', id: req.id, code: 2, error: 'empty command' });
    return;
  }
  const child = startProcess(cmd, args, {
    ...(req.stdin !== undefined ? { input: Buffer.from(req.stdin, 'base64').toString() } : {}),
    ...(req.env ? { env: req.env } : {}),
    ...(req.timeoutMs ? { timeoutMs: req.timeoutMs } : {}),
  });
  running.set(req.id, child);
  child.stdout?.on('data', (d: Buffer) => send({ ev: 'stdout', id: req.id, data: d.toString('base64') }));
  child.stderr?.on('data', (d: Buffer) => send({ ev: 'stderr', id: req.id, data: d.toString('base64') }));
  child.then((r) => {
    running.delete(req.id);
    const notStarted = r.exitCode === undefined && !r.signal;
    send({
      ev: 'exit',
      id: req.id,
      code: notStarted ? 127 : (r.exitCode ?? null),
      signal: r.signal ?? null,
      ...(notStarted || r.timedOut ? { error: r.timedOut ? 'timed out' : String(r.cause ?? r.message) } : {}),
    });
  });
}

function handle(msg: unknown): void {
  const m = msg as HostToGuest;
  if (m.op === 'exec') exec(m);
  else if (m.op === 'kill') {
    const child = running.get(m.id);
    child?.kill('SIGTERM');
    setTimeout(() => child?.kill('SIGKILL'), 2000).unref();
  } else if (m.op === 'ping') send({ ev: 'pong', id: m.id, node, bootId, uptimeS: uptime() });
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

process.on('SIGTERM', () => process.exit(0));
console.log(`xlss-agent: started on ${node} (${bootId}) at ${uptime()} s`);
void serve();
