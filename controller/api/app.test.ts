import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from './app.js';
import { FakeControllerService } from './fake-service.js';

const TOKEN = 'controller-test-token';
const auth = { authorization: `Bearer ${TOKEN}` };
const MiB = 1024 ** 2;
let service: FakeControllerService;
let registry: Registry;
let app: FastifyInstance;

beforeEach(async () => {
  service = new FakeControllerService();
  registry = new Registry();
  app = await buildApp({ service, token: TOKEN, registry });
});
afterEach(() => app.close());

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
async function call(method: Method, url: string, payload?: unknown, headers: Record<string, string> = auth) {
  const res = await app.inject({
    method,
    url,
    headers,
    ...(payload !== undefined ? { payload: payload as object } : {}),
  });
  return {
    status: res.statusCode,
    body: res.body ? (JSON.parse(res.body) as Record<string, unknown>) : null,
    raw: res.body,
  };
}

async function withTwoNodesAndVolume() {
  await service.addNode({ name: 'node1', url: 'http://10.77.0.11:7680', tokenFile: '/etc/xlss/n1.token' });
  await service.addNode({ name: 'node2', url: 'http://10.77.0.12:7680', tokenFile: '/etc/xlss/n2.token' });
  await service.createVolume({ name: 'vol1', sizeBytes: 64 * MiB });
  service.calls.length = 0;
}

describe('auth and health', () => {
  it('/healthz answers without a token', async () => {
    expect(await call('GET', '/healthz', undefined, {})).toMatchObject({ status: 200, body: { ok: true } });
  });

  it.each([
    ['no header', {}],
    ['wrong token', { authorization: 'Bearer nope' }],
    ['token prefix', { authorization: `Bearer ${TOKEN.slice(0, 5)}` }],
    ['not bearer', { authorization: `Basic ${TOKEN}` }],
  ])('every other route answers 401 with %s, and runs nothing', async (_what, headers) => {
    for (const [m, u] of [
      ['GET', '/v1/volumes'],
      ['GET', '/readyz'],
      ['GET', '/metrics'],
      ['POST', '/v1/volumes'],
    ] as const) {
      const r = await call(m, u, m === 'POST' ? { name: 'x' } : undefined, headers);
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ error: 'EUNAUTHORIZED' });
    }
    expect(service.calls).toEqual([]);
  });

  it('/readyz follows the core: 503 while starting, 200 when ready', async () => {
    service.isReady = false;
    expect((await call('GET', '/readyz')).status).toBe(503);
    service.isReady = true;
    expect(await call('GET', '/readyz')).toMatchObject({ status: 200, body: { ready: true } });
  });

  it('/metrics serves xlss_controller_http_* by route pattern, never by raw name', async () => {
    await call('GET', '/v1/volumes/nosuch');
    const res = await app.inject({ method: 'GET', url: '/metrics', headers: auth });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain(
      'xlss_controller_http_requests_total{method="GET",route="/v1/volumes/:name",status="404"} 1',
    );
    expect(res.body).toContain('xlss_controller_http_request_duration_seconds_bucket');
    expect(res.body).not.toContain('nosuch');
  });

  it('an unknown route is a 404 ErrorBody', async () => {
    expect(await call('GET', '/v1/nope')).toMatchObject({ status: 404, body: { error: 'ENOTFOUND' } });
  });

  it('an unexpected error is a generic 500 without stack or internal message', async () => {
    service.failNext = new Error('sqlite: disk I/O error at /var/lib/secret');
    const r = await call('GET', '/v1/volumes');
    expect(r.status).toBe(500);
    expect(r.body).toEqual({ error: 'EINTERNAL', message: 'internal error; see the controller log' });
    expect(r.raw).not.toContain('sqlite');
  });
});

