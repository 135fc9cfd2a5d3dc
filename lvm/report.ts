import { decodeLvAttr, type LvAttr } from './attr.js';
import { LvmReportError } from './errors.js';

// Pure parsers of `vgs|lvs|pvs --reportformat json --units b --nosuffix -o <FIELDS>`.
// The field lists live here so the command and its parser can never disagree.

export const VG_FIELDS = [
  'vg_uuid',
  'vg_name',
  'vg_attr',
  'vg_size',
  'vg_free',
  'vg_extent_size',
  'vg_extent_count',
  'vg_free_count',
  'pv_count',
  'lv_count',
  'snap_count',
  'vg_tags',
] as const;

export const LV_FIELDS = [
  'lv_uuid',
  'lv_name',
  'vg_name',
  'lv_path',
  'lv_attr',
  'lv_size',
  'lv_tags',
  'pool_lv',
  'origin',
  'origin_size',
  'data_percent',
  'snap_percent',
  'metadata_percent',
  'lv_active',
] as const;

export const PV_FIELDS = [
  'pv_uuid',
  'pv_name',
  'vg_name',
  'pv_attr',
  'pv_size',
  'pv_free',
  'dev_size',
  'pv_tags',
] as const;

export interface VgInfo {
  uuid: string;
  name: string;
  attr: string;
  sizeBytes: bigint;
  freeBytes: bigint;
  extentBytes: bigint;
  extentCount: number;
  freeExtentCount: number;
  pvCount: number;
  lvCount: number;
  snapshotCount: number;
  tags: string[];
}

export interface LvInfo {
  uuid: string;
  name: string;
  vg: string;
  /** null for hidden LVs (pool data/metadata), which have no /dev path. */
  path: string | null;
  attr: LvAttr;
  sizeBytes: bigint;
  tags: string[];
  /** Thin LVs: their pool. */
  pool: string | null;
  /** Snapshots (COW and thin): what they were taken of. */
  origin: string | null;
  originSizeBytes: bigint | null;
  /** Percentages are null when LVM has none to give (not a pool/snapshot, or not active). */
  dataPercent: number | null;
  snapPercent: number | null;
  metadataPercent: number | null;
  /** null when LVM cannot tell (no device-mapper, clustered setups). */
  active: boolean | null;
}

export interface PvInfo {
  uuid: string;
  name: string;
  /** null for a PV in no VG. */
  vg: string | null;
  attr: string;
  sizeBytes: bigint;
  freeBytes: bigint;
  deviceSizeBytes: bigint;
  tags: string[];
}

type Row = Record<string, string>;

/** The rows of `key` (`vg`, `lv`, `pv`) as LVM printed them, envelope checked, rows not yet. */
function rawRows(text: string, key: string, report: string): { row: unknown; where: string }[] {
  if (text.trim() === '') throw new LvmReportError(report, 'output is empty');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new LvmReportError(report, `output is not valid JSON (truncated?): ${(err as Error).message}`);
  }
  if (!isObject(doc) || !Array.isArray(doc.report))
    throw new LvmReportError(report, 'expected {"report":[...]} at the top level');
  if (doc.report.length === 0) throw new LvmReportError(report, '"report" is an empty list');
  const rows: { row: unknown; where: string }[] = [];
  doc.report.forEach((section, s) => {
    if (!isObject(section) || !Array.isArray(section[key]))
      throw new LvmReportError(report, `report[${s}] has no "${key}" list`);
    (section[key] as unknown[]).forEach((row, r) => {
      rows.push({ row, where: `report[${s}].${key}[${r}]` });
    });
  });
  return rows;
}

function pickFields(row: unknown, where: string, fields: readonly string[], report: string): Row {
  if (!isObject(row)) throw new LvmReportError(report, `${where} is not an object`);
  const picked: Row = {};
  for (const f of fields) {
    const v = row[f];
    if (v === undefined) throw new LvmReportError(report, `${where} is missing field "${f}"`);
    if (typeof v !== 'string') throw new LvmReportError(report, `${where}.${f} is not a string`);
    picked[f] = v;
  }
  return picked;
}

/** Parses the JSON envelope and returns the rows of `key` (`vg`, `lv`, `pv`), every field checked. */
export function reportRows(text: string, key: string, fields: readonly string[], report: string): Row[] {
  return rawRows(text, key, report).map(({ row, where }) => pickFields(row, where, fields, report));
}

