import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../common/errors.js';
import { loadControllerConfig, readTokenFile } from './config.js';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ca-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function file(text: string): string {
  const p = join(dir, 'controller.yaml');
  writeFileSync(p, text);
  return p;
}

const node1 = { name: 'node1', url: 'http://10.77.0.11:7680', tokenFile: '/etc/xlss/node1.token' };

describe('loadControllerConfig', () => {
  it('gives the documented defaults with no file and no env', () => {
    const c = loadControllerConfig({ file: file(''), env: {} });
    expect(c).toEqual({
      listen: { host: '0.0.0.0', port: 7690, socketPath: null },
      tokenFile: '/etc/xlss/controller.token',
      logLevel: 'info',
      core: {
        databasePath: '/var/lib/xlss-controller/state.db',
        heartbeatIntervalMs: 1000,
        nodeTimeoutMs: 3000,
        pollTimeoutMs: 800,
        minorRange: { first: 1000, last: 9999 },
        portRange: { first: 7800, last: 8799 },
        nodes: [],
        defaultBackupTarget: null,
        replaceAfterMs: 0,
      },
    });
  });

  it('reads every key from the file', () => {
    const c = loadControllerConfig({
      env: {},
      file: file(`
listen: { host: 10.77.0.1, port: 7691, socketPath: /var/tmp/lab/controller.sock }
tokenFile: /etc/xlss/c.token
databasePath: /srv/state.db
heartbeatInterval: 500ms
nodeTimeout: 2s
pollTimeout: 700ms
minorRange: { first: 10, last: 20 }
portRange: 9000-9010
defaultBackupTarget: /srv/backups
replaceAfter: 2m
logLevel: debug
nodes:
  - { name: node1, url: "http://10.77.0.11:7680", tokenFile: /etc/xlss/node1.token, labels: { disk: ssd }, zone: a }
`),
    });
    expect(c.listen).toEqual({ host: '10.77.0.1', port: 7691, socketPath: '/var/tmp/lab/controller.sock' });
    expect(c.core).toMatchObject({
      databasePath: '/srv/state.db',
      heartbeatIntervalMs: 500,
      nodeTimeoutMs: 2000,
      pollTimeoutMs: 700,
      minorRange: { first: 10, last: 20 },
      portRange: { first: 9000, last: 9010 },
      defaultBackupTarget: '/srv/backups',
      replaceAfterMs: 120_000,
      nodes: [{ ...node1, labels: { disk: 'ssd' }, zone: 'a' }],
    });
    expect(c.logLevel).toBe('debug');
  });

  it('XLSS_CONTROLLER_* variables override the file', () => {
    const c = loadControllerConfig({
      file: file('listen: { port: 7000 }\nnodeTimeout: 10s\n'),
      env: {
        XLSS_CONTROLLER_LISTEN_PORT: '7999',
        XLSS_CONTROLLER_LISTEN_HOST: '127.0.0.1',
        XLSS_CONTROLLER_NODE_TIMEOUT: '4s',
        XLSS_CONTROLLER_MINOR_RANGE: '5-6',
        XLSS_CONTROLLER_DATABASE_PATH: '/tmp/x.db',
        XLSS_LOG_LEVEL: 'warn',
        XLSS_CONTROLLER: 'http://elsewhere:7690',
      },
    });
    expect(c.listen).toMatchObject({ host: '127.0.0.1', port: 7999 });
    expect(c.core).toMatchObject({
      nodeTimeoutMs: 4000,
      minorRange: { first: 5, last: 6 },
      databasePath: '/tmp/x.db',
    });
    expect(c.logLevel).toBe('warn');
  });

  it.each([
    ['colour: blue\n', {}, 'colour'],
    ['listen: { address: x }\n', {}, 'listen.address'],
    ['listen: { port: 70000 }\n', {}, 'listen.port'],
    ['listen: { port: -1 }\n', {}, 'listen.port'],
    ['listen: { port: "7690" }\n', {}, 'listen.port'],
    ['listen: { host: "a b" }\n', {}, 'listen.host'],
    ['tokenFile: relative\n', {}, 'tokenFile'],
    ['databasePath: /var/../etc/x\n', {}, 'databasePath'],
    ['heartbeatInterval: soon\n', {}, 'heartbeatInterval'],
    ['heartbeatInterval: 5s\nnodeTimeout: 2s\n', {}, 'nodeTimeout'],
    ['nodeTimeout: 2s\npollTimeout: 2s\n', {}, 'pollTimeout'],
    ['pollTimeout: later\n', {}, 'pollTimeout'],
    ['replaceAfter: -1s\n', {}, 'replaceAfter'],
    ['minorRange: 20-10\n', {}, 'minorRange'],
    ['portRange: 80-90\n', {}, 'portRange.first'],
    ['logLevel: loud\n', {}, 'logLevel'],
    ['nodes: node1\n', {}, 'nodes'],
    ['nodes: [{ name: Node1, url: "http://x:1", tokenFile: /t }]\n', {}, 'nodes[0].name'],
    ['nodes: [{ name: n1, url: "http://x:1" }]\n', {}, 'nodes[0].tokenFile'],
    [
      'nodes: [{ name: n1, url: "http://x:1", tokenFile: /t }, { name: n1, url: "http://y:1", tokenFile: /t }]\n',
      {},
      'nodes[1].name',
    ],
    ['', { XLSS_CONTROLLER_LISTEN_PORT: 'x' }, 'XLSS_CONTROLLER_LISTEN_PORT'],
    ['', { XLSS_CONTROLLER_PORTS: '1' }, 'XLSS_CONTROLLER_PORTS'],
    ['', { XLSS_CONTROLLER_HEARTBEAT_INTERVAL: '1 s' }, 'heartbeatInterval'],
    ['- a\n- b\n', {}, '--config'],
    ['listen: [\n', {}, '--config'],
  ])('%j %j is refused naming %s', (text, env, field) => {
    const err = (() => {
      try {
        loadControllerConfig({ file: file(text), env });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).field).toBe(field);
  });

  it('a named config file that does not exist is an error naming --config', () => {
    expect(() => loadControllerConfig({ file: join(dir, 'nope.yaml'), env: {} })).toThrow(
      /^--config: cannot read/,
    );
  });
});

describe('readTokenFile', () => {
  it('reads a root-only token', () => {
    const p = join(dir, 't');
    writeFileSync(p, 'abcdefghijklmnopqrstuvwxyz\n', { mode: 0o600 });
    expect(readTokenFile(p)).toBe('abcdefghijklmnopqrstuvwxyz');
  });

  it('refuses a token file others can read, a short token and a missing file', () => {
    const p = join(dir, 't');
    writeFileSync(p, 'abcdefghijklmnopqrstuvwxyz\n');
    chmodSync(p, 0o644);
    expect(() => readTokenFile(p)).toThrow(/readable by others/);
    chmodSync(p, 0o600);
    writeFileSync(p, 'short');
    expect(() => readTokenFile(p)).toThrow(/16 to 512/);
    expect(() => readTokenFile(join(dir, 'none'))).toThrow(/^tokenFile: cannot read/);
  });
});
