import { afterEach, describe, expect, it } from 'vitest';
import { demoDir, formatNodeTable } from './cli.js';

describe('demoDir', () => {
  const saved = process.env.XLSS_LAB_DIR;
  afterEach(() => {
    if (saved === undefined) delete process.env.XLSS_LAB_DIR;
    else process.env.XLSS_LAB_DIR = saved;
  });

  it("never picks the user's own lab from XLSS_LAB_DIR", () => {
    process.env.XLSS_LAB_DIR = '/var/tmp/my-lab';
    expect(demoDir(undefined)).toBe('/var/tmp/xlss-lab-demo');
    expect(demoDir('/var/tmp/elsewhere')).toBe('/var/tmp/elsewhere');
  });
});

describe('formatNodeTable', () => {
  it('shows one aligned row per node with its state, network, disk and uptime', () => {
    const table = formatNodeTable([
      {
        name: 'node1',
        ip: '10.77.0.11',
        running: true,
        ready: true,
        partitioned: false,
        diskFailed: false,
        uptimeS: 12.6,
      },
      { name: 'node2', ip: '10.77.0.12', running: true, ready: false, partitioned: true, diskFailed: true },
      {
        name: 'node10',
        ip: '10.77.0.20',
        running: false,
        ready: false,
        partitioned: false,
        diskFailed: false,
      },
    ]);
    expect(table).toBe(
      [
        'NODE    ADDRESS     STATE    NETWORK      DATA DISK  UPTIME',
        'node1   10.77.0.11  ready    connected    ok         13s',
        'node2   10.77.0.12  booting  partitioned  failing    -',
        'node10  10.77.0.20  stopped  connected    ok         -',
      ].join('\n'),
    );
  });

  it('prints only the header for no nodes', () => {
    expect(formatNodeTable([])).toBe('NODE  ADDRESS  STATE  NETWORK  DATA DISK  UPTIME');
  });
});
