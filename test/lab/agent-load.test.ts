import { createHash, randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { inProject } from '../../common/paths.js';
import { useLab } from './helpers/lab.js';

// The agent and broker under load: tens of MiB of binary data each way through the
// virtio-serial port, deadlines, process groups, and a guest that dies mid-command.
const XLSS = inProject('bin/xlss.js');
const lab = useLab('ls-agent', { nodes: 1, disk: '128MiB' });
const dir = '/var/tmp/xlss-lab-test-ls-agent';
const MiB = 1024 * 1024;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('the lab agent under load', () => {
  const blob = randomBytes(32 * MiB);
  const blobSum = sha256(blob);

  it('passes 32 MiB of random bytes in through --stdin intact', async () => {
    const started = performance.now();
    const r = await execa(
      process.execPath,
      [XLSS, 'lab', '--dir', dir, 'exec', '--stdin', 'node1', '--', 'sh', '-c', 'tee /tmp/blob | sha256sum'],
      { input: blob, reject: false },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.split(' ')[0]).toBe(blobSum);
    process.stderr.write(
      `[lab ls-agent] 32 MiB in: ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
    );
  }, 300_000);

  it('passes 32 MiB of random bytes out through stdout intact, in order', async () => {
    const started = performance.now();
    const r = await execa(
      process.execPath,
      [XLSS, 'lab', '--dir', dir, 'exec', 'node1', '--', 'cat', '/tmp/blob'],
      {
        encoding: 'buffer',
        reject: false,
        stripFinalNewline: false,
      },
    );
    expect(r.exitCode).toBe(0);
    expect(r.stdout.length).toBe(blob.length);
    expect(sha256(Buffer.from(r.stdout))).toBe(blobSum);
    process.stderr.write(
      `[lab ls-agent] 32 MiB out: ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
    );
    // The same through the client, chunk by chunk, with a command writing to both streams.
    const out = createHash('sha256');
    let bytes = 0;
    const res = await lab.lab().exec('node1', ['sh', '-c', 'cat /tmp/blob; echo done >&2'], {
      timeoutMs: 240_000,
      onStdout: (c) => {
        out.update(c);
        bytes += c.length;
      },
    });
    expect(res.exitCode).toBe(0);
    expect(res.stderr).toBe('done\n');
    expect(bytes).toBe(blob.length);
    expect(out.digest('hex')).toBe(blobSum);
  }, 300_000);

  it('kills the whole process group of a command that timed out', async () => {
    const r = await lab
      .lab()
      .exec('node1', ['sh', '-c', 'sleep 300 & echo $! > /tmp/bg; echo started; wait'], { timeoutMs: 3000 });
    expect(r.stdout).toBe('started\n'); // it ran
    expect(r.error).toBe('timed out');
    const bg = (await lab.sh('node1', 'cat /tmp/bg')).trim();
    expect(bg).toMatch(/^\d+$/);
    // The background sleep was in the group: gone too (a leader-only kill would leave it).
    const left = await lab
      .lab()
      .exec('node1', ['sh', '-c', `sleep 1; kill -0 ${bg} 2>/dev/null && echo alive || echo gone`]);
    expect(left.stdout).toBe('gone\n');
  }, 60_000);

  it('fails a running command at once when its guest crashes', async () => {
    const running = lab.lab().exec('node1', ['sh', '-c', 'echo running; sleep 600'], {
      timeoutMs: 600_000,
    });
    await new Promise((r) => setTimeout(r, 2000));
    await lab.crash('node1');
    const crashedAt = performance.now();
    const r = await running;
    const waitedS = (performance.now() - crashedAt) / 1000;
    expect(r.stdout).toBe('running\n');
    expect(r.exitCode).toBeNull();
    expect(r.error).toMatch(/node1/);
    expect(waitedS).toBeLessThan(5);
  }, 60_000);
});
