/**
 * The admin CLI's client of the controller's REST API. Answers are checked against the
 * controller's schemas; an error answer becomes ControllerApiError carrying the
 * controller's code, so `exitCodeFor` maps EVALIDATION to 2 and ENOTFOUND to 3.
 */
import { type Static, Type } from 'typebox';
import { Compile } from 'typebox/compile';
import { XlssError } from '../../common/errors.js';
import {
  BackupManifest,
  ErrorBody,
  EventView,
  Job,
  type NodeAdd,
  NodeView,
  type VolumeCreate,
  VolumeView,
} from '../api/schemas.js';
import { describeSchemaErrors, requestJson, TransportError } from '../http-json.js';

import type { ControllerTarget } from './context.js';

export class ControllerApiError extends XlssError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
    readonly field?: string,
  ) {
    super(code, message);
  }
}

export class ControllerUnreachableError extends XlssError {
  constructor(display: string, cause: unknown) {
    super('EUNREACHABLE', `cannot reach the controller at ${display}: ${(cause as Error).message}`, {
      cause,
    });
  }
}

const checks = {
  volume: Compile(VolumeView),
  volumes: Compile(Type.Object({ volumes: Type.Array(VolumeView) })),
  node: Compile(NodeView),
  nodes: Compile(Type.Object({ nodes: Type.Array(NodeView) })),
  job: Compile(Job),
  drain: Compile(Type.Object({ jobId: Type.String() })),
  backups: Compile(Type.Object({ backups: Type.Array(BackupManifest) })),
  events: Compile(Type.Object({ events: Type.Array(EventView) })),
  error: Compile(ErrorBody),
};

interface Check {
  Check(v: unknown): boolean;
  Errors(v: unknown): Iterable<{ instancePath: string; message?: string }>;
}
type Manifest = Static<typeof BackupManifest>;

export class ControllerClient {
  constructor(
    private readonly target: ControllerTarget,
    private readonly timeoutMs = 30_000,
  ) {}

  listVolumes = async () =>
    (await this.call<{ volumes: VolumeView[] }>('GET', '/v1/volumes', checks.volumes)).volumes;
  getVolume = (name: string) => this.call<VolumeView>('GET', `/v1/volumes/${name}`, checks.volume);
  createVolume = (req: VolumeCreate) => this.call<VolumeView>('POST', '/v1/volumes', checks.volume, req);
  resizeVolume = (name: string, sizeBytes: number) =>
    this.call<VolumeView>('POST', `/v1/volumes/${name}/resize`, checks.volume, { sizeBytes });
  deleteVolume = (name: string, force: boolean) =>
    this.call<void>('DELETE', `/v1/volumes/${name}${force ? '?force=true' : ''}`, null);
  failover = (name: string, to?: string) =>
    this.call<VolumeView>('POST', `/v1/volumes/${name}/failover`, checks.volume, to ? { to } : {});
  runBackup = (name: string) => this.call<Job>('POST', `/v1/volumes/${name}/backups`, checks.job, {});
  listBackups = async (name: string) =>
    (await this.call<{ backups: Manifest[] }>('GET', `/v1/volumes/${name}/backups`, checks.backups)).backups;
  restore = (req: { volume: string; backupId?: string; node?: string }) =>
    this.call<Job>('POST', '/v1/restore', checks.job, req);
  job = (id: string) => this.call<Job>('GET', `/v1/jobs/${encodeURIComponent(id)}`, checks.job);
  listNodes = async () => (await this.call<{ nodes: NodeView[] }>('GET', '/v1/nodes', checks.nodes)).nodes;
  getNode = (name: string) => this.call<NodeView>('GET', `/v1/nodes/${name}`, checks.node);
  addNode = (add: NodeAdd) => this.call<NodeView>('POST', '/v1/nodes', checks.node, add);
  drainNode = async (name: string) =>
    (await this.call<{ jobId: string }>('POST', `/v1/nodes/${name}/drain`, checks.drain)).jobId;
  events = async (query: { volume?: string; since?: number; limit?: number }) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) q.set(k, String(v));
    const qs = q.toString();
    return (await this.call<{ events: EventView[] }>('GET', `/v1/events${qs ? `?${qs}` : ''}`, checks.events))
      .events;
  };

  private async call<T>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    check: Check | null,
    body?: unknown,
  ): Promise<T> {
    let res: Awaited<ReturnType<typeof requestJson>>;
    try {
      res = await requestJson({
        baseUrl: this.target.baseUrl,
        socketPath: this.target.socketPath,
        method,
        path,
        token: this.target.token,
        body,
        timeoutMs: this.timeoutMs,
      });
    } catch (err) {
      if (err instanceof TransportError) throw new ControllerUnreachableError(this.target.display, err);
      throw err;
    }
    if (res.status < 200 || res.status > 299) {
      if (checks.error.Check(res.body))
        throw new ControllerApiError(res.status, res.body.error, res.body.message, res.body.field);
      throw new ControllerApiError(res.status, 'EHTTP', `the controller answered HTTP ${res.status}`);
    }
    if (!check) return undefined as T;
    if (!check.Check(res.body))
      throw new ControllerApiError(
        res.status,
        'EBADRESPONSE',
        `the controller's answer to ${method} ${path} is invalid: ${describeSchemaErrors(check.Errors(res.body))}`,
      );
    return res.body as T;
  }
}
