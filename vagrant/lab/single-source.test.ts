import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { inProject } from '../../common/paths.js';
import { DISK_SERIAL, diskById, LAB_SUBNET } from './config.js';
import { LAB_PACKAGES } from './prereq.js';

// Facts with one home in the code; the files that repeat them must agree, or this fails.
const read = (path: string) => readFileSync(inProject(path), 'utf8');

describe('one source for each fact', () => {
  it("README's package list is LAB_PACKAGES", () => {
    const m = /Debian\s+packages \(`([^`]+)`\)/.exec(read('README.md'));
    expect(m, 'README names the Debian packages in backticks').not.toBeNull();
    expect((m?.[1] ?? '').split(/\s+/).filter(Boolean).sort()).toEqual([...LAB_PACKAGES].sort());
  });

  it('.ci/run takes the package list from the CLI instead of its own copy', () => {
    const ci = read('.ci/run');
    expect(ci).toContain('node bin/xlss.js lab packages');
    for (const pkg of LAB_PACKAGES.filter((p) => p !== 'iproute2' && p !== 'cpio'))
      expect(ci, `.ci/run names ${pkg} itself`).not.toMatch(new RegExp(`\\b${pkg}\\b`));
  });

  it('the Vagrantfile uses the lab subnet and disk serials', () => {
    const vf = read('vagrant/Vagrantfile');
    expect(vf).toContain(`SUBNET = "${LAB_SUBNET}"`);
    expect(vf).toContain(`DATA_SERIAL = "${DISK_SERIAL.data}"`);
    expect(vf).toContain(`STATE_SERIAL = "${DISK_SERIAL.state}"`);
    expect(vf).toMatch(/serial: DATA_SERIAL/);
    expect(vf).toMatch(/serial: STATE_SERIAL/);
  });

  it('the guests and the Vagrant nodes find the state disk by the same id', () => {
    expect(read('vagrant/lab/guest/setup.sh')).toContain(`STATE=${diskById(DISK_SERIAL.state)}`);
    expect(read('vagrant/provision.sh')).toContain(`STATE=${diskById(DISK_SERIAL.state)}`);
  });

  it('the README gives the same addresses and disk path', () => {
    const readme = read('README.md');
    expect(readme).toContain(`\`${LAB_SUBNET}.11\``);
    expect(readme).toContain(`\`${LAB_SUBNET}.1\``);
    expect(readme).toContain(diskById(DISK_SERIAL.data));
  });
});
