/**
 * Writes messages to the agent's virtio-serial port one after the other, whole, and in
 * order. A port takes at most 32 KiB per write and may take less, so each message is
 * cut into pieces and every piece is written until it is all out; unawaited writes on
 * one descriptor could otherwise land in any order (libuv runs them on a thread pool).
 */

/** The most a virtio-serial port accepts in one write. */
export const PORT_WRITE_MAX = 32 * 1024;

/** Writes `buf` (at most PORT_WRITE_MAX bytes) and resolves with how many bytes went out. */
export type WriteFn = (buf: Buffer) => Promise<number>;

export class PortWriter {
  private readonly queue: Buffer[] = [];
  private queuedBytes = 0;
  private writing = false;
  private drainWaiters: (() => void)[] = [];

  constructor(
    private readonly write: WriteFn,
    /** Above this many queued bytes, `push` returns false: the producer should pause. */
    private readonly highWaterMark = 1024 * 1024,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  get pending(): number {
    return this.queuedBytes;
  }

  /** Queues a message; false when the queue is full and the caller should wait for `drained`. */
  push(message: Buffer): boolean {
    if (message.length > 0) {
      this.queue.push(message);
      this.queuedBytes += message.length;
      void this.pump();
    }
    return this.queuedBytes < this.highWaterMark;
  }

  /** Resolves once the queue is below the high-water mark again. */
  drained(): Promise<void> {
    if (this.queuedBytes < this.highWaterMark) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Resolves once everything queued is written. */
  async flushed(): Promise<void> {
    while (this.queuedBytes > 0 || this.writing) await new Promise((r) => setTimeout(r, 5));
  }

  private async pump(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      for (;;) {
        const head = this.queue[0];
        if (!head) break;
        const piece = head.subarray(0, PORT_WRITE_MAX);
        let n: number;
        try {
          n = await this.write(piece);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'EAGAIN' || code === 'EINTR') {
            await new Promise((r) => setTimeout(r, 10));
            continue;
          }
          // The host end is gone: this message cannot arrive whole, so none of it goes.
          this.onError(err);
          n = head.length;
        }
        if (n <= 0) {
          await new Promise((r) => setTimeout(r, 10));
          continue;
        }
        this.queuedBytes -= n;
        if (n >= head.length) this.queue.shift();
        else this.queue[0] = head.subarray(n);
        if (this.queuedBytes < this.highWaterMark && this.drainWaiters.length > 0)
          for (const w of this.drainWaiters.splice(0)) w();
      }
    } finally {
      this.writing = false;
    }
  }
}
