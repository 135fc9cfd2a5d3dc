import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ValidationError, XlssError } from '../../common/errors.js';
import { startDetached } from '../../common/runner.js';
import { type LabState, readPidFile, type ServiceState } from './state.js';

/**
 * Host-side services of a lab: processes that run on the host but inside the lab's
 * network namespace (a controller, a test's forwarder), so they reach the guests over
 * the same bridge that partitions cut. Each runs under `xlss lab supervise`, which
 * restarts it when it exits, writes its output to NAME.log in the lab directory and is
 * the leader of a process group that `stop` and `down` end as a whole.
 */

export const SERVICE_NAME = /^[a-z][a-z0-9-]{0,39}$/;

export function validServiceName(name: string): string {
  if (!SERVICE_NAME.test(name))
    throw new ValidationError(
      'service name',
      `"${name}" must start with a letter and hold only lowercase letters, digits and - (at most 40)`,
    );
  return name;
}

export function serviceFiles(dir: string, name: string): Pick<ServiceState, 'pidFile' | 'logFile'> {
  return { pidFile: join(dir, `${name}.service.pid`), logFile: join(dir, `${name}.log`) };
}

/** The supervisor's command line; `ip netns exec` replaces itself with it, keeping the pid. */
export function supervisorArgv(
  state: Pick<LabState, 'dir' | 'netns'>,
  xlssBin: string,
  name: string,
  argv: string[],
) {
  return [
    'netns',
    'exec',
    state.netns,
    process.execPath,
    xlssBin,
    'lab',
    '--dir',
    state.dir,
    'supervise',
    name,
    '--',
    ...argv,
  ];
}

/**
 * The supervisor's pid, only if that process is still this lab's supervisor of `name`
 * (pids are reused after a reboot; a stale pidfile must not make us kill a stranger).
 */
export function supervisorPid(dir: string, name: string, pidFile: string): number | undefined {
  const pid = readPidFile(pidFile);
  if (pid === undefined) return undefined;
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const i = argv.indexOf('supervise');
    return i > 0 && argv[i + 1] === name && argv.includes(dir) ? pid : undefined;
  } catch {
    return undefined;
  }
}

export async function startSupervisor(
  state: Pick<LabState, 'dir' | 'netns'>,
  xlssBin: string,
  name: string,
  argv: string[],
): Promise<ServiceState> {
  const files = serviceFiles(state.dir, name);
  const pid = await startDetached('ip', supervisorArgv(state, xlssBin, name, argv), {
    logFile: files.logFile,
  });
  writeFileSync(files.pidFile, `${pid}\n`);
  // `ip netns exec` fails fast (no namespace); the supervisor then never appears.
  for (let i = 0; i < 100; i++) {
    if (supervisorPid(state.dir, name, files.pidFile) !== undefined)
      return { argv, ...files, startedAt: new Date().toISOString() };
    if (!alive(pid)) break;
    await sleep(20);
  }
  rmSync(files.pidFile, { force: true });
  throw new XlssError('ELABSERVICE', `service ${name} did not start; see ${files.logFile}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Ends the supervisor and its child (one process group): TERM, then KILL after `graceMs`. */
export async function stopSupervisor(
  dir: string,
  name: string,
  pidFile: string,
  graceMs = 5000,
): Promise<boolean> {
  const pid = supervisorPid(dir, name, pidFile);
  rmSync(pidFile, { force: true });
  if (pid === undefined) return false;
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-pid, s);
    } catch {
      // the group is gone
    }
  };
  signal('SIGTERM');
  for (let waited = 0; waited < graceMs && alive(pid); waited += 50) await sleep(50);
  signal('SIGKILL');
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(20);
  return true;
}
