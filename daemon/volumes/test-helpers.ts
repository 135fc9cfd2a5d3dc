import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { silentLogger } from '../../common/log.js';
import { createVolumeEngine, type EngineExtras } from './engine.js';
import type { FakeNode } from './fake-node.js';
import type { EngineConfig, FenceRelay } from './service.js';
import { testEngineConfig } from './steady-pass.js';

export async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'xlss-engine-'));
}

/** An engine over a fake node; a second call on the same dir is the daemon restarted. */
export async function startEngine(
  node: FakeNode,
  dir: string,
  overrides: Partial<EngineConfig> = {},
  extras: EngineExtras & { fence?: FenceRelay } = {},
) {
  const registry = new Registry();
  const engine = createVolumeEngine({
    runner: node,
    log: silentLogger,
    config: testEngineConfig(dir, overrides),
    registry,
    fence: { askController: async () => ({ allow: false, reason: 'test' }) },
    readMounts: async () => node.mountsText(),
    readSysFile: (path) => node.sysFile(path),
    firstDumpTimeoutMs: 2000,
    settleMs: 300,
    retrySoonMs: 50,
    growWaitMs: 100,
    ...extras,
  });
  await engine.start();
  return { engine, registry };
}
