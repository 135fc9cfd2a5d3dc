import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../common/errors.js';
import { silentLogger } from '../../common/log.js';
import { Lvm } from '../../lvm/lvm.js';
import { FakeLvmRunner, FakeVolumes } from './fakes.test-helpers.js';
import { checkPolicy, nextRunAt } from './policy.js';
import { planQueue } from './schedule.js';
import { createBackupService } from './service.js';

const H = 3600_000;
const T0 = Date.parse('2026-11-30T12:00:00.000Z');

describe('checkPolicy', () => {
  it('wants exactly one of intervalSeconds and cron, and names the field', () => {
    expect(() => checkPolicy({ retain: 3, target: '/b' })).toThrow(/exactly one of intervalSeconds or cron/);
    expect(() => checkPolicy({ retain: 3, target: '/b', intervalSeconds: 600, cron: '0 3 * * *' })).toThrow(
      ValidationError,
    );
    expect(() => checkPolicy({ retain: 3, target: '/b', cron: '99 * * * *' })).toThrow(/backup\.cron/);
    expect(() => checkPolicy({ retain: 3, target: '/b/../etc', intervalSeconds: 600 })).toThrow(
      /backup\.target/,
    );
    expect(() => checkPolicy({ retain: 0, target: '/b', intervalSeconds: 600 })).toThrow(/backup\.retain/);
    expect(() => checkPolicy({ retain: 1, target: '/b', intervalSeconds: 59 })).toThrow(/intervalSeconds/);
    expect(checkPolicy({ retain: 2, target: '/b/', cron: '0 3 * * *' }).target).toBe('/b');
  });
});

describe('nextRunAt', () => {
  const hourly = checkPolicy({ retain: 1, target: '/b', intervalSeconds: 3600 }).schedule;
  const at3 = checkPolicy({ retain: 1, target: '/b', cron: '0 3 * * *' }).schedule;

  it('interval: due at once when never run, then one interval after the last run', () => {
    expect(nextRunAt(hourly, null, T0)).toBe(T0);
    expect(nextRunAt(hourly, T0 - 10 * 60_000, T0)).toBe(T0 + 50 * 60_000);
  });

  it('cron: the first slot after the last run (UTC); never run: the next slot', () => {
    expect(new Date(nextRunAt(at3, null, T0)).toISOString()).toBe('2026-12-01T03:00:00.000Z');
    expect(new Date(nextRunAt(at3, T0, T0)).toISOString()).toBe('2026-12-01T03:00:00.000Z');
  });

  it('many missed slots collapse into one run now, and the next is counted from it', () => {
    const down = T0 + 10 * 24 * H; // ten days, ten cron slots and 240 hourly slots missed
    expect(nextRunAt(hourly, T0, down)).toBe(down);
    expect(nextRunAt(at3, T0, down)).toBe(down);
    expect(nextRunAt(hourly, down, down)).toBe(down + H);
  });
});

describe('planQueue', () => {
  it('orders volumes by next run time, then by name', () => {
    const p = (intervalSeconds: number) => checkPolicy({ retain: 1, target: '/b', intervalSeconds });
    const q = planQueue(
      [
        { volume: 'c', policy: p(7200) },
        { volume: 'a', policy: p(3600) },
        { volume: 'b', policy: p(3600) },
        { volume: 'd', policy: p(600) },
      ],
      { a: T0 - 30 * 60_000, b: T0 - 30 * 60_000, c: T0 - 7000_000, d: T0 },
      T0,
    );
    expect(q.map((e) => [e.volume, e.dueAt - T0])).toEqual([
      ['c', 200_000],
      ['d', 600_000],
      ['a', 1800_000],
      ['b', 1800_000],
    ]);
  });
});

