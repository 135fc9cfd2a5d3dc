import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inProject } from '../../common/paths.js';
import { ExecaRunner } from '../../common/runner.js';

// The real handler script, against a stand-in for the local daemon's /v1/fence.
const script = inProject('systemd', 'xlss-fence-peer');
let server: Server;
let answer: { status: number; body: string } | null = {
  status: 200,
  body: '{"allow":true,"reason":"outdated"}',
};
/** Answers given before `answer`, one per question (the controller's "not yet"s). */
let first: { status: number; body: string }[] = [];
const asked: unknown[] = [];
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xlss-fence-'));
  await mkdir(join(dir, 'epoch'));
  await writeFile(join(dir, 'epoch', 'vol1'), '7\n');
  await writeFile(join(dir, 'token'), 'sekret\n');
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      asked.push({ auth: req.headers.authorization, url: req.url, body: JSON.parse(body) });
      const a = first.shift() ?? answer;
      if (!a) return; // never answers: the handler's timeout
      res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

async function runHandler(env: Record<string, string> = {}) {
  const port = (server.address() as AddressInfo).port;
  const r = await new ExecaRunner().run('sh', [script], {
    reject: false,
    env: {
      DRBD_RESOURCE: 'vol1',
      DRBD_PEER: 'node2',
      XLSS_DAEMON_URL: `http://127.0.0.1:${port}`,
      XLSS_TOKEN_FILE: join(dir, 'token'),
      XLSS_STATE_DIR: dir,
      XLSS_FENCE_TIMEOUT: '2',
      XLSS_FENCE_RETRY_SECONDS: '0',
      ...env,
    },
  });
  return r.exitCode;
}

describe('xlss-fence-peer', () => {
  it('asks the daemon with volume, node, peer and epoch; exits 4 (peer outdated) on allow', async () => {
    answer = { status: 200, body: '{"allow":true,"reason":"outdated"}' };
    expect(await runHandler()).toBe(4);
    expect(asked.at(-1)).toMatchObject({
      auth: 'Bearer sekret',
      url: '/v1/fence',
      body: { volume: 'vol1', peer: 'node2', epoch: 7 },
    });
  });
  it('names the peer from its node id on DRBD 9, which passes no DRBD_PEER', async () => {
    answer = { status: 200, body: '{"allow":true,"reason":"outdated"}' };
    const drbd9 = { DRBD_PEER: '', DRBD_NODE_ID_0: 'node1', DRBD_NODE_ID_1: 'node3' };
    expect(await runHandler({ ...drbd9, DRBD_PEER_NODE_ID: '1' })).toBe(4);
    expect(asked.at(-1)).toMatchObject({ body: { volume: 'vol1', peer: 'node3', epoch: 7 } });
    const before = asked.length;
    // An id that names no node, or is not an id at all, keeps I/O frozen and asks nobody.
    expect(await runHandler({ ...drbd9, DRBD_PEER_NODE_ID: '2' })).toBe(1);
    expect(await runHandler({ ...drbd9, DRBD_PEER_NODE_ID: '1;id' })).toBe(1);
    expect(await runHandler({ ...drbd9, DRBD_PEER_NODE_ID: '32' })).toBe(1);
    expect(asked.length).toBe(before);
  });
  it('exits 7 (peer fenced) when the controller confirmed the peer dead', async () => {
    answer = { status: 200, body: '{"allow":true,"reason":"dead: node2 is offline by heartbeat"}' };
    expect(await runHandler()).toBe(7);
  });
  it('asks again while the controller says not yet (the peer not declared offline), then resumes', async () => {
    const before = asked.length;
    first = [
      { status: 200, body: '{"allow":false,"reason":"node2 is suspect and not confirmed outdated"}' },
      { status: 502, body: '{"error":"ECONTROLLER"}' },
    ];
    answer = { status: 200, body: '{"allow":true,"reason":"dead: node2 is offline by heartbeat"}' };
    const t0 = Date.now();
    expect(await runHandler({ XLSS_FENCE_RETRY_SECONDS: '30', XLSS_FENCE_RETRY_INTERVAL: '1' })).toBe(7);
    expect(asked.length - before).toBe(3);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
  }, 20_000);
  it('stops asking (exit 1, which DRBD ignores once reconnected) when the daemon says DRBD reconnected', async () => {
    const before = asked.length;
    first = [{ status: 200, body: '{"allow":false,"reason":"node2 is suspect and not confirmed outdated"}' }];
    answer = {
      status: 200,
      body: '{"allow":false,"reason":"reconnected: DRBD is connected to the peer again"}',
    };
    const t0 = Date.now();
    expect(await runHandler({ XLSS_FENCE_RETRY_SECONDS: '30', XLSS_FENCE_RETRY_INTERVAL: '1' })).toBe(1);
    expect(asked.length - before).toBe(2);
    expect(Date.now() - t0).toBeLessThan(10_000);
  }, 20_000);
  it('gives up with I/O frozen (exit 1) when the controller keeps refusing for the retry period', async () => {
    const before = asked.length;
    answer = { status: 200, body: '{"allow":false,"reason":"not confirmed outdated"}' };
    expect(await runHandler({ XLSS_FENCE_RETRY_SECONDS: '2', XLSS_FENCE_RETRY_INTERVAL: '1' })).toBe(1);
    expect(asked.length - before).toBeGreaterThanOrEqual(2);
  }, 20_000);
  it('keeps I/O frozen (exit 1) on a refusal, an error status, no answer, or bad input', async () => {
    answer = { status: 200, body: '{"allow":false,"reason":"stale epoch"}' };
    expect(await runHandler()).toBe(1);
    answer = { status: 503, body: '{"allow":true}' };
    expect(await runHandler()).toBe(1);
    answer = null;
    expect(await runHandler()).toBe(1);
    answer = { status: 200, body: '{"allow":true,"reason":"outdated"}' };
    expect(await runHandler({ DRBD_PEER: 'x; rm -rf /' })).toBe(1);
    expect(await runHandler({ DRBD_RESOURCE: 'nosuch' })).toBe(1);
  }, 20_000);
});
