import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../common/log.js';
import { FakeLvmRunner, FakeVolumes } from './backup/fakes.test-helpers.js';
import type { DaemonConfig } from './config.js';
import { deadlineOf, NEVER_KILL } from './volumes/deadlines.js';
import type { VolumeEngine } from './volumes/service.js';
import { realFactories } from './wire.js';

const MiB = 1024 * 1024;

describe('deadlines of LVM changes', () => {
  it('an LVM change is never killed half-way (lvcreate --snapshot suspends the origin); reports still are', () => {
    const snapshot = ['--yes', '--snapshot', '--ignoreactivationskip', '--name', 'xlssbk_v1', 'xlss/v1'];
    for (const [command, args] of [
      ['lvcreate', snapshot],
      ['lvremove', ['--yes', 'xlss/xlssbk_v1']],
      ['lvchange', ['--activate', 'y', '--ignoreactivationskip', 'xlss/xlssbk_v1']],
      [
        'lvcreate',
        ['--yes', '--type', 'thin', '--name', 'v1', '--virtualsize', '1b', '--thinpool', 'pool', 'xlss'],
      ],
    ] as const)
      expect(deadlineOf(command, args), `${command} ${args.join(' ')}`).toEqual({
        timeoutMs: NEVER_KILL,
        abortable: false,
      });
    expect(deadlineOf('lvs', ['xlss'])).toEqual({ timeoutMs: 60_000, abortable: true });
  });

  it("the real backup service runs LVM through the deadlines, not the runner's default one", async () => {
    const runner = new FakeLvmRunner('xlss');
    runner.addLv({ name: 'vol1', sizeBytes: 64 * MiB, thin: true });
    // A crash mid-backup left a snapshot: start() removes it with lvremove.
    runner.addLv({ name: 'xlssbk_vol1', sizeBytes: 64 * MiB, thin: true, origin: 'vol1' });
    const stateDir = await mkdtemp(join(tmpdir(), 'xlss-wire-'));
    const backups = realFactories().createBackups({
      runner,
      log: silentLogger,
      registry: new Registry(),
      config: { vg: 'xlss', stateDir, nodeName: 'node1' } as DaemonConfig,
      engine: new FakeVolumes() as unknown as VolumeEngine,
    });
    await backups.start();
    await backups.stop();
    expect([...runner.lvs.keys()]).toEqual(['vol1']);
    const removes = runner.calls.filter((c) => c.command === 'lvremove');
    expect(removes).toHaveLength(1);
    expect(removes[0]?.options.timeoutMs).toBe(NEVER_KILL);
    expect(removes[0]?.options.signal).toBeUndefined();
  });
});
