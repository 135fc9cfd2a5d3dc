import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { PORT_WRITE_MAX, PortWriter } from './port-writer.js';

/** A port that takes a random part of each write, slowly, and records what it got. */
function slowPort() {
  const got: Buffer[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let biggest = 0;
  const write = async (buf: Buffer): Promise<number> => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    biggest = Math.max(biggest, buf.length);
    await sleep(0);
    const n = Math.max(1, Math.floor(Math.random() * buf.length));
    got.push(Buffer.from(buf.subarray(0, n)));
    inFlight--;
    return n;
  };
  return { write, got, stats: () => ({ maxInFlight, biggest }) };
}

describe('PortWriter', () => {
  it('writes every message whole and in order, one write at a time, at most 32 KiB each', async () => {
    const port = slowPort();
    const w = new PortWriter(port.write);
    const messages = [randomBytes(100_000), randomBytes(10), randomBytes(70_000), randomBytes(1)];
    for (const m of messages) w.push(m);
    await w.flushed();
    expect(Buffer.concat(port.got).equals(Buffer.concat(messages))).toBe(true);
    expect(port.stats().maxInFlight).toBe(1);
    expect(port.stats().biggest).toBeLessThanOrEqual(PORT_WRITE_MAX);
  });

  it('asks the producer to pause above the high-water mark and says when to go on', async () => {
    const port = slowPort();
    const w = new PortWriter(port.write, 50_000);
    expect(w.push(randomBytes(40_000))).toBe(true);
    expect(w.push(randomBytes(40_000))).toBe(false);
    await w.drained();
    expect(w.pending).toBeLessThan(50_000);
    await w.flushed();
    expect(Buffer.concat(port.got).length).toBe(80_000);
  });

  it('retries EAGAIN, and drops a message the port refuses, going on with the next', async () => {
    const got: Buffer[] = [];
    let calls = 0;
    const errors: unknown[] = [];
    const w = new PortWriter(
      async (buf) => {
        calls++;
        if (calls === 1) throw Object.assign(new Error('again'), { code: 'EAGAIN' });
        if (buf.toString() === 'bad') throw Object.assign(new Error('gone'), { code: 'EIO' });
        got.push(Buffer.from(buf));
        return buf.length;
      },
      1024,
      (e) => errors.push(e),
    );
    w.push(Buffer.from('one'));
    w.push(Buffer.from('bad'));
    w.push(Buffer.from('two'));
    await w.flushed();
    expect(Buffer.concat(got).toString()).toBe('onetwo');
    expect(errors).toHaveLength(1);
  });
});
