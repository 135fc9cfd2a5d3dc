// The numbered record that the demo's writer puts on a device and its verifier looks for
// (the one definition both use): a 4 KiB block per sequence number, at seq * 4 KiB,
// starting with a line that carries the number and a check value derived from it.
export const RECORD_BYTES = 4096;

export function recordHeader(seq) {
  return `xlss-record seq=${seq} check=${(seq * 2654435761) % 4294967296}\n`;
}

export function recordBlock(seq) {
  const block = Buffer.alloc(RECORD_BYTES, '.');
  block.write(recordHeader(seq));
  return block;
}

export function isRecord(block, seq) {
  const want = recordHeader(seq);
  return block.subarray(0, want.length).toString() === want;
}
