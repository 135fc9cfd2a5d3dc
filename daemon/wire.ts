/**
 * THE ONE PLACE `xlss daemon` gets its real engine and backup service.
 *
 * LEAD, AT MERGE: the volume engine (daemon/volumes/engine.ts, `createVolumeEngine`) and
 * the backup service (daemon/backup/index.ts, `createBackupService`) are built on other
 * branches. Replace the body of `realFactories` with:
 *
 *   import { createVolumeEngine } from './volumes/engine.js';
 *   import { createBackupService } from './backup/index.js';
 *   return {
 *     createEngine: createVolumeEngine,
 *     createBackups: (d) => createBackupService(... from d: runner, log, config, registry, engine ...),
 *   };
 *
 * Until then `xlss daemon` validates its config (and `xlss daemon check-config` works) and
 * then stops here with this message instead of starting without volumes.
 */
import type { DaemonFactories } from './factories.js';

export function realFactories(): DaemonFactories {
  throw new Error(
    'this build has no volume engine wired in yet (daemon/wire.ts is completed when the engine is merged)',
  );
}
