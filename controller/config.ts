/**
 * The one config loader of `xlss controller`: a YAML file (default
 * /etc/xlss/controller.yaml) with `XLSS_CONTROLLER_*` environment overrides, validated
 * whole at start. An unknown key or a bad value is a ValidationError naming the key
 * (or the variable), so the controller exits before it listens or touches its store.
 */
import { readFileSync, statSync } from 'node:fs';
import { Compile } from 'typebox/compile';
import { parse as parseYaml } from 'yaml';
import { errorMessage, ValidationError } from '../common/errors.js';
import { fieldOf } from './api/errors.js';
import { NodeAdd } from './api/schemas.js';
import type { ControllerCoreConfig } from './api/service.js';
import { parseDuration } from './duration.js';

export const DEFAULT_CONFIG_FILE = '/etc/xlss/controller.yaml';

export interface ControllerConfig {
  listen: {
    host: string;
    port: number;
    /** Also serve the API on this unix socket (the lab reaches its controller this way). */
    socketPath: string | null;
  };
  /** Root-only file holding the bearer token clients must send. */
  tokenFile: string;
  logLevel: string;
  core: ControllerCoreConfig;
}

/** The keys a file may hold, and the environment variable overriding each. */
export const ENV_KEYS = {
  'listen.host': 'XLSS_CONTROLLER_LISTEN_HOST',
  'listen.port': 'XLSS_CONTROLLER_LISTEN_PORT',
  'listen.socketPath': 'XLSS_CONTROLLER_LISTEN_SOCKET',
  tokenFile: 'XLSS_CONTROLLER_TOKEN_FILE',
  databasePath: 'XLSS_CONTROLLER_DATABASE_PATH',
  heartbeatInterval: 'XLSS_CONTROLLER_HEARTBEAT_INTERVAL',
  nodeTimeout: 'XLSS_CONTROLLER_NODE_TIMEOUT',
  pollTimeout: 'XLSS_CONTROLLER_POLL_TIMEOUT',
  minorRange: 'XLSS_CONTROLLER_MINOR_RANGE',
  portRange: 'XLSS_CONTROLLER_PORT_RANGE',
  defaultBackupTarget: 'XLSS_CONTROLLER_DEFAULT_BACKUP_TARGET',
  replaceAfter: 'XLSS_CONTROLLER_REPLACE_AFTER',
  logLevel: 'XLSS_LOG_LEVEL',
} as const;