describe('nodes', () => {
  const add = {
    name: 'node1',
    url: 'http://10.77.0.11:7680',
    tokenFile: '/etc/xlss/n1.token',
    labels: { rack: 'r1' },
    zone: 'a',
  };

  it('POST /v1/nodes adds a node (201), again is 200, GET lists and shows it', async () => {
    expect(await call('POST', '/v1/nodes', add)).toMatchObject({
      status: 201,
      body: { name: 'node1', zone: 'a' },
    });
    expect((await call('POST', '/v1/nodes', add)).status).toBe(200);
    expect((await call('GET', '/v1/nodes')).body?.nodes).toHaveLength(1);
    expect(await call('GET', '/v1/nodes/node1')).toMatchObject({
      status: 200,
      body: { labels: { rack: 'r1' } },
    });
  });

  it.each([
    [{ ...add, name: 'Node_1' }, 'name'],
    [{ ...add, url: 'ftp://x' }, 'url'],
    [{ ...add, url: 'http://a b' }, 'url'],
    [{ ...add, tokenFile: 'relative/token' }, 'tokenFile'],
    [{ ...add, tokenFile: '/etc/../shadow' }, 'tokenFile'],
    [{ ...add, address: '10.1.1' }, 'address'],
    [{ ...add, labels: { 'Bad Key': 'v' } }, 'labels'],
    [{ ...add, extra: 1 }, 'extra'],
    [{ name: 'node1', url: 'http://10.77.0.11:7680' }, 'tokenFile'],
  ])('POST /v1/nodes %j is a 400 naming %s and runs nothing', async (body, field) => {
    const r = await call('POST', '/v1/nodes', body);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: 'EVALIDATION' });
    expect(String(r.body?.field)).toContain(field);
    expect(String(r.body?.message)).toContain(field);
    expect(service.calls).toEqual([]);
  });

  it('a conflicting add is 409', async () => {
    await call('POST', '/v1/nodes', add);
    expect((await call('POST', '/v1/nodes', { ...add, url: 'http://10.77.0.99:7680' })).status).toBe(409);
  });

  it('GET/DELETE/drain of an unknown node are 404; a bad name is 400', async () => {
    expect((await call('GET', '/v1/nodes/nosuch')).status).toBe(404);
    expect((await call('DELETE', '/v1/nodes/nosuch')).status).toBe(404);
    expect((await call('POST', '/v1/nodes/nosuch/drain')).status).toBe(404);
    expect(await call('GET', '/v1/nodes/BAD_NAME')).toMatchObject({ status: 400, body: { field: 'name' } });
    expect(service.calls).toEqual(['getNode nosuch', 'removeNode nosuch', 'drainNode nosuch']);
  });

  it('DELETE answers 204 with no body; 409 while it holds replicas; drain answers 202 with a job id', async () => {
    await withTwoNodesAndVolume();
    const n1 = service.nodes.get('node1');
    if (n1) n1.volumes = 1;
    expect((await call('DELETE', '/v1/nodes/node1')).status).toBe(409);
    expect(await call('POST', '/v1/nodes/node1/drain')).toMatchObject({
      status: 202,
      body: { jobId: 'drain-node1' },
    });
    const del = await call('DELETE', '/v1/nodes/node1');
    expect(del.status).toBe(204);
    expect(del.raw).toBe('');
  });
});

