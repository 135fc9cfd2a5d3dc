import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The engine's xlss_daemon_* metrics on the daemon's registry. */
export class EngineMetrics {
  readonly volumes: Gauge<'role' | 'state'>;
  readonly outOfSync: Gauge<'volume'>;
  /** Null when the daemon's runner already records every command (daemon/metrics.ts). */
  readonly commands: Histogram<'command' | 'outcome'> | null;
  readonly reconcileErrors: Counter<'volume'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.volumes = new Gauge({
      name: 'xlss_daemon_volumes',
      help: 'Volumes on this node by DRBD role and state',
      labelNames: ['role', 'state'],
      registers,
    });
    this.outOfSync = new Gauge({
      name: 'xlss_daemon_out_of_sync_bytes',
      help: 'Bytes DRBD knows differ between this node and its peer',
      labelNames: ['volume'],
      registers,
    });
    const shared = registry.getSingleMetric('xlss_daemon_command_duration_seconds');
    this.commands = shared
      ? null
      : new Histogram({
          name: 'xlss_daemon_command_duration_seconds',
          help: 'Duration of the commands the daemon runs, by command and outcome',
          labelNames: ['command', 'outcome'],
          buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 120, 600],
          registers,
        });
    this.reconcileErrors = new Counter({
      name: 'xlss_daemon_reconcile_errors_total',
      help: 'Reconcile steps that failed or volumes that could not converge, by volume',
      labelNames: ['volume'],
      registers,
    });
  }

  observeCommand(command: string, outcome: 'ok' | 'error', seconds: number): void {
    this.commands?.observe({ command, outcome }, seconds);
  }

  /** Replaces the per-volume gauges with one pass's figures. */
  setVolumes(rows: { name: string; role: string; state: string; outOfSyncBytes: number }[]): void {
    this.volumes.reset();
    this.outOfSync.reset();
    for (const r of rows) {
      this.volumes.inc({ role: r.role, state: r.state });
      this.outOfSync.set({ volume: r.name }, r.outOfSyncBytes);
    }
  }
}
