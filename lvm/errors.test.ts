import { describe, expect, it } from 'vitest';
import { CommandError } from '../common/runner.js';
import {
  classifyLvmError,
  LvmAlreadyExistsError,
  LvmError,
  LvmInsufficientSpaceError,
  LvmNotFoundError,
} from './errors.js';
import { capturedFailure, commandErrorFrom } from './fixtures.test-helpers.js';

function classify(name: string): LvmError {
  return classifyLvmError(commandErrorFrom(capturedFailure(name)));
}

describe('classifyLvmError on real LVM 2.03.16 failures', () => {
  it.each([
    ['lvs-vg-not-found', 'vg', 'nosuchvg'],
    ['lvremove-vg-not-found', 'vg', 'nosuchvg'],
    ['lvs-lv-not-found', 'lv', 'capvg/nosuch'],
    ['lvremove-lv-not-found', 'lv', 'capvg/nosuch'],
    ['lvchange-lv-not-found', 'lv', 'capvg/nosuch'],
    ['lvextend-lv-not-found', 'lv', 'capvg/nosuch'],
    ['lvrename-source-missing', 'lv', 'capvg/nosuch'],
    ['lvcreate-snapshot-origin-missing', 'origin', 'capvg/nosuch'],
    ['lvcreate-thin-pool-missing', 'pool', 'capvg/pool'],
    ['vgcreate-no-device', 'device', '/dev/nosuchdev'],
    ['pvcreate-no-device', 'device', '/dev/nosuchdev'],
    // Lab captures (real device-mapper, no "Activation disabled" preamble).
    ['lab/lvs-lv-not-found', 'lv', 'xlss/nosuch'],
    ['lab/lvs-vg-not-found', 'vg', 'nosuchvg'],
    ['lab/vgs-vg-not-found', 'vg', 'nosuchvg'],
    ['lab/lvcreate-vg-not-found', 'vg', 'nosuchvg'],
    ['lab/lvremove-lv-not-found', 'lv', 'xlss/nosuch'],
    ['lab/lvremove-vg-not-found', 'vg', 'nosuchvg'],
    ['lab/lvchange-lv-not-found', 'lv', 'xlss/nosuch'],
    ['lab/lvextend-lv-not-found', 'lv', 'xlss/nosuch'],
    ['lab/lvrename-source-missing', 'lv', 'xlss/nosuch'],
    ['lab/lvcreate-snapshot-origin-missing', 'origin', 'xlss/nosuch'],
    ['lab/lvcreate-thin-snapshot-origin-missing', 'origin', 'xlss/nosuch'],
    ['lab/lvcreate-thin-pool-missing', 'pool', 'xlss/nopool'],
  ])('%s is LvmNotFoundError(%s %s)', (name, kind, object) => {
    const err = classify(name);
    expect(err).toBeInstanceOf(LvmNotFoundError);
    expect(err).toMatchObject({ kind, object, exitCode: 5, code: 'ELVM_NOT_FOUND' });
  });

  it.each([
    ['lvcreate-lv-exists', 'lv', 'capvg/vol1'],
    ['lvrename-target-exists', 'lv', 'capvg/vol1'],
    ['vgcreate-vg-exists', 'vg', 'capvg'],
    ['lab/lvcreate-lv-exists', 'lv', 'xlss/thick1'],
    ['lab/lvrename-target-exists', 'lv', 'xlss/thick1'],
  ])('%s is LvmAlreadyExistsError(%s %s)', (name, kind, object) => {
    const err = classify(name);
    expect(err).toBeInstanceOf(LvmAlreadyExistsError);
    expect(err).toMatchObject({ kind, object });
  });

  it.each([
    'lvcreate-vg-insufficient',
    'lvextend-insufficient',
    'lvcreate-pv-not-allocatable',
    'lab/lvcreate-vg-insufficient',
    'lab/lvextend-insufficient',
    'lab/lvcreate-thin-pool-too-big',
  ])('%s is LvmInsufficientSpaceError', (name) => {
    expect(classify(name)).toBeInstanceOf(LvmInsufficientSpaceError);
  });

  it.each([
    'lvextend-same-size',
    'lvextend-smaller',
    'pvcreate-in-vg',
    'lvchange-bad-tag',
    'lvcreate-no-device-mapper',
    'lab/lvextend-same-size',
    'lab/pvcreate-in-vg',
    // With /dev/<vg> present, vgcreate fails on the directory (exit 3), not the name.
    'lab/vgcreate-vg-exists',
    // Growing an active snapshot origin: refused by LVM, not a space problem.
    'lab/lvextend-active-origin',
  ])('%s stays a generic LvmError carrying command, exit code and trimmed stderr', (name) => {
    const c = capturedFailure(name);
    const err = classify(name);
    expect(err.constructor).toBe(LvmError);
    expect(err).toMatchObject({
      command: c.command,
      args: c.args,
      exitCode: c.exitCode,
      stderr: c.stderr.trim(),
    });
  });
});

describe('what real LVM does not fail on', () => {
  it.each(['lab/lvcreate-thin-overcommit', 'lab/lvcreate-snapshot-cow-capped'])(
    '%s succeeds (exit 0) with only a warning',
    (name) => {
      expect(capturedFailure(name).exitCode).toBe(0);
    },
  );
});

describe('classifyLvmError needs exit code and message', () => {
  const notFound = '  Volume group "vg0" not found\n  Cannot process volume group vg0\n';
  it('classifies by message only when LVM exited 5', () => {
    const err = (exitCode: number) =>
      new CommandError({ command: 'lvs', args: [], exitCode, stderr: notFound });
    expect(classifyLvmError(err(5))).toBeInstanceOf(LvmNotFoundError);
    expect(classifyLvmError(err(3)).constructor).toBe(LvmError);
    expect(classifyLvmError(err(1)).constructor).toBe(LvmError);
  });

  it('never classifies a timeout', () => {
    const err = new CommandError({ command: 'lvs', args: [], exitCode: 5, stderr: notFound, timedOut: true });
    expect(classifyLvmError(err).constructor).toBe(LvmError);
  });

  it.each([
    [
      'Insufficient suitable allocatable extents for logical volume lv1: 516 more required',
      LvmInsufficientSpaceError,
    ],
    [
      'Cannot create new thin volume, free space in thin pool vg0/pool reached threshold.',
      LvmInsufficientSpaceError,
    ],
    ['Logical volume pool already exists in Volume group vg0.', LvmAlreadyExistsError],
    ['Failed to find physical volume "/dev/vdc".', LvmNotFoundError],
  ])('classifies documented message %s', (stderr, type) => {
    expect(
      classifyLvmError(new CommandError({ command: 'lvcreate', args: [], exitCode: 5, stderr })),
    ).toBeInstanceOf(type);
  });

  it('keeps the VG of a pool message', () => {
    const err = classifyLvmError(
      new CommandError({
        command: 'lvcreate',
        args: [],
        exitCode: 5,
        stderr: 'Logical volume pool already exists in Volume group vg0.',
      }),
    );
    expect(err).toMatchObject({ kind: 'lv', object: 'vg0/pool' });
  });
});
