import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandError, ExecaRunner, startDetached, startProcess, trimStderr } from './runner.js';

const NODE = process.execPath;

async function failure(p: Promise<unknown>): Promise<CommandError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CommandError);
  return err as CommandError;
}

describe('ExecaRunner.run', () => {
  const runner = new ExecaRunner();

  it('runs the child with LC_ALL=C and LANG=C, whatever the caller asked', async () => {
    const r = await runner.run(
      NODE,
      ['-e', 'process.stdout.write([process.env.LC_ALL, process.env.LANG, process.env.X].join("|"))'],
      { env: { LC_ALL: 'de_DE.UTF-8', X: 'y' } },
    );
    expect(r.stdout).toBe('C|C|y');
    expect(r.exitCode).toBe(0);
    expect(r.command).toBe(NODE);
  });

  it('throws a CommandError with command, args, exit code and trimmed stderr on a non-zero exit', async () => {
    const args = ['-e', 'process.stderr.write("  boom\\n\\n"); process.stdout.write("out"); process.exit(3)'];
    const err = await failure(runner.run(NODE, args));
    expect(err.command).toBe(NODE);
    expect(err.args).toEqual(args);
    expect(err.exitCode).toBe(3);
    expect(err.stderr).toBe('boom');
    expect(err.stdout).toBe('out');
    expect(err.timedOut).toBe(false);
    expect(err.aborted).toBe(false);
    expect(err.code).toBe('ECOMMAND');
    expect(err.message).toContain('exited with 3: boom');
  });

  it('truncates a long stderr', async () => {
    const err = await failure(
      runner.run(NODE, ['-e', 'process.stderr.write("x".repeat(5000)); process.exit(1)']),
    );
    expect(err.stderr).toBe(`${'x'.repeat(2000)}…`);
    expect(trimStderr(' short ')).toBe('short');
  });

  it('returns the result of a failed command with reject: false', async () => {
    const r = await runner.run(NODE, ['-e', 'process.stderr.write("e"); process.exit(4)'], { reject: false });
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toBe('e');
  });

  it('kills a command that runs past its timeout', async () => {
    const started = Date.now();
    const err = await failure(runner.run(NODE, ['-e', 'setTimeout(() => {}, 30000)'], { timeoutMs: 200 }));
    expect(err.timedOut).toBe(true);
    expect(err.message).toContain('timed out');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('applies the runner-wide default timeout', async () => {
    const short = new ExecaRunner({ timeoutMs: 200 });
    const err = await failure(short.run(NODE, ['-e', 'setTimeout(() => {}, 30000)']));
    expect(err.timedOut).toBe(true);
  });

  it('stops a command when its signal aborts', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const err = await failure(runner.run(NODE, ['-e', 'setTimeout(() => {}, 30000)'], { signal: ac.signal }));
    expect(err.aborted).toBe(true);
    expect(err.timedOut).toBe(false);
    expect(err.message).toContain('was aborted');
  });

  it('reports a program that does not exist as "could not start", without an exit code', async () => {
    const err = await failure(runner.run('/nonexistent/xlss-no-such-program', ['a']));
    expect(err.exitCode).toBeUndefined();
    expect(err.message).toContain('could not start');
    expect(err.message).toContain('/nonexistent/xlss-no-such-program a');
  });

  it('prepends the prefix to every call', async () => {
    const r = await new ExecaRunner({ prefix: ['env', 'XLSS_PREFIXED=1'] }).run(NODE, [
      '-e',
      'process.stdout.write(String(process.env.XLSS_PREFIXED))',
    ]);
    expect(r.stdout).toBe('1');
    // The result names the command the caller asked for, not the prefix.
    expect(r.command).toBe(NODE);
  });

  it('reports every call to observe with its outcome', async () => {
    const calls: [string, string, number][] = [];
    const r = new ExecaRunner({ observe: (c, o, s) => calls.push([c, o, s]) });
    await r.run(NODE, ['-e', '']);
    await r.run(NODE, ['-e', 'process.exit(1)'], { reject: false });
    expect(calls.map(([c, o]) => [c, o])).toEqual([
      [NODE, 'ok'],
      [NODE, 'error'],
    ]);
    expect(calls.every(([, , s]) => s >= 0 && s < 30)).toBe(true);
  });

  it('writes input to standard input', async () => {
    const r = await runner.run(
      NODE,
      ['-e', 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(s.toUpperCase()))'],
      { input: 'hello\n' },
    );
    expect(r.stdout).toBe('HELLO\n');
  });

  it('runs in cwd', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xlss-runner-'));
    try {
      const r = await runner.run(NODE, ['-e', 'process.stdout.write(process.cwd())'], { cwd: dir });
      expect(r.stdout).toBe(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ExecaRunner.stream', () => {
  const runner = new ExecaRunner();

  it('yields each line and resolves exited with the exit code', async () => {
    const s = runner.stream(NODE, [
      '-e',
      'process.stdout.write("a\\nb");setTimeout(()=>{process.stdout.write("c\\nd\\n");process.exit(5)},50)',
    ]);
    const lines: string[] = [];
    for await (const l of s.lines) lines.push(l);
    expect(lines).toEqual(['a', 'bc', 'd']);
    await expect(s.exited).resolves.toBe(5);
  });

  it('passes LC_ALL=C to the streamed process', async () => {
    const s = runner.stream(NODE, ['-e', 'console.log(process.env.LC_ALL)'], { env: { LC_ALL: 'fr_FR' } });
    const lines: string[] = [];
    for await (const l of s.lines) lines.push(l);
    expect(lines).toEqual(['C']);
  });

  it('stop() ends a long-lived process', async () => {
    const s = runner.stream(NODE, ['-e', 'console.log("up");setInterval(()=>{},1000)']);
    const it = s.lines[Symbol.asyncIterator]();
    expect((await it.next()).value).toBe('up');
    s.stop();
    const code = await s.exited;
    expect(code).not.toBe(0);
  });

  it('rejects exited with a CommandError when the program cannot start', async () => {
    const s = runner.stream('/nonexistent/xlss-no-such-program', []);
    await expect(s.exited).rejects.toBeInstanceOf(CommandError);
  });
});

describe('startProcess', () => {
  it('runs without a shell, with LC_ALL=C and the given input', async () => {
    const child = startProcess(
      NODE,
      ['-e', 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(process.env.LC_ALL+":"+s))'],
      { input: 'in' },
    );
    const chunks: Buffer[] = [];
    child.stdout?.on('data', (d: Buffer) => chunks.push(d));
    const r = await child;
    expect(r.exitCode).toBe(0);
    expect(Buffer.concat(chunks).toString()).toBe('C:in\n');
  });

  it('kills the process after timeoutMs', async () => {
    const r = await startProcess(NODE, ['-e', 'setTimeout(()=>{},30000)'], { timeoutMs: 200 });
    expect(r.timedOut).toBe(true);
  });
});

describe('startDetached', () => {
  const pids: number[] = [];
  const dirs: string[] = [];
  afterEach(() => {
    for (const pid of pids.splice(0))
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('returns the pid of a live process that writes to the log file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xlss-detached-'));
    dirs.push(dir);
    const log = join(dir, 'out.log');
    const pid = await startDetached(
      NODE,
      [
        '-e',
        'console.log("hello " + process.env.LC_ALL + " " + process.env.XLSS_T); setInterval(()=>{},1000)',
      ],
      { logFile: log, env: { XLSS_T: 't' } },
    );
    pids.push(pid);
    expect(() => process.kill(pid, 0)).not.toThrow();
    for (let i = 0; i < 100 && !(existsSync(log) && readFileSync(log, 'utf8')); i++) await sleep(50);
    expect(readFileSync(log, 'utf8')).toBe('hello C t\n');
    // Its own session: it survives its parent and is its own group leader.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    expect(Number(fields[3])).toBe(pid); // session id
  });

  it('rejects with "could not start" when the program does not exist, instead of crashing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xlss-detached-'));
    dirs.push(dir);
    const err = await failure(
      startDetached('/nonexistent/xlss-no-such-program', ['x'], { logFile: join(dir, 'l') }),
    );
    expect(err.exitCode).toBeUndefined();
    expect(err.message).toContain('could not start: spawn /nonexistent/xlss-no-such-program ENOENT');
    // An 'error' event without a listener would surface after the call returned.
    await sleep(100);
  });
});
