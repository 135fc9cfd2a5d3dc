import { randomBytes } from 'node:crypto';
import {
  closeSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  type Stats,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { XlssError } from '../../common/errors.js';
import { alive, startTimeOf } from './procs.js';

/**
 * The lab's directory, made safe to clean up as root. `up` creates the directory itself
 * (never adopts one that exists) and puts a mark in it; `down` works only on a
 * directory with that mark, owned by us and closed to others, and unlinks only entries
 * whose names the lab gives its files. A lock file keeps two `up`/`down` apart.
 */

export const MARK_FILE = '.xlss-lab';
export const LOCK_FILE = '.xlss-lab.lock';

/**
 * Names of what the lab writes into its directory. `down` unlinks only entries that
 * match (never recursively; unlink never follows a symlink); anything else stays, and
 * so does the directory.
 */
export const LAB_FILE_PATTERNS: RegExp[] = [
  /^state\.json(\.[0-9a-f]+)?$/,
  /^broker\.(pid|sock|log)$/,
  /^node\d+\.(qemu\.pid|nbd\.pid|agent\.sock|nbd\.sock|console\.log|data\.img|state\.img)$/,
  /^initramfs-[0-9a-f]{12}\.cpio(\.tmp)?$/,
  // The mark or lock of an interrupted writeExclusive.
  /^\.xlss-lab(\.lock)?\.\d+\.new$/,
  // Named services and forwards the lab runs (logs, pid files, sockets).
  /^[a-z0-9][a-z0-9_.-]*\.(log|pid|sock)$/,
  // The cluster: controller config, token and database; each node's daemon token.
  /^controller\.(yaml|token|db|db-wal|db-shm|db-journal)$/,
  /^node\d+\.token$/,
];

/** Subdirectories the lab builds in its directory, and what they may hold. */
export const LAB_SUBDIR_FILES: Record<string, RegExp> = {
  'initramfs-tree': /^(init|bin|bin\/busybox|modules|modules\/[a-z0-9_]+\.ko)$/,
  // The guests' shared backup target: a directory per volume, images and manifests in it
  // (names as daemon/backup/names.ts makes them, plus their temp files).
  backups: /^[a-z0-9][a-z0-9-]{0,62}(\/\.?[A-Za-z0-9][A-Za-z0-9T:._-]{0,180})?$/,
};

const uid = (): number => process.getuid?.() ?? 0;

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Is there anything at `path` (a dangling symbolic link counts)? */
export function entryExists(path: string): boolean {
  return lstatOrUndefined(path) !== undefined;
}

function refuse(dir: string, why: string): never {
  throw new XlssError('ELABDIR', `refusing to use ${dir} as a lab directory: ${why}`);
}

/** Why `st` (the lab directory) is not safe to trust, or undefined when it is. */
function unsafeDir(st: Stats): string | undefined {
  if (st.isSymbolicLink()) return 'it is a symbolic link';
  if (!st.isDirectory()) return 'it is not a directory';
  if (st.uid !== uid()) return `it is owned by uid ${st.uid}, not by uid ${uid()} (root)`;
  if ((st.mode & 0o022) !== 0) return 'others may write into it';
  return undefined;
}

/** The parent must be a real directory that nobody else can rename our directory out of. */
function checkParent(dir: string): void {
  const parent = dirname(dir);
  const st = lstatOrUndefined(parent);
  if (!st) refuse(dir, `its parent ${parent} does not exist`);
  if (st.isSymbolicLink() || !st.isDirectory()) refuse(dir, `its parent ${parent} is not a real directory`);
  const othersWrite = (st.mode & 0o022) !== 0;
  if (othersWrite && (st.mode & 0o1000) === 0)
    refuse(dir, `its parent ${parent} is writable by others and not sticky`);
  if (othersWrite && st.uid !== uid() && st.uid !== 0)
    refuse(dir, `its parent ${parent} is writable by others and owned by uid ${st.uid}`);
}

/** The lab's mark in `dir`, or undefined when there is none (or it cannot be trusted). */
export function readMark(dir: string): string | undefined {
  const dst = lstatOrUndefined(dir);
  if (!dst || unsafeDir(dst)) return undefined;
  const path = join(dir, MARK_FILE);
  const st = lstatOrUndefined(path);
  if (!st?.isFile() || st.uid !== uid()) return undefined;
  const id = readFileSync(path, 'utf8').trim();
  return /^[0-9a-f]{32}$/.test(id) ? id : undefined;
}

/**
 * Throws unless `dir` is a lab directory this tool created: ours, closed to others, and
 * marked. Returns the mark's id.
 */
export function requireLabDir(dir: string): string {
  const st = lstatOrUndefined(dir);
  if (!st) throw new XlssError('ENOLAB', `no lab directory at ${dir}`);
  const unsafe = unsafeDir(st);
  if (unsafe) refuse(dir, unsafe);
  const id = readMark(dir);
  const owner = id ? undefined : lockOwner(dir);
  if (owner && ownerAlive(owner))
    throw new XlssError('ELABBUSY', `another xlss lab process (pid ${owner.pid}) is creating ${dir}`);
  if (!id)
    refuse(
      dir,
      `it has no lab mark (${MARK_FILE}): the lab only removes directories it created itself` +
        ' (an empty one left by an interrupted "up" can be removed with rmdir)',
    );
  return id;
}

/**
 * `requireLabDir`, but a directory that another `up` is creating this very moment
 * (ours, seconds old, not marked yet) gets a moment to receive its lock and mark.
 */
export async function settledLabDir(dir: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      return requireLabDir(dir);
    } catch (err) {
      const st = lstatOrUndefined(dir);
      const young = st !== undefined && !unsafeDir(st) && Date.now() - st.ctimeMs < 5000;
      if (attempt >= 20 || !young) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * Creates `dir` (not its parents), locked for this process and marked as a lab
 * directory. Fails when anything is already there: `mkdir` is atomic, so of two racing
 * `up`, one gets the directory and the other an error.
 */
export function createLabDir(dir: string): string {
  checkParent(dir);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') refuse(dir, 'it exists already');
    throw err;
  }
  const st = lstatSync(dir);
  const unsafe = unsafeDir(st);
  if (unsafe) refuse(dir, unsafe);
  acquireLock(dir);
  const id = randomBytes(16).toString('hex');
  writeExclusive(join(dir, MARK_FILE), `${id}\n`);
  return id;
}

/**
 * Creates `path` holding `text`, failing with EEXIST if it exists. Written aside and
 * then linked into place, so nobody ever reads it empty or half written.
 */
function writeExclusive(path: string, text: string): void {
  const aside = `${path}.${process.pid}.new`;
  const fd = openSync(aside, 'wx', 0o600);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(aside, path);
  } finally {
    unlinkSync(aside);
  }
}

