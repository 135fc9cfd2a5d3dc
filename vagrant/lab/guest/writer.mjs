// Demo writer, run inside a lab guest: writes numbered records to a block device with
// O_SYNC and prints each record's number once write() has returned, i.e. once the device
// acknowledged it (with DRBD protocol C: once both disks have it). stdout on a pipe is
// written synchronously, so the report leaves at once.
import { constants, openSync, writeSync } from 'node:fs';
import { RECORD_BYTES, recordBlock } from './record.mjs';

const [device, countArg] = process.argv.slice(2);
const count = Number(countArg ?? 1000);
const fd = openSync(device, constants.O_WRONLY | constants.O_SYNC);
for (let seq = 0; seq < count; seq++) {
  writeSync(fd, recordBlock(seq), 0, RECORD_BYTES, seq * RECORD_BYTES);
  process.stdout.write(`${seq}\n`);
}
