import { describe, expect, it } from 'vitest';
import { ValidationError } from './errors.js';
import { formatSize, parseSize, roundUp } from './size.js';

const KiB = 1024n;
const MiB = 1024n ** 2n;
const GiB = 1024n ** 3n;
const TiB = 1024n ** 4n;

describe('parseSize', () => {
  it.each([
    ['4096', 4096n],
    ['4096B', 4096n],
    ['1k', KiB],
    ['1KiB', KiB],
    ['512M', 512n * MiB],
    ['512MiB', 512n * MiB],
    ['2G', 2n * GiB],
    ['2gib', 2n * GiB],
    ['1T', TiB],
    ['1TiB', TiB],
    ['1KB', 1000n],
    ['1MB', 1000n ** 2n],
    ['1GB', 1000n ** 3n],
    ['1TB', 1000n ** 4n],
    [' 10 GiB ', 10n * GiB],
  ])('parses %j as %s bytes', (input, bytes) => {
    expect(parseSize(input)).toBe(bytes);
  });

  it('accepts positive bigints and safe whole numbers of bytes', () => {
    expect(parseSize(5n)).toBe(5n);
    expect(parseSize(4096)).toBe(4096n);
  });

  it.each([
    ['12XB', '"12XB" is not a size'],
    ['', 'is not a size'],
    ['-1G', 'is not a size'],
    ['1.5G', 'is not a size'],
    ['G', 'is not a size'],
    ['0', 'must be greater than zero'],
    ['0GiB', 'must be greater than zero'],
    [0, 'must be a positive whole number of bytes, got 0'],
    [-4, 'got -4'],
    [1.5, 'got 1.5'],
    [Number.MAX_SAFE_INTEGER + 2, 'must be a positive whole number'],
    [0n, 'must be a positive number of bytes'],
    [-1n, 'must be a positive number of bytes'],
    [undefined, 'must be a size such as 10GiB'],
    [null, 'must be a size such as 10GiB'],
    [{}, 'must be a size such as 10GiB'],
  ])('refuses %s naming the field', (input, why) => {
    let err: unknown;
    try {
      parseSize(input, '--disk');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).field).toBe('--disk');
    expect((err as ValidationError).message).toMatch(/^--disk: /);
    expect((err as ValidationError).message).toContain(why);
  });

  it('names the field "size" by default', () => {
    expect(() => parseSize('x')).toThrow(/^size: /);
  });
});

describe('formatSize', () => {
  it.each([
    [1n, '1B'],
    [1000n, '1000B'],
    [KiB, '1KiB'],
    [1536n, '1536B'],
    [1536n * KiB, '1536KiB'],
    [512n * MiB, '512MiB'],
    [2n * GiB, '2GiB'],
    [3n * TiB, '3TiB'],
    [1024n * TiB, '1024TiB'],
    [GiB + MiB, '1025MiB'],
  ])('formats %s as %s', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
  });

  it('round-trips through parseSize', () => {
    for (const b of [1n, 4096n, 3n * MiB, 7n * GiB, 2n * TiB]) expect(parseSize(formatSize(b))).toBe(b);
  });
});

describe('roundUp', () => {
  const extent = 4n * MiB;
  it('rounds up to a whole number of units and leaves exact multiples alone', () => {
    expect(roundUp(1n, extent)).toBe(extent);
    expect(roundUp(extent, extent)).toBe(extent);
    expect(roundUp(extent + 1n, extent)).toBe(2n * extent);
    expect(roundUp(0n, extent)).toBe(0n);
    expect(roundUp(10n * GiB - 1n, extent)).toBe(10n * GiB);
  });
});
