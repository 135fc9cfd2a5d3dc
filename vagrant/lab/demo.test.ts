import { describe, expect, it } from 'vitest';
import { demoLine } from './demo.js';

describe('demoLine', () => {
  it('is the one line scripts read', () => {
    expect(
      demoLine({ failoverS: 3.14, acknowledged: 40, acknowledgedLost: 0, redundancyRestored: true }),
    ).toBe('xlss demo: ok failover_s=3.1 acknowledged_lost=0 redundancy_restored=yes');
    expect(
      demoLine({ failoverS: 12, acknowledged: 40, acknowledgedLost: 2, redundancyRestored: false }),
    ).toBe('xlss demo: ok failover_s=12.0 acknowledged_lost=2 redundancy_restored=no');
  });
});
