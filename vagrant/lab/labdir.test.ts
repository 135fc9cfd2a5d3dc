import { spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { XlssError } from '../../common/errors.js';
import {
  acquireLock,
  createLabDir,
  LOCK_FILE,
  MARK_FILE,
  readMark,
  releaseLock,
  removeLabDir,
  requireLabDir,
  settledLabDir,
} from './labdir.js';
import { startTimeOf } from './procs.js';

let base = '';
let lab = '';
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'xlss-labdir-'));
  lab = join(base, 'lab');
});
afterEach(() => {
  rmSync(base, { recursive: true, force: true });
});

function thrown(fn: () => unknown): XlssError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(XlssError);
    return e as XlssError;
  }
  throw new Error('did not throw');
}

describe('createLabDir', () => {
  it('creates the directory closed to others, locked by us and marked', () => {
    const id = createLabDir(lab);
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(statSync(lab).mode & 0o777).toBe(0o700);
    expect(readMark(lab)).toBe(id);
    expect(requireLabDir(lab)).toBe(id);
    expect(readFileSync(join(lab, LOCK_FILE), 'utf8')).toBe(`${process.pid} ${startTimeOf(process.pid)}\n`);
  });

  it('refuses a directory that exists already, even an empty one, and leaves it alone', () => {
    mkdirSync(lab);
    writeFileSync(join(lab, 'precious'), 'x');
    expect(thrown(() => createLabDir(lab)).message).toMatch(/exists already/);
    expect(readFileSync(join(lab, 'precious'), 'utf8')).toBe('x');
    expect(existsSync(join(lab, MARK_FILE))).toBe(false);
  });

  it('refuses a symbolic link, even a dangling one', () => {
    symlinkSync('/nonexistent', lab);
    expect(thrown(() => createLabDir(lab)).code).toBe('ELABDIR');
  });

  it('refuses a missing parent, a parent that is a link, and one others may write without the sticky bit', () => {
    expect(thrown(() => createLabDir(join(base, 'no', 'lab'))).message).toMatch(/does not exist/);
    mkdirSync(join(base, 'real'));
    symlinkSync(join(base, 'real'), join(base, 'link'));
    expect(thrown(() => createLabDir(join(base, 'link', 'lab'))).message).toMatch(/not a real directory/);
    mkdirSync(join(base, 'open'));
    chmodSync(join(base, 'open'), 0o777);
    expect(thrown(() => createLabDir(join(base, 'open', 'lab'))).message).toMatch(/not sticky/);
    chmodSync(join(base, 'open'), 0o1777);
    expect(() => createLabDir(join(base, 'open', 'lab'))).not.toThrow();
  });

  it('lets only one of two racing creates win', () => {
    createLabDir(lab);
    expect(thrown(() => createLabDir(lab)).code).toBe('ELABDIR');
  });
});

describe('requireLabDir', () => {
  it('refuses a directory without the mark, or with a mark that is not ours', () => {
    mkdirSync(lab, { mode: 0o700 });
    expect(thrown(() => requireLabDir(lab)).message).toMatch(/no lab mark/);
    writeFileSync(join(lab, MARK_FILE), 'not-an-id\n');
    expect(thrown(() => requireLabDir(lab)).message).toMatch(/no lab mark/);
  });

  it('refuses a marked directory that others may write, or that another user owns', () => {
    createLabDir(lab);
    chmodSync(lab, 0o777);
    expect(thrown(() => requireLabDir(lab)).message).toMatch(/others may write/);
    chmodSync(lab, 0o700);
    if (process.getuid?.() === 0) {
      chownSync(lab, 65534, 65534);
      expect(thrown(() => requireLabDir(lab)).message).toMatch(/owned by uid 65534/);
    }
  });

  it('refuses a symbolic link to a real lab directory', () => {
    createLabDir(lab);
    symlinkSync(lab, join(base, 'alias'));
    expect(thrown(() => requireLabDir(join(base, 'alias'))).message).toMatch(/symbolic link/);
  });

  it('says there is no lab where nothing is', () => {
    expect(thrown(() => requireLabDir(lab)).code).toBe('ENOLAB');
  });
});

