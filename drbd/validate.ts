import { isIP } from 'node:net';
import { ValidationError } from '../common/errors.js';
import {
  type DrbdGeneration,
  HANDLER_NAMES,
  HANDLERS_9_ONLY,
  type HandlerName,
  type OptionValue,
  type ResourceSpec,
} from './model.js';
import { DISK_OPTIONS, NET_OPTIONS, type OptionDef, RESOURCE_OPTIONS } from './options.js';

// Conservative on purpose: DRBD accepts more, but every name also ends up in file
// paths, drbdadm argument lists and handler environments.
const RESOURCE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,47}$/;
const HOSTNAME =
  /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const DEVICE_PATH = /^\/dev(\/[A-Za-z0-9_+.-]+)+$/;
// Handlers are run by the kernel through a shell: a bare absolute path, no arguments.
const HANDLER_PATH = /^(\/[A-Za-z0-9_+.-]+)+$/;
const SECRET = /^[A-Za-z0-9_+/=.:@%-]{1,64}$/;
const ALG = /^[a-z0-9][a-z0-9-]{0,62}$/;
const SIZE = /^[0-9]{1,12}[KMG]?$/;
const MAX_MINOR = 1048575;
// Characters that could end a token, a statement or a section in a .res file.
const UNSAFE = /["'{};#\\\s]/;

function hasControlChar(value: string): boolean {
  for (const ch of value) {
    const c = ch.charCodeAt(0);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

export function assertSafeToken(field: string, value: string): void {
  if (value.length === 0) throw new ValidationError(field, 'must not be empty');
  if (UNSAFE.test(value) || hasControlChar(value)) {
    throw new ValidationError(
      field,
      'must not contain quotes, braces, semicolons, #, backslashes or whitespace',
    );
  }
  if (value.startsWith('-')) throw new ValidationError(field, 'must not start with "-"');
}

/** Throws unless `name` is a resource name safe for drbdadm arguments and file names. */
export function validateResourceName(name: unknown, field = 'name'): string {
  if (typeof name !== 'string') throw new ValidationError(field, 'must be a string');
  assertSafeToken(field, name);
  if (!RESOURCE_NAME.test(name) || name === 'all' || name.includes('..')) {
    throw new ValidationError(field, 'must match [A-Za-z0-9][A-Za-z0-9_.-]{0,47} and not be "all"');
  }
  return name;
}

function assertInt(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(field, `must be an integer from ${min} to ${max}`);
  }
  return value;
}

function validateAddress(field: string, address: unknown): void {
  if (typeof address !== 'string') throw new ValidationError(field, 'must be a string');
  assertSafeToken(field, address);
  // Zone ids (fe80::1%eth0) are not part of DRBD's address syntax.
  if (address.includes('%') || isIP(address) === 0) {
    throw new ValidationError(field, 'must be an IPv4 or IPv6 address');
  }
  if (address === '0.0.0.0' || address === '::') throw new ValidationError(field, 'must not be a wildcard');
}

function validatePath(field: string, value: unknown, pattern: RegExp, what: string): void {
  if (typeof value !== 'string') throw new ValidationError(field, 'must be a string');
  assertSafeToken(field, value);
  if (!pattern.test(value) || value.split('/').some((seg) => seg === '.' || seg === '..')) {
    throw new ValidationError(field, `must be ${what}`);
  }
}

export function validateOptionValue(field: string, def: OptionDef, value: OptionValue): void {
  const t = def.type;
  switch (t.kind) {
    case 'int':
      assertInt(field, value, t.min, t.max);
      return;
    case 'bool':
      if (typeof value !== 'boolean') throw new ValidationError(field, 'must be true or false');
      return;
    case 'enum':
      if (typeof value !== 'string' || !t.values.includes(value)) {
        throw new ValidationError(field, `must be one of ${t.values.join(', ')}`);
      }
      return;
    case 'size':
      if (typeof value === 'number') {
        assertInt(field, value, 0, 2 ** 40);
        return;
      }
      if (typeof value !== 'string') throw new ValidationError(field, 'must be a size like 100M');
      assertSafeToken(field, value);
      if (!SIZE.test(value))
        throw new ValidationError(field, 'must be a size like 100M (digits, then K, M or G)');
      return;
    case 'countOrEnum':
      if (typeof value === 'number') {
        assertInt(field, value, t.min, t.max);
        return;
      }
      if (typeof value !== 'string' || !t.values.includes(value)) {
        throw new ValidationError(
          field,
          `must be ${t.values.join(', ')} or an integer from ${t.min} to ${t.max}`,
        );
      }
      return;
    case 'alg':
      if (typeof value !== 'string') throw new ValidationError(field, 'must be an algorithm name');
      assertSafeToken(field, value);
      if (!ALG.test(value))
        throw new ValidationError(field, 'must be a kernel hash algorithm name like sha256');
      return;
  }
}

function validateOptions(
  field: string,
  options: Record<string, OptionValue> | undefined,
  defs: Readonly<Record<string, OptionDef>>,
  generation: DrbdGeneration,
): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null) throw new ValidationError(field, 'must be an object');
  for (const [key, value] of Object.entries(options)) {
    const f = `${field}.${key}`;
    const def = Object.hasOwn(defs, key) ? defs[key] : undefined;
    if (!def) throw new ValidationError(f, 'is not a supported option');
    if (def.only && def.only !== generation) {
      const why = def.onlyWhy === undefined ? '' : ` (${def.onlyWhy})`;
      throw new ValidationError(f, `is not supported by DRBD ${generation}${why}`);
    }
    validateOptionValue(f, def, value);
  }
}

