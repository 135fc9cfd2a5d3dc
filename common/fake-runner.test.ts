import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeRunner } from './fake-runner.js';
import { CommandError } from './runner.js';

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const l of lines) out.push(l);
  return out;
}

describe('FakeRunner', () => {
  it('matches on the command and an args prefix, and records every call with its options', async () => {
    const f = new FakeRunner().on('lvs', ['--reportformat', 'json'], { stdout: 'report' });
    const r = await f.run('lvs', ['--reportformat', 'json', 'vg0'], { readOnly: true });
    expect(r).toMatchObject({ command: 'lvs', stdout: 'report', stderr: '', exitCode: 0 });
    expect(f.calls).toEqual([
      { command: 'lvs', args: ['--reportformat', 'json', 'vg0'], options: { readOnly: true } },
    ]);
    expect(f.argsOf('lvs')).toEqual([['--reportformat', 'json', 'vg0']]);
    expect(f.argsOf('vgs')).toEqual([]);
  });

  it('fails loudly on a call no rule matches (other command or other args)', async () => {
    const f = new FakeRunner().on('lvs', ['a'], {});
    await expect(f.run('vgs', ['a'])).rejects.toThrow('FakeRunner: unexpected call: vgs a');
    await expect(f.run('lvs', ['b'])).rejects.toThrow('FakeRunner: unexpected call: lvs b');
    // The failed calls are still recorded.
    expect(f.calls).toHaveLength(2);
  });

  it('tries the newest rule first', async () => {
    const f = new FakeRunner().on('lvs', [], { stdout: 'general' }).on('lvs', ['x'], { stdout: 'specific' });
    expect((await f.run('lvs', ['x'])).stdout).toBe('specific');
    expect((await f.run('lvs', ['y'])).stdout).toBe('general');
    // Added the other way round, the general rule shadows the specific one.
    const g = new FakeRunner().on('lvs', ['x'], { stdout: 'specific' }).on('lvs', [], { stdout: 'general' });
    expect((await g.run('lvs', ['x'])).stdout).toBe('general');
  });

  it('uses a once rule up on its first match; a once added after an on answers first', async () => {
    const f = new FakeRunner().on('lvs', [], { stdout: 'always' }).once('lvs', [], { stdout: 'first' });
    expect((await f.run('lvs', [])).stdout).toBe('first');
    expect((await f.run('lvs', [])).stdout).toBe('always');
    expect((await f.run('lvs', [])).stdout).toBe('always');
    const only = new FakeRunner().once('lvs', [], {});
    await only.run('lvs', []);
    await expect(only.run('lvs', [])).rejects.toThrow('unexpected call');
  });

  it('answers a sequence in order and repeats the last answer', async () => {
    const f = new FakeRunner().on('lvs', [], [{ stdout: '1' }, { stdout: '2' }, { stdout: '3' }]);
    const outs: string[] = [];
    for (let i = 0; i < 5; i++) outs.push((await f.run('lvs', [])).stdout);
    expect(outs).toEqual(['1', '2', '3', '3', '3']);
  });

  it('does not consume the caller-provided sequence array', async () => {
    const seq = [{ stdout: '1' }, { stdout: '2' }];
    const f = new FakeRunner().on('lvs', [], seq);
    await f.run('lvs', []);
    expect(seq).toHaveLength(2);
  });

  it('matches with a predicate, still only for its command', async () => {
    const f = new FakeRunner().on('lvs', (_c, a) => a.includes('--nosuffix'), { stdout: 'p' });
    expect((await f.run('lvs', ['-o', 'x', '--nosuffix'])).stdout).toBe('p');
    await expect(f.run('lvs', ['-o'])).rejects.toThrow('unexpected call');
    await expect(f.run('vgs', ['--nosuffix'])).rejects.toThrow('unexpected call');
  });

  it('throws a CommandError for a non-zero exit unless reject is false', async () => {
    const f = new FakeRunner().on('lvcreate', [], {
      exitCode: 5,
      stderr: '  Volume group "x" not found  ',
      stdout: 'o',
    });
    const err = await f.run('lvcreate', ['-n', 'a']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect(err).toMatchObject({ command: 'lvcreate', args: ['-n', 'a'], exitCode: 5, stdout: 'o' });
    expect((err as CommandError).stderr).toBe('Volume group "x" not found');
    const r = await f.run('lvcreate', [], { reject: false });
    expect(r.exitCode).toBe(5);
  });

  it('reads stdout from a fixture file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xlss-fake-'));
    try {
      writeFileSync(join(dir, 'lvs.json'), '{"report":[]}');
      const f = new FakeRunner().on('lvs', [], { stdoutFile: join(dir, 'lvs.json') });
      expect((await f.run('lvs', [])).stdout).toBe('{"report":[]}');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('streams queued lines in order, one queue entry per started stream, then exits with its code', async () => {
    const f = new FakeRunner().onStream('drbdsetup', ['a', 'b'], 3).onStream('drbdsetup', ['c']);
    const s1 = f.stream('drbdsetup', ['events2']);
    expect(await collect(s1.lines)).toEqual(['a', 'b']);
    await expect(s1.exited).resolves.toBe(3);
    const s2 = f.stream('drbdsetup', ['events2']);
    expect(await collect(s2.lines)).toEqual(['c']);
    await expect(s2.exited).resolves.toBe(0);
    expect(() => f.stream('drbdsetup', ['events2'])).toThrow(
      'FakeRunner: unexpected stream: drbdsetup events2',
    );
    expect(f.argsOf('drbdsetup')).toHaveLength(3);
  });

  it('only hands a queued stream to its own command', () => {
    const f = new FakeRunner().onStream('drbdsetup', ['x']);
    expect(() => f.stream('other', [])).toThrow('unexpected stream');
    expect(() => f.stream('drbdsetup', [])).not.toThrow();
  });

  it('stop() ends the lines and resolves exited with -1', async () => {
    const f = new FakeRunner().onStream('drbdsetup', ['a', 'b', 'c'], 0);
    const s = f.stream('drbdsetup', []);
    const it = s.lines[Symbol.asyncIterator]();
    expect((await it.next()).value).toBe('a');
    s.stop();
    expect((await it.next()).done).toBe(true);
    await expect(s.exited).resolves.toBe(-1);
  });

  it('ends the lines when the signal aborts', async () => {
    const ac = new AbortController();
    const f = new FakeRunner().onStream('drbdsetup', ['a', 'b']);
    const s = f.stream('drbdsetup', [], { signal: ac.signal });
    const it = s.lines[Symbol.asyncIterator]();
    expect((await it.next()).value).toBe('a');
    ac.abort();
    expect((await it.next()).done).toBe(true);
  });
});
