import type { Counter, Registry } from 'prom-client';
import type { Logger } from '../../common/log.js';
import type { BackupService, VolumeService } from '../volumes/service.js';
import type { FenceAnswer, FenceAsk, NodeInfo, ResyncDone } from './schemas.js';

/** Everything the REST API needs; main wires the real parts, tests pass fakes. */
export interface AppDeps {
  volumes: VolumeService;
  /** The engine's readiness (first observation in). */
  ready: () => boolean;
  backups: BackupService;
  relay: {
    ask(ask: FenceAsk): Promise<FenceAnswer>;
    resyncDone(done: ResyncDone): Promise<void>;
  };
  nodeInfo: () => Promise<NodeInfo>;
  nodeName: string;
  registry: Registry;
  /** The bearer token every route but /healthz requires. */
  token: string;
  log: Logger;
  httpRequests?: Counter<'method' | 'route' | 'status'>;
  tls?: { cert: string; key: string } | null;
}
