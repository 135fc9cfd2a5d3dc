import { readdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Which processes are the lab's. We run as root, so a pid alone proves nothing (a
 * reboot or a busy host reuses pids): a process is the lab's only when its command line
 * names one of the lab's own files, exactly as the lab started it.
 */

/** The command line of `pid`, split at NULs; undefined when the process is gone. */
export function cmdlineOf(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!raw) return undefined; // a zombie or a kernel thread
    return raw.replace(/\0$/, '').split('\0');
  } catch {
    return undefined;
  }
}

/** When `pid` started, in clock ticks since boot (field 22 of /proc/PID/stat): with the pid, one process's identity. */
export function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces or ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

const inDir = (path: string | undefined, dir: string): boolean =>
  path?.startsWith('/') === true && dirname(path) === dir;

/**
 * Is `argv` one of the lab's processes for the lab in `dir`: a qemu whose -pidfile is
 * in `dir`, a qemu-nbd whose --pid-file is there, or the broker started with `--dir dir`?
 */
export function isLabProcess(argv: readonly string[], dir: string): boolean {
  const prog = argv[0]?.split('/').at(-1) ?? '';
  if (prog.startsWith('qemu-system')) {
    const i = argv.indexOf('-pidfile');
    return i > 0 && inDir(argv[i + 1], dir) && (argv[i + 1] ?? '').endsWith('.qemu.pid');
  }
  if (prog === 'qemu-nbd') {
    const pidFile = argv.find((a) => a.startsWith('--pid-file='))?.slice('--pid-file='.length);
    return inDir(pidFile, dir) && (pidFile ?? '').endsWith('.nbd.pid');
  }
  const script = argv.findIndex((a) => a.endsWith('/xlss.js'));
  if (script < 0) return false;
  const rest = argv.slice(script + 1);
  if (rest[0] !== 'lab' || (rest[1] !== '--dir' && rest[2] !== '--dir')) return false;
  // The broker: `lab broker --dir DIR`; a service supervisor: `lab --dir DIR supervise NAME -- ...`.
  if (rest[1] === 'broker') return rest[2] === '--dir' && rest[3] === dir && rest.length === 4;
  return rest[1] === '--dir' && rest[2] === dir && rest[3] === 'supervise';
}

/** Every live process of the lab in `dir` (found by command line, pid files or not). */
export function labProcesses(dir: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const argv = cmdlineOf(Number(entry));
    if (argv && isLabProcess(argv, dir)) found.push(Number(entry));
  }
  return found;
}

/** Is `pid` alive (signal 0 reaches it)? */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive but not ours to signal (only when not root).
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
