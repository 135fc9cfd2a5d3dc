import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UsageError, ValidationError, XlssError } from '../common/errors.js';
import { inProject } from '../common/paths.js';
import { CommandError } from '../common/runner.js';
import { registerLabCommands } from '../vagrant/lab/cli.js';
import { Lab } from '../vagrant/lab/lab.js';
import { main } from './main.js';
import {
  buildProgram,
  EXIT_FAILED,
  EXIT_OK,
  EXIT_USAGE,
  exitCodeFor,
  printError,
  runProgram,
} from './program.js';

const VERSION = (JSON.parse(readFileSync(inProject('package.json'), 'utf8')) as { version: string }).version;

let out = '';
let err = '';
let dir = '';
const savedLabDir = process.env.XLSS_LAB_DIR;

beforeEach(() => {
  out = '';
  err = '';
  dir = mkdtempSync(join(tmpdir(), 'xlss-cli-'));
  process.env.XLSS_LAB_DIR = dir;
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err += String(chunk);
    return true;
  });
  // If validation ever let a bad `lab up` through, this must not boot a real lab (tests may run as root).
  vi.spyOn(Lab.prototype, 'up').mockRejectedValue(new Error('Lab.up must not run'));
});

afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
  if (savedLabDir === undefined) delete process.env.XLSS_LAB_DIR;
  else process.env.XLSS_LAB_DIR = savedLabDir;
  rmSync(dir, { recursive: true, force: true });
});

function run(...args: string[]): Promise<number> {
  return runProgram(buildProgram([registerLabCommands]), ['node', 'xlss', ...args]);
}

describe('xlss CLI', () => {
  it.each([['--version'], ['-V']])('%s prints the version from package.json and returns 0', async (flag) => {
    expect(await run(flag)).toBe(EXIT_OK);
    expect(out).toBe(`${VERSION}\n`);
  });

  it.each([
    [[]],
    ['lab'],
    ['lab', 'up'],
    ['lab', 'status'],
    ['lab', 'exec'],
    ['lab', 'crash'],
    ['lab', 'start'],
    ['lab', 'partition'],
    ['lab', 'heal'],
    ['lab', 'disk-fail'],
    ['lab', 'disk-heal'],
    ['lab', 'down'],
    ['lab', 'demo'],
  ])('%j --help returns 0 and prints usage', async (...words) => {
    const path = words.flat();
    expect(await run(...path, '--help')).toBe(EXIT_OK);
    expect(out).toContain(`Usage: xlss ${path.join(' ')}`.trimEnd());
    expect(err).toBe('');
  });

  it('lists the lab subcommands in lab --help, not the hidden broker', async () => {
    await run('lab', '--help');
    for (const c of ['up', 'status', 'exec', 'crash', 'down', 'demo']) expect(out).toContain(`  ${c}`);
    expect(out).not.toMatch(/^\s+broker\b/m);
  });

  it('help <command> returns 0', async () => {
    expect(await run('help', 'lab')).toBe(EXIT_OK);
    expect(out).toContain('Usage: xlss lab');
  });

  it.each([
    [['nope'], "unknown command 'nope'"],
    [['lab', 'nope'], "unknown command 'nope'"],
    [['--nope'], "unknown option '--nope'"],
    [['lab', 'up', '--nope'], "unknown option '--nope'"],
    [['lab', 'crash'], "missing required argument 'node'"],
  ])('%j is a usage error: returns 2', async (args, message) => {
    expect(await run(...args)).toBe(EXIT_USAGE);
    expect(err).toContain(message);
    expect(err).toContain('(run with --help for usage)');
  });

  it.each([
    [['--nodes', '0'], '--nodes: must be a whole number from 1 to 9, got "0"'],
    [['--nodes', '10'], '--nodes: '],
    [['--nodes', 'three'], '--nodes: '],
    [['--disk', '12XB'], '--disk: "12XB" is not a size'],
    [['--disk', '1MiB'], '--disk: must be at least 64MiB'],
    [['--init', 'foo'], '--init: must be "busybox" or "systemd", got "foo"'],
    [['--accel', 'foo'], '--accel: must be "tcg" or "kvm", got "foo"'],
    [['--memory', '1'], '--memory: must be a whole number from 256 to 16384, got "1"'],
    [['--output', 'yaml'], '--output: must be "table" or "json", got "yaml"'],
    [
      ['--kernel-args', 'init=/bin/sh;reboot'],
      '--kernel-args: "init=/bin/sh;reboot" is not a kernel parameter',
    ],
  ])('lab up %j returns 2 with the field on stderr and runs nothing', async (opts, message) => {
    expect(await run('lab', 'up', ...opts)).toBe(EXIT_USAGE);
    expect(err.startsWith(`xlss: ${message}`)).toBe(true);
    expect(err.split('\n').filter(Boolean)).toHaveLength(1);
    expect(Lab.prototype.up).not.toHaveBeenCalled();
    expect(readdirSync(dir)).toEqual([]);
    expect(out).toBe('');
  });

  it('lab --dir <dir> up with a bad option runs nothing in that dir either', async () => {
    const other = join(dir, 'other');
    expect(await run('lab', '--dir', other, 'up', '--nodes', '0')).toBe(EXIT_USAGE);
    expect(existsSync(join(other, 'state.json'))).toBe(false);
    expect(Lab.prototype.up).not.toHaveBeenCalled();
  });

  it('refuses a --dir with a comma as a usage error', async () => {
    expect(await run('lab', '--dir', join(dir, 'a,b'), 'status')).toBe(EXIT_USAGE);
    expect(err).toMatch(/^xlss: --dir: /);
  });

  it('lab status without a lab is an operational error: returns 1 with the xlss: prefix', async () => {
    expect(await run('lab', 'status', '--dir', dir)).toBe(EXIT_FAILED);
    expect(err).toBe(`xlss: no lab is running in ${dir}; start one with "xlss lab up"\n`);
    expect(out).toBe('');
  });

  it('takes the lab directory from XLSS_LAB_DIR', async () => {
    expect(await run('lab', 'status')).toBe(EXIT_FAILED);
    expect(err).toContain(`no lab is running in ${dir};`);
  });

  it('lab exec --timeout must be a whole number (usage error)', async () => {
    expect(await run('lab', 'exec', '--timeout', 'soon', 'node1', '--', 'true')).toBe(EXIT_USAGE);
    expect(err).toBe('xlss: --timeout: must be a whole number of seconds, got "soon"\n');
  });

  it('main() builds the whole CLI', async () => {
    expect(await main(['node', 'xlss', '--version'])).toBe(EXIT_OK);
    expect(out).toBe(`${VERSION}\n`);
    expect(await main(['node', 'xlss', 'lab', 'status', '--dir', dir])).toBe(EXIT_FAILED);
  });
});

