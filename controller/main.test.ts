import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../common/log.js';
import { FakeControllerService } from './api/fake-service.js';
import type { ControllerCore, ControllerCoreDeps } from './api/service.js';
import { type ControllerConfig, loadControllerConfig } from './config.js';
import { requestJson } from './http-json.js';
import { runController, startController } from './main.js';

const TOKEN = 'main-test-token-0123456789';
let dir = '';
let config: ControllerConfig;

class FakeCore extends FakeControllerService implements ControllerCore {
  started = 0;
  stopped = 0;
  deps: ControllerCoreDeps | null = null;
  override isReady = false;
  async start() {
    this.started++;
    this.isReady = true;
  }
  async stop() {
    this.stopped++;
  }
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ca-main-'));
  writeFileSync(join(dir, 'token'), TOKEN, { mode: 0o600 });
  writeFileSync(
    join(dir, 'controller.yaml'),
    `listen: { host: 127.0.0.1, port: 0, socketPath: ${join(dir, 'api.sock')} }\ntokenFile: ${join(dir, 'token')}\n` +
      'nodes: [{ name: node1, url: "http://10.77.0.11:7680", tokenFile: /etc/xlss/n1.token }]\n',
  );
  config = loadControllerConfig({ file: join(dir, 'controller.yaml'), env: {} });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('startController', () => {
  it('starts the core with the config, and serves the API on TCP and the unix socket', async () => {
    const core = new FakeCore();
    const running = await startController(config, {
      log: silentLogger,
      registry: new Registry(),
      createCore: (deps) => {
        core.deps = deps;
        return core;
      },
    });
    try {
      expect(core.started).toBe(1);
      expect(core.deps?.config.nodes.map((n) => n.name)).toEqual(['node1']);
      const viaTcp = await requestJson({
        baseUrl: running.url,
        method: 'GET',
        path: '/readyz',
        token: TOKEN,
        timeoutMs: 2000,
      });
      expect(viaTcp).toEqual({ status: 200, body: { ready: true } });
      const viaSocket = await requestJson({
        baseUrl: 'http://controller',
        socketPath: join(dir, 'api.sock'),
        method: 'GET',
        path: '/v1/volumes',
        token: TOKEN,
        timeoutMs: 2000,
      });
      expect(viaSocket).toEqual({ status: 200, body: { volumes: [] } });
      const noToken = await requestJson({
        baseUrl: running.url,
        method: 'GET',
        path: '/v1/nodes',
        timeoutMs: 2000,
      });
      expect(noToken.status).toBe(401);
    } finally {
      await running.close();
    }
    expect(core.stopped).toBe(1);
  });

  it('refuses a token file others can read before the core is made', async () => {
    chmodSync(join(dir, 'token'), 0o644);
    let made = false;
    await expect(
      startController(config, {
        log: silentLogger,
        createCore: () => {
          made = true;
          return new FakeCore();
        },
      }),
    ).rejects.toThrow(/tokenFile: .* readable by others/);
    expect(made).toBe(false);
  });

  it('a core that fails to start closes the API again', async () => {
    const core = new FakeCore();
    core.start = async () => {
      throw new Error('store is locked');
    };
    await expect(
      startController(config, { log: silentLogger, registry: new Registry(), createCore: () => core }),
    ).rejects.toThrow('store is locked');
    // The socket server is gone: connecting fails.
    await expect(
      requestJson({
        baseUrl: 'http://c',
        socketPath: join(dir, 'api.sock'),
        method: 'GET',
        path: '/healthz',
        timeoutMs: 500,
      }),
    ).rejects.toThrow();
  });

  it('runController stops the API and the core when its signal aborts', async () => {
    const core = new FakeCore();
    const stop = new AbortController();
    const done = runController(
      config,
      { log: silentLogger, registry: new Registry(), createCore: () => core },
      stop.signal,
    );
    while (core.started === 0) await new Promise((r) => setTimeout(r, 10));
    stop.abort();
    await done;
    expect(core.stopped).toBe(1);
    expect(existsSync(join(dir, 'api.sock'))).toBe(false);
  });
});
