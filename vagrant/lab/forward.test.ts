import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { forwardServiceName, forwardSocket, requestOverSocket, serveForward, validPort } from './forward.js';

describe('forward names', () => {
  it('one socket and service per node and port', () => {
    expect(forwardServiceName('node2', 8080)).toBe('fwd-node2-8080');
    expect(forwardSocket('/var/tmp/xlss-lab', 'node2', 8080)).toBe('/var/tmp/xlss-lab/fwd-node2-8080.sock');
    expect(() => forwardSocket(`/var/tmp/${'d'.repeat(90)}`, 'node2', 8080)).toThrow(/--dir/);
  });

  it.each(['0', '65536', '80x', '-1', ''])('refuses port "%s"', (p) => {
    expect(() => validPort(p)).toThrow(/port: must be a TCP port/);
  });
});

describe('serveForward', () => {
  it('carries HTTP from a unix socket to a TCP port and back', async () => {
    const upstream = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => res.end(JSON.stringify({ method: req.method, url: req.url, body })));
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const port = (upstream.address() as AddressInfo).port;
    const socket = join(mkdtempSync(join(tmpdir(), 'xlss-fwd-')), 'f.sock');
    const fwd = await serveForward(socket, '127.0.0.1', port);
    try {
      const r = await requestOverSocket(socket, { method: 'POST', path: '/v1/x', body: { a: 1 } });
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toEqual({ method: 'POST', url: '/v1/x', body: '{"a":1}' });
      // Upstream gone: the client's request fails instead of hanging.
      upstream.close();
      upstream.closeAllConnections();
      await expect(requestOverSocket(socket, { path: '/', timeoutMs: 2000 })).rejects.toThrow();
    } finally {
      fwd.close();
      upstream.close();
    }
  });
});
