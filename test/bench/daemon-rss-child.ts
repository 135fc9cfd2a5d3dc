/**
 * A child process for the daemon RSS figure: the real daemon (startDaemon with the real
 * volume engine, the real backup service and the real REST API on 127.0.0.1) over the
 * in-memory fake node, given `argv[2]` volumes through PUT /v1/volumes/:name. After the
 * first full pass (every volume 'ready', or the count that is), it tells its parent over
 * IPC and waits: the parent reads this process's VmRSS, then sends 'stop'.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../common/log.js';
import type { CommandRunner, RunOptions } from '../../common/runner.js';
import type { VolumeList } from '../../daemon/api/schemas.js';
import { loadConfig } from '../../daemon/config.js';
import { startDaemon } from '../../daemon/main.js';
import { createVolumeEngine } from '../../daemon/volumes/engine.js';
import { FakeNode } from '../../daemon/volumes/fake-node.js';
import { sampleVolumeSpec } from '../../daemon/volumes/steady-pass.js';
import { realFactories } from '../../daemon/wire.js';

export interface RssChildMessage {
  volumes: number;
  ready: number;
}

const TOKEN = 'bench-rss-token-0123456789abcdef';
/** Node facts ask for disks; the fake node has none of its own. */
const LSBLK = '{"blockdevices":[{"name":"vdb","size":1099511627776,"rota":true,"type":"disk","tran":null}]}';

/** The fake node, plus the one host fact it does not simulate (lsblk). */
function nodeRunner(
  node: FakeNode,
  observe: (c: string, o: 'ok' | 'error', s: number) => void,
): CommandRunner {
  return {
    run: async (command: string, args: readonly string[], options?: RunOptions) => {
      if (command === 'lsblk') {
        observe(command, 'ok', 0);
        return { command, args, stdout: LSBLK, stderr: '', exitCode: 0, durationMs: 0 };
      }
      try {
        const r = await node.run(command, args, options);
        observe(command, 'ok', 0);
        return r;
      } catch (err) {
        observe(command, 'error', 0);
        throw err;
      }
    },
    stream: (command, args) => node.stream(command, args),
  };
}

async function main(): Promise<void> {
  const volumes = Number(process.argv[2] ?? '0');
  if (!Number.isInteger(volumes) || volumes < 0)
    throw new Error(`volume count: not a count: ${process.argv[2]}`);
  const dir = mkdtempSync(join(tmpdir(), 'xlss-bench-rss-'));
  try {
    writeFileSync(join(dir, 'token'), TOKEN, { mode: 0o600 });
    writeFileSync(
      join(dir, 'daemon.yaml'),
      [
        'nodeName: node1',
        'address: 10.0.0.1',
        'listen: { host: 127.0.0.1 }',
        `tokenFile: ${join(dir, 'token')}`,
        `stateDir: ${join(dir, 'state')}`,
        `drbdConfigDir: ${join(dir, 'drbd.d')}`,
        'drbdGeneration: "8.4"',
        'reconcileIntervalSeconds: 3600',
        'logLevel: silent',
        '',
      ].join('\n'),
    );
    const loaded = loadConfig({ file: join(dir, 'daemon.yaml'), env: {}, hostname: 'node1' });
    const node = new FakeNode();
    const real = realFactories();
    const handle = await startDaemon(
      loaded,
      {
        createEngine: (deps) => createVolumeEngine({ ...deps, readMounts: async () => node.mountsText() }),
        createBackups: real.createBackups,
      },
      { log: silentLogger, env: {}, port: 0, runner: (observe) => nodeRunner(node, observe) },
    );
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${handle.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${TOKEN}`,
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return res.json() as Promise<unknown>;
    };
    for (let i = 0; i < volumes; i++) await api('PUT', `/v1/volumes/vol${i}`, sampleVolumeSpec(i));
    await handle.engine.reconcileNow();
    // Passes queued by the DRBD events of the last steps (debounced), then one more.
    await new Promise((r) => setTimeout(r, 500));
    await handle.engine.reconcileNow();
    const list = (await api('GET', '/v1/volumes')) as VolumeList;
    const ready = list.volumes.filter((v) => v.state === 'ready').length;
    // The fake node's record of every command is the simulation's, not the daemon's.
    node.calls.length = 0;
    process.send?.({ volumes, ready } satisfies RssChildMessage);
    await new Promise<void>((resolve) => process.once('message', () => resolve()));
    await handle.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
