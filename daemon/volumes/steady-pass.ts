import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { silentLogger } from '../../common/log.js';
import type { VolumeSpec } from '../api/schemas.js';
import { createVolumeEngine } from './engine.js';
import { FakeNode } from './fake-node.js';
import { DEFAULT_RESYNC_RATES } from './resource.js';
import type { EngineConfig } from './service.js';

export function testEngineConfig(dir: string, overrides: Partial<EngineConfig> = {}): EngineConfig {
  return {
    nodeName: 'node1',
    address: '10.0.0.1',
    vg: 'xlss',
    thinPool: 'pool',
    stateDir: join(dir, 'state'),
    drbdConfigDir: join(dir, 'drbd.d'),
    handlers: {
      fencePeer: '/usr/lib/xlss/xlss-fence-peer',
      afterResyncTarget: '/usr/lib/xlss/xlss-after-resync-target',
    },
    reconcileIntervalMs: 3_600_000,
    drbdGeneration: '8.4',
    resync: { ...DEFAULT_RESYNC_RATES },
    ...overrides,
  };
}

/** A replicated thin volume, Primary here, ext4 mounted. */
export function sampleVolumeSpec(i: number, overrides: Partial<VolumeSpec> = {}): VolumeSpec {
  return {
    sizeBytes: 64 * 1024 * 1024,
    thin: true,
    peer: { node: 'node2', address: '10.0.0.2' },
    drbd: { minor: i, port: 7000 + i, secret: 'c2VjcmV0LXNlY3JldC0x' },
    role: 'primary',
    epoch: 1,
    filesystem: 'ext4',
    mountPoint: `/mnt/xlss/vol${i}`,
    backup: null,
    ...overrides,
  };
}

/**
 * Commands one reconcile pass runs once `volumes` replicated volumes have converged, on
 * an in-memory node (real parsing of LVM JSON and events2 lines). For the bench: the
 * figure should be the same at 10, 100 and 1000 volumes.
 */
export async function countSteadyPassCommands(volumes: number): Promise<{
  volumes: number;
  commands: number;
  changeCommands: number;
  convergeCommands: number;
  /** Volumes in state 'ready' after the pass: below `volumes`, the pass was not a steady one. */
  ready: number;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'xlss-steady-'));
  const node = new FakeNode();
  const engine = createVolumeEngine({
    runner: node,
    log: silentLogger,
    config: testEngineConfig(dir),
    registry: new Registry(),
    fence: { askController: async () => ({ allow: false, reason: 'no controller' }) },
    readMounts: async () => node.mountsText(),
    readSysFile: (path) => node.sysFile(path),
  });
  try {
    await engine.start();
    for (let i = 0; i < volumes; i++) await engine.put(`vol${i}`, sampleVolumeSpec(i));
    await engine.reconcileNow();
    // Passes queued by the DRBD events of the last steps run first (300 ms debounce).
    await new Promise((r) => setTimeout(r, 500));
    await engine.reconcileNow();
    const convergeCommands = node.calls.length;
    const before = node.calls.length;
    await engine.reconcileNow();
    const pass = node.calls.slice(before);
    const changeCommands = pass.filter((c) => c.command !== 'lvs' && c.command !== 'vgs').length;
    const ready = (await engine.list()).filter((v) => v.state === 'ready').length;
    return { volumes, commands: pass.length, changeCommands, convergeCommands, ready };
  } finally {
    await engine.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