describe('settledLabDir', () => {
  it('waits for a directory another up is creating this moment, and refuses one that never gets a mark', async () => {
    mkdirSync(lab, { mode: 0o700 });
    setTimeout(() => writeFileSync(join(lab, MARK_FILE), `${'a'.repeat(32)}\n`), 300);
    await expect(settledLabDir(lab)).resolves.toBe('a'.repeat(32));
    const other = join(base, 'unmarked');
    mkdirSync(other, { mode: 0o700 });
    await expect(settledLabDir(other)).rejects.toThrow(/no lab mark/);
  });
});

describe('removeLabDir', () => {
  it("removes the lab's files and the directory", () => {
    createLabDir(lab);
    writeFileSync(join(lab, '.xlss-lab.lock.123.new'), 'x');
    for (const f of [
      'state.json',
      'broker.sock',
      'node1.data.img',
      'node2.console.log',
      'initramfs-0123456789ab.cpio',
    ])
      writeFileSync(join(lab, f), 'x');
    mkdirSync(join(lab, 'initramfs-tree', 'modules'), { recursive: true });
    writeFileSync(join(lab, 'initramfs-tree', 'modules', 'virtio.ko'), 'x');
    expect(removeLabDir(lab)).toEqual([]);
    expect(existsSync(lab)).toBe(false);
  });

  it('leaves what it did not make, and the directory and its mark with it', () => {
    createLabDir(lab);
    writeFileSync(join(lab, 'state.json'), 'x');
    writeFileSync(join(lab, 'someone-elses'), 'x');
    mkdirSync(join(lab, 'a-dir'));
    mkdirSync(join(lab, 'initramfs-tree'));
    writeFileSync(join(lab, 'initramfs-tree', 'planted'), 'x');
    expect(removeLabDir(lab).sort()).toEqual(['a-dir', 'initramfs-tree/planted', 'someone-elses']);
    expect(existsSync(join(lab, 'state.json'))).toBe(false);
    expect(existsSync(join(lab, 'someone-elses'))).toBe(true);
    expect(readMark(lab)).toBeDefined();
  });

  it('unlinks a symbolic link with a lab name, never what it points at', () => {
    createLabDir(lab);
    const victim = join(base, 'host-disk');
    mkdirSync(victim);
    writeFileSync(join(victim, 'data'), 'keep');
    symlinkSync(victim, join(lab, 'node1.data.img'));
    symlinkSync(victim, join(lab, 'initramfs-tree'));
    expect(removeLabDir(lab)).toEqual(['initramfs-tree']);
    expect(readFileSync(join(victim, 'data'), 'utf8')).toBe('keep');
  });
});

describe('the lab lock', () => {
  const children: ReturnType<typeof spawn>[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
  });
  const sleeper = async (): Promise<number> => {
    const c = spawn('sleep', ['30'], { stdio: 'ignore' });
    children.push(c);
    await new Promise((r) => c.once('spawn', r));
    return c.pid as number;
  };

  it('is taken again by its holder, and released', () => {
    createLabDir(lab);
    expect(() => acquireLock(lab)).not.toThrow();
    releaseLock(lab);
    expect(existsSync(join(lab, LOCK_FILE))).toBe(false);
  });

  it('refuses while another live process holds it', async () => {
    mkdirSync(lab, { mode: 0o700 });
    const pid = await sleeper();
    writeFileSync(join(lab, LOCK_FILE), `${pid} ${startTimeOf(pid)}\n`);
    const err = thrown(() => acquireLock(lab));
    expect(err.code).toBe('ELABBUSY');
    expect(err.message).toContain(`pid ${pid}`);
    releaseLock(lab); // not ours: stays
    expect(existsSync(join(lab, LOCK_FILE))).toBe(true);
  });

  it('takes over a lock whose holder died, or whose pid now belongs to another process', async () => {
    mkdirSync(lab, { mode: 0o700 });
    writeFileSync(join(lab, LOCK_FILE), '4194303 12345\n');
    expect(() => acquireLock(lab)).not.toThrow();
    releaseLock(lab);
    const pid = await sleeper();
    writeFileSync(join(lab, LOCK_FILE), `${pid} 1\n`); // same pid, another start time
    expect(() => acquireLock(lab)).not.toThrow();
    expect(readFileSync(join(lab, LOCK_FILE), 'utf8')).toMatch(new RegExp(`^${process.pid} `));
  });
});
