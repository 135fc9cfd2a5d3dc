/**
 * The daemon's own metrics on an injected Registry. The engine registers its volume
 * metrics (roles, states, out-of-sync bytes, reconcile errors) on the same registry.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, type Registry } from 'prom-client';
import type { Logger } from '../common/log.js';
import type { BackupService, VolumeService } from './volumes/service.js';

export interface DaemonMetrics {
  /** Fed by every HTTP response. */
  httpRequests: Counter<'method' | 'route' | 'status'>;
  /** Fed by the runner's observe hook: every command the daemon runs. */
  observeCommand(command: string, outcome: 'ok' | 'error', seconds: number): void;
}

export interface MetricsSources {
  /** VG size and free, read when Prometheus scrapes. */
  vg: () => Promise<{ sizeBytes: number; freeBytes: number }>;
  volumes: Pick<VolumeService, 'list'>;
  backups: Pick<BackupService, 'lastSuccess'>;
  log: Logger;
}

export function registerDaemonMetrics(registry: Registry, sources: MetricsSources): DaemonMetrics {
  collectDefaultMetrics({ register: registry, prefix: 'xlss_daemon_' });
  const log = sources.log.child({ component: 'metrics' });

  // One VG report serves both gauges of a scrape: the promise is shared for a second.
  let report: { at: number; vg: Promise<{ sizeBytes: number; freeBytes: number }> } | null = null;
  const vgReport = () => {
    if (!report || Date.now() - report.at > 1000) report = { at: Date.now(), vg: sources.vg() };
    return report.vg;
  };
  const vgGauge = (name: string, help: string, pick: 'sizeBytes' | 'freeBytes') =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        try {
          this.set((await vgReport())[pick]);
        } catch (err) {
          // A failed report leaves the gauge out rather than at a false 0.
          this.reset();
          if (pick === 'sizeBytes') log.warn({ err: (err as Error).message }, 'VG report for metrics failed');
        }
      },
    });
  vgGauge('xlss_daemon_vg_size_bytes', 'Size of the volume group that holds xlss volumes', 'sizeBytes');
  vgGauge('xlss_daemon_vg_free_bytes', 'Free space in the volume group that holds xlss volumes', 'freeBytes');

  new Gauge({
    name: 'xlss_daemon_last_backup_timestamp_seconds',
    help: 'Unix time of the last successful backup of a volume taken on this node',
    labelNames: ['volume'],
    registers: [registry],
    async collect() {
      this.reset();
      let volumes: { name: string }[];
      try {
        volumes = await sources.volumes.list();
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'volume list for metrics failed');
        return;
      }
      for (const { name } of volumes) {
        const at = sources.backups.lastSuccess(name);
        if (at !== null) this.set({ volume: name }, Date.parse(at) / 1000);
      }
    },
  });

  const httpRequests = new Counter({
    name: 'xlss_daemon_http_requests_total',
    help: 'HTTP requests answered, by route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });

  const commandDuration = new Histogram({
    name: 'xlss_daemon_command_duration_seconds',
    help: 'Duration of every command the daemon runs, by command and outcome',
    labelNames: ['command', 'outcome'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
    registers: [registry],
  });

  return {
    httpRequests,
    observeCommand: (command, outcome, seconds) => commandDuration.observe({ command, outcome }, seconds),
  };
}
