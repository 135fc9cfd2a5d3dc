import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  buildProgram,
  EXIT_FAILED,
  EXIT_NOT_FOUND,
  EXIT_OK,
  EXIT_USAGE,
  runProgram,
} from '../../cli/program.js';
import { buildApp } from '../api/app.js';
import { FakeControllerService } from '../api/fake-service.js';
import { registerAdminCommands } from './admin-commands.js';
import { writeContextFile } from './context.js';

const TOKEN = 'cli-test-token-0123456789';
const MiB = 1024 ** 2;
let dir = '';
let tokenFile = '';
let app: FastifyInstance;
let url = '';
let service: FakeControllerService;
let requests: string[] = [];
let out = '';
let err = '';
let env: NodeJS.ProcessEnv = {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ca-cli-'));
  tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  // One server for the file; each test gets a fresh fake behind it.
  const current = new Proxy({} as FakeControllerService, {
    get: (_t, p) => {
      const v = Reflect.get(service, p);
      return typeof v === 'function' ? v.bind(service) : v;
    },
  });
  app = await buildApp({ service: current, token: TOKEN, registry: new Registry() });
  app.addHook('onRequest', async (req) => {
    requests.push(`${req.method} ${req.url}`);
  });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  service = new FakeControllerService();
  await service.addNode({
    name: 'node1',
    url: 'http://10.77.0.11:7680',
    tokenFile: '/etc/xlss/n1.token',
    zone: 'a',
  });
  await service.addNode({
    name: 'node2',
    url: 'http://10.77.0.12:7680',
    tokenFile: '/etc/xlss/n2.token',
    zone: 'b',
  });
  service.calls.length = 0;
  requests = [];
  out = '';
  err = '';
  env = { XLSS_CONTROLLER: url, XLSS_TOKEN_FILE: tokenFile, XLSS_CONTEXT: join(dir, 'no-context.json') };
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err += String(chunk);
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

function run(...args: string[]): Promise<number> {
  const program = buildProgram([registerAdminCommands({ pollMs: 5, tty: () => false, env })]);
  return runProgram(program, ['node', 'xlss', ...args]);
}

async function volume(name = 'vol1', extra: string[] = []) {
  expect(await run('volume', 'create', name, '--size', '64MiB', '--no-wait', ...extra)).toBe(EXIT_OK);
  out = '';
  err = '';
  requests = [];
  service.calls.length = 0;
}

describe('xlss volume', () => {
  it('create waits until ready, showing sync progress as plain lines when not a terminal', async () => {
    const code = await run(
      'volume',
      'create',
      'vol1',
      '--size',
      '64MiB',
      '--mount',
      '/srv/vol1',
      '--on',
      'node2',
    );
    expect(code).toBe(EXIT_OK);
    expect(err).toBe('xlss: sync vol1 50%\nxlss: sync vol1 100%\n');
    expect(out).toMatch(/^Name: +vol1$/m);
    expect(out).toMatch(/^Phase: +ready$/m);
    expect(out).toMatch(/^Size: +64MiB \(thin\)$/m);
    expect(out).toMatch(/^Run on: +node2, node1$/m);
    expect(out).toMatch(/^Filesystem: +ext4$/m);
    expect(requests).toEqual(['POST /v1/volumes', 'GET /v1/volumes/vol1', 'GET /v1/volumes/vol1']);
  });

  it('create exits 1 with the reason when the volume fails while it waits', async () => {
    const get = service.getVolume.bind(service);
    service.getVolume = async (name) => {
      const v = await get(name);
      return v && { ...v, phase: 'failed', message: 'node2: VG xlss has 3MiB free' };
    };
    expect(await run('volume', 'create', 'vol1', '--size', '64MiB')).toBe(EXIT_FAILED);
    expect(err).toBe('xlss: volume vol1 is failed: node2: VG xlss has 3MiB free\n');
  });

  it('create --output json prints the ready VolumeView; --no-wait returns it as placed', async () => {
    expect(await run('volume', 'create', 'vol1', '--size', '1GiB', '--thick', '--output', 'json')).toBe(
      EXIT_OK,
    );
    const v = JSON.parse(out) as { phase: string; thin: boolean; sizeBytes: number };
    expect(v).toMatchObject({ phase: 'ready', thin: false, sizeBytes: 1024 ** 3 });
    out = '';
    expect(await run('volume', 'create', 'vol2', '--size', '64MiB', '--no-wait', '--output', 'json')).toBe(
      EXIT_OK,
    );
    expect(JSON.parse(out)).toMatchObject({ phase: 'creating' });
  });

  it('create sends the backup policy, selector, filesystem and workload unit it was given', async () => {
    const sent: unknown[] = [];
    const create = service.createVolume.bind(service);
    service.createVolume = async (req) => {
      sent.push(req);
      return create(req);
    };
    const args = ['--size', '64MiB', '--fs', 'xfs', '--selector', 'disk=ssd', '--selector', 'rack=r1'];
    args.push('--backup-every', '1h', '--retain', '3', '--backup-target', '/srv/backups');
    expect(await run('volume', 'create', 'db', ...args, '--workload-unit', 'pg.service', '--no-wait')).toBe(
      EXIT_OK,
    );
    expect(sent).toEqual([
      {
        name: 'db',
        sizeBytes: 64 * MiB,
        thin: true,
        filesystem: 'xfs',
        nodeSelector: { disk: 'ssd', rack: 'r1' },
        backup: { intervalSeconds: 3600, retain: 3, target: '/srv/backups' },
        workloadUnit: 'pg.service',
      },
    ]);
    expect(out).toMatch(/^Backup: +every 3600s, keep 3, to \/srv\/backups$/m);
  });

  it.each([
    [['BadName', '--size', '64MiB'], 'NAME'],
    [['vol1'], '--size is required'],
    [['vol1', '--size', '1KiB'], '--size: must be at least 4MiB'],
    [['vol1', '--size', 'lots'], '--size: "lots" is not a size'],
    [['vol1', '--size', '64MiB', '--fs', 'btrfs'], '--fs'],
    [['vol1', '--size', '64MiB', '--fs', 'none', '--mount', '/srv/x'], '--mount: needs a filesystem'],
    [['vol1', '--size', '64MiB', '--mount', 'relative'], '--mount'],
    [['vol1', '--size', '64MiB', '--selector', 'disk'], '--selector: "disk" must be key=value'],
    [['vol1', '--size', '64MiB', '--selector', 'Disk Type=ssd'], '--selector'],
    [['vol1', '--size', '64MiB', '--on', 'Node1'], '--on'],
    [
      ['vol1', '--size', '64MiB', '--backup-every', '10s', '--backup-target', '/b'],
      '--backup-every: must be whole seconds, at least 1m',
    ],
    [['vol1', '--size', '64MiB', '--backup-every', '1h'], 'needs --backup-target'],
    [
      [
        'vol1',
        '--size',
        '64MiB',
        '--backup-every',
        '1h',
        '--backup-cron',
        '0 * * * *',
        '--backup-target',
        '/b',
      ],
      'not both',
    ],
    [
      ['vol1', '--size', '64MiB', '--backup-cron', '0 * * * *; reboot', '--backup-target', '/b'],
      '--backup-cron',
    ],
    [['vol1', '--size', '64MiB', '--retain', '3'], 'need a schedule'],
    [['vol1', '--size', '64MiB', '--workload-unit', 'x;y.service'], '--workload-unit'],
    [['vol1', '--size', '64MiB', '--output', 'yaml'], '--output'],
    [['vol1', '--size', '64MiB', '--timeout', 'forever'], '--timeout'],
    [['vol1', '--size', '64MiB', '--controller', 'ftp://x'], '--controller'],
  ])('create %j is refused (exit 2) naming %s, and sends nothing', async (args, message) => {
    expect(await run('volume', 'create', ...args)).toBe(EXIT_USAGE);
    expect(err).toContain(message);
    expect(requests).toEqual([]);
  });

  it('list prints an aligned table with human sizes; json prints the array', async () => {
    await volume('vol1');
    await volume('data-2', []);
    expect(await run('volume', 'list')).toBe(EXIT_OK);
    expect(out).toBe(
      [
        'NAME    SIZE   PHASE     PRIMARY  REPLICAS     SYNC  FS  BACKUP',
        'vol1    64MiB  creating  node1    node1,node2  0%    -   -',
        'data-2  64MiB  creating  node1    node1,node2  0%    -   -',
        '',
      ].join('\n'),
    );
    out = '';
    expect(await run('volume', 'list', '--output', 'json')).toBe(EXIT_OK);
    expect((JSON.parse(out) as Array<{ name: string }>).map((v) => v.name)).toEqual(['vol1', 'data-2']);
  });

  it('show of a missing volume exits 3 with the controller message', async () => {
    expect(await run('volume', 'show', 'nosuch')).toBe(EXIT_NOT_FOUND);
    expect(err).toBe('xlss: volume "nosuch" not found\n');
  });

  it('show shouts a split brain', async () => {
    await volume();
    const v = service.volumes.get('vol1');
    if (v) v.phase = 'split-brain';
    expect(await run('volume', 'show', 'vol1')).toBe(EXIT_OK);
    expect(out).toMatch(/^SPLIT BRAIN: /);
    expect(out).toMatch(/^Phase: +SPLIT-BRAIN$/m);
  });

  it("resize grows; a shrink is the controller's 409 (exit 1); --size is checked first", async () => {
    await volume();
    expect(await run('volume', 'resize', 'vol1', '--size', '128MiB')).toBe(EXIT_OK);
    expect(out).toBe('volume vol1 is now 128MiB\n');
    expect(await run('volume', 'resize', 'vol1', '--size', '64MiB')).toBe(EXIT_FAILED);
    expect(err).toContain('cannot shrink');
    requests = [];
    expect(await run('volume', 'resize', 'vol1', '--size', '0')).toBe(EXIT_USAGE);
    expect(await run('volume', 'resize', 'vol1')).toBe(EXIT_USAGE);
    expect(requests).toEqual([]);
  });

  it('delete needs --yes when not on a terminal; --force passes through', async () => {
    await volume('vol1', ['--mount', '/srv/vol1']);
    expect(await run('volume', 'delete', 'vol1')).toBe(EXIT_USAGE);
    expect(err).toContain('without --yes');
    expect(requests).toEqual([]);
    expect(await run('volume', 'delete', 'vol1', '--yes')).toBe(EXIT_FAILED);
    expect(err).toContain('is mounted');
    expect(await run('volume', 'delete', 'vol1', '--yes', '--force')).toBe(EXIT_OK);
    expect(out).toBe('volume vol1 deleted\n');
    expect(service.calls).toContain('deleteVolume vol1 force=true');
  });
});

describe('xlss node', () => {
  it('add sends the daemon token file; the controller token comes from the environment', async () => {
    const code = await run(
      'node',
      'add',
      'node3',
      '--url',
      'http://10.77.0.13:7680',
      '--token-file',
      '/etc/xlss/node3.token',
      '--label',
      'disk=ssd',
      '--zone',
      'c',
    );
    expect(code).toBe(EXIT_OK);
    expect(out).toMatch(/^Labels: +disk=ssd$/m);
    expect(service.nodes.get('node3')).toMatchObject({ zone: 'c', labels: { disk: 'ssd' } });
  });

  it.each([
    [['node3', '--token-file', '/t'], '--url is required'],
    [['node3', '--url', 'http://10.77.0.13:7680'], '--token-file is required'],
    [['node3', '--url', 'gopher://x', '--token-file', '/t'], '--url'],
    [['node3', '--url', 'http://x:1', '--token-file', 'rel'], '--token-file'],
    [['node3', '--url', 'http://x:1', '--token-file', '/t', '--address', '10.1'], '--address'],
    [['node3', '--url', 'http://x:1', '--token-file', '/t', '--zone', 'a b'], '--zone'],
    [['Node3', '--url', 'http://x:1', '--token-file', '/t'], 'NAME'],
  ])('add %j is refused (exit 2) naming %s', async (args, message) => {
    expect(await run('node', 'add', ...args)).toBe(EXIT_USAGE);
    expect(err).toContain(message);
    expect(requests).toEqual([]);
  });

  it('list prints health, zone and sizes; show prints one node; a missing one exits 3', async () => {
    expect(await run('node', 'list')).toBe(EXIT_OK);
    expect(out.split('\n')[0]).toBe('NAME   HEALTH  ADDRESS     ZONE  VOLUMES  FREE   CAPACITY  LABELS');
    expect(out.split('\n')[1]).toBe('node1  online  10.77.0.11  a     0        10GiB  20GiB     -');
    out = '';
    expect(await run('node', 'show', 'node2', '--output', 'json')).toBe(EXIT_OK);
    expect(JSON.parse(out)).toMatchObject({ name: 'node2', zone: 'b' });
    expect(await run('node', 'show', 'node9')).toBe(EXIT_NOT_FOUND);
  });

  it('drain --wait returns once the node holds no volume', async () => {
    const n1 = service.nodes.get('node1');
    if (n1) n1.volumes = 2;
    expect(await run('node', 'drain', 'node1', '--wait')).toBe(EXIT_OK);
    expect(out).toBe('node node1 drained\n');
    expect(service.calls).toContain('drainNode node1');
  });

  it('drain --wait fails (exit 1) with the reason when the drain gives up', async () => {
    const n1 = service.nodes.get('node1');
    if (n1) n1.volumes = 1;
    service.drainGivesUp = '1 volume(s) still on node1: vol1 (no other schedulable node)';
    expect(await run('node', 'drain', 'node1', '--wait')).toBe(EXIT_FAILED);
    expect(err).toContain('drain of node1: 1 volume(s) still on node1: vol1 (no other schedulable node)');
  });
});

describe('failover, backup, restore, events', () => {
  beforeEach(() => volume());

  it('failover --to moves the Primary; a node without a replica fails (exit 1)', async () => {
    expect(await run('failover', 'vol1', '--to', 'node2')).toBe(EXIT_OK);
    expect(out).toMatch(/^Primary: +node2$/m);
    expect(await run('failover', 'vol1', '--to', 'node9')).toBe(EXIT_FAILED);
    expect(err).toContain('holds no replica');
    requests = [];
    expect(await run('failover', 'vol1', '--to', 'NODE')).toBe(EXIT_USAGE);
    expect(requests).toEqual([]);
  });

  it('backup run polls the job with progress lines and reports the backup', async () => {
    expect(await run('backup', 'run', 'vol1')).toBe(EXIT_OK);
    expect(err).toBe('xlss: backup vol1 0%\nxlss: backup vol1 50%\nxlss: backup vol1 100%\n');
    expect(out).toBe('backup 2026-01-02T03:04:05Z of vol1 done\n');
    out = '';
    expect(await run('backup', 'run', 'vol1', '--no-wait', '--output', 'json')).toBe(EXIT_OK);
    expect(JSON.parse(out)).toMatchObject({ kind: 'backup', state: 'running' });
  });

  it('a failed job exits 1 with its reason', async () => {
    const job = service.runBackup.bind(service);
    service.runBackup = async (name) => ({
      ...(await job(name)),
      state: 'failed',
      error: 'snapshot: VG full',
    });
    expect(await run('backup', 'run', 'vol1')).toBe(EXIT_FAILED);
    expect(err).toContain('backup of vol1 failed: snapshot: VG full');
  });

  it('backup list prints a table of manifests', async () => {
    service.backups.set('vol1', [
      {
        id: '2026-01-02T03:04:05Z',
        volume: 'vol1',
        sizeBytes: 64 * MiB,
        createdAt: '2026-01-02T03:04:05.000Z',
        sourceNode: 'node1',
        sha256: 'a'.repeat(64),
        compressedBytes: 2 * MiB,
        compression: 'gzip',
      },
    ]);
    expect(await run('backup', 'list', 'vol1')).toBe(EXIT_OK);
    expect(out).toBe(
      [
        'ID                    CREATED                   SIZE   COMPRESSED  SOURCE  SHA256',
        '2026-01-02T03:04:05Z  2026-01-02T03:04:05.000Z  64MiB  2MiB        node1   aaaaaaaaaaaa',
        '',
      ].join('\n'),
    );
    expect(await run('backup', 'list', 'nosuch')).toBe(EXIT_NOT_FOUND);
  });

  it('restore waits for the job; an unknown backup exits 3; a bad id is refused before sending', async () => {
    expect(await run('restore', 'vol1', '--node', 'node2')).toBe(EXIT_OK);
    expect(out).toBe('restore of vol1 done\n');
    expect(service.calls).toContain('restore vol1 newest node2');
    expect(await run('restore', 'vol1', '--backup', 'nope')).toBe(EXIT_NOT_FOUND);
    requests = [];
    expect(await run('restore', 'vol1', '--backup', '../../etc')).toBe(EXIT_USAGE);
    expect(err).toContain('--backup');
    expect(requests).toEqual([]);
  });

  it('events prints a table, filtered by volume', async () => {
    expect(await run('events', '--volume', 'vol1')).toBe(EXIT_OK);
    expect(out).toBe(
      [
        'TIME                      TYPE            VOLUME  NODE  MESSAGE',
        '2026-01-02T03:04:05.000Z  volume.created  vol1    -     volume vol1 created on node1 and node2',
        '',
      ].join('\n'),
    );
    expect(requests).toEqual(['GET /v1/events?volume=vol1']);
    expect(await run('events', '--limit', '0')).toBe(EXIT_USAGE);
  });

  it('events --follow prints new events as they come (JSON lines) until interrupted', async () => {
    const done = run('events', '--follow', '--output', 'json');
    await vi.waitFor(() => expect(out.split('\n').filter(Boolean)).toHaveLength(3));
    service.event('node.offline', 'node2 missed 3 heartbeats', null, 'node2');
    await vi.waitFor(() => expect(out.split('\n').filter(Boolean)).toHaveLength(4));
    process.emit('SIGINT');
    expect(await done).toBe(EXIT_OK);
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: number; type: string });
    expect(lines.map((e) => e.id)).toEqual([1, 2, 3, 4]);
    expect(lines[3]?.type).toBe('node.offline');
    expect(requests.some((r) => r === 'GET /v1/events?since=3')).toBe(true);
  });
});

