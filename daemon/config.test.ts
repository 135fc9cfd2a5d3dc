import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../common/errors.js';
import { inProject } from '../common/paths.js';
import { engineConfigOf, envMapping, envNameOf, type LoadOptions, loadConfig } from './config.js';

let dir: string;
let tokenFile: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'xlss-daemon-config-'));
  tokenFile = join(dir, 'daemon.token');
  writeFileSync(tokenFile, 'tok-0123456789abcdef\n', { mode: 0o600 });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function configFile(yaml: string): string {
  const file = join(dir, 'daemon.yaml');
  writeFileSync(file, yaml);
  return file;
}

const base = () => `nodeName: node1\naddress: 10.77.0.11\ntokenFile: ${tokenFile}\n`;

function load(yaml: string, env: Record<string, string> = {}, extra: LoadOptions = {}) {
  return loadConfig({ file: configFile(yaml), env, hostname: 'node1', ...extra });
}

function failure(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  throw new Error('expected a ValidationError');
}

describe('loadConfig', () => {
  it('fills every default around the required keys', () => {
    const { config, token, controllerToken, tls } = load(base());
    expect(config).toMatchObject({
      nodeName: 'node1',
      address: '10.77.0.11',
      listen: { host: '0.0.0.0', port: 7680 },
      tls: null,
      stateDir: '/var/lib/xlss',
      vg: 'xlss',
      thinPool: 'pool',
      drbdConfigDir: '/etc/drbd.d',
      reconcileIntervalSeconds: 30,
      drbdGeneration: 'auto',
      resync: { minRate: '10M', maxRate: '100M' },
      controller: null,
      labels: {},
      zone: null,
      logLevel: 'info',
    });
    expect(config.handlers.fencePeer).toMatch(/^\/.*\/systemd\/xlss-fence-peer$/);
    expect(token).toBe('tok-0123456789abcdef');
    expect(controllerToken).toBeNull();
    expect(tls).toBeNull();
  });

  it('reads every key from the file', () => {
    const ctl = join(dir, 'controller.token');
    writeFileSync(ctl, 'ctl-0123456789abcdef', { mode: 0o600 });
    const { config, controllerToken } = load(
      `${base()}listen: { host: 10.77.0.11, port: 7681 }\nstateDir: /srv/xlss\nvg: data\nthinPool: tp\n` +
        `drbdConfigDir: /etc/drbd.d\nhandlers: { fencePeer: /usr/lib/xlss/fence, afterResyncTarget: /usr/lib/xlss/resync }\n` +
        `reconcileIntervalSeconds: 10\ndrbdGeneration: '8.4'\ncontroller: { url: 'http://10.77.0.1:7690/', tokenFile: ${ctl} }\n` +
        `labels: { rack: r1, disk: nvme }\nzone: eu-1a\nlogLevel: debug\nresync: { minRate: 4M, maxRate: 1G }\n`,
    );
    expect(config).toMatchObject({
      listen: { host: '10.77.0.11', port: 7681 },
      stateDir: '/srv/xlss',
      vg: 'data',
      thinPool: 'tp',
      handlers: { fencePeer: '/usr/lib/xlss/fence', afterResyncTarget: '/usr/lib/xlss/resync' },
      reconcileIntervalSeconds: 10,
      drbdGeneration: '8.4',
      controller: { url: 'http://10.77.0.1:7690', tokenFile: ctl },
      labels: { rack: 'r1', disk: 'nvme' },
      zone: 'eu-1a',
      logLevel: 'debug',
    });
    expect(controllerToken).toBe('ctl-0123456789abcdef');
    expect(engineConfigOf(config)).toEqual({
      nodeName: 'node1',
      address: '10.77.0.11',
      vg: 'data',
      thinPool: 'tp',
      stateDir: '/srv/xlss',
      drbdConfigDir: '/etc/drbd.d',
      handlers: { fencePeer: '/usr/lib/xlss/fence', afterResyncTarget: '/usr/lib/xlss/resync' },
      reconcileIntervalMs: 10_000,
      drbdGeneration: '8.4',
      resync: { minRate: '4M', maxRate: '1G' },
    });
  });

  it.each([
    ['bogus: 1', 'bogus'],
    ['listen: { prot: 1 }', 'listen.prot'],
    ['controller: { url: http://x:1, token: abc }', 'controller.token'],
    ['node_name: node1', 'node_name'],
  ])('refuses the unknown key in %j, naming it', (line, field) => {
    const err = failure(() => load(`${base()}${line}\n`));
    expect(err.field).toBe(field);
    expect(err.message).toContain('unknown key');
  });

  it.each([
    ['listen: { port: 70000 }', 'listen.port'],
    ['listen: { port: "80a" }', 'listen.port'],
    ['listen: { host: "0.0.0.0; rm" }', 'listen.host'],
    ['listen: 7680', 'listen'],
    ['vg: "bad vg"', 'vg'],
    ['thinPool: -pool', 'thinPool'],
    ['stateDir: var/lib/xlss', 'stateDir'],
    ['drbdConfigDir: /etc/../root', 'drbdConfigDir'],
    ['reconcileIntervalSeconds: 1', 'reconcileIntervalSeconds'],
    ['reconcileIntervalSeconds: 2.5', 'reconcileIntervalSeconds'],
    ['drbdGeneration: "10"', 'drbdGeneration'],
    ['logLevel: loud', 'logLevel'],
    ['zone: "eu 1"', 'zone'],
    ['labels: { Rack: r1 }', 'labels.Rack'],
    ['labels: { rack: [1] }', 'labels.rack'],
    ['labels: [a]', 'labels'],
    ['controller: { url: "ftp://x", tokenFile: /x }', 'controller.url'],
    ['controller: { url: "http://u:p@x:1" , tokenFile: /x }', 'controller.url'],
    ['controller: { url: "http://x:1" }', 'controller.tokenFile'],
    ['tls: { cert: /etc/xlss/cert.pem }', 'tls.key'],
    ['handlers: { fencePeer: "/usr/lib/x y" }', 'handlers.fencePeer'],
    ['resync: { minRate: 10MB }', 'resync.minRate'],
    ['resync: { minRate: "-1" }', 'resync.minRate'],
    ['resync: { minRate: 5G }', 'resync.minRate'],
    ['resync: { maxRate: 100 }', 'resync.maxRate'],
    ['resync: { maxRate: "10M; rm -rf /" }', 'resync.maxRate'],
    ['resync: { minRate: 200M }', 'resync.minRate'],
    ['resync: { rate: 1M }', 'resync.rate'],
  ])('refuses the bad value in %j, naming the key', (line, field) => {
    // The later key wins in the merged doc, so bad lines replace nothing required.
    expect(failure(() => load(`${base()}${line}\n`)).field).toBe(field);
  });

  it('refuses a missing address, a bad node name and a node name other than the host name', () => {
    expect(failure(() => load(`tokenFile: ${tokenFile}\n`)).field).toBe('address');
    const bad = failure(() => load(base().replace('node1', 'Node_1')));
    expect(bad.field).toBe('nodeName');
    const other = failure(() => load(base(), {}, { hostname: 'node2' }));
    expect(other.field).toBe('nodeName');
    expect(other.message).toContain('uname -n');
  });

  it('lets XLSS_* variables override the file, and names the variable of a bad value', () => {
    const { config } = load(`${base()}listen: { port: 7681 }\n`, {
      XLSS_LISTEN_PORT: '9000',
      XLSS_VG: 'other',
      XLSS_LABELS: 'rack=r2,disk=ssd',
      XLSS_RECONCILE_INTERVAL_SECONDS: '60',
      XLSS_LOG_LEVEL: 'warn',
    });
    expect(config).toMatchObject({
      listen: { port: 9000 },
      vg: 'other',
      labels: { rack: 'r2', disk: 'ssd' },
      reconcileIntervalSeconds: 60,
      logLevel: 'warn',
    });
    const err = failure(() => load(base(), { XLSS_LISTEN_PORT: 'many' }));
    expect(err.field).toBe('listen.port');
    expect(err.message).toContain('XLSS_LISTEN_PORT');
    expect(failure(() => load(base(), { XLSS_LABELS: 'rack' })).field).toBe('labels');
  });

  it('works from the environment alone when the default file is absent', () => {
    const { config } = loadConfig({
      env: { XLSS_ADDRESS: '10.0.0.5', XLSS_TOKEN_FILE: tokenFile, XLSS_NODE_NAME: 'n5' },
      hostname: 'n5',
      // The default /etc/xlss/daemon.yaml does not exist on a test machine.
    });
    expect(config).toMatchObject({ nodeName: 'n5', address: '10.0.0.5', tokenFile });
  });

  it('refuses a named config file that is missing, not YAML, or not a mapping', () => {
    expect(
      failure(() => loadConfig({ file: join(dir, 'nope.yaml'), env: {}, hostname: 'node1' })).message,
    ).toContain('ENOENT');
    expect(failure(() => load('address: [1,\n')).field).toBe('config');
    expect(failure(() => load(`${base()}vg: a\nvg: b\n`)).field).toBe('config');
    expect(failure(() => load('- 1\n- 2\n')).field).toBe('config');
  });

  it.each([0o644, 0o640, 0o604, 0o620])('refuses a token file with mode %o', (mode) => {
    chmodSync(tokenFile, mode);
    const err = failure(() => load(base()));
    expect(err.field).toBe('tokenFile');
    expect(err.message).toContain('chmod 600');
  });

  it('refuses a missing, empty or short token file, and one that is a directory', () => {
    rmSync(tokenFile);
    expect(failure(() => load(base())).message).toContain('ENOENT');
    writeFileSync(tokenFile, 'short', { mode: 0o600 });
    expect(failure(() => load(base())).message).toContain('less than 16');
    rmSync(tokenFile);
    writeFileSync(tokenFile, 'two words here and more', { mode: 0o600 });
    expect(failure(() => load(base())).message).toContain('without spaces');
    expect(failure(() => load(base().replace(tokenFile, dir))).message).toContain('not a regular file');
  });

  it('reads TLS files and checks the key mode', () => {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    writeFileSync(cert, 'CERT');
    writeFileSync(key, 'KEY', { mode: 0o644 });
    const yaml = `${base()}tls: { cert: ${cert}, key: ${key} }\n`;
    expect(failure(() => load(yaml)).field).toBe('tls.key');
    chmodSync(key, 0o600);
    expect(load(yaml).tls).toEqual({ cert: 'CERT', key: 'KEY' });
  });
});

describe('systemd/daemon.yaml.example', () => {
  it('is a valid config, with the token files pointed elsewhere through the environment', () => {
    const { config } = loadConfig({
      file: inProject('systemd', 'daemon.yaml.example'),
      env: { XLSS_TOKEN_FILE: tokenFile, XLSS_CONTROLLER_TOKEN_FILE: tokenFile },
      hostname: 'node1',
    });
    expect(config).toMatchObject({
      nodeName: 'node1',
      listen: { port: 7680 },
      controller: { url: 'http://10.77.0.1:7690' },
    });
  });
});

describe('envNameOf', () => {
  it('maps each key to one XLSS_ variable', () => {
    expect(envNameOf('nodeName')).toBe('XLSS_NODE_NAME');
    expect(envNameOf('listen.port')).toBe('XLSS_LISTEN_PORT');
    expect(envNameOf('handlers.afterResyncTarget')).toBe('XLSS_HANDLERS_AFTER_RESYNC_TARGET');
    expect(envNameOf('controller.tokenFile')).toBe('XLSS_CONTROLLER_TOKEN_FILE');
    const names = envMapping().map((m) => m.env);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('XLSS_LABELS');
  });
});