describe('the backup queue in the service (injected clock)', () => {
  let dir: string;
  let clock: number;
  const MiB = 1024 * 1024;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'xlss-bq-'));
    clock = T0;
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function setup() {
    const runner = new FakeLvmRunner('xlss');
    const volumes = new FakeVolumes();
    for (const name of ['hourly', 'nightly', 'other']) {
      await writeFile(join(dir, `${name}.dev`), Buffer.alloc(4 * MiB, name.length));
      runner.addLv({ name, sizeBytes: 5 * MiB, thin: true });
    }
    const target = join(dir, 'target');
    volumes.set('hourly', {
      spec: { sizeBytes: 4 * MiB, backup: { intervalSeconds: 3600, retain: 50, target } },
    });
    volumes.set('nightly', {
      spec: { sizeBytes: 4 * MiB, backup: { cron: '0 3 * * *', retain: 50, target } },
    });
    // Secondary here: its Primary elsewhere backs it up.
    volumes.set('other', {
      role: 'Secondary',
      spec: { sizeBytes: 4 * MiB, backup: { intervalSeconds: 600, retain: 5, target } },
    });
    const svc = createBackupService({
      volumes,
      lvm: new Lvm({ runner }),
      runner,
      log: silentLogger,
      registry: new Registry(),
      config: { vg: 'xlss', stateDir: join(dir, 'state'), nodeName: 'node1' },
      now: () => clock,
      lvDevice: (_vg, lv) => join(dir, `${lv.replace('xlssbk_', '')}.dev`),
    });
    const count = async (v: string) => (await svc.list(v, target)).length;
    return { svc, runner, count };
  }

  it('runs what is due, once per missed period after downtime, and only Primary volumes', async () => {
    const a = await setup();
    expect((await a.svc.queue()).map((e) => e.volume)).toEqual(['hourly', 'nightly']);
    await a.svc.tick();
    expect(await a.count('hourly')).toBe(1);
    expect(await a.count('nightly')).toBe(0);
    expect(await a.count('other')).toBe(0);
    // Nothing is due again half an hour later.
    clock += 30 * 60_000;
    await a.svc.tick();
    expect(await a.count('hourly')).toBe(1);
    const state = JSON.parse(await readFile(join(dir, 'state', 'backups.json'), 'utf8'));
    expect(state.lastRun.hourly).toBe(T0);

    // The daemon is down for three days: 72 hourly and 3 nightly slots pass unseen.
    clock = T0 + 72 * H;
    const b = await setup();
    const q = await b.svc.queue();
    expect(q.map((e) => [e.volume, e.dueAt])).toEqual([
      ['hourly', clock],
      ['nightly', clock],
    ]);
    await b.svc.tick();
    expect(await b.count('hourly')).toBe(2);
    expect(await b.count('nightly')).toBe(1);
    await b.svc.tick();
    expect(await b.count('hourly')).toBe(2);
    expect(await b.count('nightly')).toBe(1);
    expect((await b.svc.queue()).map((e) => [e.volume, e.dueAt - clock])).toEqual([
      ['hourly', H],
      ['nightly', Date.parse('2026-12-04T03:00:00Z') - clock],
    ]);
  });

  it('overlapping passes back a due volume up once; a run-now during a pass is not repeated by it', async () => {
    const a = await setup();
    await a.svc.queue(); // first seen now; the nightly slot comes 15 h later
    clock += 16 * H;
    let release = () => {};
    a.runner.holdSnapshotOf.set('hourly', new Promise((r) => (release = r)));
    const pass = a.svc.tick();
    while (!a.svc.activeJob('hourly')) await new Promise((r) => setTimeout(r, 1));
    // While the pass backs up "hourly", an operator backs up "nightly" by hand.
    clock += 1000;
    await a.svc.runNow('nightly');
    while (a.svc.activeJob('nightly')) await new Promise((r) => setTimeout(r, 1));
    clock += 1000;
    release();
    await Promise.all([pass, a.svc.tick(), a.svc.tick()]);
    await a.svc.idle();
    expect(await a.count('hourly')).toBe(1);
    expect(await a.count('nightly')).toBe(1);
  });
});
