/** The one place `xlss daemon` gets its real engine and backup service. */
import { Lvm } from '../lvm/lvm.js';
import { createBackupService } from './backup/index.js';
import type { DaemonFactories } from './factories.js';
import { createVolumeEngine, OWNER_TAG } from './volumes/engine.js';

export function realFactories(): DaemonFactories {
  return {
    createEngine: (deps) => createVolumeEngine(deps),
    createBackups: (d) =>
      createBackupService({
        volumes: d.engine,
        lvm: new Lvm({ runner: d.runner, logger: d.log, ownerTag: OWNER_TAG }),
        runner: d.runner,
        log: d.log,
        registry: d.registry,
        config: { vg: d.config.vg, stateDir: d.config.stateDir, nodeName: d.config.nodeName },
      }),
  };
}