const TOP_KEYS = new Set([
  'listen',
  'tokenFile',
  'databasePath',
  'heartbeatInterval',
  'nodeTimeout',
  'pollTimeout',
  'minorRange',
  'portRange',
  'nodes',
  'defaultBackupTarget',
  'replaceAfter',
  'logLevel',
]);
const LISTEN_KEYS = new Set(['host', 'port', 'socketPath']);
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const ABS_PATH = /^\/(?!.*\.\.)[A-Za-z0-9_./-]*$/;
const HOST = /^([0-9.]{7,15}|[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|::|::1)$/;
const checkNode = Compile(NodeAdd);

type Raw = Record<string, unknown>;

export interface LoadOptions {
  /** `--config FILE`; when given, the file must exist. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

export function loadControllerConfig(options: LoadOptions = {}): ControllerConfig {
  const env = options.env ?? process.env;
  const raw = readConfigFile(options.file);
  applyEnv(raw, env);
  return validate(raw);
}

function readConfigFile(file: string | undefined): Raw {
  const path = file ?? DEFAULT_CONFIG_FILE;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    // The default file is optional (env and defaults may be enough); a named one is not.
    if (file === undefined && (err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ValidationError('--config', `cannot read ${path}: ${errorMessage(err)}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ValidationError('--config', `${path} is not valid YAML: ${errorMessage(err).split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new ValidationError('--config', `${path} must hold a mapping of keys`);
  return doc as Raw;
}

function applyEnv(raw: Raw, env: NodeJS.ProcessEnv): void {
  const known = new Set<string>(Object.values(ENV_KEYS));
  for (const name of Object.keys(env))
    if (name.startsWith('XLSS_CONTROLLER_') && !known.has(name))
      throw new ValidationError(name, `unknown environment variable (known: ${[...known].join(', ')})`);
  for (const [key, name] of Object.entries(ENV_KEYS)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    if (key.startsWith('listen.')) {
      const listen = (isObject(raw.listen) ? raw.listen : {}) as Raw;
      listen[key.slice('listen.'.length)] = key === 'listen.port' ? integerText(value, name) : value;
      raw.listen = listen;
    } else raw[key] = value;
  }
}

function integerText(value: string, field: string): number {
  if (!/^\d{1,9}$/.test(value)) throw new ValidationError(field, `must be a whole number, got "${value}"`);
  return Number(value);
}

function isObject(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function validate(raw: Raw): ControllerConfig {
  for (const key of Object.keys(raw))
    if (!TOP_KEYS.has(key))
      throw new ValidationError(key, `unknown key (known: ${[...TOP_KEYS].join(', ')})`);
  const listen = raw.listen ?? {};
  if (!isObject(listen)) throw new ValidationError('listen', 'must be a mapping with host, port, socketPath');
  for (const key of Object.keys(listen))
    if (!LISTEN_KEYS.has(key))
      throw new ValidationError(`listen.${key}`, 'unknown key (known: host, port, socketPath)');
  const host = listen.host ?? '0.0.0.0';
  if (typeof host !== 'string' || !HOST.test(host))
    throw new ValidationError('listen.host', `"${String(host)}" is not an IPv4 address or host name`);
  const port = intIn(listen.port ?? 7690, 'listen.port', 0, 65_535); // 0: any free port
  const socketPath =
    listen.socketPath === undefined || listen.socketPath === null
      ? null
      : absPath(listen.socketPath, 'listen.socketPath');
  const heartbeatIntervalMs = parseDuration(raw.heartbeatInterval ?? '1s', 'heartbeatInterval');
  const nodeTimeoutMs = parseDuration(raw.nodeTimeout ?? '3s', 'nodeTimeout');
  if (nodeTimeoutMs <= heartbeatIntervalMs)
    throw new ValidationError(
      'nodeTimeout',
      `must be longer than heartbeatInterval (${heartbeatIntervalMs} ms)`,
    );
  // Under one heartbeat by default, so a poll ends before its node's next beat. A late
  // answer costs little: a node is suspect only after missed polls in a row, and a
  // suspect Primary is failed over only when its peer lost the DRBD connection too.
  const pollTimeoutMs =
    raw.pollTimeout === undefined
      ? Math.max(Math.floor(heartbeatIntervalMs * 0.8), 100)
      : parseDuration(raw.pollTimeout, 'pollTimeout');
  if (pollTimeoutMs >= nodeTimeoutMs)
    throw new ValidationError('pollTimeout', `must be shorter than nodeTimeout (${nodeTimeoutMs} ms)`);
  const logLevel = raw.logLevel ?? 'info';
  if (typeof logLevel !== 'string' || !LOG_LEVELS.includes(logLevel))
    throw new ValidationError(
      'logLevel',
      `must be one of ${LOG_LEVELS.join(', ')}, got "${String(logLevel)}"`,
    );
  return {
    listen: { host, port, socketPath },
    tokenFile: absPath(raw.tokenFile ?? '/etc/xlss/controller.token', 'tokenFile'),
    logLevel,
    core: {
      databasePath: absPath(raw.databasePath ?? '/var/lib/xlss-controller/state.db', 'databasePath'),
      heartbeatIntervalMs,
      nodeTimeoutMs,
      pollTimeoutMs,
      minorRange: range(raw.minorRange ?? '1000-9999', 'minorRange', 0, 1_048_575),
      portRange: range(raw.portRange ?? '7800-8799', 'portRange', 1024, 65_535),
      nodes: nodes(raw.nodes ?? []),
      defaultBackupTarget:
        raw.defaultBackupTarget === undefined || raw.defaultBackupTarget === null
          ? null
          : absPath(raw.defaultBackupTarget, 'defaultBackupTarget'),
      replaceAfterMs: zeroOrDuration(raw.replaceAfter ?? 0, 'replaceAfter'),
    },
  };
}

/** A duration that may also be zero (`0`, `0s`): "no delay". */
function zeroOrDuration(value: unknown, field: string): number {
  if (value === 0 || (typeof value === 'string' && /^0(ms|s|m|h|d)?$/.test(value.trim()))) return 0;
  return parseDuration(value, field);
}

function intIn(value: unknown, field: string, min: number, max: number): number {
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max)
    throw new ValidationError(
      field,
      `must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  return value as number;
}

function absPath(value: unknown, field: string): string {
  if (typeof value !== 'string' || !ABS_PATH.test(value) || value.length > 200)
    throw new ValidationError(
      field,
      `must be an absolute path of letters, digits and _ . - /, got ${JSON.stringify(value)}`,
    );
  return value;
}

/** `1000-1999` or `{ first: 1000, last: 1999 }`. */
function range(value: unknown, field: string, min: number, max: number): { first: number; last: number } {
  let first: unknown;
  let last: unknown;
  if (typeof value === 'string' && /^\d{1,7}-\d{1,7}$/.test(value))
    [first, last] = value.split('-').map(Number);
  else if (isObject(value) && Object.keys(value).every((k) => k === 'first' || k === 'last'))
    ({ first, last } = value);
  else
    throw new ValidationError(field, `must be FIRST-LAST or { first, last }, got ${JSON.stringify(value)}`);
  const r = { first: intIn(first, `${field}.first`, min, max), last: intIn(last, `${field}.last`, min, max) };
  if (r.first > r.last) throw new ValidationError(field, `first (${r.first}) is after last (${r.last})`);
  return r;
}

function nodes(value: unknown): NodeAdd[] {
  if (!Array.isArray(value))
    throw new ValidationError('nodes', 'must be a list of { name, url, tokenFile, ... }');
  const seen = new Set<string>();
  return value.map((node, i) => {
    if (!checkNode.Check(node)) {
      const first = [...checkNode.Errors(node)][0];
      const field = first ? fieldOf(first) : '';
      throw new ValidationError(`nodes[${i}]${field ? `.${field}` : ''}`, first?.message ?? 'is invalid');
    }
    if (seen.has(node.name)) throw new ValidationError(`nodes[${i}].name`, `"${node.name}" is listed twice`);
    seen.add(node.name);
    return node;
  });
}

/**
 * Reads the API token, refusing a file others could read: the token is the key to every
 * volume. Called at start, so a bad file stops the controller before it listens.
 */
export function readTokenFile(path: string, field = 'tokenFile'): string {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch (err) {
    throw new ValidationError(field, `cannot read ${path}: ${errorMessage(err)}`);
  }
  if (!st.isFile()) throw new ValidationError(field, `${path} is not a regular file`);
  if ((st.mode & 0o077) !== 0)
    throw new ValidationError(
      field,
      `${path} is readable by others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`,
    );
  if (typeof process.geteuid === 'function' && st.uid !== process.geteuid())
    throw new ValidationError(field, `${path} must be owned by the user running the controller`);
  const token = readFileSync(path, 'utf8').trim();
  if (!/^[A-Za-z0-9._~+/=-]{16,512}$/.test(token))
    throw new ValidationError(
      field,
      `${path} must hold one token of 16 to 512 characters (letters, digits, ._~+/=-)`,
    );
  return token;
}
