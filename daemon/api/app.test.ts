import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, NoSpaceError, NotFoundError } from '../../common/errors.js';
import { silentLogger } from '../../common/log.js';
import { registerDaemonMetrics } from '../metrics.js';
import { FakeBackups, FakeEngine, volumeSpec } from '../testing.js';
import { buildApp } from './app.js';
import type { FenceAsk, NodeInfo, ResyncDone } from './schemas.js';

const TOKEN = 'test-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };

const nodeInfo: NodeInfo = {
  name: 'node1',
  address: '10.77.0.11',
  version: '0.1.0',
  drbd: { generation: '8.4', kernelVersion: '8.4.11' },
  vg: { name: 'xlss', sizeBytes: 1024 ** 3, freeBytes: 512 * 1024 ** 2 },
  thinPool: null,
  disks: [{ name: 'vda', sizeBytes: 2 * 1024 ** 3, type: 'HDD' }],
  load: { avg1: 0.5, cpus: 2 },
  labels: { rack: 'r1' },
  zone: null,
  ready: true,
  volumes: 0,
};

let engine: FakeEngine;
let backups: FakeBackups;
let app: FastifyInstance;
let registry: Registry;
let relayed: (FenceAsk | ResyncDone)[];
let relayFails: boolean;

beforeEach(async () => {
  engine = new FakeEngine();
  backups = new FakeBackups();
  registry = new Registry();
  relayed = [];
  relayFails = false;
  const metrics = registerDaemonMetrics(registry, {
    vg: async () => ({ sizeBytes: 1000, freeBytes: 400 }),
    volumes: engine,
    backups,
    log: silentLogger,
  });
  app = await buildApp({
    volumes: engine,
    ready: () => engine.ready(),
    backups,
    relay: {
      ask: async (a) => {
        relayed.push(a);
        return { allow: a.epoch === 7, reason: a.epoch === 7 ? 'outdated' : 'stale epoch' };
      },
      resyncDone: async (d) => {
        if (relayFails) throw new Error('connect ECONNREFUSED');
        relayed.push(d);
      },
    },
    // The extra field must never reach a client: the response schema drops it.
    nodeInfo: async () => ({ ...nodeInfo, secret: 'do-not-leak' }) as NodeInfo,
    nodeName: 'node1',
    registry,
    token: TOKEN,
    log: silentLogger,
    httpRequests: metrics.httpRequests,
  });
});
afterEach(async () => {
  await app.close();
});

type Method = 'GET' | 'PUT' | 'POST' | 'DELETE';
async function call(method: Method, url: string, payload?: unknown, headers: Record<string, string> = auth) {
  const res = await app.inject({
    method,
    url,
    headers,
    ...(payload !== undefined && { payload: payload as object }),
  });
  return {
    status: res.statusCode,
    body: res.body === '' ? null : (res.json() as Record<string, unknown>),
    raw: res.body,
    headers: res.headers,
  };
}

