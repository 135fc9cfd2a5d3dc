/** The one place `xlss daemon` gets its real engine and backup service. */
import { Lvm } from '../lvm/lvm.js';
import { createBackupService } from './backup/index.js';
import type { DaemonFactories } from './factories.js';
import { withDeadlines } from './volumes/deadlines.js';
import { createVolumeEngine, OWNER_TAG } from './volumes/engine.js';

export function realFactories(): DaemonFactories {
  return {
    createEngine: (deps) => createVolumeEngine(deps),
    createBackups: (d) => {
      // The deadlines the engine uses, not the plain runner's default one: that one would
      // kill `lvcreate --snapshot` while it holds the volume's LV suspended.
      const runner = withDeadlines(d.runner);
      return createBackupService({
        volumes: d.engine,
        lvm: new Lvm({ runner, logger: d.log, ownerTag: OWNER_TAG }),
        runner,
        log: d.log,
        registry: d.registry,
        config: { vg: d.config.vg, stateDir: d.config.stateDir, nodeName: d.config.nodeName },
      });
    },
  };
}
