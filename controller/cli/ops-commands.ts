import type { Command } from 'commander';
import type { Job } from '../api/schemas.js';
import { parseDuration } from '../duration.js';
import { type AdminContext, withConnection } from './admin-context.js';
import type { ControllerClient } from './api-client.js';
import { formatBackupTable, formatEventRows, formatVolumeDetail } from './format.js';
import { checkName, positiveInt, restoreRequest } from './options.js';
import { waitForJob } from './wait.js';

const DEFAULT_TIMEOUT = '6h';

/** Polls a backup or restore job with progress when waiting; a failed job throws. */
function followJob(ctx: AdminContext, client: ControllerClient, job: Job, wait: boolean, timeoutMs: number) {
  if (!wait) return Promise.resolve(job);
  return waitForJob(client, job, {
    pollMs: ctx.pollMs,
    timeoutMs,
    progress: ctx.progress(`${job.kind} ${job.volume}`),
  });
}

/** `xlss failover`, `xlss backup run|list`, `xlss restore`, `xlss events`. */
export function registerOpsCommands(program: Command, ctx: AdminContext): void {
  withConnection(
    program
      .command('failover <volume>')
      .description('planned switchover without loss: make another replica the Primary')
      .option('--to <node>', 'the node to switch to (default: the other replica)'),
  ).action(async (volume: string, o: { to?: string }, cmd: Command) => {
    const output = ctx.output(cmd);
    checkName(volume, 'VOLUME');
    if (o.to !== undefined) checkName(o.to, '--to');
    const v = await ctx.client(cmd).failover(volume, o.to);
    ctx.render(output, v, formatVolumeDetail);
  });

  const backup = program.command('backup').description("a volume's snapshot backups");
  withConnection(
    backup
      .command('run <volume>')
      .description('back up a volume now (on its Primary) and wait until the backup is stored')
      .option('--no-wait', 'return the job at once')
      .option('--timeout <duration>', 'give up waiting after this long', DEFAULT_TIMEOUT),
  ).action(async (volume: string, o: { wait: boolean; timeout: string }, cmd: Command) => {
    const output = ctx.output(cmd);
    checkName(volume, 'VOLUME');
    const timeoutMs = parseDuration(o.timeout, '--timeout');
    const client = ctx.client(cmd);
    const job = await followJob(ctx, client, await client.runBackup(volume), o.wait, timeoutMs);
    ctx.render(output, job, (j) =>
      j.state === 'done'
        ? `backup ${j.backupId ?? j.id} of ${volume} done`
        : `backup of ${volume} started (job ${j.id})`,
    );
  });
  withConnection(backup.command('list <volume>').description("a volume's backups, newest last")).action(
    async (volume: string, _o: unknown, cmd: Command) => {
      const output = ctx.output(cmd);
      checkName(volume, 'VOLUME');
      const backups = await ctx.client(cmd).listBackups(volume);
      ctx.render(output, backups, formatBackupTable);
    },
  );

  withConnection(
    program
      .command('restore <volume>')
      .description('restore a volume from a backup (the newest by default) and wait until it is done')
      .option('--backup <id>', 'the backup to restore (see "xlss backup list")')
      .option('--node <node>', 'the node to restore onto (default: placement picks)')
      .option('--no-wait', 'return the job at once')
      .option('--timeout <duration>', 'give up waiting after this long', DEFAULT_TIMEOUT),
  ).action(
    async (
      volume: string,
      o: { backup?: string; node?: string; wait: boolean; timeout: string },
      cmd: Command,
    ) => {
      const output = ctx.output(cmd);
      const req = restoreRequest(volume, o);
      const timeoutMs = parseDuration(o.timeout, '--timeout');
      const client = ctx.client(cmd);
      const job = await followJob(ctx, client, await client.restore(req), o.wait, timeoutMs);
      ctx.render(output, job, (j) =>
        j.state === 'done' ? `restore of ${volume} done` : `restore of ${volume} started (job ${j.id})`,
      );
    },
  );

  withConnection(
    program
      .command('events')
      .description('what happened, oldest first: node health, placement, failover timeline, split brain')
      .option('--volume <volume>', 'only this volume')
      .option('--limit <n>', 'only the newest n events')
      .option('--follow', 'keep printing new events until interrupted (JSON: one object per line)'),
  ).action(async (o: { volume?: string; limit?: string; follow?: boolean }, cmd: Command) => {
    const output = ctx.output(cmd);
    if (o.volume !== undefined) checkName(o.volume, '--volume');
    const limit = positiveInt(o.limit, '--limit', 10_000);
    const client = ctx.client(cmd);
    const query = { ...(o.volume ? { volume: o.volume } : {}) };
    let events = await client.events({ ...query, ...(limit ? { limit } : {}) });
    if (!o.follow) {
      if (output === 'json') ctx.printJson(events);
      else ctx.print(formatEventRows(events, true));
      return;
    }
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      let since = 0;
      let header = true;
      while (!stop.signal.aborted) {
        if (events.length) {
          if (output === 'json') for (const e of events) ctx.print(JSON.stringify(e));
          else ctx.print(formatEventRows(events, header));
          header = false;
          since = events[events.length - 1]?.id ?? since;
        }
        await new Promise((r) => {
          const t = setTimeout(r, ctx.pollMs);
          stop.signal.addEventListener('abort', () => {
            clearTimeout(t);
            r(undefined);
          });
        });
        if (!stop.signal.aborted) events = await client.events({ ...query, since });
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  });
}
