/**
 * The HTTP DaemonClient: the controller's only way to a node. Every call has a
 * deadline, sends the bearer token read from the endpoint's token file, and checks the
 * daemon's answer against the daemon's own schemas: a daemon answering garbage is an
 * error naming the field, never a half-read object passed on to placement or failover.
 */
import { readFile } from 'node:fs/promises';
import { Compile } from 'typebox/compile';
import { XlssError } from '../common/errors.js';
import {
  BackupList,
  type BackupManifest,
  ErrorBody,
  Job,
  NodeInfo,
  type PromoteBody,
  type RestoreBody,
  VolumeList,
  type VolumeSpec,
  VolumeStatus,
} from '../daemon/api/schemas.js';
import {
  type DaemonClient,
  type DaemonClientFactory,
  type DaemonEndpoint,
  DaemonHttpError,
  DaemonUnreachableError,
} from './daemon-client.js';
import { describeSchemaErrors, requestJson, TransportError } from './http-json.js';

export interface HttpDaemonClientOptions {
  /** Deadline of one call (default 10 s). */
  timeoutMs?: number;
  /**
   * Deadline of a call that makes the daemon run commands before it answers (PUT, promote,
   * demote, resize, delete); default 60 s. A demote unmounts and runs drbdadm: in the lab
   * under load it took longer than 10 s, and a drain gave up on a node that was alive.
   */
  actionTimeoutMs?: number;
}

/** The daemon's token file cannot be read: a configuration problem, not a dead node. */
export class DaemonTokenError extends XlssError {
  constructor(node: string, file: string, cause: unknown) {
    super('ETOKEN', `${node}: cannot read the daemon token file ${file}`, { cause });
  }
}

const checkers = {
  nodeInfo: Compile(NodeInfo),
  volumeStatus: Compile(VolumeStatus),
  volumeList: Compile(VolumeList),
  backupList: Compile(BackupList),
  job: Compile(Job),
  errorBody: Compile(ErrorBody),
};

type Checker = (typeof checkers)[keyof typeof checkers];

export class HttpDaemonClient implements DaemonClient {
  readonly node: string;
  private readonly timeoutMs: number;
  private readonly actionTimeoutMs: number;

  constructor(
    private readonly endpoint: DaemonEndpoint,
    options: HttpDaemonClientOptions = {},
  ) {
    this.node = endpoint.name;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.actionTimeoutMs = Math.max(this.timeoutMs, options.actionTimeoutMs ?? 60_000);
  }

  async nodeInfo(signal?: AbortSignal) {
    return this.call<NodeInfo>('GET', '/v1/node', checkers.nodeInfo, { signal });
  }

  async listVolumes(signal?: AbortSignal) {
    const list = await this.call<VolumeList>('GET', '/v1/volumes', checkers.volumeList, { signal });
    return list.volumes;
  }

  async getVolume(name: string) {
    return this.call<VolumeStatus>('GET', volumePath(name), checkers.volumeStatus, { notFound: 'null' });
  }

  async putVolume(name: string, spec: VolumeSpec) {
    return this.call<VolumeStatus>('PUT', volumePath(name), checkers.volumeStatus, {
      body: spec,
      action: true,
    });
  }

  async deleteVolume(name: string, options: { force: boolean }) {
    await this.call('DELETE', `${volumePath(name)}${options.force ? '?force=true' : ''}`, null, {
      notFound: 'null',
      action: true,
    });
  }

  async promote(name: string, body: PromoteBody) {
    return this.call<VolumeStatus>('POST', `${volumePath(name)}/promote`, checkers.volumeStatus, {
      body,
      action: true,
    });
  }

  async demote(name: string, epoch: number) {
    return this.call<VolumeStatus>('POST', `${volumePath(name)}/demote`, checkers.volumeStatus, {
      body: { epoch },
      action: true,
    });
  }

  async resize(name: string, sizeBytes: number) {
    return this.call<VolumeStatus>('POST', `${volumePath(name)}/resize`, checkers.volumeStatus, {
      body: { sizeBytes },
      action: true,
    });
  }

  async outdate(name: string, epoch: number) {
    return this.call<VolumeStatus>('POST', `${volumePath(name)}/outdate`, checkers.volumeStatus, {
      body: { epoch },
    });
  }

  async listBackups(name: string, target: string) {
    const list = await this.call<{ backups: BackupManifest[] }>(
      'GET',
      `${volumePath(name)}/backups?target=${encodeURIComponent(target)}`,
      checkers.backupList,
    );
    return list.backups;
  }

  async runBackup(name: string) {
    return this.call<Job>('POST', `${volumePath(name)}/backups`, checkers.job, { body: {} });
  }

  async restore(name: string, body: RestoreBody) {
    return this.call<Job>('POST', `${volumePath(name)}/restore`, checkers.job, { body });
  }

  async job(id: string) {
    return this.call<Job>('GET', `/v1/jobs/${encodeURIComponent(id)}`, checkers.job, { notFound: 'null' });
  }

  private async token(): Promise<string> {
    try {
      return (await readFile(this.endpoint.tokenFile, 'utf8')).trim();
    } catch (err) {
      throw new DaemonTokenError(this.node, this.endpoint.tokenFile, err);
    }
  }

  private async call<T>(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    checker: Checker | null,
    opts: { body?: unknown; signal?: AbortSignal | undefined; notFound?: 'null'; action?: boolean } = {},
  ): Promise<T> {
    const token = await this.token();
    let res: Awaited<ReturnType<typeof requestJson>>;
    try {
      res = await requestJson({
        baseUrl: this.endpoint.url,
        socketPath: this.endpoint.socketPath,
        method,
        path,
        token,
        body: opts.body,
        timeoutMs: opts.action ? this.actionTimeoutMs : this.timeoutMs,
        signal: opts.signal,
      });
    } catch (err) {
      if (err instanceof TransportError) throw new DaemonUnreachableError(this.node, err);
      throw err;
    }
    if (res.status === 404 && opts.notFound === 'null') return null as T;
    if (res.status < 200 || res.status > 299) {
      const body = checkers.errorBody.Check(res.body) ? (res.body as ErrorBody) : null;
      throw new DaemonHttpError(
        this.node,
        res.status,
        body?.error ?? 'EHTTP',
        body ? `${method} ${path}: ${body.message}` : `${method} ${path}: unexpected answer`,
      );
    }
    if (checker === null) return undefined as T;
    if (!checker.Check(res.body))
      throw new DaemonHttpError(
        this.node,
        res.status,
        'EBADRESPONSE',
        `${method} ${path}: invalid answer: ${describeSchemaErrors(checker.Errors(res.body))}`,
      );
    return res.body as T;
  }
}

function volumePath(name: string): string {
  return `/v1/volumes/${encodeURIComponent(name)}`;
}

/** The factory the core is given: one HTTP client per registered node. */
export function httpDaemonClientFactory(options: HttpDaemonClientOptions = {}): DaemonClientFactory {
  return (endpoint) => new HttpDaemonClient(endpoint, options);
}
