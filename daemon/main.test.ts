import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeRunner } from '../common/fake-runner.js';
import { silentLogger } from '../common/log.js';
import type { CommandRunner, RunOptions } from '../common/runner.js';
import type { VolumeSpec } from './api/schemas.js';
import { loadConfig } from './config.js';
import type { DaemonFactories } from './factories.js';
import { type DaemonHandle, runUntilSignal, startDaemon } from './main.js';
import { FakeBackups, FakeEngine, volumeSpec } from './testing.js';
import type { VolumeEngineDeps } from './volumes/service.js';

const fixtures = fileURLToPath(new URL('../test/fixtures/', import.meta.url));
const TOKEN = 'main-test-token-0123456789';

/** The lab's real LVM report, cut down to the thin pool row (what findLv asks for). */
function poolReport(): string {
  const doc = JSON.parse(readFileSync(join(fixtures, 'lvm/lvs.lab.json'), 'utf8'));
  doc.report[0].lv = doc.report[0].lv.filter((l: { lv_name: string }) => l.lv_name === 'pool');
  return JSON.stringify(doc);
}

let dir: string;
let fake: FakeRunner;
let engine: FakeEngine;
let backups: FakeBackups;
let engineDeps: VolumeEngineDeps | undefined;
let handle: DaemonHandle | undefined;
let observed: string[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'xlss-daemon-main-'));
  writeFileSync(join(dir, 'token'), TOKEN, { mode: 0o600 });
  writeFileSync(
    join(dir, 'daemon.yaml'),
    `nodeName: node1\naddress: 10.77.0.11\nlisten: { host: 127.0.0.1 }\ntokenFile: ${join(dir, 'token')}\nvg: xlss\nlabels: { rack: r1 }\n`,
  );
  fake = new FakeRunner()
    .on('vgs', [], { stdoutFile: join(fixtures, 'lvm/vgs.lab.json') })
    .on('lvs', [], { stdout: poolReport() })
    .on('drbdadm', ['--version'], {
      stdoutFile: join(fixtures, 'drbd/version/drbdadm-version-9.22-kernel-8.4.txt'),
    })
    .on('lsblk', [], {
      stdout: '{"blockdevices":[{"name":"vdb","size":1073741824,"rota":true,"type":"disk","tran":null}]}',
    })
    .on('systemd-notify', [], {});
  engine = new FakeEngine();
  backups = new FakeBackups();
  engineDeps = undefined;
  observed = [];
});
afterEach(async () => {
  await handle?.stop();
  handle = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const factories: DaemonFactories = {
  createEngine: (deps) => {
    engineDeps = deps;
    return engine;
  },
  createBackups: () => backups,
};

async function start(env: NodeJS.ProcessEnv = {}, port = 0): Promise<DaemonHandle> {
  const loaded = loadConfig({ file: join(dir, 'daemon.yaml'), env: {}, hostname: 'node1' });
  handle = await startDaemon(loaded, factories, {
    log: silentLogger,
    env,
    port,
    readFile: async () => readFileSync(join(fixtures, 'drbd/version/proc-drbd-8.4-syncsource.txt'), 'utf8'),
    // The fake answers; the observe hook is the one main hands to the real runner.
    runner: (observe) =>
      ({
        run: async (command: string, args: readonly string[], options?: RunOptions) => {
          try {
            const r = await fake.run(command, args, options);
            observe(command, 'ok', 0.002);
            return r;
          } catch (err) {
            observe(command, 'error', 0.002);
            throw err;
          }
        },
        stream: (c: string, a: readonly string[]) => fake.stream(c, a),
      }) satisfies CommandRunner,
  });
  observed.push('started');
  return handle;
}

async function get(h: DaemonHandle, path: string, token: string | null = TOKEN) {
  const res = await fetch(`${h.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, text: await res.text() };
}

describe('startDaemon', () => {
  it('starts the engine and backups, serves the API over TCP, and hands the engine its config', async () => {
    const h = await start();
    expect(engine.started).toBe(true);
    expect(backups.started).toBe(true);
    expect(engineDeps?.config).toMatchObject({ nodeName: 'node1', vg: 'xlss', reconcileIntervalMs: 30_000 });
    expect(engineDeps?.registry).toBe(h.registry);
    expect((await get(h, '/healthz', null)).status).toBe(200);
    expect((await get(h, '/v1/node', null)).status).toBe(401);
  });

  it('/v1/node reports the VG, thin pool, DRBD version, disks and load from the node', async () => {
    const h = await start();
    await engine.put('vol1', volumeSpec());
    const r = await get(h, '/v1/node');
    expect(r.status).toBe(200);
    const info = JSON.parse(r.text);
    expect(info).toMatchObject({
      name: 'node1',
      address: '10.77.0.11',
      drbd: { generation: '8.4', kernelVersion: '8.4.11' },
      vg: { name: 'xlss', sizeBytes: 1069547520, freeBytes: 666894336 },
      thinPool: { sizeBytes: 268435456, usedBytes: Math.round(268435456 * 0.0312) },
      disks: [{ name: 'vdb', sizeBytes: 1073741824, type: 'HDD' }],
      labels: { rack: 'r1' },
      ready: true,
      volumes: 1,
    });
    expect(info.load.cpus).toBeGreaterThan(0);
    expect(fake.argsOf('vgs')[0]).toContain('xlss');
  });

  it('feeds the command histogram from the runner and serves it on /metrics', async () => {
    const h = await start();
    await get(h, '/v1/node');
    const m = await get(h, '/metrics');
    expect(m.text).toMatch(/xlss_daemon_command_duration_seconds_count\{command="vgs",outcome="ok"\} [1-9]/);
    expect(m.text).toContain('xlss_daemon_vg_free_bytes 666894336');
  });

  it('tells systemd it is ready only when NOTIFY_SOCKET is set', async () => {
    await start();
    expect(fake.argsOf('systemd-notify')).toEqual([]);
    await handle?.stop();
    await start({ NOTIFY_SOCKET: '/run/systemd/notify' });
    expect(fake.argsOf('systemd-notify')).toEqual([
      ['READY=1', expect.stringMatching(/^STATUS=serving on http:/)],
    ]);
    await handle?.stop();
    expect(fake.argsOf('systemd-notify')[1]?.[0]).toBe('STOPPING=1');
  });

  it('shuts down gracefully: the request in flight finishes, then the engine stops; nothing is demoted', async () => {
    const h = await start();
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const put = engine.put.bind(engine);
    engine.put = async (name: string, spec: VolumeSpec) => {
      await gate; // a slow command in flight
      return put(name, spec);
    };
    const inFlight = fetch(`${h.url}/v1/volumes/vol1`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(volumeSpec()),
    });
    await new Promise((r) => setTimeout(r, 100));
    const stopped = h.stop().then(() => 'stopped');
    await new Promise((r) => setTimeout(r, 200));
    // Still waiting for the request: the engine has not been stopped under it.
    expect(engine.stopped).toBe(false);
    // New connections are refused while it drains.
    await expect(fetch(`${h.url}/healthz`, { headers: { connection: 'close' } })).rejects.toThrow();
    release();
    expect((await inFlight).status).toBe(201);
    expect(await stopped).toBe('stopped');
    expect(engine.calls.slice(-1)).toEqual(['stop']);
    expect(engine.calls.filter((c) => /demote|delete/.test(c))).toEqual([]);
    expect(backups.stopped).toBe(true);
    // A second stop waits for the same shutdown.
    await h.stop();
    handle = undefined;
  });

  it('stops the engine again when the API cannot listen (port taken)', async () => {
    const first = await start();
    const firstEngine = engine;
    engine = new FakeEngine();
    const taken = Number(new URL(first.url).port);
    await expect(start({}, taken)).rejects.toThrow(/EADDRINUSE/);
    expect(engine.started).toBe(true);
    expect(engine.stopped).toBe(true);
    expect(backups.stopped).toBe(true);
    expect(firstEngine.stopped).toBe(false);
    handle = first;
  });

  it('SIGTERM resolves runUntilSignal with exit code 0 after a graceful stop', async () => {
    const h = await start();
    const code = runUntilSignal(h, silentLogger);
    process.emit('SIGTERM', 'SIGTERM');
    expect(await code).toBe(0);
    expect(engine.stopped).toBe(true);
    handle = undefined;
  });
});
