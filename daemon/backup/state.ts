import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { XlssError } from '../../common/errors.js';
import { writeFileAtomic } from './files.js';

/** What the backup service keeps across restarts, in `<stateDir>/backups.json`. */
export interface BackupState {
  version: 1;
  /** When each volume's last scheduled or manual backup started (ms since epoch), success or not. */
  lastRun: Record<string, number>;
  /** When this node first scheduled each volume's policy: a cron schedule counts its slots from it. */
  firstSeen: Record<string, number>;
  /** ISO time of each volume's last successful backup from this node. */
  lastSuccess: Record<string, string>;
  /**
   * Volumes whose restore started and has not finished well: they may be restored into
   * again although they are no longer empty (the data in them is a broken restore).
   */
  restoring: Record<string, string>;
}

export function emptyState(): BackupState {
  return { version: 1, lastRun: {}, firstSeen: {}, lastSuccess: {}, restoring: {} };
}

export class BackupStateStore {
  private readonly file: string;
  constructor(
    private readonly stateDir: string,
    private readonly nodeName: string,
  ) {
    this.file = join(stateDir, 'backups.json');
  }

  async load(): Promise<BackupState> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
      throw err;
    }
    return parseState(text, this.file);
  }

  async save(state: BackupState): Promise<void> {
    await mkdir(this.stateDir, { recursive: true });
    await writeFileAtomic(this.file, `${JSON.stringify(state, null, 2)}\n`, this.nodeName);
  }
}

function parseState(text: string, file: string): BackupState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new XlssError('ESTATE', `${file}: not JSON: ${(err as Error).message}`);
  }
  const r = raw as Partial<BackupState> | null;
  if (r?.version !== 1 || !isRecord(r.lastRun, 'number') || !isRecord(r.lastSuccess, 'string'))
    throw new XlssError('ESTATE', `${file}: not a backup state file (version 1)`);
  const restoring = r.restoring ?? {};
  const firstSeen = r.firstSeen ?? {};
  if (!isRecord(restoring, 'string') || !isRecord(firstSeen, 'number'))
    throw new XlssError('ESTATE', `${file}: bad "restoring" or "firstSeen"`);
  return { version: 1, lastRun: r.lastRun, firstSeen, lastSuccess: r.lastSuccess, restoring };
}

function isRecord(v: unknown, type: 'number' | 'string'): v is Record<string, never> {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    Object.values(v).every((x) => typeof x === type)
  );
}
