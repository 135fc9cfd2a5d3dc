import { describe, expect, it } from 'vitest';
import { formatNodeTable } from './cli.js';
import { formatServices } from './cli-net.js';

const node = { ip: '10.77.0.11', running: true, ready: true, partitioned: false, diskFailed: false };

describe('status of faults and services', () => {
  it('shows cuts and netem in the NETWORK column', () => {
    const table = formatNodeTable([
      { ...node, name: 'node1', cutFrom: ['node2'], netem: 'delay 50ms' },
      { ...node, name: 'node2', ip: '10.77.0.12', cutFrom: ['node1'] },
      { ...node, name: 'node3', ip: '10.77.0.13', cutFrom: [], partitioned: true, netem: 'loss 1%' },
    ]);
    const rows = table.split('\n');
    expect(rows[1]).toContain('cut from node2, delay 50ms');
    expect(rows[2]).toContain('cut from node1');
    expect(rows[3]).toContain('partitioned, loss 1%');
  });

  it('lists services with their state', () => {
    const base = { pidFile: '/l/a.service.pid', logFile: '/l/a.log', startedAt: '2026-01-01T00:00:00Z' };
    expect(
      formatServices([
        { ...base, name: 'ctl', argv: ['node', 'c.js'], running: true, pid: 42 },
        { ...base, name: 'fwd-node1-80', argv: ['node', 'f.js'], running: false },
      ]),
    ).toBe('service ctl: running (pid 42)  node c.js\nservice fwd-node1-80: stopped  node f.js');
  });
});