describe('volumes', () => {
  beforeEach(async () => {
    await service.addNode({ name: 'node1', url: 'http://10.77.0.11:7680', tokenFile: '/etc/xlss/n1.token' });
    await service.addNode({ name: 'node2', url: 'http://10.77.0.12:7680', tokenFile: '/etc/xlss/n2.token' });
    service.calls.length = 0;
  });

  const create = {
    name: 'vol1',
    sizeBytes: 64 * MiB,
    filesystem: 'ext4',
    mountPoint: '/srv/vol1',
    nodeSelector: { disk: 'ssd' },
    backup: { intervalSeconds: 3600, retain: 7, target: '/srv/backups' },
    workloadUnit: 'postgres@main.service',
  };

  it('POST /v1/volumes creates (201), again is 200, GET shows it with its scheduling hint', async () => {
    expect(await call('POST', '/v1/volumes', create)).toMatchObject({
      status: 201,
      body: { name: 'vol1', thin: true },
    });
    expect((await call('POST', '/v1/volumes', create)).status).toBe(200);
    const show = await call('GET', '/v1/volumes/vol1');
    expect(show.body).toMatchObject({
      schedulingHint: ['node1', 'node2'],
      workloadUnit: 'postgres@main.service',
    });
    expect((await call('GET', '/v1/volumes')).body?.volumes).toHaveLength(1);
  });

  it.each([
    [{ ...create, name: 'a'.repeat(49) }, 'name'],
    [{ ...create, sizeBytes: 1024 }, 'sizeBytes'],
    [{ ...create, sizeBytes: '64MiB' }, 'sizeBytes'],
    [{ ...create, sizeBytes: 4 * MiB + 0.5 }, 'sizeBytes'],
    [{ ...create, filesystem: 'btrfs' }, 'filesystem'],
    [{ ...create, mountPoint: '/srv/$(reboot)' }, 'mountPoint'],
    [{ ...create, backup: { intervalSeconds: 10, retain: 7, target: '/b' } }, 'backup.intervalSeconds'],
    [{ ...create, backup: { cron: '0 * * * *; rm', retain: 7, target: '/b' } }, 'backup.cron'],
    [{ ...create, workloadUnit: 'x;reboot.service' }, 'workloadUnit'],
    [{ ...create, preferredNode: 'NODE' }, 'preferredNode'],
    [{ ...create, replicas: 3 }, 'replicas'],
    [{ ...create, nodeSelector: { 'Disk Type': 'ssd' } }, 'nodeSelector.Disk Type'],
  ])('POST /v1/volumes %# is a 400 naming %s and runs nothing', async (body, field) => {
    const r = await call('POST', '/v1/volumes', body);
    expect(r.status).toBe(400);
    expect(r.body?.field).toBe(field);
    expect(service.calls).toEqual([]);
  });

  it('no placement is a 507 that says why; a conflict is 409', async () => {
    const r = await call('POST', '/v1/volumes', { name: 'big', sizeBytes: 100 * 1024 * MiB });
    expect(r).toMatchObject({ status: 507, body: { error: 'ENOSPACE' } });
    expect(String(r.body?.message)).toContain('no second node');
    await call('POST', '/v1/volumes', create);
    expect((await call('POST', '/v1/volumes', { ...create, sizeBytes: 128 * MiB })).status).toBe(409);
  });

  it('resize: good is 200, shrink is 409, unknown is 404, a bad size is 400', async () => {
    await call('POST', '/v1/volumes', create);
    expect(await call('POST', '/v1/volumes/vol1/resize', { sizeBytes: 128 * MiB })).toMatchObject({
      status: 200,
      body: { sizeBytes: 128 * MiB },
    });
    expect((await call('POST', '/v1/volumes/vol1/resize', { sizeBytes: 64 * MiB })).status).toBe(409);
    expect((await call('POST', '/v1/volumes/nosuch/resize', { sizeBytes: 128 * MiB })).status).toBe(404);
    expect(await call('POST', '/v1/volumes/vol1/resize', { sizeBytes: -1 })).toMatchObject({
      status: 400,
      body: { field: 'sizeBytes' },
    });
    expect(await call('POST', '/v1/volumes/vol1/resize', {})).toMatchObject({
      status: 400,
      body: { field: 'sizeBytes' },
    });
  });

  it('delete: 409 when mounted without force, 204 with force=true, 404 after; a bad force is 400', async () => {
    await call('POST', '/v1/volumes', create);
    expect((await call('DELETE', '/v1/volumes/vol1')).status).toBe(409);
    expect(await call('DELETE', '/v1/volumes/vol1?force=maybe')).toMatchObject({
      status: 400,
      body: { field: 'force' },
    });
    expect(await call('DELETE', '/v1/volumes/vol1?bogus=1')).toMatchObject({
      status: 400,
      body: { field: 'bogus' },
    });
    expect((await call('DELETE', '/v1/volumes/vol1?force=true')).status).toBe(204);
    expect(service.calls).toContain('deleteVolume vol1 force=true');
    expect((await call('GET', '/v1/volumes/vol1')).status).toBe(404);
  });

  it('failover: to a replica node is 200 with the new Primary, elsewhere 409, bad body 400', async () => {
    await call('POST', '/v1/volumes', create);
    expect(await call('POST', '/v1/volumes/vol1/failover', { to: 'node2' })).toMatchObject({
      status: 200,
      body: { primary: 'node2', epoch: 2 },
    });
    expect((await call('POST', '/v1/volumes/vol1/failover', { to: 'node9' })).status).toBe(409);
    expect(await call('POST', '/v1/volumes/vol1/failover', { to: 'Node 2' })).toMatchObject({
      status: 400,
      body: { field: 'to' },
    });
    expect(await call('POST', '/v1/volumes/vol1/failover', {})).toMatchObject({
      status: 200,
      body: { primary: 'node1' },
    });
  });

  it('backups: run is 202 with a job; list; unknown volume 404; a body with fields is 400', async () => {
    await call('POST', '/v1/volumes', create);
    const run = await call('POST', '/v1/volumes/vol1/backups', {});
    expect(run).toMatchObject({ status: 202, body: { kind: 'backup', state: 'running', volume: 'vol1' } });
    expect(await call('GET', `/v1/jobs/${run.body?.id}`)).toMatchObject({
      status: 200,
      body: { percent: 50 },
    });
    expect(await call('GET', '/v1/volumes/vol1/backups')).toMatchObject({
      status: 200,
      body: { backups: [] },
    });
    expect((await call('POST', '/v1/volumes/nosuch/backups', {})).status).toBe(404);
    expect((await call('GET', '/v1/volumes/nosuch/backups')).status).toBe(404);
    expect(await call('POST', '/v1/volumes/vol1/backups', { now: true })).toMatchObject({
      status: 400,
      body: { field: 'now' },
    });
  });
});

