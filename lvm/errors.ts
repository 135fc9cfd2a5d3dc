import { XlssError } from '../common/errors.js';
import type { CommandError } from '../common/runner.js';

/** What an LVM "not found" message was about. */
export type LvmObjectKind = 'vg' | 'lv' | 'pv' | 'device' | 'pool' | 'origin';

interface CommandFacts {
  command: string;
  args: readonly string[];
  exitCode: number | undefined;
  stderr: string;
}

/** An LVM command failed. Carries what ran, the exit code and LVM's own (trimmed) words. */
export class LvmError extends XlssError {
  readonly command: string;
  readonly args: readonly string[];
  readonly exitCode: number | undefined;
  readonly stderr: string;

  constructor(facts: CommandFacts, message?: string, code = 'ELVM', options?: { cause?: unknown }) {
    super(
      code,
      message ?? `${facts.command} failed (exit ${facts.exitCode ?? 'none'}): ${facts.stderr}`,
      options,
    );
    this.command = facts.command;
    this.args = facts.args;
    this.exitCode = facts.exitCode;
    this.stderr = facts.stderr;
  }
}

export class LvmNotFoundError extends LvmError {
  readonly kind: LvmObjectKind;
  /** The name as LVM printed it, e.g. `vg`, `vg/lv` or `/dev/vdb`. */
  readonly object: string;
  constructor(facts: CommandFacts, kind: LvmObjectKind, object: string, options?: { cause?: unknown }) {
    super(
      facts,
      `${kindLabel[kind]} ${object} not found (${facts.command}: ${facts.stderr})`,
      'ELVM_NOT_FOUND',
      options,
    );
    this.kind = kind;
    this.object = object;
  }
}

export class LvmAlreadyExistsError extends LvmError {
  readonly kind: LvmObjectKind;
  readonly object: string;
  constructor(facts: CommandFacts, kind: LvmObjectKind, object: string, options?: { cause?: unknown }) {
    super(
      facts,
      `${kindLabel[kind]} ${object} already exists (${facts.command}: ${facts.stderr})`,
      'ELVM_EXISTS',
      options,
    );
    this.kind = kind;
    this.object = object;
  }
}

export class LvmInsufficientSpaceError extends LvmError {
  constructor(facts: CommandFacts, options?: { cause?: unknown }) {
    super(facts, `not enough space (${facts.command}: ${facts.stderr})`, 'ELVM_NO_SPACE', options);
  }
}

/** xlss declined to act on its own: not its LV, a shrink, or a removal that would take others with it. */
export class LvmRefusedError extends XlssError {
  constructor(message: string) {
    super('ELVM_REFUSED', message);
  }
}

/** A report (`vgs`/`lvs`/`pvs` JSON) that is not what we asked for: names the report, row and field. */
export class LvmReportError extends XlssError {
  readonly report: string;
  constructor(report: string, message: string) {
    super('ELVM_REPORT', `${report} report: ${message}`);
    this.report = report;
  }
}

const kindLabel: Record<LvmObjectKind, string> = {
  vg: 'volume group',
  lv: 'logical volume',
  pv: 'physical volume',
  device: 'device',
  pool: 'thin pool',
  origin: 'snapshot origin',
};

type Rule =
  | { re: RegExp; make: 'notFound'; kind: LvmObjectKind; join?: boolean }
  | { re: RegExp; make: 'exists'; kind: LvmObjectKind; join?: boolean }
  | { re: RegExp; make: 'space' };

// Messages as LVM 2.03 prints them (see test/fixtures/lvm/errors/). Where a message
// names the VG separately, `join` rebuilds `vg/lv` so callers see one form.
const RULES: readonly Rule[] = [
  { re: /Volume group "([^"]+)" not found/, make: 'notFound', kind: 'vg' },
  { re: /Failed to find logical volume "([^"]+)"/, make: 'notFound', kind: 'lv' },
  {
    re: /Logical volume (\S+) not found in volume group (\S+?)\.?$/m,
    make: 'notFound',
    kind: 'lv',
    join: true,
  },
  {
    re: /Existing logical volume "([^"]+)" not found in volume group "([^"]+)"/,
    make: 'notFound',
    kind: 'lv',
    join: true,
  },
  {
    re: /Snapshot origin LV (\S+) not found in Volume group (\S+?)\.?$/m,
    make: 'notFound',
    kind: 'origin',
    join: true,
  },
  { re: /Pool (\S+) not found in Volume group (\S+?)\.?$/m, make: 'notFound', kind: 'pool', join: true },
  { re: /No device found for (\S+?)\.?$/m, make: 'notFound', kind: 'device' },
  { re: /Failed to find physical volume "([^"]+)"/, make: 'notFound', kind: 'pv' },
  {
    re: /Logical Volume "([^"]+)" already exists in volume group "([^"]+)"/i,
    make: 'exists',
    kind: 'lv',
    join: true,
  },
  {
    re: /Logical volume (\S+) already exists in Volume group (\S+?)\.?$/im,
    make: 'exists',
    kind: 'lv',
    join: true,
  },
  { re: /A volume group called (\S+) already exists/, make: 'exists', kind: 'vg' },
  { re: /has insufficient free space/, make: 'space' },
  { re: /Insufficient free space/, make: 'space' },
  { re: /Insufficient suitable allocatable extents/, make: 'space' },
  { re: /free space in thin pool \S+ reached threshold/, make: 'space' },
];

/**
 * LVM exits 5 (ECMD_FAILED) for the failures callers act on; other codes (3: bad command
 * line, timeouts, signals) stay generic even if a message looks familiar, so a parse error
 * that happens to quote a name is never mistaken for "not found".
 */
const CLASSIFIED_EXIT_CODE = 5;

/** Turns a failed LVM command into the most specific error its exit code and stderr support. */
export function classifyLvmError(err: CommandError): LvmError {
  const facts: CommandFacts = {
    command: err.command,
    args: err.args,
    exitCode: err.exitCode,
    stderr: err.stderr,
  };
  if (err.exitCode !== CLASSIFIED_EXIT_CODE || err.timedOut || err.aborted) {
    return new LvmError(facts, undefined, 'ELVM', { cause: err });
  }
  for (const rule of RULES) {
    const m = rule.re.exec(err.stderr);
    if (!m) continue;
    if (rule.make === 'space') return new LvmInsufficientSpaceError(facts, { cause: err });
    const object = rule.join ? `${m[2]}/${m[1]}` : (m[1] ?? '');
    return rule.make === 'notFound'
      ? new LvmNotFoundError(facts, rule.kind, object, { cause: err })
      : new LvmAlreadyExistsError(facts, rule.kind, object, { cause: err });
  }
  return new LvmError(facts, undefined, 'ELVM', { cause: err });
}
