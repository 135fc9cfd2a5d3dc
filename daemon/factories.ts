import type { Registry } from 'prom-client';
import type { Logger } from '../common/log.js';
import type { CommandRunner } from '../common/runner.js';
import type { DaemonConfig } from './config.js';
import type { BackupService, VolumeEngine, VolumeEngineDeps } from './volumes/service.js';

/** What the backup service gets from the daemon (daemon/backup adapts it to its own factory). */
export interface BackupServiceDeps {
  runner: CommandRunner;
  log: Logger;
  config: DaemonConfig;
  registry: Registry;
  engine: VolumeEngine;
}

/** The parts startDaemon builds on; `xlss daemon` passes the real ones (wire.ts), tests fakes. */
export interface DaemonFactories {
  createEngine(deps: VolumeEngineDeps): VolumeEngine;
  createBackups(deps: BackupServiceDeps): BackupService;
}
