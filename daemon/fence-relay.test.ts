import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../common/log.js';
import { HttpFenceRelay } from './fence-relay.js';

const TOKEN = 'ctl-token-0123456789';
type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

// A real HTTP server stands in for the controller.
let server: Server;
let url: string;
let handler: Handler;
let seen: { path: string; auth: string | undefined; body: unknown }[];

beforeEach(async () => {
  seen = [];
  handler = (_req, _body, res) => res.writeHead(500).end();
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      seen.push({
        path: req.url ?? '',
        auth: req.headers.authorization,
        body: body ? JSON.parse(body) : null,
      });
      handler(req, body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function relay(opts: { timeoutMs?: number; controller?: null; epochs?: Record<string, number> } = {}) {
  return new HttpFenceRelay({
    controller: opts.controller === null ? null : { url, token: TOKEN },
    nodeName: 'node1',
    log: silentLogger,
    epochOf: async (v) => opts.epochs?.[v] ?? null,
    timeoutMs: opts.timeoutMs ?? 2000,
  });
}

function answer(status: number, body: unknown): Handler {
  return (_req, _body, res) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const ask = { volume: 'vol1', node: 'node1', peer: 'node2', epoch: 4 };

describe('HttpFenceRelay', () => {
  it('passes the controller allow through, with the bearer token', async () => {
    handler = answer(200, { allow: true, reason: 'outdated', extra: 1 });
    expect(await relay().ask(ask)).toEqual({ allow: true, reason: 'outdated' });
    expect(seen).toEqual([{ path: '/v1/fence', auth: `Bearer ${TOKEN}`, body: ask }]);
  });

  it('passes a deny through', async () => {
    handler = answer(200, { allow: false, reason: 'peer not fenced' });
    expect(await relay().ask(ask)).toEqual({ allow: false, reason: 'peer not fenced' });
  });

  it('denies when the controller does not answer in time (I/O stays frozen)', async () => {
    handler = () => {}; // never answers
    const started = Date.now();
    const a = await relay({ timeoutMs: 300 }).ask(ask);
    expect(a.allow).toBe(false);
    expect(a.reason).toMatch(/did not answer/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('denies on an error status, a body that is not a FenceAnswer, or no controller at all', async () => {
    handler = answer(503, { allow: true, reason: 'a 503 never allows' });
    expect((await relay().ask(ask)).allow).toBe(false);
    handler = answer(200, { allow: 'yes', reason: 'x' });
    expect((await relay().ask(ask)).allow).toBe(false);
    handler = (_r, _b, res) => res.writeHead(200).end('allow');
    expect((await relay().ask(ask)).allow).toBe(false);
    handler = answer(200, { allow: true, reason: 'ok' });
    const none = await relay({ controller: null }).ask(ask);
    expect(none).toEqual({ allow: false, reason: 'no controller configured: I/O stays frozen' });
  });

  it('denies when the controller is not listening', async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    const a = await relay().ask(ask);
    expect(a.allow).toBe(false);
    server = createServer();
    server.listen(0);
  });

  it('askController fills in this node and the epoch it holds; no spec means deny without asking', async () => {
    handler = answer(200, { allow: true, reason: 'dead' });
    expect(await relay({ epochs: { vol1: 9 } }).askController('vol1', 'node2')).toEqual({
      allow: true,
      reason: 'dead',
    });
    expect(seen[0]?.body).toEqual({ volume: 'vol1', node: 'node1', peer: 'node2', epoch: 9 });
    const unknown = await relay().askController('vol9', 'node2');
    expect(unknown.allow).toBe(false);
    expect(seen).toHaveLength(1);
  });

  it('relays resync-done and throws when the controller was not told', async () => {
    handler = (_r, _b, res) => res.writeHead(204).end();
    await relay().resyncDone({ volume: 'vol1', node: 'node1' });
    expect(seen).toEqual([
      { path: '/v1/resync-done', auth: `Bearer ${TOKEN}`, body: { volume: 'vol1', node: 'node1' } },
    ]);
    handler = answer(401, { error: 'EUNAUTHORIZED' });
    await expect(relay().resyncDone({ volume: 'vol1', node: 'node1' })).rejects.toThrow(/401/);
    await expect(relay({ controller: null }).resyncDone({ volume: 'vol1', node: 'node1' })).rejects.toThrow(
      /no controller/,
    );
  });
});