/**
 * A numeric quorum of half the nodes or fewer lets both halves of a split write
 * (drbd.conf-9.0(5): the number must be greater than half the nodes); more than the
 * nodes can never be reached.
 */
function assertMajorityCount(field: string, value: OptionValue | undefined, nodes: number): void {
  if (typeof value !== 'number') return;
  if (value <= nodes / 2 || value > nodes) {
    throw new ValidationError(field, `must be more than half of the ${nodes} nodes and at most ${nodes}`);
  }
}

/**
 * Throws a {@link ValidationError} naming the first bad field. Checks what DRBD would
 * reject and anything that could change the meaning of the rendered file.
 */
export function validateResourceSpec(spec: ResourceSpec, generation: DrbdGeneration): void {
  if (typeof spec !== 'object' || spec === null) throw new ValidationError('spec', 'must be an object');
  validateResourceName(spec.name);
  if (spec.protocol !== 'A' && spec.protocol !== 'B' && spec.protocol !== 'C') {
    throw new ValidationError('protocol', 'must be A, B or C');
  }
  assertInt('port', spec.port, 1, 65535);

  if (!Array.isArray(spec.volumes) || spec.volumes.length === 0) {
    throw new ValidationError('volumes', 'must list at least one volume');
  }
  const volumeNumbers = new Set<number>();
  const minors = new Set<number>();
  spec.volumes.forEach((v, i) => {
    assertInt(`volumes[${i}].volume`, v?.volume, 0, 65534);
    assertInt(`volumes[${i}].minor`, v.minor, 0, MAX_MINOR);
    if (volumeNumbers.has(v.volume)) throw new ValidationError(`volumes[${i}].volume`, 'is a duplicate');
    if (minors.has(v.minor)) throw new ValidationError(`volumes[${i}].minor`, 'is a duplicate');
    volumeNumbers.add(v.volume);
    minors.add(v.minor);
  });

  if (!Array.isArray(spec.nodes) || spec.nodes.length < 2) {
    throw new ValidationError('nodes', 'must list at least two nodes');
  }
  if (generation === '8.4' && spec.nodes.length !== 2) {
    throw new ValidationError('nodes', 'DRBD 8.4 replicates between exactly two nodes');
  }
  if (spec.nodes.length > 32) throw new ValidationError('nodes', 'DRBD supports at most 32 nodes');
  const hosts = new Set<string>();
  const endpoints = new Set<string>();
  const nodeIds = new Set<number>();
  spec.nodes.forEach((n, i) => {
    const f = `nodes[${i}]`;
    if (typeof n !== 'object' || n === null) throw new ValidationError(f, 'must be an object');
    if (typeof n.hostname !== 'string') throw new ValidationError(`${f}.hostname`, 'must be a string');
    assertSafeToken(`${f}.hostname`, n.hostname);
    if (!HOSTNAME.test(n.hostname) || n.hostname.length > 253) {
      throw new ValidationError(`${f}.hostname`, 'must be a valid host name');
    }
    const host = n.hostname.toLowerCase();
    if (hosts.has(host)) throw new ValidationError(`${f}.hostname`, 'is a duplicate');
    hosts.add(host);
    validateAddress(`${f}.address`, n.address);
    const port = n.port === undefined ? spec.port : assertInt(`${f}.port`, n.port, 1, 65535);
    const endpoint = `${n.address.toLowerCase()}:${port}`;
    if (endpoints.has(endpoint)) throw new ValidationError(`${f}.address`, 'is a duplicate address and port');
    endpoints.add(endpoint);
    if (generation === '9') {
      assertInt(`${f}.nodeId`, n.nodeId, 0, 31);
      if (nodeIds.has(n.nodeId as number)) throw new ValidationError(`${f}.nodeId`, 'is a duplicate');
      nodeIds.add(n.nodeId as number);
    } else if (n.nodeId !== undefined) {
      assertInt(`${f}.nodeId`, n.nodeId, 0, 31);
    }
    if (!Array.isArray(n.disks) || n.disks.length !== spec.volumes.length) {
      throw new ValidationError(`${f}.disks`, 'must name one backing device per volume');
    }
    n.disks.forEach((d, j) => {
      validatePath(`${f}.disks[${j}]`, d, DEVICE_PATH, 'an absolute path under /dev');
    });
  });

  validateOptions('net', spec.net, NET_OPTIONS, generation);
  if (spec.net?.['allow-two-primaries'] === true) {
    throw new ValidationError('net.allow-two-primaries', 'dual-primary is not supported');
  }
  validateOptions('disk', spec.disk, DISK_OPTIONS, generation);
  validateOptions('options', spec.options, RESOURCE_OPTIONS, generation);
  for (const key of ['quorum', 'quorum-minimum-redundancy']) {
    assertMajorityCount(`options.${key}`, spec.options?.[key], spec.nodes.length);
  }

  if (spec.sharedSecret !== undefined) {
    if (typeof spec.sharedSecret !== 'string') throw new ValidationError('sharedSecret', 'must be a string');
    assertSafeToken('sharedSecret', spec.sharedSecret);
    if (!SECRET.test(spec.sharedSecret)) {
      throw new ValidationError('sharedSecret', 'must be 1 to 64 of A-Z a-z 0-9 _ + / = . : @ % -');
    }
    if (spec.cramHmacAlg === undefined) {
      throw new ValidationError('cramHmacAlg', 'is required with a shared secret');
    }
  }
  if (spec.cramHmacAlg !== undefined) {
    validateOptionValue('cramHmacAlg', { type: { kind: 'alg' } }, spec.cramHmacAlg);
    if (spec.sharedSecret === undefined)
      throw new ValidationError('sharedSecret', 'is required with cramHmacAlg');
  }
  if (
    spec.fencing !== undefined &&
    !['dont-care', 'resource-only', 'resource-and-stonith'].includes(spec.fencing)
  ) {
    throw new ValidationError('fencing', 'must be dont-care, resource-only or resource-and-stonith');
  }

  if (spec.handlers !== undefined) {
    if (typeof spec.handlers !== 'object' || spec.handlers === null) {
      throw new ValidationError('handlers', 'must be an object');
    }
    for (const [name, path] of Object.entries(spec.handlers)) {
      const f = `handlers.${name}`;
      if (!(HANDLER_NAMES as readonly string[]).includes(name))
        throw new ValidationError(f, 'is not a DRBD handler');
      if (generation === '8.4' && HANDLERS_9_ONLY.includes(name as HandlerName)) {
        throw new ValidationError(f, 'is not supported by DRBD 8.4');
      }
      validatePath(f, path, HANDLER_PATH, 'an absolute path without arguments');
    }
  }
  if (spec.fencing && spec.fencing !== 'dont-care' && !spec.handlers?.['fence-peer']) {
    throw new ValidationError('handlers.fence-peer', `is required with fencing ${spec.fencing}`);
  }
}
