// Demo verifier, run inside a lab guest: reads the first N records of a block device
// and prints, as JSON, the numbers of the records that are present and intact.
import { openSync, readSync } from 'node:fs';
import { isRecord, RECORD_BYTES } from './record.mjs';

const [device, countArg] = process.argv.slice(2);
const count = Number(countArg ?? 1000);
const fd = openSync(device, 'r');
const block = Buffer.alloc(RECORD_BYTES);
const intact = [];
for (let seq = 0; seq < count; seq++) {
  readSync(fd, block, 0, RECORD_BYTES, seq * RECORD_BYTES);
  if (isRecord(block, seq)) intact.push(seq);
}
process.stdout.write(`${JSON.stringify({ intact })}\n`);
