import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConflictError } from '../../common/errors.js';
import { FakeCrash, FakeNode } from './fake-node.js';
import { renderVolumeResource } from './resource.js';
import { countSteadyPassCommands, sampleVolumeSpec, testEngineConfig } from './steady-pass.js';
import { startEngine, tempDir } from './test-helpers.js';

const MiB = 1024 * 1024;
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

async function engineOn(node: FakeNode, dir: string) {
  const e = await startEngine(node, dir);
  stops.push(() => e.engine.stop());
  return e;
}

const CHANGE = [
  'lvcreate',
  'lvextend',
  'lvremove',
  'dd',
  'drbdadm',
  'drbdsetup',
  'mkfs.ext4',
  'mkfs.xfs',
  'mount',
  'umount',
  'resize2fs',
  'mkdir',
];

describe('volume engine on a fake node', () => {
  it('provisions a replicated thin volume: LV, wipe, checked .res, create-md once, no initial sync, Primary, ext4 mounted', async () => {
    const node = new FakeNode();
    const dir = await tempDir();
    const { engine } = await engineOn(node, dir);
    const { created } = await engine.put('vol0', sampleVolumeSpec(0));
    expect(created).toBe(true);
    await engine.reconcileNow();
    const s = await engine.get('vol0');
    expect(s).toMatchObject({
      state: 'ready',
      error: null,
      observed: {
        drbd: { role: 'Primary', disk: 'UpToDate', peerDisk: 'UpToDate' },
        mount: { path: '/mnt/xlss/vol0', fstype: 'ext4' },
      },
    });
    const drbdadm = node.argsOf('drbdadm').map((a) => a.filter((x) => !x.startsWith('/')).join(' '));
    expect(drbdadm).toEqual([
      '-c dump vol0',
      '-c dump-md vol0',
      '-c create-md --force vol0',
      '-c up vol0',
      '-c get-gi vol0',
      '-c -- --clear-bitmap new-current-uuid vol0/0',
      '-c primary vol0',
    ]);
    // Never a forced promotion and never a full sync for a brand-new thin pair.
    expect(drbdadm.some((a) => a.startsWith('-c primary --force'))).toBe(false);
    expect(node.count('mkfs.ext4')).toBe(1);
    expect(node.violations).toEqual([]);
    const live = await readFile(join(dir, 'drbd.d', 'vol0.res'), 'utf8');
    expect(live).toBe(renderVolumeResource(testEngineConfig(dir), 'vol0', sampleVolumeSpec(0), '8.4')?.text);
    expect(live).toMatch(/fencing resource-and-stonith;/);
    expect(live).toMatch(/fence-peer "\/usr\/lib\/xlss\/xlss-fence-peer";/);
    expect(live).toMatch(/after-resync-target "\/usr\/lib\/xlss\/xlss-after-resync-target";/);
    expect(live).toMatch(/ping-timeout 5;[\s\S]*timeout 9;/);
    // put is idempotent.
    expect((await engine.put('vol0', sampleVolumeSpec(0))).created).toBe(false);
  });

  it('a PUT alone provisions (no reconcileNow): one LVM report, once DRBD is up; no vgs; every safety check', async () => {
    const node = new FakeNode();
    const dir = await tempDir();
    const { engine } = await engineOn(node, dir);
    const n = node.calls.length;
    await engine.put('vol0', sampleVolumeSpec(0));
    const t = Date.now();
    while ((await engine.get('vol0'))?.state !== 'ready') {
      if (Date.now() - t > 5000) throw new Error(`not ready: ${JSON.stringify(await engine.get('vol0'))}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const cmds = node.calls
      .slice(n)
      .map((c) => [c.command, ...c.args.filter((a) => !a.startsWith('/') && a !== '-c')].join(' '));
    // The pass the PUT starts reuses the report the engine read at start; the LV it
    // creates is read back once, after the steps that need no report (the wipe takes the
    // device's size from blockdev). The old engine ran vgs, lvs, lvcreate, lvs, lvs.
    expect(cmds.filter((c) => c.startsWith('vgs'))).toEqual([]);
    expect(cmds.filter((c) => c.startsWith('lvs'))).toHaveLength(1);
    expect(cmds.filter((c) => !c.startsWith('lvs')).map((c) => c.split(' ').slice(0, 2).join(' '))).toEqual([
      'lvcreate --yes',
      'blockdev --getsize64',
      'dd if=/dev/zero',
      'dd if=/dev/zero',
      'drbdadm dump',
      'drbdadm dump-md',
      'drbdadm create-md',
      'drbdadm up',
      'drbdadm get-gi',
      'drbdadm --',
      'drbdadm primary',
      'blkid -p',
      'mkfs.ext4 -q',
      'mkdir -p',
      'mount -t',
    ]);
    expect(cmds.findIndex((c) => c.startsWith('lvs'))).toBeGreaterThan(
      cmds.findIndex((c) => c.startsWith('drbdadm up')),
    );
    expect(node.violations).toEqual([]);
  });

  it('the wipe zeroes an LV end where its device ends, whatever an older LVM report said', async () => {
    const node = new FakeNode();
    const dir = await tempDir();
    const { engine } = await engineOn(node, dir);
    // lvcreate and the first dd of the wipe run, then the node "dies": the engine's last
    // report shows vol0 at 128 MiB, not wiped.
    node.crashAfter = 2;
    await engine.put('vol0', sampleVolumeSpec(0, { sizeBytes: 128 * MiB }));
    await new Promise((r) => setTimeout(r, 50));
    expect(node.argsOf('dd')).toHaveLength(2); // the second one "died"
    node.crashAfter = Number.POSITIVE_INFINITY;
    // Grown behind the engine's back: DRBD metadata would now sit at 256 MiB.
    const lv = node.lvs.get('vol0');
    if (lv) lv.sizeBytes = 256n * 1048576n;
    // A PUT's pass reuses the last report; the wipe must not trust its size.
    const n = node.calls.length;
    await engine.put('vol1', sampleVolumeSpec(1));
    await new Promise((r) => setTimeout(r, 50));
    const vol0Wipes = node.calls
      .slice(n)
      .filter((c) => c.command === 'dd' && c.args.includes('of=/dev/xlss/vol0'))
      .map((c) => c.args.find((a) => a.startsWith('seek=')) ?? 'head');
    expect(vol0Wipes).toEqual(['head', 'seek=248']);
  });

  it('a steady pass runs one LVM report and no change command, at 10 and 100 volumes', async () => {
    const ten = await countSteadyPassCommands(10);
    const hundred = await countSteadyPassCommands(100);
    expect(ten).toMatchObject({ commands: 1, changeCommands: 0 });
    expect(hundred).toMatchObject({ commands: 1, changeCommands: 0 });
  }, 60_000);

  it('converges after a crash at every command of provisioning: no orphan LV, no duplicate resource, no half-written config', async () => {
    // How many change commands a full provisioning takes.
    const probe = new FakeNode();
    const probeDir = await tempDir();
    const p = await engineOn(probe, probeDir);
    await p.engine.put('vol0', sampleVolumeSpec(0));
    await p.engine.reconcileNow();
    const total = probe.calls.filter((c) => CHANGE.includes(c.command)).length;
    expect(total).toBeGreaterThan(8);

    for (let cut = 0; cut < total; cut++) {
      const node = new FakeNode();
      const dir = await tempDir();
      node.crashAfter = cut;
      const first = await startEngine(node, dir);
      await first.engine.put('vol0', sampleVolumeSpec(0)).catch((e) => {
        if (!(e instanceof FakeCrash)) throw e;
      });
      await first.engine.reconcileNow().catch(() => undefined);
      await first.engine.stop();
      node.crashAfter = Number.POSITIVE_INFINITY;
      const { engine } = await engineOn(node, dir);
      await engine.put('vol0', sampleVolumeSpec(0));
      await engine.reconcileNow();
      const s = await engine.get('vol0');
      expect({ cut, state: s?.state, error: s?.error }).toEqual({ cut, state: 'ready', error: null });
      expect([...node.lvs.keys()]).toEqual(['vol0']);
      expect([...node.resources.keys()]).toEqual(['vol0']);
      expect(node.violations).toEqual([]);
      expect(node.count('mkfs.ext4')).toBeLessThanOrEqual(1);
      const files = await readdir(join(dir, 'drbd.d'));
      expect(files).toEqual(['vol0.res']);
      expect(await readFile(join(dir, 'drbd.d', 'vol0.res'), 'utf8')).toBe(
        renderVolumeResource(testEngineConfig(dir), 'vol0', sampleVolumeSpec(0), '8.4')?.text,
      );
    }
  }, 120_000);

  it('a restart after a crash as Primary renders a lost .res again, applies the activity log, never runs create-md on a disk with metadata, and never demotes or unmounts', async () => {
    const node = new FakeNode();
    const dir = await tempDir();
    const first = await startEngine(node, dir);
    await first.engine.put('vol0', sampleVolumeSpec(0));
    await first.engine.reconcileNow();
    await first.engine.stop();
    // Node crash: /etc is gone and DRBD is down; the LV (with its metadata) and the mount stay.
    await writeFile(join(dir, 'drbd.d', 'vol0.res'), '');
    const { rm } = await import('node:fs/promises');
    await rm(join(dir, 'drbd.d', 'vol0.res'));
    node.powerCut();
    const before = node.calls.length;
    const { engine } = await engineOn(node, dir);
    await engine.reconcileNow();
    const after = node.calls
      .slice(before)
      .map((c) => `${c.command} ${c.args.filter((a) => !a.startsWith('/')).join(' ')}`);
    expect(after).toContain('drbdadm -c dump-md vol0');
    // It crashed as Primary: drbdmeta calls the metadata unclean until the log is applied.
    expect(after).toContain('drbdadm -c apply-al vol0');
    expect(after.some((a) => a.includes('create-md'))).toBe(false);
    expect(after.some((a) => a.includes('clear-bitmap') || a.includes('--force'))).toBe(false);
    expect(after.some((a) => a.startsWith('mkfs'))).toBe(false);
    expect(await readFile(join(dir, 'drbd.d', 'vol0.res'), 'utf8')).toMatch(/resource vol0 \{/);
    expect((await engine.get('vol0'))?.state).toBe('ready');
    // Graceful stop and start on a converged node: no demote, no unmount, no change at all.
    await engine.stop();
    stops.pop();
    const n = node.calls.length;
    const again = await engineOn(node, dir);
    await again.engine.reconcileNow();
    expect(node.calls.slice(n).filter((c) => CHANGE.includes(c.command) && c.args[0] !== 'events2')).toEqual(
      [],
    );
  });

  it('refuses create-md when dump-md cannot tell (unknown answer), and wipes stale metadata of a new thick LV first', async () => {
    const node = new FakeNode();
    const dir = await tempDir();
    const { engine } = await engineOn(node, dir);
    await engine.put('thick', sampleVolumeSpec(1, { thin: false }));
    await engine.reconcileNow();
    // The fake thick LV came with old metadata at its end; the wipe removed it before create-md.
    expect(node.violations).toEqual([]);
    expect(node.argsOf('dd').map((a) => a.some((x) => x.startsWith('seek=')))).toEqual([false, true]);
    // Thick: a real initial sync from this (to-be-Primary) side, after checking the GI.
    expect(node.argsOf('drbdadm').some((a) => a.includes('primary') && a.includes('--force'))).toBe(true);
  });

  it("reports a thick volume's initial sync as progress", async () => {
    const node = new FakeNode();
    node.holdSync = true;
    const dir = await tempDir();
    const { engine } = await engineOn(node, dir);
    await engine.put('thick', sampleVolumeSpec(1, { thin: false, filesystem: null, mountPoint: null }));
    await engine.reconcileNow();
    const s = await engine.get('thick');
    expect(s?.state).toBe('syncing');
    expect(s?.progress).toMatchObject({ operation: 'resync', percent: 42.5 });
    expect(s?.observed.drbd?.syncPercent).toBe(42.5);
  });

  it('one odd row fails only its volume, named; the others converge', async () => {
    const node = new FakeNode();
    const dir = await tempDir();
    const { engine } = await engineOn(node, dir);
    await engine.put('good', sampleVolumeSpec(0));
    await engine.put('odd', sampleVolumeSpec(1));
    await engine.put('foreign', sampleVolumeSpec(2));
    node.lvs.set('foreign', {
      name: 'foreign',
      sizeBytes: 64n * 1048576n,
      thin: true,
      tags: [],
      hasMd: false,
      gi: '',
      fs: null,
    });
    await engine.reconcileNow();
    const odd = node.lvs.get('odd');
    if (odd) odd.attr = 'Xwi-a-tz--';
    await engine.reconcileNow();
    const byName = Object.fromEntries((await engine.list()).map((s) => [s.name, s]));
    expect(byName.good?.state).toBe('ready');
    expect(byName.odd?.state).toBe('failed');
    expect(byName.odd?.error).toMatch(/lv_attr "Xwi-a-tz--": unknown volume type "X"/);
    expect(byName.foreign?.state).toBe('failed');
    expect(byName.foreign?.error).toMatch(/not tagged "xlss"/);
    expect(node.argsOf('lvremove')).toEqual([]);
  });

  it('a corrupt record marks only that volume failed', async () => {
    const node = new FakeNode();
    const dir = await tempDir();
    const first = await startEngine(node, dir);
    await first.engine.put('good', sampleVolumeSpec(0));
    await first.engine.reconcileNow();
    await first.engine.stop();
    await writeFile(
      join(dir, 'state', 'volumes', 'bad.json'),
      '{"version":1,"name":"bad","spec":{"sizeBytes":"x"}',
    );
    const { engine } = await engineOn(node, dir);
    expect([...engine.brokenVolumes().keys()]).toEqual(['bad']);
    expect((await engine.get('good'))?.state).toBe('ready');
    await expect(engine.delete('bad', { force: true })).rejects.toThrow(/unreadable record/);
  });

  it('delete refuses while mounted or Primary, then tears down in order with force, and finishes without a .res', async () => {
    const node = new FakeNode();
    const dir = await tempDir();
    const { engine } = await engineOn(node, dir);
    await engine.put('vol0', sampleVolumeSpec(0));
    await engine.reconcileNow();
    const n = node.calls.length;
    await expect(engine.delete('vol0', { force: false })).rejects.toThrow(ConflictError);
    expect(node.calls.slice(n).filter((c) => CHANGE.includes(c.command))).toEqual([]);
    const { rm } = await import('node:fs/promises');
    await rm(join(dir, 'drbd.d', 'vol0.res'));
    await engine.delete('vol0', { force: true });
    const order = node.calls
      .slice(n)
      .filter((c) => CHANGE.includes(c.command))
      .map((c) => `${c.command} ${c.args.find((a) => !a.startsWith('-') && !a.startsWith('/')) ?? ''}`);
    expect(order).toEqual([
      'umount ',
      'drbdsetup secondary',
      'drbdsetup down',
      'dd if=/dev/zero',
      'dd if=/dev/zero',
      'lvremove xlss/vol0',
    ]);
    expect(node.lvs.size).toBe(0);
    expect(node.resources.size).toBe(0);
    expect(await engine.get('vol0')).toBeNull();
    expect(await readdir(join(dir, 'state', 'volumes'))).toEqual([]);
  });

  it('resize grows LV, then DRBD (thin: --assume-clean), then the filesystem; notices a lagging peer catch up with no event; refuses a shrink', async () => {
    const node = new FakeNode();
    const dir = await tempDir();
    const { engine } = await engineOn(node, dir);
    await engine.put('vol0', sampleVolumeSpec(0));
    await engine.reconcileNow();
    await expect(engine.resize('vol0', 32 * MiB)).rejects.toThrow(/shrinking/);
    node.peerLvBytes = 64n * BigInt(MiB);
    const n = node.calls.length;
    const s = await engine.resize('vol0', 128 * MiB);
    expect(s.error).toMatch(/not grown yet/);
    expect(node.count('resize2fs')).toBe(0);
    // The peer grows its LV and its resize grows the device here; events2 says nothing
    // and nobody calls reconcileNow: the engine's own retry must notice, within a second
    // (the old engine waited for the next periodic pass, an hour in this config).
    node.peerGrew('vol0');
    const deadline = Date.now() + 1000;
    while ((await engine.get('vol0'))?.state !== 'ready' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const order = node.calls
      .slice(n)
      .filter((c) => ['lvextend', 'drbdadm', 'resize2fs'].includes(c.command))
      .map((c) =>
        [c.command, ...c.args.filter((a) => !a.startsWith('/') && a !== '-c' && a !== '--')].join(' '),
      );
    // One resize command: the second look finds the device grown and runs none.
    expect(order).toEqual([
      'lvextend --size 134217728b xlss/vol0',
      'drbdadm --assume-clean resize vol0',
      'resize2fs',
    ]);
    expect(await engine.get('vol0')).toMatchObject({ state: 'ready', error: null });
  });

  it('deleting a Primary frozen by fencing fails its held writes (detach --force, resume-io), then unmounts and removes it', async () => {
    const node = new FakeNode();
    const dir = await tempDir();
    const { engine } = await engineOn(node, dir);
    await engine.put('vol0', sampleVolumeSpec(0));
    await engine.reconcileNow();
    // Cut off and failed over elsewhere: DRBD froze it, the controller denies, then cleans up.
    node.setPeerConnected('vol0', false);
    node.patch('vol0', { suspended: 'fencing' });
    await new Promise((r) => setTimeout(r, 20));
    await engine.delete('vol0', { force: true });
    const adm = node
      .argsOf('drbdadm')
      .map((a) => a.filter((x) => !x.startsWith('/') && x !== '-c').join(' '));
    const detach = adm.indexOf('detach --force vol0');
    expect(detach).toBeGreaterThanOrEqual(0);
    expect(adm.indexOf('resume-io vol0')).toBeGreaterThan(detach);
    expect(node.failedHeldWrites).toEqual(['vol0']);
    expect(node.violations).toEqual([]);
    expect(node.lvs.has('vol0')).toBe(false);
    expect(await engine.get('vol0')).toBeNull();
  });

  it('delete reads the LVM report only before and after removing the LV, not once per step', async () => {
    const node = new FakeNode();
    const dir = await tempDir();
    const { engine } = await engineOn(node, dir);
    await engine.put('vol0', sampleVolumeSpec(0));
    await engine.reconcileNow();
    await new Promise((r) => setTimeout(r, 400)); // the passes DRBD events started are over
    const n = node.calls.length;
    await engine.delete('vol0', { force: true });
    const cmds = node.calls.slice(n).map((c) => c.command);
    // unmount, demote, down, remove-lv, remove-config, forget: six steps; reports only
    // before them, inside lvremove's own checks (two) and after it (one). The old engine
    // read one before every step: eight.
    expect(cmds.filter((c) => c === 'lvs')).toHaveLength(4);
    expect(cmds.filter((c) => c !== 'lvs')).toEqual([
      'umount',
      'drbdadm',
      'drbdsetup',
      'blockdev',
      'dd',
      'dd',
      'lvremove',
    ]);
  });

  it('peerConnected follows DRBD live (events2), not the last pass', async () => {
    const node = new FakeNode();
    const dir = await tempDir();
    const { engine } = await engineOn(node, dir);
    await engine.put('vol0', sampleVolumeSpec(0));
    await engine.reconcileNow();
    expect(engine.peerConnected('vol0')).toBe(true);
    node.setPeerConnected('vol0', false);
    await new Promise((x) => setTimeout(x, 20));
    expect(engine.peerConnected('vol0')).toBe(false);
    node.setPeerConnected('vol0', true);
    await new Promise((x) => setTimeout(x, 20));
    expect(engine.peerConnected('vol0')).toBe(true);
    expect(engine.peerConnected('nosuch')).toBe(false);
  });

  it('shows a lost peer at once, while a pass holds the engine reading LVM', async () => {
    const node = new FakeNode();
    const dir = await tempDir();
    const { engine } = await engineOn(node, dir);
    await engine.put('vol0', sampleVolumeSpec(0));
    await engine.reconcileNow();
    expect((await engine.get('vol0'))?.observed.drbd?.connection).toBe('Connected');
    let release = () => {};
    node.lvmGate = new Promise<void>((r) => {
      release = r;
    });
    let pass: Promise<void> = Promise.resolve();
    try {
      const reports = node.count('lvs');
      // A full pass (the periodic one reads LVM afresh) is held in its report...
      pass = engine.reconcileNow();
      await new Promise((x) => setTimeout(x, 50));
      expect(node.count('lvs')).toBeGreaterThan(reports);
      // ...when the peer goes: the pass after this event has to wait for it.
      node.setPeerConnected('vol0', false);
      await new Promise((x) => setTimeout(x, 400));
      const [listed] = await engine.list();
      const got = await engine.get('vol0');
      for (const s of [listed, got]) {
        expect(s?.observed.drbd?.connection).toBe('Connecting');
        expect(s?.observed.drbd?.peerDisk).toBe('DUnknown');
        expect(s?.observed.drbd?.disk).toBe('UpToDate');
        expect(s?.observed.drbd?.role).toBe('Primary');
        expect(s?.state).toBe('degraded');
      }
    } finally {
      node.lvmGate = null;
      release();
      await pass;
    }
  });

  it('promote: 409 for a stale epoch, a Primary peer, a disk that is not UpToDate; --force only with peerFenced', async () => {
    const node = new FakeNode();
    const dir = await tempDir();
    const { engine } = await engineOn(node, dir);
    await engine.put('vol0', sampleVolumeSpec(0, { role: 'secondary', epoch: 5 }));
    await engine.reconcileNow();
    await expect(engine.promote('vol0', { epoch: 4 })).rejects.toThrow(/older/);
    const settle = () => new Promise((x) => setTimeout(x, 20));
    node.patch('vol0', { peerRole: 'Primary' });
    await settle();
    await expect(engine.promote('vol0', { epoch: 6 })).rejects.toThrow(/peer of "vol0" is Primary/);
    // The peer died; this disk is Outdated (it was fenced earlier): never promoted, even forced.
    node.setPeerConnected('vol0', false);
    node.patch('vol0', { disk: 'Outdated' });
    await settle();
    await expect(engine.promote('vol0', { epoch: 6, peerFenced: true })).rejects.toThrow(
      /Outdated, not UpToDate/,
    );
    node.patch('vol0', { disk: 'Inconsistent' });
    await settle();
    await expect(engine.promote('vol0', { epoch: 6, peerFenced: true })).rejects.toThrow(
      /Inconsistent, not UpToDate/,
    );
    expect(node.argsOf('drbdadm').some((a) => a.includes('primary'))).toBe(false);
    // UpToDate, peer gone, the controller fenced it: forced promotion.
    node.patch('vol0', { disk: 'UpToDate' });
    await settle();
    const s = await engine.promote('vol0', { epoch: 6, peerFenced: true });
    expect(s.observed.drbd?.role).toBe('Primary');
    expect(
      node
        .argsOf('drbdadm')
        .filter((a) => a.includes('primary'))
        .at(-1),
    ).toContain('--force');
    expect(s.epoch).toBe(6);
    expect((await readFile(join(dir, 'state', 'epoch', 'vol0'), 'utf8')).trim()).toBe('6');
    expect(s.observed.mount?.path).toBe('/mnt/xlss/vol0');
    expect(node.count('systemctl')).toBe(0);
    // 8.4 would run the fence-peer handler for the unknown peer: fencing is relaxed for
    // this promotion only, and `adjust` put resource-and-stonith back before the mount.
    const order = node.calls.map((c) => `${c.command} ${c.args.join(' ')}`);
    const relaxed = order.findIndex((c) => c.startsWith('drbdsetup disk-options') && c.includes('dont-care'));
    const promoted = order.findIndex((c) => c.includes('primary --force'));
    const adjusted = order.findIndex((c, i) => i > promoted && c.includes(' adjust '));
    const mounted = order.findIndex((c) => c.startsWith('mount '));
    expect(relaxed).toBeGreaterThanOrEqual(0);
    expect(relaxed).toBeLessThan(promoted);
    expect(adjusted).toBeGreaterThan(promoted);
    expect(adjusted).toBeLessThan(mounted);
    expect(node.resources.get('vol0')?.fencing).toBe('resource-and-stonith');
  });

  it('promote starts the workload unit once Primary and mounted (after the mount)', async () => {
    const node = new FakeNode();
    const dir = await tempDir();
    const { engine } = await engineOn(node, dir);
    await engine.put('vol0', sampleVolumeSpec(0, { role: 'secondary', epoch: 5 }));
    await engine.reconcileNow();
    node.setPeerConnected('vol0', false);
    node.patch('vol0', { disk: 'UpToDate' });
    await new Promise((x) => setTimeout(x, 20));
    const s = await engine.promote('vol0', { epoch: 6, peerFenced: true, workloadUnit: 'pg.service' });
    expect(s.observed.mount?.path).toBe('/mnt/xlss/vol0');
    const order = node.calls.filter((c) => ['mount', 'systemctl'].includes(c.command)).map((c) => c.command);
    expect(order).toEqual(['mount', 'systemctl']);
    expect(node.argsOf('systemctl')).toEqual([['start', '--no-block', 'pg.service']]);
  });

  it('a Primary frozen by fencing resumes I/O only once the controller allows, after the handler gave up', async () => {
    const node = new FakeNode();
    const dir = await tempDir();
    const answers: boolean[] = [];
    let allow = false;
    const { engine } = await startEngine(
      node,
      dir,
      {},
      {
        fence: {
          askController: async (volume, peer) => {
            answers.push(allow);
            expect({ volume, peer }).toEqual({ volume: 'vol0', peer: 'node2' });
            return allow
              ? { allow: true, reason: 'dead: node2 is offline by heartbeat' }
              : { allow: false, reason: 'node2 is suspect and not confirmed outdated' };
          },
        },
        retrySoonMs: 50,
      },
    );
    stops.push(() => engine.stop());
    await engine.put('vol0', sampleVolumeSpec(0));
    await engine.reconcileNow();
    const resumes = () => node.argsOf('drbdadm').filter((a) => a.includes('resume-io')).length;
    // The peer's node crashed: DRBD froze I/O and runs the handler, which is still asking.
    node.setPeerConnected('vol0', false);
    node.patch('vol0', { suspended: 'fencing' });
    node.helper('vol0', 'fence-peer');
    await new Promise((r) => setTimeout(r, 20));
    await engine.reconcileNow();
    expect(answers).toEqual([]);
    expect(await engine.get('vol0')).toMatchObject({
      state: 'degraded',
      observed: { drbd: { suspended: true } },
    });
    // The handler gave up (exit 1): the engine asks, hears "no", stays frozen, asks again.
    node.helper('vol0', 'fence-peer', 1);
    await new Promise((r) => setTimeout(r, 20));
    await engine.reconcileNow();
    await new Promise((r) => setTimeout(r, 300));
    expect(answers.length).toBeGreaterThanOrEqual(2);
    expect(answers.every((a) => a === false)).toBe(true);
    expect(resumes()).toBe(0);
    expect((await engine.get('vol0'))?.error).toMatch(/frozen.*not confirmed outdated/);
    // The controller declared the peer offline: the next question gets an allow.
    allow = true;
    await new Promise((r) => setTimeout(r, 300));
    expect(resumes()).toBe(1);
    expect(node.resources.get('vol0')?.suspended).toBe('no');
    const s = await engine.get('vol0');
    expect(s?.observed.drbd?.role).toBe('Primary');
    expect(s?.error).toBeNull();
  });

  it('demote unmounts then goes Secondary; outdate runs drbdadm outdate', async () => {
    const node = new FakeNode();
    const dir = await tempDir();
    const { engine } = await engineOn(node, dir);
    await engine.put('vol0', sampleVolumeSpec(0));
    await engine.reconcileNow();
    const s = await engine.demote('vol0', 2);
    expect(s.observed).toMatchObject({ mount: null, drbd: { role: 'Secondary' } });
    const o = await engine.outdate('vol0', 3);
    expect(o.observed.drbd?.disk).toBe('Outdated');
    expect(node.argsOf('drbdadm').at(-1)).toContain('outdate');
  });

  it('records command durations and volume gauges on the registry', async () => {
    const node = new FakeNode();
    const dir = await tempDir();
    const { engine, registry } = await engineOn(node, dir);
    await engine.put('vol0', sampleVolumeSpec(0));
    await engine.reconcileNow();
    const text = await registry.metrics();
    expect(text).toMatch(/xlss_daemon_command_duration_seconds_count\{command="lvcreate",outcome="ok"\} 1/);
    expect(text).toMatch(/xlss_daemon_volumes\{role="Primary",state="ready"\} 1/);
    expect(text).toMatch(/xlss_daemon_out_of_sync_bytes\{volume="vol0"\} 0/);
  });
});
