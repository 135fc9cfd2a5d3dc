/** Polling the controller until long work is done, with progress and a deadline. */
import { XlssError } from '../../common/errors.js';
import type { Job, VolumeView } from '../api/schemas.js';
import type { ControllerClient } from './api-client.js';
import type { Progress } from './progress.js';

export interface WaitOptions {
  pollMs: number;
  timeoutMs: number;
  progress: Progress;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Phases a new volume may end in without ever becoming ready on its own. */
const VOLUME_GAVE_UP = new Set(['failed', 'lost', 'split-brain']);

/** Until the volume is ready; its lowest replica syncPercent drives the progress. */
export async function waitForVolumeReady(
  client: ControllerClient,
  name: string,
  o: WaitOptions,
): Promise<VolumeView> {
  const deadline = Date.now() + o.timeoutMs;
  try {
    for (;;) {
      const v = await client.getVolume(name);
      const syncing = v.replicas.map((r) => r.syncPercent).filter((p): p is number => p !== null);
      if (v.phase === 'ready') {
        o.progress.update(100);
        return v;
      }
      if (VOLUME_GAVE_UP.has(v.phase))
        throw new XlssError('EFAILED', `volume ${name} is ${v.phase}${v.message ? `: ${v.message}` : ''}`);
      if (syncing.length) o.progress.update(Math.min(...syncing));
      if (Date.now() > deadline)
        throw new XlssError('ETIMEOUT', `volume ${name} is still ${v.phase}; see "xlss volume show ${name}"`);
      await sleep(o.pollMs);
    }
  } finally {
    o.progress.stop();
  }
}

/** Until the job is done; a failed job is an error carrying the job's own reason. */
export async function waitForJob(client: ControllerClient, first: Job, o: WaitOptions): Promise<Job> {
  const deadline = Date.now() + o.timeoutMs;
  let job = first;
  try {
    for (;;) {
      o.progress.update(job.percent);
      if (job.state === 'done') return job;
      if (job.state === 'failed')
        throw new XlssError(
          'EFAILED',
          `${job.kind} of ${job.volume} failed: ${job.error ?? 'no reason given'}`,
        );
      if (Date.now() > deadline)
        throw new XlssError('ETIMEOUT', `${job.kind} of ${job.volume} still running (job ${job.id})`);
      await sleep(o.pollMs);
      job = await client.job(job.id);
    }
  } finally {
    o.progress.stop();
  }
}
