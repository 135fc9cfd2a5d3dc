// Demo writer, run inside a lab guest: writes numbered 4 KiB records to a block device
// with O_SYNC and prints each record's number once write() has returned, i.e. once the
// device acknowledged it (with DRBD protocol C: once both disks have it).
import { constants, openSync, writeSync } from 'node:fs';

const [device, countArg] = process.argv.slice(2);
const count = Number(countArg ?? 1000);
const fd = openSync(device, constants.O_WRONLY | constants.O_SYNC);
for (let seq = 0; seq < count; seq++) {
  const block = Buffer.alloc(4096, '.');
  block.write(`xlss-record seq=${seq} check=${(seq * 2654435761) % 4294967296}\n`);
  writeSync(fd, block, 0, block.length, seq * 4096);
  process.stdout.write(`${seq}\n`);
}
