import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { UsageError } from '../../common/errors.js';
import { parseDuration } from '../duration.js';
import { type AdminContext, withConnection } from './admin-context.js';
import { formatVolumeDetail, formatVolumeTable, size } from './format.js';
import { checkName, collect, sizeBytes, type VolumeCreateOptions, volumeCreateRequest } from './options.js';
import { waitForVolumeReady } from './wait.js';

const DEFAULT_TIMEOUT = '30m';

/** `xlss volume create|list|show|resize|delete`. */
export function registerVolumeCommands(program: Command, ctx: AdminContext): void {
  const volume = program
    .command('volume')
    .description('replicated volumes: create, list, show, resize, delete');

  withConnection(
    volume
      .command('create <name>')
      .description(
        'place a volume on two nodes, provision it, and wait until it is ready (initial sync shown)',
      )
      .option('--size <size>', 'size, e.g. 10GiB (binary units; decimal with B: 10GB)')
      .option('--thick', 'allocate all space now (default: thin)')
      .option('--fs <fs>', 'ext4, xfs or none (default: ext4 with --mount, else none)')
      .option('--mount <path>', 'mount point on the Primary')
      .option('--selector <k=v>', 'only nodes with this label (repeatable)', collect, [])
      .option('--on <node>', 'wanted Primary (where the workload runs)')
      .option('--backup-every <duration>', 'back up at this interval, e.g. 1h')
      .option('--backup-cron <expr>', 'back up on this cron schedule, e.g. "0 3 * * *"')
      .option('--retain <n>', 'backups to keep (default 7)')
      .option('--backup-target <dir>', 'directory every node can reach, for the backups')
      .option('--workload-unit <unit>', 'systemd unit started on the Primary after a failover')
      .option('--no-wait', 'return once the volume is placed, without waiting until it is ready')
      .option('--timeout <duration>', 'give up waiting after this long', DEFAULT_TIMEOUT),
  ).action(
    async (name: string, o: VolumeCreateOptions & { wait: boolean; timeout: string }, cmd: Command) => {
      const output = ctx.output(cmd);
      const req = volumeCreateRequest(name, o);
      const timeoutMs = parseDuration(o.timeout, '--timeout');
      const client = ctx.client(cmd);
      let v = await client.createVolume(req);
      if (o.wait && v.phase !== 'ready')
        v = await waitForVolumeReady(client, name, {
          pollMs: ctx.pollMs,
          timeoutMs,
          progress: ctx.progress(`sync ${name}`),
        });
      ctx.render(output, v, formatVolumeDetail);
    },
  );

  withConnection(volume.command('list').description('every volume, its phase, Primary and replicas')).action(
    async (_o: unknown, cmd: Command) => {
      const output = ctx.output(cmd);
      const volumes = await ctx.client(cmd).listVolumes();
      ctx.render(output, volumes, formatVolumeTable);
    },
  );

  withConnection(
    volume
      .command('show <name>')
      .description('one volume: replicas, sync, epoch, scheduling hint, backup policy'),
  ).action(async (name: string, _o: unknown, cmd: Command) => {
    const output = ctx.output(cmd);
    checkName(name, 'NAME');
    const v = await ctx.client(cmd).getVolume(name);
    ctx.render(output, v, formatVolumeDetail);
  });

  withConnection(
    volume
      .command('resize <name>')
      .description('grow a volume (LV, DRBD and filesystem) on both nodes')
      .option('--size <size>', 'new size, e.g. 20GiB'),
  ).action(async (name: string, o: { size?: string }, cmd: Command) => {
    const output = ctx.output(cmd);
    checkName(name, 'NAME');
    if (o.size === undefined) throw new UsageError('--size is required (e.g. --size 20GiB)');
    const bytes = sizeBytes(o.size);
    const v = await ctx.client(cmd).resizeVolume(name, bytes);
    if (output === 'json') ctx.printJson(v);
    else ctx.print(`volume ${name} is now ${size(v.sizeBytes)}`);
  });

  withConnection(
    volume
      .command('delete <name>')
      .description('delete a volume and its data on every node')
      .option('--force', 'even while mounted or Primary')
      .option('--yes', 'do not ask (required when not on a terminal)'),
  ).action(async (name: string, o: { force?: boolean; yes?: boolean }, cmd: Command) => {
    const output = ctx.output(cmd);
    checkName(name, 'NAME');
    if (!o.yes) await confirm(`delete volume ${name} and its data on every node?`);
    await ctx.client(cmd).deleteVolume(name, o.force === true);
    if (output === 'json') ctx.printJson({ deleted: name });
    else ctx.print(`volume ${name} deleted`);
  });
}

async function confirm(question: string): Promise<void> {
  if (!process.stdin.isTTY || !process.stderr.isTTY)
    throw new UsageError(`refusing to ${question.replace(/\?$/, '')} without --yes (not a terminal)`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) throw new UsageError('not confirmed; nothing deleted');
  } finally {
    rl.close();
  }
}
