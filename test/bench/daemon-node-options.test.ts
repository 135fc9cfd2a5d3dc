import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { inProject } from '../../common/paths.js';
import { daemonNodeOptions } from './daemon-node-options.js';

describe('daemonNodeOptions', () => {
  it("reads the systemd unit's NODE_OPTIONS, plain or quoted", () => {
    expect(daemonNodeOptions('[Service]\nEnvironment=NODE_OPTIONS=--max-semi-space-size=1\n')).toEqual([
      '--max-semi-space-size=1',
    ]);
    expect(
      daemonNodeOptions('Environment="NODE_OPTIONS=--max-semi-space-size=1 --max-old-space-size=256"'),
    ).toEqual(['--max-semi-space-size=1', '--max-old-space-size=256']);
  });

  it('refuses a unit without exactly one such line, or with something that is not an option', () => {
    expect(() => daemonNodeOptions('[Service]\nExecStart=/usr/local/bin/xlss daemon\n')).toThrow(/found 0/);
    expect(() => daemonNodeOptions('Environment=NODE_OPTIONS=--a\nEnvironment=NODE_OPTIONS=--b')).toThrow(
      /found 2/,
    );
    expect(() => daemonNodeOptions('Environment=NODE_OPTIONS=--require=/tmp/x.js;rm')).toThrow(
      /"--require=\/tmp\/x.js;rm" is not a plain node option/,
    );
  });

  it("are the options the lab's launcher gives the daemon bundle", () => {
    const unit = readFileSync(inProject('systemd/xlss-daemon.service'), 'utf8');
    const launcher = readFileSync(inProject('vagrant/lab/guest/run-daemon.sh'), 'utf8');
    const options = daemonNodeOptions(unit);
    expect(options.length).toBeGreaterThan(0);
    expect(launcher).toContain(`exec "$NODEJS" ${options.join(' ')} "$BUNDLE" daemon`);
  });
});