describe('exitCodeFor and printError', () => {
  it('maps usage and validation errors to 2, everything else to 1', () => {
    expect(exitCodeFor(new UsageError('x'))).toBe(EXIT_USAGE);
    expect(exitCodeFor(new ValidationError('--x', 'y'))).toBe(EXIT_USAGE);
    expect(exitCodeFor(new XlssError('ENOLAB', 'x'))).toBe(EXIT_FAILED);
    expect(exitCodeFor(new Error('x'))).toBe(EXIT_FAILED);
    expect(exitCodeFor('x')).toBe(EXIT_FAILED);
  });

  it('prints xlss: <message>, with a failed command’s stdout when it said nothing on stderr', () => {
    printError(new CommandError({ command: 'drbdadm', args: ['up', 'r0'], exitCode: 10, stdout: 'why\n' }));
    expect(err).toBe('xlss: drbdadm up r0 exited with 10\nwhy\n');
    err = '';
    printError(new CommandError({ command: 'lvs', args: [], exitCode: 5, stderr: 'bad', stdout: 'ignored' }));
    expect(err).toBe('xlss: lvs exited with 5: bad\n');
  });
});

describe('bin/xlss.js', () => {
  it('prints the version through the real binary', async () => {
    if (!existsSync(inProject('dist/cli/main.js')))
      throw new Error('dist/cli/main.js is missing: run "npm run build" first (npm test builds first)');
    const r = await execa(process.execPath, [inProject('bin/xlss.js'), '--version'], { reject: false });
    expect(r.stdout).toBe(VERSION);
    expect(r.exitCode).toBe(0);
  });

  it('exits 2 for an unknown command through the real binary', async () => {
    if (!existsSync(inProject('dist/cli/main.js')))
      throw new Error('dist/cli/main.js is missing: run "npm run build" first (npm test builds first)');
    const r = await execa(process.execPath, [inProject('bin/xlss.js'), 'nope'], { reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("unknown command 'nope'");
  });
});
