import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../common/errors.js';
import { FakeRunner } from '../common/fake-runner.js';
import { DrbdAdm } from './adm.js';
import {
  DrbdCommandError,
  DrbdDeviceInUseError,
  DrbdNotConnectedError,
  DrbdNoUpToDateDataError,
  DrbdPeerNotOutdatedError,
  DrbdPeerPrimaryError,
  DrbdResourceUnknownError,
} from './errors.js';
import { FIXTURES } from './testing.js';

const connectedStatus = readFileSync(`${FIXTURES}status/8.4-connected-secondary.txt`, 'utf8');
/** A real 8.4 failure: stderr and exit code captured in the lab (see the fixtures README). */
const real = (name: string) => ({
  stderr: readFileSync(`${FIXTURES}adm/${name}-8.4.stderr.txt`, 'utf8'),
  exitCode: Number(readFileSync(`${FIXTURES}adm/${name}-8.4.rc`, 'utf8')),
});
const adm = (runner: FakeRunner, generation: '8.4' | '9' = '8.4') =>
  new DrbdAdm({ runner, generation, configFile: '/etc/drbd.conf' });

describe('DrbdAdm verbs', () => {
  it.each([
    ['up', (a: DrbdAdm) => a.up('r0'), ['up', 'r0']],
    ['down', (a: DrbdAdm) => a.down('r0'), ['down', 'r0']],
    ['adjust', (a: DrbdAdm) => a.adjust('r0'), ['adjust', 'r0']],
    ['primary', (a: DrbdAdm) => a.primary('r0'), ['primary', 'r0']],
    ['primary --force', (a: DrbdAdm) => a.primary('r0', { force: true }), ['primary', '--force', 'r0']],
    ['secondary', (a: DrbdAdm) => a.secondary('r0'), ['secondary', 'r0']],
    ['connect', (a: DrbdAdm) => a.connect('r0'), ['connect', 'r0']],
    ['disconnect', (a: DrbdAdm) => a.disconnect('r0'), ['disconnect', 'r0']],
    ['outdate', (a: DrbdAdm) => a.outdate('r0'), ['outdate', 'r0']],
    ['resize', (a: DrbdAdm) => a.resize('r0'), ['resize', 'r0']],
    ['invalidate', (a: DrbdAdm) => a.invalidate('r0'), ['invalidate', 'r0']],
    ['resume-io', (a: DrbdAdm) => a.resumeIo('r0'), ['resume-io', 'r0']],
    ['detach --force', (a: DrbdAdm) => a.forceDetach('r0'), ['detach', '--force', 'r0']],
    ['apply-al', (a: DrbdAdm) => a.applyAl('r0'), ['apply-al', 'r0']],
    ['create-md', (a: DrbdAdm) => a.createMd('r0', { force: true }), ['create-md', '--force', 'r0']],
    ['create-md no force', (a: DrbdAdm) => a.createMd('r0', { force: false }), ['create-md', 'r0']],
    [
      'new-current-uuid',
      (a: DrbdAdm) => a.newCurrentUuidClearBitmap('r0'),
      ['--', '--clear-bitmap', 'new-current-uuid', 'r0/0'],
    ],
    ['wait-connect', (a: DrbdAdm) => a.waitConnect('r0', { timeoutMs: 5000 }), ['wait-connect', 'r0']],
  ])('%s runs drbdadm with the exact arguments', async (_n, verb, args) => {
    const r = new FakeRunner().on('drbdadm', [], {}).on('drbdsetup', ['status'], { stdout: connectedStatus });
    await verb(adm(r));
    expect(r.argsOf('drbdadm')).toEqual([['-c', '/etc/drbd.conf', ...args]]);
  });

  it('passes --max-peers only for DRBD 9', async () => {
    const r = new FakeRunner().on('drbdadm', [], {});
    await adm(r, '9').createMd('r0', { force: true, maxPeers: 1 });
    expect(r.argsOf('drbdadm')).toEqual([
      ['-c', '/etc/drbd.conf', 'create-md', '--force', '--max-peers=1', 'r0'],
    ]);
    await expect(adm(r, '8.4').createMd('r0', { force: true, maxPeers: 1 })).rejects.toThrow(ValidationError);
    expect(r.calls).toHaveLength(1);
  });

  it('gives wait-connect its own timeout', async () => {
    const r = new FakeRunner().on('drbdadm', [], {}).on('drbdsetup', ['status'], { stdout: connectedStatus });
    await adm(r).waitConnect('r0', { timeoutMs: 1234 });
    expect(r.calls[0]?.options.timeoutMs).toBe(1234);
  });

  it.each(['-r0', '--force', 'r0;x', 'all', 'a b', ''])('runs nothing for resource %j', async (name) => {
    const r = new FakeRunner();
    const a = adm(r);
    await expect(a.primary(name)).rejects.toThrow(ValidationError);
    await expect(a.up(name)).rejects.toThrow(ValidationError);
    await expect(a.newCurrentUuidClearBitmap(name)).rejects.toThrow(ValidationError);
    expect(r.calls).toHaveLength(0);
  });

  it('up of a resource already up converges with adjust', async () => {
    const r = new FakeRunner()
      .on('drbdadm', ['-c', '/etc/drbd.conf', 'up'], {
        exitCode: 10,
        stderr:
          "r0: Failure: (161) Minor or volume exists already (delete it first)\nCommand 'drbdsetup new-minor r0 0 0' terminated with exit code 10",
      })
      .on('drbdadm', ['-c', '/etc/drbd.conf', 'adjust'], {})
      .on('drbdsetup', ['status', 'r0'], { stdout: 'r0 role:Secondary\n' });
    expect(await adm(r).up('r0')).toEqual({ changed: false });
    expect(r.argsOf('drbdadm').map((a) => a[2])).toEqual(['up', 'adjust']);
  });

  it('up that fails on a resource that is not up stays an error', async () => {
    const r = new FakeRunner()
      .on('drbdadm', ['-c', '/etc/drbd.conf', 'up'], {
        exitCode: 10,
        stderr: 'r0: Failure: (114) Lower device is too small',
      })
      .on('drbdsetup', ['status', 'r0'], { exitCode: 10, stderr: 'r0: No such resource\n' });
    await expect(adm(r).up('r0')).rejects.toThrow(DrbdCommandError);
    expect(r.argsOf('drbdadm').map((a) => a[2])).toEqual(['up']);
  });

  it('up of a resource missing from the config is DrbdResourceUnknownError (real drbdadm-84 message)', async () => {
    const stderr = readFileSync(`${FIXTURES}adm/unknown-resource-8.4.stderr.txt`, 'utf8');
    const exitCode = Number(readFileSync(`${FIXTURES}adm/unknown-resource-8.4.rc`, 'utf8'));
    const r = new FakeRunner().on('drbdadm', [], { exitCode, stderr });
    await expect(adm(r).up('nosuch')).rejects.toThrow(DrbdResourceUnknownError);
    await expect(adm(r).down('nosuch')).rejects.toThrow(DrbdResourceUnknownError);
  });

  it('down of a resource that is not up succeeds unchanged', async () => {
    const r = new FakeRunner().on('drbdadm', [], { exitCode: 10, stderr: 'r0: No such resource\n' });
    expect(await adm(r).down('r0')).toEqual({ changed: false });
  });

  it('connect and disconnect are idempotent', async () => {
    const r = new FakeRunner()
      .on('drbdadm', ['-c', '/etc/drbd.conf', 'connect'], {
        exitCode: 10,
        stderr: 'r0: Failure: (125) Device has a net-config (use disconnect first)',
      })
      .on('drbdadm', ['-c', '/etc/drbd.conf', 'disconnect'], {
        exitCode: 11,
        stderr: 'r0: State change failed: (-9) Can not disconnect a StandAlone device',
      });
    expect(await adm(r).connect('r0')).toEqual({ changed: false });
    expect(await adm(r).disconnect('r0')).toEqual({ changed: false });
  });

  it.each([
    ['(-1) Multiple primaries not allowed by config', DrbdPeerPrimaryError],
    ['(-2) Need access to UpToDate data', DrbdNoUpToDateDataError],
    ['(-7) Refusing to be Primary while peer is not outdated', DrbdPeerNotOutdatedError],
    ['(-12) Device is held open by someone', DrbdDeviceInUseError],
    ['(-15) Need a connection to start verify or resync', DrbdNotConnectedError],
  ])('types "%s"', async (msg, type) => {
    const stderr = `0: State change failed: ${msg}\nCommand 'drbdsetup-84 primary 0' terminated with exit code 11\n`;
    const r = new FakeRunner().on('drbdadm', [], { exitCode: 11, stderr });
    const err = await adm(r)
      .primary('r0')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(type);
    expect((err as DrbdCommandError).exitCode).toBe(11);
  });
});

