import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module that runs in the guests, without types
import { isRecord, RECORD_BYTES, recordBlock } from './guest/record.mjs';

describe('the record shared by writer and verifier', () => {
  it('is recognised for its own number only', () => {
    const block = recordBlock(42) as Buffer;
    expect(block.length).toBe(RECORD_BYTES);
    expect(isRecord(block, 42)).toBe(true);
    expect(isRecord(block, 43)).toBe(false);
    expect(isRecord(Buffer.alloc(RECORD_BYTES), 0)).toBe(false);
  });
});
