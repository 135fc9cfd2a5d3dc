/** The controller's Prometheus metrics, on the injected registry. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { NodeHealth } from './health.js';
import type { VolumePhase } from './store/store.js';

export interface ControllerMetrics {
  failovers: Counter;
  failoverDuration: Histogram;
}

const HEALTHS: NodeHealth[] = ['online', 'suspect', 'offline', 'unknown'];
const PHASES: VolumePhase[] = [
  'creating',
  'ready',
  'degraded',
  'failing-over',
  'resyncing',
  'deleting',
  'failed',
  'split-brain',
  'lost',
];

/** Gauges are read at scrape time from the live state, so they are never stale. */
export function createControllerMetrics(
  registry: Registry,
  read: { nodeHealths: () => NodeHealth[]; volumePhases: () => VolumePhase[] },
): ControllerMetrics {
  new Gauge({
    name: 'xlss_controller_nodes',
    help: 'Registered nodes by health',
    labelNames: ['health'],
    registers: [registry],
    collect() {
      const counts = new Map<NodeHealth, number>(HEALTHS.map((h) => [h, 0]));
      for (const h of read.nodeHealths()) counts.set(h, (counts.get(h) ?? 0) + 1);
      for (const [health, n] of counts) this.set({ health }, n);
    },
  });
  new Gauge({
    name: 'xlss_controller_volumes',
    help: 'Volumes by phase',
    labelNames: ['phase'],
    registers: [registry],
    collect() {
      const counts = new Map<VolumePhase, number>(PHASES.map((p) => [p, 0]));
      for (const p of read.volumePhases()) counts.set(p, (counts.get(p) ?? 0) + 1);
      for (const [phase, n] of counts) this.set({ phase }, n);
    },
  });
  new Gauge({
    name: 'xlss_controller_split_brain_volumes',
    help: 'Volumes whose replicas reported a DRBD split brain',
    registers: [registry],
    collect() {
      this.set(read.volumePhases().filter((p) => p === 'split-brain').length);
    },
  });
  return {
    failovers: new Counter({
      name: 'xlss_controller_failovers_total',
      help: 'Automatic and planned failovers completed',
      labelNames: ['kind'],
      registers: [registry],
    }),
    failoverDuration: new Histogram({
      name: 'xlss_controller_failover_duration_seconds',
      help: 'From the last heartbeat of the lost Primary (or the request) to the survivor promoted and mounted',
      labelNames: ['kind'],
      buckets: [0.5, 1, 2, 3, 5, 8, 13, 21, 34, 60, 120],
      registers: [registry],
    }),
  };
}
