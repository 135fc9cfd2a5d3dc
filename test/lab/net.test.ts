import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { httpOverSocket } from './helpers/http.js';
import { useLab } from './helpers/lab.js';

// Faults between pairs, netem, host-side services and forwards, on three real guests.
const { lab, sh } = useLab('ln-net', { nodes: 3, disk: '256MiB' });

const IP = { node1: '10.77.0.11', node2: '10.77.0.12', node3: '10.77.0.13', host: '10.77.0.1' } as const;

/** Whether `from` gets an answer to one ping of `to` (busybox ping, 2 s). */
async function reaches(from: string, to: string): Promise<boolean> {
  const r = await lab().exec(from, ['busybox', 'ping', '-c', '1', '-W', '2', to], { timeoutMs: 30_000 });
  return r.exitCode === 0;
}

/** Average round trip of a few pings in ms. */
async function rttMs(from: string, to: string): Promise<number> {
  const out = await sh(from, `busybox ping -c 3 -i 0.3 ${to}`);
  const m = /= [\d.]+\/([\d.]+)\//.exec(out);
  if (!m) throw new Error(`no round trip in: ${out}`);
  return Number(m[1]);
}

/** A tiny HTTP server in the guest that says who it is (from /etc/xlss/node.env). */
const GUEST_SERVER =
  "const env=require('fs').readFileSync('/etc/xlss/node.env','utf8');" +
  "require('http').createServer((q,s)=>s.end(env)).listen(8080)";

async function until(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(300);
  }
}

describe('a lab of three nodes', () => {
  it('each guest knows its name and address', async () => {
    expect(await sh('node2', 'cat /etc/xlss/node.env')).toBe('NODE_NAME=node2\nNODE_ADDRESS=10.77.0.12\n');
  });

  it('cuts only the link between two nodes and heals it', async () => {
    // Preconditions: everything reaches everything.
    expect(await reaches('node1', IP.node2)).toBe(true);
    await lab().partitionPair('node2', 'node1');
    expect(await reaches('node1', IP.node2)).toBe(false);
    expect(await reaches('node2', IP.node1)).toBe(false);
    expect(await reaches('node1', IP.node3)).toBe(true);
    expect(await reaches('node2', IP.node3)).toBe(true);
    expect(await reaches('node1', IP.host)).toBe(true);
    expect(await reaches('node2', IP.host)).toBe(true);
    const status = await lab().status();
    expect(status.find((n) => n.name === 'node1')?.cutFrom).toEqual(['node2']);
    expect(status.find((n) => n.name === 'node3')?.cutFrom).toEqual([]);
    expect(lab().state().cuts).toEqual([['node1', 'node2']]);
    await lab().healPair('node1', 'node2');
    expect(await reaches('node1', IP.node2)).toBe(true);
    expect(lab().state().cuts).toEqual([]);
  });

  it('delays a node with netem and clears it', async () => {
    const before = await rttMs('node1', IP.node3);
    await lab().netem('node1', { delay: '300ms' });
    const delayed = await rttMs('node1', IP.node3);
    expect(delayed).toBeGreaterThanOrEqual(300);
    expect((await lab().status()).find((n) => n.name === 'node1')?.netem).toBe('delay 300ms');
    await lab().netem('node1', undefined);
    const after = await rttMs('node1', IP.node3);
    expect(after).toBeLessThan(300);
    process.stderr.write(
      `[ln-net] rtt node1->node3: ${before} ms, with netem ${delayed} ms, cleared ${after} ms\n`,
    );
  });

  it('reaches a guest port from the host through a forward, which a partition cuts', async () => {
    await sh('node1', `nohup node -e "${GUEST_SERVER}" >/tmp/http.log 2>&1 &`);
    const socket = await lab().forward('node1', 8080);
    expect(await lab().forward('node1', 8080)).toBe(socket);
    let body = '';
    await until('the guest server', 60_000, async () => {
      body = (await httpOverSocket(socket, { path: '/', timeoutMs: 3000 })).body;
      return true;
    });
    expect(body).toBe('NODE_NAME=node1\nNODE_ADDRESS=10.77.0.11\n');
    await lab().partition('node1');
    await expect(httpOverSocket(socket, { path: '/', timeoutMs: 4000 })).rejects.toThrow();
    await lab().heal('node1');
    await until('the forward after heal', 30_000, async () => {
      const r = await httpOverSocket(socket, { path: '/', timeoutMs: 3000 });
      return r.body.startsWith('NODE_NAME=node1');
    });
  });

  it('runs a supervised host-side service that guests reach, restarts it, and stops it', async () => {
    const server =
      "require('http').createServer((q,s)=>s.end('host-side '+process.pid)).listen(9100,'10.77.0.1')";
    const svc = await lab().runService('ln-echo', [process.execPath, '-e', server]);
    const get = (node: string) => sh(node, 'curl -sS -m 3 http://10.77.0.1:9100/');
    let first = '';
    await until('the host-side service', 30_000, async () => {
      first = await get('node2');
      return first.startsWith('host-side');
    });
    // Kill the service's process (not the supervisor): it must come back with a new pid.
    const pid = Number(first.split(' ')[1]);
    process.kill(pid, 'SIGKILL');
    let second = '';
    await until('the restarted service', 30_000, async () => {
      second = await get('node2');
      return second.startsWith('host-side') && second !== first;
    });
    expect(readFileSync(svc.logFile, 'utf8')).toMatch(/killed by SIGKILL; restarting/);
    // A whole-node partition cuts the node off from host-side services too.
    await lab().partition('node2');
    await expect(get('node2')).rejects.toThrow();
    expect(await get('node3')).toMatch(/^host-side/);
    await lab().heal('node2');
    expect(
      lab()
        .services()
        .find((s) => s.name === 'ln-echo')?.running,
    ).toBe(true);
    expect(await lab().stopService('ln-echo')).toBe(true);
    expect(
      lab()
        .services()
        .find((s) => s.name === 'ln-echo'),
    ).toBeUndefined();
    await expect(get('node3')).rejects.toThrow();
    expect(() => process.kill(Number(second.split(' ')[1]), 0)).toThrow();
  });

  it('keeps per-node config on the state disk across a crash', async () => {
    await sh(
      'node3',
      'mkdir -p /var/lib/xlss/etc/xlss && echo kept > /var/lib/xlss/etc/xlss/probe.conf && sync',
    );
    await sh('node3', 'echo lost > /etc/xlss/overlay-only');
    await lab().crash('node3');
    await lab().start('node3');
    expect(await sh('node3', 'cat /etc/xlss/probe.conf')).toBe('kept\n');
    expect(await sh('node3', 'test -e /etc/xlss/overlay-only && echo yes || echo no')).toBe('no\n');
    expect(await sh('node3', 'cat /etc/xlss/node.env')).toBe('NODE_NAME=node3\nNODE_ADDRESS=10.77.0.13\n');
  });
});
