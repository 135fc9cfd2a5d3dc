/**
 * Relays the local DRBD handlers' questions to the controller. The fence-peer answer
 * decides whether a Primary that lost its peer may resume I/O, so every failure (no
 * controller configured, unreachable, slow, an error status, an answer that is not a
 * FenceAnswer) is a "no": I/O stays frozen rather than acknowledging writes the peer
 * will never have.
 */
import type { Logger } from '../common/log.js';
import type { FenceAnswer, FenceAsk, ResyncDone } from './api/schemas.js';
import type { FenceRelay } from './volumes/service.js';

export interface ControllerEndpoint {
  /** Base URL, e.g. `https://controller:7690` (no trailing slash). */
  url: string;
  token: string;
}

export interface HttpFenceRelayOptions {
  /** Null: no controller configured; every fence question is answered "no". */
  controller: ControllerEndpoint | null;
  nodeName: string;
  log: Logger;
  /** The epoch this node holds for a volume (from the engine's spec); null if unknown. */
  epochOf: (volume: string) => Promise<number | null>;
  /** Deadline of one call to the controller; DRBD waits on the handler meanwhile. */
  timeoutMs?: number;
}

export class HttpFenceRelay implements FenceRelay {
  private readonly opts: HttpFenceRelayOptions;
  private readonly log: Logger;
  private readonly timeoutMs: number;

  constructor(opts: HttpFenceRelayOptions) {
    this.opts = opts;
    this.log = opts.log.child({ component: 'fence-relay' });
    this.timeoutMs = opts.timeoutMs ?? 5000;
  }

  /** FenceRelay: the engine asks with the epoch it holds for the volume. */
  async askController(volume: string, peer: string): Promise<FenceAnswer> {
    let epoch: number | null;
    try {
      epoch = await this.opts.epochOf(volume);
    } catch {
      epoch = null;
    }
    if (epoch === null) return this.deny({ volume, peer }, 'this node holds no spec for the volume');
    return this.ask({ volume, node: this.opts.nodeName, peer, epoch });
  }

  /** The fence-peer handler's question, as posted to the local `/v1/fence`. */
  async ask(ask: FenceAsk): Promise<FenceAnswer> {
    if (!this.opts.controller) return this.deny(ask, 'no controller configured: I/O stays frozen');
    let body: unknown;
    try {
      body = await this.post('/v1/fence', ask);
    } catch (err) {
      return this.deny(ask, `controller did not answer: ${(err as Error).message}`);
    }
    const b = body as Partial<FenceAnswer> | null;
    if (!b || typeof b.allow !== 'boolean' || typeof b.reason !== 'string')
      return this.deny(ask, 'controller sent an answer that is not a FenceAnswer');
    const answer = { allow: b.allow, reason: b.reason };
    this.log.warn({ volume: ask.volume, peer: ask.peer, epoch: ask.epoch, ...answer }, 'fence answer');
    return answer;
  }

  /** after-resync-target: tells the controller this node is UpToDate again. Throws when it could not. */
  async resyncDone(done: ResyncDone): Promise<void> {
    if (!this.opts.controller) throw new Error('no controller configured');
    await this.post('/v1/resync-done', done);
    this.log.info({ volume: done.volume }, 'resync-done relayed');
  }

  private deny(ask: { volume: string; peer: string }, reason: string): FenceAnswer {
    this.log.error({ volume: ask.volume, peer: ask.peer, reason }, 'fence denied: I/O stays frozen');
    return { allow: false, reason };
  }

  /** One POST with a hard deadline; resolves with the JSON body (null for 204). */
  private async post(path: string, payload: unknown): Promise<unknown> {
    const c = this.opts.controller as ControllerEndpoint;
    const res = await fetch(`${c.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${c.token}` },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(this.timeoutMs),
      redirect: 'error',
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${path} answered ${res.status}`);
    if (text === '') return null;
    try {
      return JSON.parse(text);
    } catch {
      throw new Error(`${path} answered with a body that is not JSON`);
    }
  }
}
