// Demo verifier, run inside a lab guest: reads the first N records of a block device
// and prints, as JSON, the numbers of the records that are present and intact.
import { openSync, readSync } from 'node:fs';

const [device, countArg] = process.argv.slice(2);
const count = Number(countArg ?? 1000);
const fd = openSync(device, 'r');
const block = Buffer.alloc(4096);
const intact = [];
for (let seq = 0; seq < count; seq++) {
  readSync(fd, block, 0, 4096, seq * 4096);
  const want = `xlss-record seq=${seq} check=${(seq * 2654435761) % 4294967296}\n`;
  if (block.subarray(0, want.length).toString() === want) intact.push(seq);
}
process.stdout.write(`${JSON.stringify({ intact })}\n`);
