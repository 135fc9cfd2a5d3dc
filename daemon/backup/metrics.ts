import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface BackupMetrics {
  lastSuccess: Gauge<'volume'>;
  duration: Histogram<'kind' | 'outcome'>;
  failures: Counter<'volume'>;
  bytesWritten: Counter<'volume'>;
}

export function createBackupMetrics(registry: Registry): BackupMetrics {
  const registers = [registry];
  return {
    lastSuccess: new Gauge({
      name: 'xlss_daemon_backup_last_success_timestamp_seconds',
      help: 'Unix time of the last successful backup of a volume from this node',
      labelNames: ['volume'],
      registers,
    }),
    duration: new Histogram({
      name: 'xlss_daemon_backup_duration_seconds',
      help: 'Duration of backups and restores by outcome',
      labelNames: ['kind', 'outcome'],
      buckets: [1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600],
      registers,
    }),
    failures: new Counter({
      name: 'xlss_daemon_backup_failures_total',
      help: 'Backups of a volume that failed on this node',
      labelNames: ['volume'],
      registers,
    }),
    bytesWritten: new Counter({
      name: 'xlss_daemon_backup_written_bytes_total',
      help: 'Compressed bytes of backup images written to the target',
      labelNames: ['volume'],
      registers,
    }),
  };
}