describe('auth', () => {
  it('serves /healthz without a token', async () => {
    const r = await call('GET', '/healthz', undefined, {});
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'ok' });
  });

  it.each([
    ['no header', {}],
    ['a wrong token of the same length', { authorization: `Bearer ${TOKEN.replace('0', 'x')}` }],
    ['a shorter token', { authorization: 'Bearer test' }],
    ['a prefix of the token', { authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
    ['the token without the Bearer scheme', { authorization: TOKEN }],
    ['Basic auth', { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` }],
    ['an empty bearer', { authorization: 'Bearer ' }],
  ])('answers 401 to %s, and runs nothing', async (_what, headers) => {
    for (const [method, url] of [
      ['GET', '/v1/node'],
      ['GET', '/readyz'],
      ['GET', '/metrics'],
      ['GET', '/v1/volumes'],
      ['DELETE', '/v1/volumes/vol1'],
    ] as const) {
      const r = await call(method, url, undefined, headers);
      expect(r.status, `${method} ${url}`).toBe(401);
      expect(r.body).toEqual({ error: 'EUNAUTHORIZED', message: 'missing or wrong bearer token' });
      expect(r.headers['www-authenticate']).toBe('Bearer');
    }
    expect(engine.calls).toEqual([]);
  });

  it('asks for a token on unknown routes too', async () => {
    expect((await call('GET', '/v1/nothing', undefined, {})).status).toBe(401);
    const r = await call('GET', '/v1/nothing');
    expect(r.status).toBe(404);
    expect(r.body?.error).toBe('ENOTFOUND');
  });
});

describe('health, readiness and metrics', () => {
  it('/readyz follows the engine', async () => {
    expect(await call('GET', '/readyz')).toMatchObject({ status: 200, body: { ready: true } });
    engine.isReady = false;
    expect(await call('GET', '/readyz')).toMatchObject({ status: 503, body: { ready: false } });
  });

  it('/metrics is Prometheus text with VG, backup and request metrics', async () => {
    await engine.put('vol1', volumeSpec());
    backups.last.set('vol1', '2026-01-02T03:04:05.000Z');
    await call('GET', '/v1/volumes/vol1');
    await call('GET', '/v1/volumes/nope');
    const res = await app.inject({ method: 'GET', url: '/metrics', headers: auth });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const text = res.body;
    expect(text).toContain('xlss_daemon_vg_size_bytes 1000');
    expect(text).toContain('xlss_daemon_vg_free_bytes 400');
    expect(text).toContain(
      `xlss_daemon_last_backup_timestamp_seconds{volume="vol1"} ${Date.parse('2026-01-02T03:04:05Z') / 1000}`,
    );
    expect(text).toContain(
      'xlss_daemon_http_requests_total{method="GET",route="/v1/volumes/:name",status="200"} 1',
    );
    expect(text).toContain(
      'xlss_daemon_http_requests_total{method="GET",route="/v1/volumes/:name",status="404"} 1',
    );
    expect(text).toContain('xlss_daemon_process_resident_memory_bytes');
  });
});

describe('/v1/node', () => {
  it('answers NodeInfo and drops fields the schema does not name', async () => {
    const r = await call('GET', '/v1/node');
    expect(r.status).toBe(200);
    expect(r.body).toEqual(nodeInfo);
    expect(r.raw).not.toContain('do-not-leak');
  });
});

describe('volumes', () => {
  it('PUT creates (201), then is idempotent (200); GET and list show it', async () => {
    expect((await call('PUT', '/v1/volumes/vol1', volumeSpec())).status).toBe(201);
    const again = await call('PUT', '/v1/volumes/vol1', volumeSpec());
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ name: 'vol1', state: 'ready', spec: volumeSpec() });
    expect((await call('GET', '/v1/volumes/vol1')).body?.name).toBe('vol1');
    const list = await call('GET', '/v1/volumes');
    expect((list.body?.volumes as { name: string }[] | undefined)?.map((v) => v.name)).toEqual(['vol1']);
  });

  it('drops fields the status schema does not name', async () => {
    engine.extra = { internalPath: '/var/lib/xlss/secret', stack: 'Error: at x' };
    await engine.put('vol1', volumeSpec());
    const r = await call('GET', '/v1/volumes/vol1');
    expect(r.status).toBe(200);
    expect(r.raw).not.toContain('internalPath');
    expect(r.raw).not.toContain('stack');
  });

  it('404 for an unknown volume', async () => {
    const r = await call('GET', '/v1/volumes/nope');
    expect(r).toMatchObject({
      status: 404,
      body: { error: 'ENOTFOUND', message: 'volume "nope" not found' },
    });
  });

  it.each([
    ['a bad name', 'PUT', '/v1/volumes/Bad_Name', volumeSpec(), 'name'],
    ['a too small size', 'PUT', '/v1/volumes/vol1', volumeSpec({ sizeBytes: 100 }), 'sizeBytes'],
    [
      'a size that is not a number',
      'PUT',
      '/v1/volumes/vol1',
      { ...volumeSpec(), sizeBytes: 'big' },
      'sizeBytes',
    ],
    [
      'a missing nested field',
      'PUT',
      '/v1/volumes/vol1',
      { ...volumeSpec(), drbd: { minor: 1, port: 7001 } },
      'drbd.secret',
    ],
    ['an unknown field', 'PUT', '/v1/volumes/vol1', { ...volumeSpec(), sizebytes: 5 }, 'sizebytes'],
    [
      'an unknown nested field',
      'PUT',
      '/v1/volumes/vol1',
      { ...volumeSpec(), drbd: { ...volumeSpec().drbd, force: true } },
      'drbd.force',
    ],
    [
      'a secret with shell characters',
      'PUT',
      '/v1/volumes/vol1',
      { ...volumeSpec(), drbd: { ...volumeSpec().drbd, secret: 'aaaaaaaaaaaaaaaa;rm -rf' } },
      'drbd.secret',
    ],
    [
      'a mount point with ..',
      'PUT',
      '/v1/volumes/vol1',
      volumeSpec({ mountPoint: '/mnt/../etc' }),
      'mountPoint',
    ],
    ['a bad role', 'PUT', '/v1/volumes/vol1', { ...volumeSpec(), role: 'boss' }, 'role'],
    ['no body', 'PUT', '/v1/volumes/vol1', undefined, 'body'],
    ['a negative epoch', 'POST', '/v1/volumes/vol1/promote', { epoch: -1 }, 'epoch'],
    ['an unknown promote field', 'POST', '/v1/volumes/vol1/promote', { epoch: 1, force: true }, 'force'],
    ['a demote without epoch', 'POST', '/v1/volumes/vol1/demote', {}, 'epoch'],
    ['a fractional size', 'POST', '/v1/volumes/vol1/resize', { sizeBytes: 5e6 + 0.5 }, 'sizeBytes'],
    ['an outdate with a string epoch', 'POST', '/v1/volumes/vol1/outdate', { epoch: 'one' }, 'epoch'],
    ['a bad name on delete', 'DELETE', '/v1/volumes/-x', undefined, 'name'],
    ['a bad force flag', 'DELETE', '/v1/volumes/vol1?force=maybe', undefined, 'force'],
    ['an unknown query key', 'DELETE', '/v1/volumes/vol1?forse=true', undefined, 'forse'],
  ] as const)('400 naming the field for %s, and runs nothing', async (_what, method, url, payload, field) => {
    await engine.put('vol1', volumeSpec());
    engine.calls.length = 0;
    const r = await call(method, url, payload);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: 'EVALIDATION', field });
    expect(r.body?.message).toContain(field);
    expect(engine.calls).toEqual([]);
  });

  it('DELETE answers 204 and passes force', async () => {
    await engine.put('vol1', volumeSpec());
    expect((await call('DELETE', '/v1/volumes/vol1')).status).toBe(204);
    await engine.put('vol2', volumeSpec());
    expect((await call('DELETE', '/v1/volumes/vol2?force=true')).status).toBe(204);
    expect(engine.calls).toContain('delete vol1 force=false');
    expect(engine.calls).toContain('delete vol2 force=true');
  });

  it('promote, demote, resize and outdate reach the engine and answer the status', async () => {
    await engine.put('vol1', volumeSpec({ role: 'secondary' }));
    expect(
      (await call('POST', '/v1/volumes/vol1/promote', { epoch: 2, peerFenced: true })).body,
    ).toMatchObject({
      spec: { role: 'primary', epoch: 2 },
    });
    expect((await call('POST', '/v1/volumes/vol1/demote', { epoch: 2 })).body).toMatchObject({
      spec: { role: 'secondary' },
    });
    expect(
      (await call('POST', '/v1/volumes/vol1/resize', { sizeBytes: 128 * 1024 * 1024 })).body,
    ).toMatchObject({
      spec: { sizeBytes: 128 * 1024 * 1024 },
    });
    expect((await call('POST', '/v1/volumes/vol1/outdate', { epoch: 3 })).status).toBe(200);
    expect(engine.calls.slice(1)).toEqual([
      'promote vol1 epoch=2',
      'demote vol1 epoch=2',
      `resize vol1 ${128 * 1024 * 1024}`,
      'outdate vol1 epoch=3',
    ]);
  });

  it.each([
    ['POST', '/v1/volumes/nope/promote', { epoch: 1 }],
    ['POST', '/v1/volumes/nope/demote', { epoch: 1 }],
    ['POST', '/v1/volumes/nope/resize', { sizeBytes: 8 * 1024 * 1024 }],
    ['POST', '/v1/volumes/nope/outdate', { epoch: 1 }],
  ] as const)('404 from the engine for %s %s', async (method, url, payload) => {
    expect(await call(method, url, payload)).toMatchObject({ status: 404, body: { error: 'ENOTFOUND' } });
  });

  it.each([
    [new ConflictError('peer node2 is Primary'), 409, 'ECONFLICT'],
    [new NoSpaceError('VG xlss has 10 MiB free, needs 64 MiB'), 507, 'ENOSPACE'],
    [new NotFoundError('volume', 'vol1'), 404, 'ENOTFOUND'],
  ])('maps %s to its status', async (err, status, code) => {
    engine.nextError = err;
    const r = await call('PUT', '/v1/volumes/vol1', volumeSpec());
    expect(r).toMatchObject({ status, body: { error: code, message: err.message } });
  });

  it('answers 500 with a generic message and no stack trace for anything else', async () => {
    const err = new Error('lvcreate leaked /etc/xlss/daemon.token contents');
    engine.nextError = err;
    const r = await call('POST', '/v1/volumes/vol1/promote', { epoch: 1 });
    expect(r.status).toBe(500);
    expect(r.body).toEqual({ error: 'EINTERNAL', message: 'internal error (see the daemon log)' });
    expect(r.raw).not.toContain('daemon.token');
    expect(r.raw).not.toMatch(/at .*\.ts/);
  });

  it('400 for a body that is not JSON', async () => {
    const res = await app.inject({
      method: 'PUT',
      url: '/v1/volumes/vol1',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"sizeBytes": ',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'EBADREQUEST', field: 'body' });
    expect(res.body).not.toMatch(/at .*\.js/);
  });
});

describe('backups and jobs', () => {
  it('lists backups of a target, which is required', async () => {
    backups.manifests.push({
      id: '2026-01-01T00:00:00Z',
      volume: 'vol1',
      sizeBytes: 1,
      createdAt: '2026-01-01T00:00:00.000Z',
      sourceNode: 'node1',
      sha256: 'a'.repeat(64),
      compressedBytes: 1,
      compression: 'gzip',
    });
    const r = await call('GET', '/v1/volumes/vol1/backups?target=/srv/backups');
    expect(r.status).toBe(200);
    expect(r.body?.backups).toHaveLength(1);
    expect(backups.calls).toEqual(['list vol1 /srv/backups']);
    expect(await call('GET', '/v1/volumes/vol1/backups')).toMatchObject({
      status: 400,
      body: { field: 'target' },
    });
    expect(await call('GET', '/v1/volumes/vol1/backups?target=srv')).toMatchObject({
      status: 400,
      body: { field: 'target' },
    });
  });

  it('runs a backup now (202 Job), 404 for an unknown volume; jobs are readable', async () => {
    expect(await call('POST', '/v1/volumes/nope/backups')).toMatchObject({ status: 404 });
    await engine.put('vol1', volumeSpec());
    const r = await call('POST', '/v1/volumes/vol1/backups');
    expect(r).toMatchObject({ status: 202, body: { volume: 'vol1', kind: 'backup', state: 'running' } });
    expect(await call('GET', `/v1/jobs/${r.body?.id}`)).toMatchObject({
      status: 200,
      body: { id: r.body?.id },
    });
    expect(await call('GET', '/v1/jobs/job-99')).toMatchObject({ status: 404 });
    expect(await call('GET', '/v1/jobs/bad%20id')).toMatchObject({ status: 400, body: { field: 'id' } });
  });

  it('restores (202 Job) and checks the body', async () => {
    const ok = await call('POST', '/v1/volumes/vol2/restore', {
      backupId: '2026-01-01T00:00:00Z',
      target: '/srv/backups',
    });
    expect(ok).toMatchObject({ status: 202, body: { kind: 'restore', volume: 'vol2' } });
    const bad = await call('POST', '/v1/volumes/vol2/restore', {
      backupId: '../../etc/passwd',
      target: '/srv/backups',
    });
    expect(bad).toMatchObject({ status: 400, body: { field: 'backupId' } });
    expect(backups.calls).toEqual(['restore vol2 2026-01-01T00:00:00Z']);
  });

  it('409 from the backup service', async () => {
    await engine.put('vol1', volumeSpec());
    backups.runNow = async () => {
      throw new ConflictError('vol1 is not Primary on node1');
    };
    expect(await call('POST', '/v1/volumes/vol1/backups')).toMatchObject({
      status: 409,
      body: { error: 'ECONFLICT' },
    });
  });
});

describe('fence relay routes', () => {
  const ask = { volume: 'vol1', node: 'node1', peer: 'node2', epoch: 7 };

  it('relays a fence question and answers the controller verdict', async () => {
    expect(await call('POST', '/v1/fence', ask)).toMatchObject({
      status: 200,
      body: { allow: true, reason: 'outdated' },
    });
    expect(await call('POST', '/v1/fence', { ...ask, epoch: 6 })).toMatchObject({
      status: 200,
      body: { allow: false, reason: 'stale epoch' },
    });
    expect(relayed).toEqual([ask, { ...ask, epoch: 6 }]);
  });

  it('answers a question about a peer DRBD is connected to again without relaying it', async () => {
    engine.connected.add('vol1');
    expect(await call('POST', '/v1/fence', ask)).toMatchObject({
      status: 200,
      body: { allow: false, reason: expect.stringMatching(/^reconnected/) },
    });
    expect(relayed).toEqual([]);
  });

  it('refuses a question for another node or with a bad field, without relaying it', async () => {
    expect(await call('POST', '/v1/fence', { ...ask, node: 'node3' })).toMatchObject({
      status: 400,
      body: { field: 'node' },
    });
    expect(await call('POST', '/v1/fence', { ...ask, peer: 'No Such' })).toMatchObject({
      status: 400,
      body: { field: 'peer' },
    });
    expect(await call('POST', '/v1/fence', { volume: 'vol1', node: 'node1', peer: 'node2' })).toMatchObject({
      status: 400,
      body: { field: 'epoch' },
    });
    expect(relayed).toEqual([]);
  });

  it('relays resync-done (204); 502 when the controller was not told', async () => {
    expect((await call('POST', '/v1/resync-done', { volume: 'vol1', node: 'node1' })).status).toBe(204);
    expect(relayed).toEqual([{ volume: 'vol1', node: 'node1' }]);
    relayFails = true;
    expect(await call('POST', '/v1/resync-done', { volume: 'vol1', node: 'node1' })).toMatchObject({
      status: 502,
      body: { error: 'ECONTROLLER' },
    });
    expect(await call('POST', '/v1/resync-done', { volume: 'vol1' })).toMatchObject({
      status: 400,
      body: { field: 'node' },
    });
  });
});
