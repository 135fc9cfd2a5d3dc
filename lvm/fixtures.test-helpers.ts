import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CommandError } from '../common/runner.js';

const dir = fileURLToPath(new URL('../test/fixtures/lvm/', import.meta.url));

export function fixturePath(name: string): string {
  return `${dir}${name}`;
}

export function fixture(name: string): string {
  return readFileSync(fixturePath(name), 'utf8');
}

export interface CapturedFailure {
  command: string;
  args: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A failure captured from real LVM (test/fixtures/lvm/errors/). */
export function capturedFailure(name: string): CapturedFailure {
  return JSON.parse(fixture(`errors/${name}.json`)) as CapturedFailure;
}

export function commandErrorFrom(c: CapturedFailure): CommandError {
  return new CommandError({
    command: c.command,
    args: c.args,
    exitCode: c.exitCode,
    stderr: c.stderr,
    stdout: c.stdout,
  });
}