describe('restore, jobs, events, fence, resync-done', () => {
  beforeEach(withTwoNodesAndVolume);

  it('restore is 202 with a job; an unknown backup is 404; a bad backupId is 400', async () => {
    expect(await call('POST', '/v1/restore', { volume: 'vol1', node: 'node2' })).toMatchObject({
      status: 202,
      body: { kind: 'restore' },
    });
    expect((await call('POST', '/v1/restore', { volume: 'vol1', backupId: 'nope' })).status).toBe(404);
    expect(await call('POST', '/v1/restore', { volume: 'vol1', backupId: '../x' })).toMatchObject({
      status: 400,
      body: { field: 'backupId' },
    });
    expect(await call('POST', '/v1/restore', {})).toMatchObject({ status: 400, body: { field: 'volume' } });
  });

  it('jobs: unknown is 404, a bad id is 400', async () => {
    expect((await call('GET', '/v1/jobs/job-404')).status).toBe(404);
    expect(await call('GET', '/v1/jobs/a%20b')).toMatchObject({ status: 400, body: { field: 'id' } });
  });

  it('events filter by volume, since and limit (query coerced); bad query is 400', async () => {
    service.event('node.offline', 'node2 offline', null, 'node2');
    expect((await call('GET', '/v1/events')).body?.events).toHaveLength(4);
    const byVolume = (await call('GET', '/v1/events?volume=vol1')).body?.events as Array<{ type: string }>;
    expect(byVolume.map((e) => e.type)).toEqual(['volume.created']);
    expect((await call('GET', '/v1/events?since=3')).body?.events).toHaveLength(1);
    expect((await call('GET', '/v1/events?limit=2')).body?.events).toHaveLength(2);
    expect(await call('GET', '/v1/events?limit=0')).toMatchObject({ status: 400, body: { field: 'limit' } });
    expect(await call('GET', '/v1/events?since=abc')).toMatchObject({
      status: 400,
      body: { field: 'since' },
    });
    expect(await call('GET', '/v1/events?volume=A')).toMatchObject({
      status: 400,
      body: { field: 'volume' },
    });
  });

  it('fence answers from the core; a bad ask is 400', async () => {
    expect(
      await call('POST', '/v1/fence', { volume: 'vol1', node: 'node1', peer: 'node2', epoch: 1 }),
    ).toMatchObject({
      status: 200,
      body: { allow: true },
    });
    expect(
      await call('POST', '/v1/fence', { volume: 'vol1', node: 'node1', peer: 'node2', epoch: 0 }),
    ).toMatchObject({
      body: { allow: false },
    });
    expect(
      await call('POST', '/v1/fence', { volume: 'vol1', node: 'node1', peer: 'node2', epoch: -1 }),
    ).toMatchObject({
      status: 400,
      body: { field: 'epoch' },
    });
  });

  it('resync-done is 204; unknown volume 404; missing node 400', async () => {
    expect((await call('POST', '/v1/resync-done', { volume: 'vol1', node: 'node2' })).status).toBe(204);
    expect((await call('POST', '/v1/resync-done', { volume: 'nosuch', node: 'node2' })).status).toBe(404);
    expect(await call('POST', '/v1/resync-done', { volume: 'vol1' })).toMatchObject({
      status: 400,
      body: { field: 'node' },
    });
  });

  it('a body that is not JSON is a 400 ErrorBody', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/fence',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{nope',
    });
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ error: 'EREQUEST' });
  });
});