interface LockOwner {
  pid: number;
  startTime: string;
}

function lockOwner(dir: string): LockOwner | undefined {
  try {
    const [pid, startTime] = readFileSync(join(dir, LOCK_FILE), 'utf8').trim().split(' ');
    if (!pid || !/^\d+$/.test(pid) || !startTime) return undefined;
    return { pid: Number(pid), startTime };
  } catch {
    return undefined;
  }
}

/** Is the lock's owner still the process that took it (same pid and start time)? */
function ownerAlive(owner: LockOwner): boolean {
  return alive(owner.pid) && startTimeOf(owner.pid) === owner.startTime;
}

/**
 * Takes the directory's lock for this process: an exclusive create of a file holding
 * our pid and start time. A lock whose owner died (or whose pid now belongs to another
 * process) is stale and taken over. Taking a lock we hold already succeeds.
 */
export function acquireLock(dir: string): void {
  const me: LockOwner = { pid: process.pid, startTime: startTimeOf(process.pid) ?? '0' };
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeExclusive(path, `${me.pid} ${me.startTime}\n`);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = lockOwner(dir);
    if (owner && owner.pid === me.pid && owner.startTime === me.startTime) return;
    if (owner && ownerAlive(owner))
      throw new XlssError(
        'ELABBUSY',
        `another xlss lab process (pid ${owner.pid}) is working on ${dir}; wait for it or stop it`,
      );
    const st = lstatOrUndefined(path);
    if (st && !st.isFile()) refuse(dir, `${LOCK_FILE} is not a regular file`);
    unlinkSync(path);
  }
  throw new XlssError('ELABBUSY', `could not take the lock of ${dir}`);
}

/** Gives the lock up if this process holds it. */
export function releaseLock(dir: string): void {
  const owner = lockOwner(dir);
  if (owner?.pid === process.pid) unlinkSync(join(dir, LOCK_FILE));
}

/** Is `name` (in the lab directory itself) one of the names the lab gives its files? */
export function isLabFile(name: string): boolean {
  return LAB_FILE_PATTERNS.some((p) => p.test(name));
}

function unlinkIfThere(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** Removes what the lab built in one of its subdirectories, deepest first; leaves anything else. */
function removeSubdir(dir: string, sub: string, allowed: RegExp, left: string[]): void {
  const walk = (rel: string): void => {
    const path = join(dir, sub, rel);
    const st = lstatOrUndefined(path);
    if (!st) return;
    if (rel && !allowed.test(rel)) {
      left.push(join(sub, rel));
      return;
    }
    if (st.isDirectory()) {
      const before = left.length;
      for (const e of readdirSync(path)) walk(rel ? `${rel}/${e}` : e);
      if (left.length === before) rmdirSync(path);
    } else unlinkIfThere(path);
  };
  walk('');
}

/**
 * Removes the lab's files from `dir` (which `requireLabDir` accepted), then the mark,
 * the lock and the directory. Returns the names of entries it did not make and left in
 * place (then the directory, its mark and lock stay too).
 */
export function removeLabDir(dir: string): string[] {
  const left: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === MARK_FILE || name === LOCK_FILE) continue;
    const path = join(dir, name);
    const st = lstatSync(path);
    const sub = LAB_SUBDIR_FILES[name];
    if (sub && st.isDirectory()) removeSubdir(dir, name, sub, left);
    else if (!st.isDirectory() && isLabFile(name)) unlinkIfThere(path);
    else left.push(name);
  }
  if (left.length > 0) return left;
  unlinkIfThere(join(dir, MARK_FILE));
  unlinkIfThere(join(dir, LOCK_FILE));
  rmdirSync(dir);
  return [];
}
