import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { NodeInfo, VolumeStatus } from '../daemon/api/schemas.js';
import { DaemonHttpError, DaemonUnreachableError } from './daemon-client.js';
import { DaemonTokenError, HttpDaemonClient } from './daemon-http.js';

const TOKEN = 'daemon-secret-token';
const nodeInfo: NodeInfo = {
  name: 'node1',
  address: '10.77.0.11',
  version: '0.1.0',
  drbd: { generation: '8.4', kernelVersion: '8.4.11' },
  vg: { name: 'xlss', sizeBytes: 2 * 1024 ** 3, freeBytes: 1024 ** 3 },
  thinPool: null,
  disks: [],
  load: { avg1: 0.1, cpus: 2 },
  labels: {},
  zone: null,
  ready: true,
  volumes: 1,
};
const status: VolumeStatus = {
  name: 'vol1',
  spec: {
    sizeBytes: 64 * 1024 ** 2,
    thin: true,
    peer: { node: 'node2', address: '10.77.0.12' },
    drbd: { minor: 1000, port: 7800, secret: 'abcdefghijklmnop' },
    role: 'primary',
    epoch: 1,
    filesystem: null,
    mountPoint: null,
    backup: null,
  },
  state: 'ready',
  error: null,
  observed: { lv: null, drbd: null, mount: null },
  epoch: 1,
  lastBackupAt: null,
  progress: null,
};

let app: FastifyInstance;
let url = '';
let dir = '';
let tokenFile = '';
const seen: Array<{ method: string; url: string; auth: string | undefined; body: unknown }> = [];
let nodeAnswer: unknown = nodeInfo;
let delayMs = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ca-daemon-http-'));
  tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  app = Fastify();
  app.addHook('onRequest', async (req, reply) => {
    seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body: undefined });
    if (req.headers.authorization !== `Bearer ${TOKEN}`)
      return reply.code(401).send({ error: 'EUNAUTHORIZED', message: 'bad token' });
  });
  app.addHook('preHandler', async (req) => {
    const last = seen[seen.length - 1];
    if (last) last.body = req.body;
  });
  app.get('/v1/node', async () => {
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    return nodeAnswer;
  });
  app.get('/v1/volumes', async () => ({ volumes: [status] }));
  app.get('/v1/volumes/:name', async (req, reply) =>
    (req.params as { name: string }).name === 'vol1'
      ? status
      : reply.code(404).send({ error: 'ENOTFOUND', message: 'volume not found' }),
  );
  app.put('/v1/volumes/:name', async (_req, reply) => reply.code(201).send(status));
  app.delete('/v1/volumes/:name', async (req, reply) =>
    (req.params as { name: string }).name === 'busy'
      ? reply.code(409).send({ error: 'ECONFLICT', message: 'vol is mounted' })
      : reply.code((req.params as { name: string }).name === 'gone' ? 404 : 204).send(),
  );
  app.post('/v1/volumes/:name/promote', async (_req, reply) =>
    reply.code(409).send({ error: 'ECONFLICT', message: 'peer is Primary' }),
  );
  app.post('/v1/volumes/:name/resize', async () => status);
  app.post('/v1/volumes/:name/demote', async () => {
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    return status;
  });
  app.post('/v1/volumes/:name/backups', async (_req, reply) =>
    reply.code(202).send({
      id: 'j1',
      volume: 'vol1',
      kind: 'backup',
      state: 'running',
      percent: 0,
      error: null,
      backupId: null,
    }),
  );
  app.get('/v1/volumes/:name/backups', async () => ({ backups: [] }));
  app.get('/v1/jobs/:id', async (_req, reply) => reply.code(404).send({ error: 'ENOTFOUND', message: 'x' }));
  app.get('/v1/crash', async (_req, reply) => reply.code(500).send('<html>oops</html>'));
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  seen.length = 0;
  nodeAnswer = nodeInfo;
  delayMs = 0;
});

function client(opts: { timeoutMs?: number; actionTimeoutMs?: number; file?: string; base?: string } = {}) {
  return new HttpDaemonClient(
    { name: 'node1', url: opts.base ?? url, tokenFile: opts.file ?? tokenFile },
    {
      timeoutMs: opts.timeoutMs ?? 2000,
      ...(opts.actionTimeoutMs !== undefined ? { actionTimeoutMs: opts.actionTimeoutMs } : {}),
    },
  );
}

