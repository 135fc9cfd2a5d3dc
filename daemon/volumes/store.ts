import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Type } from 'typebox';
import { Value } from 'typebox/value';
import writeFileAtomic from 'write-file-atomic';
import { NAME_PATTERN, VolumeSpec } from '../api/schemas.js';

/**
 * What the daemon keeps per volume under `<stateDir>/volumes/<name>.json`: the spec the
 * controller asked for, the newest epoch acted on, and the few facts no report can show
 * (whether this node already wiped the new LV, which config DRBD last adjusted to).
 */
export const VolumeRecord = Type.Object(
  {
    version: Type.Literal(1),
    name: Type.String({ pattern: NAME_PATTERN }),
    spec: VolumeSpec,
    epoch: Type.Integer({ minimum: 0 }),
    /** Set before the first teardown step; a restart finishes the delete. */
    deleting: Type.Boolean(),
    /** The new LV's two ends were zeroed (only ever done before create-md). */
    wiped: Type.Boolean(),
    /** sha256 of the `.res` DRBD was last brought up/adjusted with. */
    adjustedConfig: Type.Union([Type.String(), Type.Null()]),
    /** Sizes the DRBD device and the filesystem were last grown for. */
    drbdGrownTo: Type.Integer({ minimum: 0 }),
    fsGrownTo: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type VolumeRecord = Type.Static<typeof VolumeRecord>;

export function newRecord(name: string, spec: VolumeSpec): VolumeRecord {
  return {
    version: 1,
    name,
    spec,
    epoch: spec.epoch,
    deleting: false,
    wiped: false,
    adjustedConfig: null,
    drbdGrownTo: spec.sizeBytes,
    fsGrownTo: spec.sizeBytes,
  };
}

export interface LoadedRecords {
  records: Map<string, VolumeRecord>;
  /** Files that could not be read as a record, by volume name, with why. */
  broken: Map<string, string>;
}

const FILE = /^([a-z0-9]([a-z0-9-]{0,46}[a-z0-9])?)\.json$/;

/** One JSON file per volume, replaced atomically (write, fsync, rename). */
export class SpecStore {
  readonly dir: string;
  /** `<stateDir>/epoch/<name>`: the epoch as plain text, for the fence-peer handler (sh). */
  readonly epochDir: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'volumes');
    this.epochDir = join(stateDir, 'epoch');
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await mkdir(this.epochDir, { recursive: true, mode: 0o700 });
  }

  /** Every record; a corrupt file marks only its own volume broken. */
  async load(): Promise<LoadedRecords> {
    const records = new Map<string, VolumeRecord>();
    const broken = new Map<string, string>();
    for (const file of (await readdir(this.dir)).sort()) {
      const m = FILE.exec(file);
      if (!m) continue;
      const name = m[1] as string;
      try {
        const doc: unknown = JSON.parse(await readFile(join(this.dir, file), 'utf8'));
        const why = recordProblem(doc, name);
        if (why) broken.set(name, `${file}: ${why}`);
        else records.set(name, doc as VolumeRecord);
      } catch (err) {
        broken.set(name, `${file}: ${(err as Error).message}`);
      }
    }
    return { records, broken };
  }

  async write(record: VolumeRecord): Promise<void> {
    await writeFileAtomic(join(this.dir, `${record.name}.json`), `${JSON.stringify(record, null, 2)}\n`, {
      mode: 0o600,
      fsync: true,
    });
    await writeFileAtomic(join(this.epochDir, record.name), `${record.epoch}\n`, {
      mode: 0o600,
      fsync: true,
    });
  }

  async remove(name: string): Promise<void> {
    await rm(join(this.dir, `${name}.json`), { force: true });
    await rm(join(this.epochDir, name), { force: true });
  }
}

function recordProblem(doc: unknown, name: string): string | null {
  if (!Value.Check(VolumeRecord, doc)) {
    const first = Value.Errors(VolumeRecord, doc)[0];
    return first ? `${first.instancePath || '/'} ${first.message}` : 'not a volume record';
  }
  if (doc.name !== name) return `name "${doc.name}" does not match the file name`;
  return null;
}
