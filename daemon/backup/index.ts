export { SNAPSHOT_PREFIX } from './names.js';
export { checkPolicy, nextRunAt } from './policy.js';
export { planQueue, type QueueEntry } from './schedule.js';
export {
  type BackupServiceConfig,
  type BackupServiceDeps,
  type BackupServiceHandle,
  createBackupService,
} from './service.js';
export { ChecksumError } from './stream.js';
