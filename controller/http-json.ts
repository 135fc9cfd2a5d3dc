/**
 * One JSON request over HTTP(S) or a unix socket, with a deadline and an AbortSignal.
 * Both of the controller's clients use it: the daemon client (controller → daemons) and
 * the admin CLI (xlss → controller, which in the lab may only be reachable through a
 * unix socket inside the lab's network namespace).
 */
import http from 'node:http';
import https from 'node:https';

export interface JsonRequest {
  /** Base URL, e.g. http://10.77.0.11:7680; with socketPath only its path prefix is used. */
  baseUrl: string;
  /** Unix socket to connect to instead of the URL's host and port. */
  socketPath?: string | undefined;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path and query, starting with `/`. */
  path: string;
  token?: string | undefined;
  body?: unknown;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

export interface JsonResponse {
  status: number;
  /** Parsed JSON, or undefined for an empty body. */
  body: unknown;
}

/** No answer: refused, reset, timed out, aborted, or a body that is not JSON. */
export class TransportError extends Error {}

const MAX_BODY_BYTES = 32 * 1024 * 1024;

export function requestJson(req: JsonRequest): Promise<JsonResponse> {
  const base = new URL(req.baseUrl);
  const url = new URL(base.pathname.replace(/\/$/, '') + req.path, base);
  const signals = [AbortSignal.timeout(req.timeoutMs), ...(req.signal ? [req.signal] : [])];
  const signal = AbortSignal.any(signals);
  const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
  const headers: Record<string, string> = { accept: 'application/json' };
  if (req.token !== undefined) headers.authorization = `Bearer ${req.token}`;
  if (payload) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(payload.length);
  }
  const transport = url.protocol === 'https:' && !req.socketPath ? https : http;
  return new Promise<JsonResponse>((resolve, reject) => {
    if (signal.aborted) {
      reject(new TransportError(abortReason(signal, req.timeoutMs)));
      return;
    }
    const options: http.RequestOptions = {
      method: req.method,
      path: url.pathname + url.search,
      headers,
      signal,
      ...(req.socketPath ? { socketPath: req.socketPath } : { host: url.hostname, port: url.port }),
    };
    const r = transport.request(options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY_BYTES)
          r.destroy(new TransportError(`response larger than ${MAX_BODY_BYTES} bytes`));
        else chunks.push(c);
      });
      res.on('error', (e) => reject(new TransportError(e.message, { cause: e })));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (!text.trim()) {
          resolve({ status: res.statusCode ?? 0, body: undefined });
          return;
        }
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown });
        } catch {
          reject(new TransportError(`HTTP ${res.statusCode}: the answer is not JSON: ${text.slice(0, 80)}`));
        }
      });
    });
    r.on('error', (e) => {
      reject(
        e instanceof TransportError
          ? e
          : new TransportError(signal.aborted ? abortReason(signal, req.timeoutMs) : e.message, { cause: e }),
      );
    });
    if (payload) r.end(payload);
    else r.end();
  });
}

function abortReason(signal: AbortSignal, timeoutMs: number): string {
  const reason = signal.reason as { name?: string } | undefined;
  return reason?.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : 'request aborted';
}

/** A readable summary of typebox/ajv-style errors: `/vg/freeBytes: must be integer`. */
export function describeSchemaErrors(errors: Iterable<{ instancePath: string; message?: string }>): string {
  const first = [...errors].slice(0, 3);
  return first.map((e) => `${e.instancePath || '(root)'}: ${e.message ?? 'invalid'}`).join('; ');
}
