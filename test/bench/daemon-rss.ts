/**
 * Daemon RSS with 1000 volumes: the real daemon in a child process (daemon-rss-child.ts)
 * after its first full pass over 1000 PUT volumes, against the same child with 0 volumes
 * in the same run. Read from /proc/<pid>/status 30 s after that pass: VmRSS (resident
 * then) and VmHWM (the peak, during the burst).
 *
 * Measured as production runs it: the child bundled by esbuild the way
 * vagrant/lab/bundle-daemon.mjs bundles the daemon (systemd's `xlss daemon` and the lab's
 * guests both run that bundle, dist/xlss-daemon.mjs), with the node options the systemd
 * unit gives the daemon. Side by side in the same run: the same child loaded as the
 * modules under dist/ (`_modules`), and the bundle with node's default heap
 * (`_default_heap`), to show what each of the two saves.
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { inProject } from '../../common/paths.js';
import { daemonNodeOptions } from './daemon-node-options.js';
import type { RssChildMessage } from './daemon-rss-child.js';
import { report } from './figures.js';

const MODULES_CHILD = fileURLToPath(new URL('./daemon-rss-child.js', import.meta.url));
const BUNDLE_CHILD = fileURLToPath(new URL('./daemon-rss-child.bundle.mjs', import.meta.url));
const MiB = 1024 * 1024;

interface Sample {
  volumes: number;
  ready: number;
  rssMiB: number;
  peakMiB: number;
}

interface Variant {
  /** Appended to the figure's name ('' for the production default). */
  suffix: string;
  child: string;
  execArgv: string[];
}

/** A field of /proc/<pid>/status in MiB (the kernel reports kB). */
function statusMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(text);
  if (!m) throw new Error(`/proc/${pid}/status has no ${field} line`);
  return (Number(m[1]) * 1024) / MiB;
}

async function sampleDaemon(variant: Variant, volumes: number, settleMs: number): Promise<Sample> {
  const child = fork(variant.child, [String(volumes)], {
    execArgv: variant.execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
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
    // Let the burst of PUTs and steps be collected as it is in a daemon left running: V8
    // returns the old generation it grew for the burst only once its memory reducer has
    // seen the allocation rate drop (seen here: 163 MiB 3 s and 10 s after the pass, 94 MiB
    // at 20 s and 30 s).
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

async function benchVariant(variant: Variant, volumes: number, settleMs: number): Promise<void> {
  const empty = await sampleDaemon(variant, 0, settleMs);
  const full = await sampleDaemon(variant, volumes, settleMs);
  const suffix = `${variant.suffix}${full.ready === volumes ? '' : `_NOT_CONVERGED_${full.ready}_ready`}`;
  report(`daemon_rss_${volumes}_volumes${suffix}`, full.rssMiB, 'MiB', empty.rssMiB);
  report(`daemon_rss_peak_${volumes}_volumes${suffix}`, full.peakMiB, 'MiB', empty.peakMiB);
}

export async function benchDaemonRss(volumes = 1000, settleMs = 30_000): Promise<void> {
  const production = daemonNodeOptions(readFileSync(inProject('systemd/xlss-daemon.service'), 'utf8'));
  await benchVariant({ suffix: '', child: BUNDLE_CHILD, execArgv: production }, volumes, settleMs);
  await benchVariant({ suffix: '_modules', child: MODULES_CHILD, execArgv: production }, volumes, settleMs);
  await benchVariant({ suffix: '_default_heap', child: BUNDLE_CHILD, execArgv: [] }, volumes, settleMs);
}