export function parseVgsReport(text: string): VgInfo[] {
  return reportRows(text, 'vg', VG_FIELDS, 'vgs').map((row, i) => {
    const f = new Fields(row, 'vgs', `vg[${i}]`);
    return {
      uuid: f.text('vg_uuid'),
      name: f.text('vg_name'),
      attr: f.text('vg_attr'),
      sizeBytes: f.bytes('vg_size'),
      freeBytes: f.bytes('vg_free'),
      extentBytes: f.bytes('vg_extent_size'),
      extentCount: f.count('vg_extent_count'),
      freeExtentCount: f.count('vg_free_count'),
      pvCount: f.count('pv_count'),
      lvCount: f.count('lv_count'),
      snapshotCount: f.count('snap_count'),
      tags: f.tags('vg_tags'),
    };
  });
}

export function parseLvsReport(text: string): LvInfo[] {
  return reportRows(text, 'lv', LV_FIELDS, 'lvs').map((row, i) => lvFromRow(row, `lv[${i}]`));
}

/** One row of an lvs report: the LV, or why it could not be read (and its name when known). */
export type LvRowResult = { ok: true; lv: LvInfo } | { ok: false; name: string | null; error: string };

/**
 * Like {@link parseLvsReport}, but a row LVM printed oddly (an lv_attr letter the decoder
 * does not know, a missing field) becomes an error for that row only, so one strange LV
 * never hides the others. A broken envelope (empty, truncated JSON) still throws.
 */
export function parseLvsReportRows(text: string): LvRowResult[] {
  return rawRows(text, 'lv', 'lvs').map(({ row, where }, i) => {
    try {
      return { ok: true, lv: lvFromRow(pickFields(row, where, LV_FIELDS, 'lvs'), `lv[${i}]`) };
    } catch (err) {
      const name = isObject(row) && typeof row.lv_name === 'string' ? row.lv_name : null;
      return { ok: false, name, error: (err as Error).message };
    }
  });
}

function lvFromRow(row: Row, where: string): LvInfo {
  const f = new Fields(row, 'lvs', where);
  return {
    uuid: f.text('lv_uuid'),
    name: f.text('lv_name'),
    vg: f.text('vg_name'),
    path: f.optional('lv_path'),
    attr: decodeLvAttr(f.text('lv_attr')),
    sizeBytes: f.bytes('lv_size'),
    tags: f.tags('lv_tags'),
    pool: f.optional('pool_lv'),
    origin: f.optional('origin'),
    originSizeBytes: f.optional('origin_size') === null ? null : f.bytes('origin_size'),
    dataPercent: f.percent('data_percent'),
    snapPercent: f.percent('snap_percent'),
    metadataPercent: f.percent('metadata_percent'),
    active: f.active('lv_active'),
  };
}

export function parsePvsReport(text: string): PvInfo[] {
  return reportRows(text, 'pv', PV_FIELDS, 'pvs').map((row, i) => {
    const f = new Fields(row, 'pvs', `pv[${i}]`);
    return {
      uuid: f.text('pv_uuid'),
      name: f.text('pv_name'),
      vg: f.optional('vg_name'),
      attr: f.text('pv_attr'),
      sizeBytes: f.bytes('pv_size'),
      freeBytes: f.bytes('pv_free'),
      deviceSizeBytes: f.bytes('dev_size'),
      tags: f.tags('pv_tags'),
    };
  });
}

/** Typed reads of one row; every error names the row and field. */
class Fields {
  constructor(
    private readonly row: Row,
    private readonly report: string,
    private readonly where: string,
  ) {}

  private raw(field: string): string {
    // reportRows guarantees presence; this only satisfies the index type.
    return this.row[field] ?? '';
  }

  private fail(field: string, message: string): never {
    throw new LvmReportError(this.report, `${this.where}.${field} ${message}`);
  }

  text(field: string): string {
    const v = this.raw(field);
    if (v === '') this.fail(field, 'is empty');
    return v;
  }

  optional(field: string): string | null {
    const v = this.raw(field);
    return v === '' ? null : v;
  }

  bytes(field: string): bigint {
    const v = this.raw(field);
    // --units b --nosuffix prints whole bytes; anything else means the flags were lost.
    if (!/^\d+$/.test(v)) this.fail(field, `"${v}" is not a whole number of bytes`);
    return BigInt(v);
  }

  count(field: string): number {
    const v = this.raw(field);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) this.fail(field, `"${v}" is not a count`);
    return Number(v);
  }

  percent(field: string): number | null {
    const v = this.raw(field);
    if (v === '') return null;
    if (!/^\d+(\.\d+)?$/.test(v)) this.fail(field, `"${v}" is not a percentage`);
    return Number(v);
  }

  tags(field: string): string[] {
    const v = this.raw(field);
    return v === '' ? [] : v.split(',');
  }

  active(field: string): boolean | null {
    const v = this.raw(field);
    if (v === 'active') return true;
    if (v === '') return false;
    return null;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