describe('finding the controller', () => {
  it('with nothing configured, says how to configure it (exit 2) and sends nothing', async () => {
    env = { XLSS_CONTEXT: join(dir, 'none.json') };
    expect(await run('volume', 'list')).toBe(EXIT_USAGE);
    expect(err).toContain('no controller configured: pass --controller URL');
    expect(err).toContain(join(dir, 'none.json'));
  });

  it('--controller and --token-file flags win over the environment', async () => {
    env = { XLSS_CONTROLLER: 'http://127.0.0.1:1', XLSS_TOKEN_FILE: '/nonexistent' };
    expect(await run('node', 'list', '--controller', url, '--token-file', tokenFile)).toBe(EXIT_OK);
    expect(out).toContain('node1');
  });

  it('an explicit controller without a token says so', async () => {
    env = { XLSS_CONTEXT: join(dir, 'none.json') };
    expect(await run('volume', 'list', '--controller', url)).toBe(EXIT_USAGE);
    expect(err).toContain('no token for the controller');
  });

  it('the context file leads to the controller over its unix socket', async () => {
    const socketPath = join(dir, 'api.sock');
    const http = await import('node:http');
    const server = http.createServer(app.routing);
    await new Promise<void>((r) => server.listen(socketPath, () => r()));
    try {
      const context = join(dir, 'context.json');
      writeContextFile({ controller: 'http://10.77.0.1:7690', tokenFile, socketPath }, context);
      env = { XLSS_CONTEXT: context };
      expect(await run('node', 'list', '--output', 'json')).toBe(EXIT_OK);
      expect((JSON.parse(out) as unknown[]).length).toBe(2);
    } finally {
      server.close();
    }
  });

  it('a context file with an unknown key is refused naming it', async () => {
    const context = join(dir, 'bad-context.json');
    writeFileSync(context, JSON.stringify({ controller: url, tokenFile, colour: 'blue' }));
    env = { XLSS_CONTEXT: context };
    expect(await run('node', 'list')).toBe(EXIT_USAGE);
    expect(err).toContain('colour');
  });

  it('a controller that does not answer is exit 1 naming it; a wrong token is exit 1', async () => {
    env = { XLSS_CONTROLLER: 'http://127.0.0.1:1', XLSS_TOKEN_FILE: tokenFile };
    expect(await run('volume', 'list')).toBe(EXIT_FAILED);
    expect(err).toContain('cannot reach the controller at http://127.0.0.1:1');
    const wrong = join(dir, 'wrong');
    writeFileSync(wrong, 'not-the-token');
    env = { XLSS_CONTROLLER: url, XLSS_TOKEN_FILE: wrong };
    expect(await run('volume', 'list')).toBe(EXIT_FAILED);
    expect(err).toContain('missing or wrong bearer token');
  });
});
