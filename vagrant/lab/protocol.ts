import { StringDecoder } from 'node:string_decoder';

/**
 * The lab's wire protocol: JSON, one message per line. The host's broker speaks it
 * with each guest's agent over a virtio-serial port, and clients speak it with the
 * broker over a unix socket. Output is base64 so any bytes survive.
 */

export interface ExecRequest {
  op: 'exec';
  id: number;
  argv: string[];
  /** Standard input, base64. */
  stdin?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

export type HostToGuest = ExecRequest | { op: 'kill'; id: number } | { op: 'ping'; id: number };

export type GuestToHost =
  | { ev: 'hello'; node: string; bootId: string; agentId?: string; uptimeS: number }
  | { ev: 'pong'; id: number; node: string; bootId: string; agentId?: string; uptimeS: number }
  | { ev: 'stdout' | 'stderr'; id: number; data: string }
  | { ev: 'exit'; id: number; code: number | null; signal?: string | null; error?: string };

/** Requests a client sends the broker (first line on a new connection). */
export type ClientRequest =
  | {
      op: 'exec';
      node: string;
      argv: string[];
      stdin?: string;
      env?: Record<string, string>;
      timeoutMs?: number;
    }
  | { op: 'status' };

export interface NodeLink {
  node: string;
  connected: boolean;
  bootId?: string;
  uptimeS?: number;
}

export type BrokerToClient =
  | { ev: 'stdout' | 'stderr'; data: string }
  | { ev: 'exit'; code: number | null; signal?: string | null; error?: string }
  | { ev: 'status'; nodes: NodeLink[] }
  | { ev: 'error'; message: string };

/**
 * Splits a byte stream into lines and hands each parsed JSON message on. Linear in the
 * input: a chunk is searched for newlines once, so a line of tens of MiB (a command's
 * stdin) costs no more than its size. Multi-byte characters split across chunks survive.
 */
export function lineReader(onMessage: (msg: unknown) => void, onBad?: (line: string) => void) {
  const decoder = new StringDecoder('utf8');
  let parts: string[] = [];
  const deliver = (raw: string): void => {
    const line = raw.trim();
    if (!line) return;
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      onBad?.(line);
      return;
    }
    // Every message is an object: `null` or `1` would crash a reader that reads `.op`.
    if (msg !== null && typeof msg === 'object' && !Array.isArray(msg)) onMessage(msg);
    else onBad?.(line);
  };
  return (chunk: Buffer | string): void => {
    const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
    let from = 0;
    let nl = text.indexOf('\n');
    while (nl >= 0) {
      parts.push(text.slice(from, nl));
      const line = parts.join('');
      parts = [];
      deliver(line);
      from = nl + 1;
      nl = text.indexOf('\n', from);
    }
    if (from < text.length) parts.push(text.slice(from));
  };
}
