import { randomBytes } from 'node:crypto';
import type { Job } from '../api/schemas.js';

/** Finished jobs kept for `GET /v1/jobs/{id}` after they end. */
const KEEP_FINISHED = 200;

/** Backup and restore jobs of this daemon, in memory: progress is for watching, not for recovery. */
export class JobTable {
  private readonly jobs = new Map<string, Job>();

  start(kind: Job['kind'], volume: string, backupId: string | null, nowMs: number): Job {
    const id = `${kind}-${volume}-${nowMs.toString(36)}-${randomBytes(3).toString('hex')}`;
    const job: Job = { id, volume, kind, state: 'running', percent: 0, error: null, backupId };
    this.jobs.set(id, job);
    this.prune();
    return job;
  }

  progress(job: Job, done: number, total: number): void {
    // 100 is kept for "done": a job whose bytes have all flowed still has work (fsync, manifest).
    job.percent = total > 0 ? Math.min(99.9, Math.floor((done / total) * 1000) / 10) : 0;
  }

  finish(job: Job, error: string | null): void {
    job.state = error === null ? 'done' : 'failed';
    job.error = error;
    if (error === null) job.percent = 100;
  }

  get(id: string): Job | null {
    const job = this.jobs.get(id);
    return job ? { ...job } : null;
  }

  private prune(): void {
    const finished = [...this.jobs.values()].filter((j) => j.state !== 'running');
    for (const j of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.jobs.delete(j.id);
  }
}
