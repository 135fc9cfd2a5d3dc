/**
 * The daemon's one config loader: a YAML file (default /etc/xlss/daemon.yaml) plus an
 * `XLSS_*` environment override for every key, validated in full before anything
 * starts. A bad value or an unknown key is a ValidationError naming the key.
 */
import { readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { hostname } from 'node:os';
import { parse as parseYaml } from 'yaml';
import { ValidationError } from '../common/errors.js';
import { inProject } from '../common/paths.js';
import { NAME_PATTERN } from './api/schemas.js';
import { readSecretFile, readTokenFile } from './secret-file.js';
import { DEFAULT_RESYNC_RATES } from './volumes/resource.js';
import type { EngineConfig, ResyncRates } from './volumes/service.js';

export const DEFAULT_CONFIG_FILE = '/etc/xlss/daemon.yaml';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface DaemonConfig {
  nodeName: string;
  address: string;
  listen: { host: string; port: number };
  tokenFile: string;
  tls: { cert: string; key: string } | null;
  stateDir: string;
  vg: string;
  thinPool: string;
  drbdConfigDir: string;
  handlers: { fencePeer: string; afterResyncTarget: string };
  reconcileIntervalSeconds: number;
  drbdGeneration: 'auto' | '8.4' | '9';
  resync: ResyncRates;
  controller: { url: string; tokenFile: string } | null;
  labels: Record<string, string>;
  zone: string | null;
  logLevel: LogLevel;
}

/** The config plus the secrets it points to, read (and permission-checked) at load. */
export interface LoadedConfig {
  config: DaemonConfig;
  token: string;
  controllerToken: string | null;
  tls: { cert: string; key: string } | null;
}

type Kind =
  | 'name'
  | 'ipv4'
  | 'host'
  | 'port'
  | 'path'
  | 'lvmName'
  | 'interval'
  | 'generation'
  | 'url'
  | 'zone'
  | 'level'
  | 'minRate'
  | 'maxRate';

interface KeySpec {
  /** Dotted key in the YAML file, e.g. `listen.port`. */
  key: string;
  kind: Kind;
  /** Absent: the key is required (or, for tls/controller, the section is optional as a whole). */
  default?: () => string | number | null;
}

/** Every key of daemon.yaml. `labels` (a map) is handled on its own. */
const KEYS: readonly KeySpec[] = [
  { key: 'nodeName', kind: 'name', default: () => hostname() },
  { key: 'address', kind: 'ipv4' },
  { key: 'listen.host', kind: 'host', default: () => '0.0.0.0' },
  { key: 'listen.port', kind: 'port', default: () => 7680 },
  { key: 'tokenFile', kind: 'path', default: () => '/etc/xlss/daemon.token' },
  { key: 'tls.cert', kind: 'path' },
  { key: 'tls.key', kind: 'path' },
  { key: 'stateDir', kind: 'path', default: () => '/var/lib/xlss' },
  { key: 'vg', kind: 'lvmName', default: () => 'xlss' },
  { key: 'thinPool', kind: 'lvmName', default: () => 'pool' },
  { key: 'drbdConfigDir', kind: 'path', default: () => '/etc/drbd.d' },
  { key: 'handlers.fencePeer', kind: 'path', default: () => inProject('systemd', 'xlss-fence-peer') },
  {
    key: 'handlers.afterResyncTarget',
    kind: 'path',
    default: () => inProject('systemd', 'xlss-after-resync-target'),
  },
  { key: 'reconcileIntervalSeconds', kind: 'interval', default: () => 30 },
  { key: 'drbdGeneration', kind: 'generation', default: () => 'auto' },
  { key: 'resync.minRate', kind: 'minRate', default: () => DEFAULT_RESYNC_RATES.minRate },
  { key: 'resync.maxRate', kind: 'maxRate', default: () => DEFAULT_RESYNC_RATES.maxRate },
  { key: 'controller.url', kind: 'url' },
  { key: 'controller.tokenFile', kind: 'path' },
  { key: 'zone', kind: 'zone', default: () => null },
  { key: 'logLevel', kind: 'level', default: () => 'info' },
];
const SECTIONS = ['listen', 'tls', 'handlers', 'resync', 'controller'] as const;
/** Sections that are off when absent; when present, every key in them is required. */
const OPTIONAL_SECTIONS = ['tls', 'controller'] as const;

/** `listen.port` -> `XLSS_LISTEN_PORT`, `nodeName` -> `XLSS_NODE_NAME`. */
export function envNameOf(key: string): string {
  return `XLSS_${key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/\./g, '_')
    .toUpperCase()}`;
}

/** The environment variable of every key, for docs and `check-config`. */
export function envMapping(): { key: string; env: string }[] {
  return [...KEYS.map((k) => ({ key: k.key, env: envNameOf(k.key) })), { key: 'labels', env: 'XLSS_LABELS' }];
}

const PATH_RE = /^\/(?!.*\.\.)[A-Za-z0-9_./-]*$/;
// LVM's rule for VG and LV names, minus the names LVM reserves for itself.
const LVM_NAME_RE = /^[A-Za-z0-9+_][A-Za-z0-9+_.-]{0,126}$/;
const LABEL_KEY_RE = /^[a-z0-9]([a-z0-9./-]{0,61}[a-z0-9])?$/;
const LABEL_VALUE_RE = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;
const HOSTNAME_RE = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;

type Raw = { value: unknown; from: string };

function bad(key: string, raw: Raw, why: string): ValidationError {
  return new ValidationError(key, `${why} (got ${JSON.stringify(raw.value)} from ${raw.from})`);
}

function asString(key: string, raw: Raw): string {
  if (typeof raw.value !== 'string' || raw.value === '') throw bad(key, raw, 'must be a non-empty string');
  return raw.value;
}

function asInteger(key: string, raw: Raw, min: number, max: number): number {
  const n =
    typeof raw.value === 'number'
      ? raw.value
      : typeof raw.value === 'string' && /^[0-9]+$/.test(raw.value)
        ? Number(raw.value)
        : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max)
    throw bad(key, raw, `must be an integer from ${min} to ${max}`);
  return n;
}

