import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { inProject } from '../../common/paths.js';
import { FAILOVER_TIMELINE } from './helpers/cluster.js';

const dir = '/var/tmp/xlss-lab-test-demo';
const XLSS = inProject('bin/xlss.js');

// Whatever happened (a timeout kills the demo midway), its lab goes.
afterAll(async () => {
  const down = await execa(process.execPath, [XLSS, 'lab', '--dir', dir, 'down'], { reject: false });
  if (down.exitCode !== 0) throw new Error(`lab down failed: ${down.stderr}`);
}, 120_000);

// The main job (`npm start`), end to end through the CLI: real guests, a real crash.
describe('xlss lab demo', () => {
  it('fails over after a crash of the Primary without losing an acknowledged write', async () => {
    const r = await execa(process.execPath, [XLSS, 'lab', '--dir', dir, 'demo'], {
      reject: false,
      // Killed before the test's own timeout, so it never outlives the test.
      timeout: 570_000,
      forceKillAfterDelay: 5000,
      env: { XLSS_LAB_INSTALL: process.env.XLSS_LAB_INSTALL ?? '' },
    });
    expect(r.timedOut, 'the demo did not finish in 570 s').toBe(false);
    const last = r.stdout.trim().split('\n').at(-1) ?? '';
    expect(last, r.stderr).toMatch(
      /^xlss demo: ok failover_s=\d+\.\d acknowledged_lost=0 redundancy_restored=yes$/,
    );
    expect(r.exitCode).toBe(0);
    // What the demo says it did, it did: writes acknowledged before the crash, all found.
    const crashed = /crashed (node\d) with (\d+) writes acknowledged/.exec(r.stderr);
    expect(Number(crashed?.[2])).toBeGreaterThan(0);
    // The controller did the failover (the demo only crashed the node), in this order.
    const order = FAILOVER_TIMELINE;
    const at = order.map((type) => r.stderr.indexOf(` ${type} `));
    expect(
      at.every((i) => i > 0),
      r.stderr,
    ).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(r.stderr).toMatch(/(node\d) is UpToDate: two replicas again/);
    // The lab stays up for a look, and the demo says how to end it.
    expect(r.stderr).toContain(`xlss lab --dir ${dir} down`);
    expect(existsSync(dir)).toBe(true);
  }, 600_000);
});
