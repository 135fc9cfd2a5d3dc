import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serviceFiles, supervisorArgv, supervisorPid, validServiceName } from './services.js';
import { restartDelayMs } from './supervise.js';

describe('service names', () => {
  it('accepts short lowercase names', () => {
    expect(validServiceName('controller')).toBe('controller');
    expect(validServiceName('fwd-node1-8080')).toBe('fwd-node1-8080');
  });

  it.each(['', 'Controller', '-x', '../x', 'a b', 'x'.repeat(41), 'broker;rm'])('refuses "%s"', (name) => {
    expect(() => validServiceName(name)).toThrow(/service name/);
  });
});

describe('supervisor', () => {
  it('runs in the lab namespace with the command after --', () => {
    const argv = supervisorArgv({ dir: '/var/tmp/l', netns: 'xlss-1' }, '/x/bin/xlss.js', 'ctl', [
      'node',
      '-e',
      '1',
    ]);
    expect(argv.slice(0, 3)).toEqual(['netns', 'exec', 'xlss-1']);
    expect(argv.slice(4)).toEqual([
      '/x/bin/xlss.js',
      'lab',
      '--dir',
      '/var/tmp/l',
      'supervise',
      'ctl',
      '--',
      'node',
      '-e',
      '1',
    ]);
    expect(serviceFiles('/var/tmp/l', 'ctl')).toEqual({
      pidFile: '/var/tmp/l/ctl.service.pid',
      logFile: '/var/tmp/l/ctl.log',
    });
  });

  it('trusts a pidfile only when that process is the supervisor of that service', () => {
    const dir = mkdtempSync(join(tmpdir(), 'xlss-svc-'));
    const pidFile = join(dir, 'x.service.pid');
    // This test's own pid is alive but is not a supervisor: it must not be trusted.
    writeFileSync(pidFile, `${process.pid}\n`);
    expect(supervisorPid(dir, 'x', pidFile)).toBeUndefined();
    writeFileSync(pidFile, 'garbage\n');
    expect(supervisorPid(dir, 'x', pidFile)).toBeUndefined();
    expect(supervisorPid(dir, 'x', join(dir, 'missing.pid'))).toBeUndefined();
  });

  it('backs off when a service keeps crashing', () => {
    expect([1, 2, 3, 4, 6, 10].map(restartDelayMs)).toEqual([1000, 2000, 4000, 8000, 30000, 30000]);
  });
});
