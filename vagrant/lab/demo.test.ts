import { describe, expect, it } from 'vitest';
import { demoLine, promoteLine } from './demo.js';

describe('demoLine', () => {
  it('is the one line scripts read', () => {
    expect(
      demoLine({ promoteS: 3.14, acknowledged: 40, acknowledgedLost: 0, redundancyRestored: true }),
    ).toBe('xlss demo: ok failover_s=3.1 acknowledged_lost=0 redundancy_restored=yes');
    expect(demoLine({ promoteS: 12, acknowledged: 40, acknowledgedLost: 2, redundancyRestored: false })).toBe(
      'xlss demo: ok failover_s=12.0 acknowledged_lost=2 redundancy_restored=no',
    );
  });

  it('names the figure for what it measures', () => {
    expect(promoteLine({ promoteS: 2.345 })).toBe(
      'xlss demo: promote_s=2.3 (crash to Primary on the survivor; controller detection comes with the controller)',
    );
  });
});
