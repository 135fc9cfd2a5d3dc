/**
 * Client-side checks of the admin commands' options: the same patterns as the
 * controller's schemas, so a typo is refused (exit 2) before any request is sent.
 */
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { UsageError, ValidationError } from '../../common/errors.js';
import { parseSize } from '../../common/size.js';
import { AbsPath } from '../../daemon/api/schemas.js';
import { fieldOf } from '../api/errors.js';
import { Labels, NodeAdd, RestoreRequest, VolumeCreate } from '../api/schemas.js';
import { parseDuration } from '../duration.js';

const nameCheck = Compile(VolumeCreate.properties.name);

export function checkName(value: string, field: string): string {
  if (!nameCheck.Check(value))
    throw new ValidationError(
      field,
      `"${value}" must be lowercase letters, digits and -, at most 48 characters`,
    );
  return value;
}

/** Checks a request body against its schema, naming the option a user would fix. */
export function checkBody<T>(schema: TSchema, value: unknown, optionFor: Record<string, string>): T {
  const check = Compile(schema);
  if (check.Check(value)) return value as T;
  const first = [...check.Errors(value)][0];
  const field = first ? fieldOf(first) : '';
  const top = field.split('.')[0] ?? '';
  throw new ValidationError(optionFor[top] ?? (field || 'request'), first?.message ?? 'is invalid');
}

export function sizeBytes(value: string, field = '--size'): number {
  const bytes = parseSize(value, field);
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) throw new ValidationError(field, 'is too large');
  if (bytes < 4n * 1024n * 1024n) throw new ValidationError(field, 'must be at least 4MiB');
  return Number(bytes);
}

/** `k=v` options (repeatable) → a label map. */
export function labels(values: readonly string[], field: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i <= 0) throw new ValidationError(field, `"${v}" must be key=value`);
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  const check = Compile(Labels);
  if (!check.Check(out)) {
    const bad = Object.entries(out).find(([k, val]) => !check.Check({ [k]: val }));
    throw new ValidationError(
      field,
      `"${bad?.[0]}=${bad?.[1]}": keys are lowercase a-z 0-9 . / -, values letters, digits . _ -`,
    );
  }
  return out;
}

export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export interface VolumeCreateOptions {
  size?: string;
  thick?: boolean;
  fs?: string;
  mount?: string;
  selector?: string[];
  on?: string;
  backupEvery?: string;
  backupCron?: string;
  retain?: string;
  backupTarget?: string;
  workloadUnit?: string;
}

const CREATE_OPTION_FOR: Record<string, string> = {
  name: 'NAME',
  sizeBytes: '--size',
  filesystem: '--fs',
  mountPoint: '--mount',
  nodeSelector: '--selector',
  preferredNode: '--on',
  backup: '--backup-every/--backup-cron',
  workloadUnit: '--workload-unit',
};

export function volumeCreateRequest(name: string, o: VolumeCreateOptions): VolumeCreate {
  checkName(name, 'NAME');
  if (o.size === undefined) throw new UsageError('--size is required (e.g. --size 10GiB)');
  const fs = o.fs ?? (o.mount ? 'ext4' : 'none');
  if (!['ext4', 'xfs', 'none'].includes(fs))
    throw new ValidationError('--fs', `must be ext4, xfs or none, got "${fs}"`);
  if (o.mount && fs === 'none') throw new ValidationError('--mount', 'needs a filesystem (--fs ext4 or xfs)');
  if (o.backupEvery && o.backupCron) throw new UsageError('give --backup-every or --backup-cron, not both');
  const schedule = o.backupEvery !== undefined || o.backupCron !== undefined;
  if (!schedule && (o.retain !== undefined || o.backupTarget !== undefined))
    throw new UsageError('--retain and --backup-target need a schedule (--backup-every or --backup-cron)');
  let backup: VolumeCreate['backup'];
  if (schedule) {
    if (!o.backupTarget) throw new UsageError('a backup schedule needs --backup-target DIR');
    if (!Compile(AbsPath).Check(o.backupTarget))
      throw new ValidationError('--backup-target', `"${o.backupTarget}" must be an absolute path`);
    if (o.retain !== undefined && !/^\d{1,4}$/.test(o.retain))
      throw new ValidationError('--retain', `must be a whole number, got "${o.retain}"`);
    const retain = o.retain === undefined ? 7 : Number(o.retain);
    if (o.backupEvery !== undefined) {
      const ms = parseDuration(o.backupEvery, '--backup-every');
      if (ms % 1000 !== 0 || ms < 60_000)
        throw new ValidationError('--backup-every', 'must be whole seconds, at least 1m');
      backup = { intervalSeconds: ms / 1000, retain, target: o.backupTarget };
    } else backup = { cron: o.backupCron, retain, target: o.backupTarget };
  }
  const req: VolumeCreate = {
    name,
    sizeBytes: sizeBytes(o.size),
    thin: !o.thick,
    filesystem: fs === 'none' ? null : (fs as 'ext4' | 'xfs'),
    ...(o.mount !== undefined ? { mountPoint: o.mount } : {}),
    ...(o.selector?.length ? { nodeSelector: labels(o.selector, '--selector') } : {}),
    ...(o.on !== undefined ? { preferredNode: checkName(o.on, '--on') } : {}),
    ...(backup ? { backup } : {}),
    ...(o.workloadUnit !== undefined ? { workloadUnit: o.workloadUnit } : {}),
  };
  return checkBody<VolumeCreate>(VolumeCreate, req, {
    ...CREATE_OPTION_FOR,
    ...(o.backupCron !== undefined ? { backup: '--backup-cron' } : { backup: '--backup-every' }),
  });
}

export function nodeAddRequest(
  name: string,
  o: { url?: string; tokenFile?: string; address?: string; label?: string[]; zone?: string },
): NodeAdd {
  checkName(name, 'NAME');
  if (!o.url) throw new UsageError('--url is required (the daemon, e.g. http://10.77.0.11:7680)');
  if (!o.tokenFile)
    throw new UsageError("--token-file is required (the daemon's token, on the controller's machine)");
  const req = {
    name,
    url: o.url,
    tokenFile: o.tokenFile,
    ...(o.address !== undefined ? { address: o.address } : {}),
    ...(o.label?.length ? { labels: labels(o.label, '--label') } : {}),
    ...(o.zone !== undefined ? { zone: o.zone } : {}),
  };
  return checkBody<NodeAdd>(NodeAdd, req, {
    name: 'NAME',
    url: '--url',
    tokenFile: '--token-file',
    address: '--address',
    labels: '--label',
    zone: '--zone',
  });
}

export function restoreRequest(volume: string, o: { backup?: string; node?: string }) {
  checkName(volume, 'VOLUME');
  const req = {
    volume,
    ...(o.backup !== undefined ? { backupId: o.backup } : {}),
    ...(o.node !== undefined ? { node: o.node } : {}),
  };
  return checkBody<{ volume: string; backupId?: string; node?: string }>(RestoreRequest, req, {
    volume: 'VOLUME',
    backupId: '--backup',
    node: '--node',
  });
}

export function positiveInt(value: string | undefined, field: string, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,9}$/.test(value) || Number(value) < 1 || Number(value) > max)
    throw new ValidationError(field, `must be a whole number from 1 to ${max}, got "${value}"`);
  return Number(value);
}