describe('HttpDaemonClient', () => {
  it('sends the bearer token from the token file and returns the checked answer', async () => {
    expect(await client().nodeInfo()).toEqual(nodeInfo);
    expect(seen[0]).toMatchObject({ method: 'GET', url: '/v1/node', auth: `Bearer ${TOKEN}` });
  });

  it('lists volumes, and PUTs a spec as JSON', async () => {
    expect(await client().listVolumes()).toEqual([status]);
    expect(await client().putVolume('vol1', status.spec)).toEqual(status);
    expect(seen[1]).toMatchObject({ method: 'PUT', url: '/v1/volumes/vol1', body: status.spec });
  });

  it('maps 404 to null for getVolume and job, and to success for deleteVolume', async () => {
    expect(await client().getVolume('nope')).toBeNull();
    expect(await client().job('j9')).toBeNull();
    await expect(client().deleteVolume('gone', { force: false })).resolves.toBeUndefined();
    await client().deleteVolume('vol1', { force: true });
    expect(seen[3]?.url).toBe('/v1/volumes/vol1?force=true');
  });

  it('turns other statuses into DaemonHttpError with the daemon code and message', async () => {
    const err = await client()
      .promote('vol1', { epoch: 2 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DaemonHttpError);
    expect(err).toMatchObject({ status: 409, errorCode: 'ECONFLICT', node: 'node1' });
    expect((err as Error).message).toContain('peer is Primary');
    await expect(client().deleteVolume('busy', { force: false })).rejects.toMatchObject({ status: 409 });
  });

  it('a wrong token is a 401 DaemonHttpError', async () => {
    const bad = join(dir, 'bad-token');
    writeFileSync(bad, 'wrong');
    await expect(client({ file: bad }).nodeInfo()).rejects.toMatchObject({ status: 401 });
  });

  it('a daemon answering garbage is an error naming the field', async () => {
    nodeAnswer = { ...nodeInfo, vg: { name: 'xlss', sizeBytes: 1, freeBytes: 'lots' } };
    const err = await client()
      .nodeInfo()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DaemonHttpError);
    expect((err as DaemonHttpError).errorCode).toBe('EBADRESPONSE');
    expect((err as Error).message).toContain('/vg/freeBytes');
  });

  it('a missing field is named too', async () => {
    const { ready: _ready, ...rest } = nodeInfo;
    nodeAnswer = rest;
    await expect(client().nodeInfo()).rejects.toThrow(/ready/);
  });

  it('a call past its deadline is DaemonUnreachableError', async () => {
    delayMs = 500;
    const err = await client({ timeoutMs: 100 })
      .nodeInfo()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DaemonUnreachableError);
    expect(String((err as Error).cause)).toContain('no answer within 100 ms');
  });

  it('a call that runs commands on the node (demote) gets the longer action deadline', async () => {
    delayMs = 300;
    const c = client({ timeoutMs: 100, actionTimeoutMs: 2000 });
    expect((await c.demote('vol1', 2)).name).toBe('vol1');
    // The same delay on a poll is past its deadline; and an action past its own deadline too.
    await expect(c.nodeInfo()).rejects.toBeInstanceOf(DaemonUnreachableError);
    await expect(client({ timeoutMs: 100, actionTimeoutMs: 200 }).demote('vol1', 2)).rejects.toBeInstanceOf(
      DaemonUnreachableError,
    );
  });

  it('an aborted call is DaemonUnreachableError', async () => {
    delayMs = 500;
    const ac = new AbortController();
    const p = client().nodeInfo(ac.signal);
    setTimeout(() => ac.abort(), 20);
    await expect(p).rejects.toBeInstanceOf(DaemonUnreachableError);
  });

  it('a refused connection is DaemonUnreachableError', async () => {
    const closed = Fastify();
    const base = await closed.listen({ host: '127.0.0.1', port: 0 });
    await closed.close();
    await expect(client({ base }).nodeInfo()).rejects.toBeInstanceOf(DaemonUnreachableError);
  });

  it('an unreadable token file is DaemonTokenError and sends nothing', async () => {
    await expect(client({ file: join(dir, 'missing') }).nodeInfo()).rejects.toBeInstanceOf(DaemonTokenError);
    expect(seen).toHaveLength(0);
  });
});