describe('DrbdAdm against real DRBD 8.4 answers', () => {
  it.each([
    ['primary-peer-primary', (a: DrbdAdm) => a.primary('r0'), DrbdPeerPrimaryError, 11],
    ['primary-no-uptodate', (a: DrbdAdm) => a.primary('r0'), DrbdNoUpToDateDataError, 17],
    ['secondary-in-use', (a: DrbdAdm) => a.secondary('r0'), DrbdDeviceInUseError, 11],
    ['down-in-use', (a: DrbdAdm) => a.down('r0'), DrbdDeviceInUseError, 11],
    ['invalidate-remote-standalone', (a: DrbdAdm) => a.invalidate('r0'), DrbdNotConnectedError, 11],
    ['primary-not-up', (a: DrbdAdm) => a.primary('r0'), DrbdResourceUnknownError, 10],
    ['down-nosuch', (a: DrbdAdm) => a.down('nosuch'), DrbdResourceUnknownError, 1],
  ])('%s is typed', async (name, verb, type, exitCode) => {
    const r = new FakeRunner().on('drbdadm', [], real(name));
    const err = await verb(adm(r)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(type);
    expect((err as DrbdCommandError).exitCode).toBe(exitCode);
  });

  it('new-current-uuid while only Connecting is a plain command error, not a success', async () => {
    const r = new FakeRunner().on('drbdadm', [], real('new-current-uuid-connecting'));
    const err = await adm(r)
      .newCurrentUuidClearBitmap('r1')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DrbdCommandError);
    expect((err as DrbdCommandError).drbdCode).toBe(151);
  });

  it('up twice (drbdmeta "Device \'0\' is configured!", exit 1) converges with adjust', async () => {
    const r = new FakeRunner()
      .on('drbdadm', ['-c', '/etc/drbd.conf', 'up'], real('up-twice'))
      .on('drbdadm', ['-c', '/etc/drbd.conf', 'adjust'], {})
      .on('drbdsetup', ['status', 'r0'], { stdout: connectedStatus });
    expect(await adm(r).up('r0')).toEqual({ changed: false });
  });

  it('down of a resource that is not up: 8.4 exits 0', async () => {
    const r = new FakeRunner().on('drbdadm', [], real('down-not-up'));
    expect(await adm(r).down('r0')).toEqual({ changed: true });
  });

  it.each(['connect-connected', 'connect-connecting'])(
    '%s: "(102) Local address(port) already in use" is unchanged when status shows a connection',
    async (name) => {
      const status = readFileSync(
        `${FIXTURES}status/${name === 'connect-connected' ? '8.4-connected-secondary' : '8.4-connecting'}.txt`,
        'utf8',
      );
      const r = new FakeRunner()
        .on('drbdadm', [], real(name))
        .on('drbdsetup', ['status', 'r0', '--verbose'], { stdout: status });
      expect(await adm(r).connect('r0')).toEqual({ changed: false });
    },
  );

  it('connect failing with 102 on a StandAlone resource (port held by someone else) stays an error', async () => {
    const r = new FakeRunner()
      .on('drbdadm', [], real('connect-connected'))
      .on('drbdsetup', ['status', 'r0', '--verbose'], {
        stdout: readFileSync(`${FIXTURES}status/8.4-standalone.txt`, 'utf8'),
      });
    await expect(adm(r).connect('r0')).rejects.toThrow(DrbdCommandError);
  });

  it('disconnect of a StandAlone resource is unchanged; of one not up is DrbdResourceUnknownError', async () => {
    const standalone = new FakeRunner()
      .on('drbdadm', [], real('disconnect-standalone'))
      .on('drbdsetup', ['status', 'r0', '--verbose'], {
        stdout: readFileSync(`${FIXTURES}status/8.4-standalone.txt`, 'utf8'),
      });
    expect(await adm(standalone).disconnect('r0')).toEqual({ changed: false });
    const notUp = new FakeRunner()
      .on('drbdadm', [], real('disconnect-not-up'))
      .on('drbdsetup', ['status', 'r0', '--verbose'], real('status-not-up'));
    await expect(adm(notUp).disconnect('r0')).rejects.toThrow(DrbdResourceUnknownError);
  });

  it('wait-connect returning 0 on a StandAlone resource is DrbdNotConnectedError', async () => {
    const r = new FakeRunner().on('drbdadm', [], {}).on('drbdsetup', ['status', 'r0', '--verbose'], {
      stdout: readFileSync(`${FIXTURES}status/8.4-standalone.txt`, 'utf8'),
    });
    await expect(adm(r).waitConnect('r0', { timeoutMs: 1000 })).rejects.toThrow(DrbdNotConnectedError);
  });

  it('wait-connect on a resource that is not up is DrbdResourceUnknownError', async () => {
    const r = new FakeRunner().on('drbdadm', [], {
      exitCode: 20,
      stderr: 'error determining which timeout to use: minor not available\n',
    });
    await expect(adm(r).waitConnect('r0', { timeoutMs: 1000 })).rejects.toThrow(DrbdResourceUnknownError);
  });
});
