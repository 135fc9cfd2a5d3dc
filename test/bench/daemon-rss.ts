/**
 * Daemon RSS with 1000 volumes: the real daemon in a child process (daemon-rss-child.ts)
 * after its first full pass over 1000 PUT volumes, against the same child with 0 volumes
 * in the same run. Read from /proc/<pid>/status: VmRSS (resident now) and VmHWM (peak).
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { RssChildMessage } from './daemon-rss-child.js';
import { report } from './figures.js';

const CHILD = fileURLToPath(new URL('./daemon-rss-child.js', import.meta.url));
const MiB = 1024 * 1024;

interface Sample {
  volumes: number;
  ready: number;
  rssMiB: number;
  peakMiB: number;
}

/** A field of /proc/<pid>/status in MiB (the kernel reports kB). */
function statusMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(text);
  if (!m) throw new Error(`/proc/${pid}/status has no ${field} line`);
  return (Number(m[1]) * 1024) / MiB;
}

async function sampleDaemon(volumes: number, settleMs: number): Promise<Sample> {
  const child = fork(CHILD, [String(volumes)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pid = child.pid;
  if (pid === undefined) throw new Error('daemon child did not start');
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const msg = await Promise.race([
      new Promise<RssChildMessage>((resolve) => child.once('message', (m) => resolve(m as RssChildMessage))),
      exited.then((code) => {
        throw new Error(`daemon child exited (${code}) before its first full pass`);
      }),
    ]);
    // Let the burst of PUTs and steps be collected as it would be in a daemon left running.
    await new Promise((r) => setTimeout(r, settleMs));
    const sample = { ...msg, rssMiB: statusMiB(pid, 'VmRSS'), peakMiB: statusMiB(pid, 'VmHWM') };
    child.send('stop');
    const code = await exited;
    if (code !== 0) throw new Error(`daemon child exited with ${code} on stop`);
    return sample;
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

export async function benchDaemonRss(volumes = 1000, settleMs = 3000): Promise<void> {
  const empty = await sampleDaemon(0, settleMs);
  const full = await sampleDaemon(volumes, settleMs);
  const suffix = full.ready === volumes ? '' : `_NOT_CONVERGED_${full.ready}_ready`;
  report(`daemon_rss_${volumes}_volumes${suffix}`, full.rssMiB, 'MiB', empty.rssMiB);
  report(`daemon_rss_peak_${volumes}_volumes${suffix}`, full.peakMiB, 'MiB', empty.peakMiB);
}
