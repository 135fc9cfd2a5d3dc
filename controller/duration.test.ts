import { describe, expect, it } from 'vitest';
import { ValidationError } from '../common/errors.js';
import { parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['5s', 5000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['250', 250],
    [1500, 1500],
  ])('%s is %d ms', (v, ms) => expect(parseDuration(v, 'f')).toBe(ms));

  it.each(['', '0s', '-1s', '1.5s', '5 minutes', '1w', 0, 1.5, null])(
    '%j is refused naming the field',
    (v) => {
      expect(() => parseDuration(v, 'heartbeatInterval')).toThrow(ValidationError);
      expect(() => parseDuration(v, 'heartbeatInterval')).toThrow(/^heartbeatInterval: /);
    },
  );
});