/** DRBD's rate limits in KiB/s (drbd_limits.h): c-min-rate 0 to 4 GiB/s, c-max-rate 250 KiB/s up. */
const RATE_LIMITS_KIB = { minRate: [0, 4 * 1024 * 1024], maxRate: [250, 4 * 1024 * 1024] } as const;
const RATE_UNIT_KIB = { '': 1, K: 1, M: 1024, G: 1024 * 1024 } as const;

/** KiB/s of a rate written the way drbd.conf writes one ("10M"; no suffix is KiB/s), or null. */
function rateKiB(rate: string): number | null {
  const m = /^([0-9]{1,10})([KMG]?)$/.exec(rate);
  return m ? Number(m[1]) * RATE_UNIT_KIB[m[2] as keyof typeof RATE_UNIT_KIB] : null;
}

function asRate(key: string, raw: Raw, [min, max]: readonly [number, number]): string {
  const s = typeof raw.value === 'number' ? String(raw.value) : asString(key, raw);
  const kib = rateKiB(s);
  if (kib === null || kib < min || kib > max)
    throw bad(key, raw, `must be a rate like 10M (KiB/s, or with K, M or G) from ${min}K to 4G`);
  return s;
}

function parseValue(spec: KeySpec, raw: Raw): string | number | null {
  const { key } = spec;
  switch (spec.kind) {
    case 'name': {
      const s = asString(key, raw);
      if (!new RegExp(NAME_PATTERN).test(s)) throw bad(key, raw, `must match ${NAME_PATTERN}`);
      return s;
    }
    case 'ipv4': {
      const s = asString(key, raw);
      if (!isIPv4(s)) throw bad(key, raw, 'must be an IPv4 address');
      return s;
    }
    case 'host': {
      const s = asString(key, raw);
      if (!isIPv4(s) && !HOSTNAME_RE.test(s)) throw bad(key, raw, 'must be an IPv4 address or a host name');
      return s;
    }
    case 'port':
      return asInteger(key, raw, 1, 65_535);
    case 'interval':
      return asInteger(key, raw, 5, 3600);
    case 'path': {
      const s = asString(key, raw);
      if (!PATH_RE.test(s) || s.length > 200)
        throw bad(key, raw, 'must be an absolute path without "..", spaces or shell characters');
      return s;
    }
    case 'lvmName': {
      const s = asString(key, raw);
      if (!LVM_NAME_RE.test(s) || s === '.' || s === '..' || s.startsWith('-'))
        throw bad(key, raw, 'must be a valid LVM name');
      return s;
    }
    case 'generation': {
      const s = typeof raw.value === 'number' ? String(raw.value) : asString(key, raw);
      if (s !== 'auto' && s !== '8.4' && s !== '9') throw bad(key, raw, 'must be auto, 8.4 or 9');
      return s;
    }
    case 'url': {
      const s = asString(key, raw);
      let u: URL;
      try {
        u = new URL(s);
      } catch {
        throw bad(key, raw, 'must be an http:// or https:// URL');
      }
      if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.username || u.password || u.search)
        throw bad(key, raw, 'must be an http:// or https:// URL without credentials or query');
      return s.replace(/\/+$/, '');
    }
    case 'zone': {
      if (raw.value === null) return null;
      const s = asString(key, raw);
      if (!LABEL_VALUE_RE.test(s))
        throw bad(key, raw, 'must be letters, digits, ".", "_" or "-" (63 at most)');
      return s;
    }
    case 'minRate':
    case 'maxRate':
      return asRate(key, raw, RATE_LIMITS_KIB[spec.kind]);
    case 'level': {
      const s = asString(key, raw);
      if (!(LOG_LEVELS as readonly string[]).includes(s))
        throw bad(key, raw, `must be one of ${LOG_LEVELS.join(', ')}`);
      return s;
    }
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The YAML document as dotted keys; any key the daemon does not know is an error. */
function flattenFile(doc: unknown, file: string): { values: Map<string, Raw>; labels: unknown } {
  const values = new Map<string, Raw>();
  if (doc === null || doc === undefined) return { values, labels: undefined };
  if (!isPlainObject(doc)) throw new ValidationError('config', `${file} must hold a YAML mapping of keys`);
  const known = new Set(KEYS.map((k) => k.key));
  let labels: unknown;
  for (const [top, value] of Object.entries(doc)) {
    if (top === 'labels') {
      labels = value;
      continue;
    }
    if ((SECTIONS as readonly string[]).includes(top)) {
      if (value === null && (OPTIONAL_SECTIONS as readonly string[]).includes(top)) continue;
      if (!isPlainObject(value)) throw new ValidationError(top, `must be a mapping (in ${file})`);
      for (const [sub, v] of Object.entries(value)) {
        const key = `${top}.${sub}`;
        if (!known.has(key)) throw new ValidationError(key, `unknown key in ${file}`);
        values.set(key, { value: v, from: file });
      }
      continue;
    }
    if (!known.has(top)) throw new ValidationError(top, `unknown key in ${file}`);
    values.set(top, { value, from: file });
  }
  return { values, labels };
}

function parseLabels(raw: Raw | undefined): Record<string, string> {
  if (!raw || raw.value === undefined || raw.value === null) return {};
  let entries: [string, unknown][];
  if (typeof raw.value === 'string') {
    // XLSS_LABELS=rack=r1,disk=nvme
    entries = raw.value
      .split(',')
      .filter((p) => p !== '')
      .map((pair) => {
        const i = pair.indexOf('=');
        if (i < 1) throw bad('labels', raw, 'must be key=value pairs separated by commas');
        return [pair.slice(0, i), pair.slice(i + 1)];
      });
  } else if (isPlainObject(raw.value)) {
    entries = Object.entries(raw.value);
  } else {
    throw bad('labels', raw, 'must be a mapping of label to value');
  }
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    const field = `labels.${k}`;
    if (!LABEL_KEY_RE.test(k)) throw new ValidationError(field, `bad label name (from ${raw.from})`);
    if (typeof v !== 'string' || !LABEL_VALUE_RE.test(v))
      throw new ValidationError(
        field,
        `must be a string of letters, digits, ".", "_" or "-" (from ${raw.from})`,
      );
    out[k] = v;
  }
  return out;
}

