import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants, createGunzip, createGzip } from 'node:zlib';
import { XlssError } from '../../common/errors.js';
import { syncDir, tempName } from './files.js';

const CHUNK = 1024 * 1024;

/** The image does not match its manifest (checksum or size): the restore must not be trusted. */
export class ChecksumError extends XlssError {
  constructor(message: string) {
    super('ECHECKSUM', message);
  }
}

/** Counts and hashes what flows through; refuses more than `limit` bytes. */
class Meter extends Transform {
  bytes = 0;
  private readonly hash = createHash('sha256');
  constructor(
    private readonly limit: number,
    private readonly onBytes: (n: number) => void,
    private readonly hashing: boolean,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.bytes + chunk.length > this.limit) {
      done(new ChecksumError(`the stream holds more than the ${this.limit} bytes it should`));
      return;
    }
    this.bytes += chunk.length;
    if (this.hashing) this.hash.update(chunk);
    this.onBytes(this.bytes);
    done(null, chunk);
  }
  digest(): string {
    return this.hash.digest('hex');
  }
}

export interface ImageWritten {
  sha256: string;
  compressedBytes: number;
}

/**
 * Streams the first `sizeBytes` of `source` (a snapshot device) through gzip into
 * `image`, hashing the uncompressed bytes on the way. The image appears under its final
 * name only once complete and flushed; on failure the temp file is removed.
 */
export async function writeImage(opts: {
  source: string;
  sizeBytes: number;
  image: string;
  nodeName: string;
  onProgress: (bytes: number) => void;
  signal?: AbortSignal;
}): Promise<ImageWritten> {
  const tmp = tempName(opts.image, opts.nodeName);
  const meter = new Meter(opts.sizeBytes, opts.onProgress, true);
  const compressed = new Meter(Number.MAX_SAFE_INTEGER, () => {}, false);
  try {
    await pipeline(
      // end is inclusive: never read past the usable size (DRBD's metadata follows it).
      createReadStream(opts.source, { start: 0, end: opts.sizeBytes - 1, highWaterMark: CHUNK }),
      meter,
      createGzip({ level: constants.Z_BEST_SPEED }),
      compressed,
      createWriteStream(tmp, { flags: 'wx', mode: 0o644 }),
      { signal: opts.signal },
    );
    if (meter.bytes !== opts.sizeBytes)
      throw new XlssError('ESHORTREAD', `${opts.source} gave ${meter.bytes} of ${opts.sizeBytes} bytes`);
    await flush(tmp);
    await rename(tmp, opts.image);
    await syncDir(dirname(opts.image));
    return { sha256: meter.digest(), compressedBytes: compressed.bytes };
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}

/** fsync through a second descriptor: it flushes the file's (or device's) dirty pages all the same. */
async function flush(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Streams `image` through gunzip onto `device` from offset 0, writing at most `sizeBytes`,
 * then flushes the device and checks size and sha256 against the manifest's.
 */
export async function readImageOnto(opts: {
  image: string;
  device: string;
  sizeBytes: number;
  sha256: string;
  onProgress: (bytes: number) => void;
  signal?: AbortSignal;
}): Promise<void> {
  const meter = new Meter(opts.sizeBytes, opts.onProgress, true);
  await pipeline(
    createReadStream(opts.image, { highWaterMark: CHUNK }),
    createGunzip(),
    meter,
    // r+: a device (or a test's file) is written in place, never truncated or created.
    createWriteStream(opts.device, { flags: 'r+', start: 0 }),
    { signal: opts.signal },
  );
  await flush(opts.device);
  if (meter.bytes !== opts.sizeBytes)
    throw new ChecksumError(`${opts.image} holds ${meter.bytes} bytes, its manifest says ${opts.sizeBytes}`);
  const got = meter.digest();
  if (got !== opts.sha256)
    throw new ChecksumError(`${opts.image}: sha256 ${got} does not match the manifest's ${opts.sha256}`);
}