export interface LoadOptions {
  /** The YAML file; a missing default file means "all defaults", a missing named file is an error. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** This host's name (`uname -n`); injected by tests. */
  hostname?: string;
}

/** Reads, merges and validates the config; reads the token files. Throws ValidationError naming the key. */
export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const file = options.file ?? DEFAULT_CONFIG_FILE;
  const env = options.env ?? process.env;
  let text: string | null = null;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!(code === 'ENOENT' && options.file === undefined))
      throw new ValidationError('config', `cannot read ${file} (${code ?? 'error'})`);
  }
  let doc: unknown = null;
  if (text !== null) {
    try {
      doc = parseYaml(text, { uniqueKeys: true });
    } catch (err) {
      throw new ValidationError(
        'config',
        `${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`,
      );
    }
  }
  const { values, labels } = flattenFile(doc, file);
  for (const spec of KEYS) {
    const name = envNameOf(spec.key);
    const v = env[name];
    if (v !== undefined) values.set(spec.key, { value: v, from: name });
  }
  const labelsRaw: Raw | undefined =
    env.XLSS_LABELS !== undefined
      ? { value: env.XLSS_LABELS, from: 'XLSS_LABELS' }
      : { value: labels, from: file };

  const got: Record<string, string | number | null> = {};
  for (const spec of KEYS) {
    const raw = values.get(spec.key);
    if (raw !== undefined && raw.value !== undefined) got[spec.key] = parseValue(spec, raw);
    else if (spec.default) got[spec.key] = spec.default();
  }
  for (const section of OPTIONAL_SECTIONS) {
    const keys = KEYS.filter((k) => k.key.startsWith(`${section}.`)).map((k) => k.key);
    const set = keys.filter((k) => got[k] !== undefined);
    const missing = keys.find((k) => got[k] === undefined);
    if (set.length > 0 && missing)
      throw new ValidationError(
        missing,
        `is required when ${section} is configured (set it or ${envNameOf(missing)})`,
      );
  }
  const required = KEYS.find((k) => !k.key.includes('.') && got[k.key] === undefined);
  if (required)
    throw new ValidationError(required.key, `is required (set it in ${file} or ${envNameOf(required.key)})`);

  if ((rateKiB(got['resync.minRate'] as string) ?? 0) > (rateKiB(got['resync.maxRate'] as string) ?? 0))
    throw new ValidationError(
      'resync.minRate',
      `${got['resync.minRate']} is above resync.maxRate ${got['resync.maxRate']}`,
    );

  const host = options.hostname ?? hostname();
  if (got.nodeName !== host)
    throw new ValidationError(
      'nodeName',
      `"${got.nodeName}" differs from this host's name "${host}" (uname -n): DRBD picks its "on" section by the host name`,
    );

  const str = (k: string) => got[k] as string;
  const config: DaemonConfig = {
    nodeName: str('nodeName'),
    address: str('address'),
    listen: { host: str('listen.host'), port: got['listen.port'] as number },
    tokenFile: str('tokenFile'),
    tls: got['tls.cert'] !== undefined ? { cert: str('tls.cert'), key: str('tls.key') } : null,
    stateDir: str('stateDir'),
    vg: str('vg'),
    thinPool: str('thinPool'),
    drbdConfigDir: str('drbdConfigDir'),
    handlers: { fencePeer: str('handlers.fencePeer'), afterResyncTarget: str('handlers.afterResyncTarget') },
    reconcileIntervalSeconds: got.reconcileIntervalSeconds as number,
    drbdGeneration: str('drbdGeneration') as DaemonConfig['drbdGeneration'],
    resync: { minRate: str('resync.minRate'), maxRate: str('resync.maxRate') },
    controller:
      got['controller.url'] !== undefined
        ? { url: str('controller.url'), tokenFile: str('controller.tokenFile') }
        : null,
    labels: parseLabels(labelsRaw),
    zone: (got.zone as string | null) ?? null,
    logLevel: str('logLevel') as LogLevel,
  };
  return {
    config,
    token: readTokenFile(config.tokenFile, 'tokenFile'),
    controllerToken: config.controller
      ? readTokenFile(config.controller.tokenFile, 'controller.tokenFile')
      : null,
    tls: config.tls
      ? {
          cert: readFileOrFail(config.tls.cert, 'tls.cert'),
          key: readSecretFile(config.tls.key, 'tls.key'),
        }
      : null,
  };
}

function readFileOrFail(path: string, field: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ValidationError(
      field,
      `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
}

/** What the volume engine gets from the config. */
export function engineConfigOf(config: DaemonConfig): EngineConfig {
  return {
    nodeName: config.nodeName,
    address: config.address,
    vg: config.vg,
    thinPool: config.thinPool,
    stateDir: config.stateDir,
    drbdConfigDir: config.drbdConfigDir,
    handlers: { ...config.handlers },
    reconcileIntervalMs: config.reconcileIntervalSeconds * 1000,
    drbdGeneration: config.drbdGeneration,
    resync: { ...config.resync },
  };
}
