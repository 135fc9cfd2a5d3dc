// Writer that follows the Primary, run inside a lab guest on each replica node: it writes
// a numbered record (record.mjs) to FILE on MOUNT only while MOUNT is a DRBD device
// mounted on this node, and prints the number once the O_SYNC write returned. The file is
// opened for each record and closed at once, as a well-behaved workload that lets a planned
// switchover unmount the volume between writes. It never creates the file: after an
// unmount MOUNT is a plain directory of the guest, and a write there would prove nothing.
// Numbers start at BASE, so writers on two nodes never share a record.
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { drbdMounted } from './drbd-mounted.mjs';
import { RECORD_BYTES, recordBlock } from './record.mjs';

const [mount, file, baseArg, intervalArg] = process.argv.slice(2);
let seq = Number(baseArg ?? 0);
const interval = Number(intervalArg ?? 100);

process.stdout.write('waiting\n');
for (;;) {
  if (drbdMounted(mount)) {
    let fd = -1;
    try {
      fd = openSync(`${mount}/${file}`, constants.O_WRONLY | constants.O_SYNC);
      writeSync(fd, recordBlock(seq), 0, RECORD_BYTES, seq * RECORD_BYTES);
      process.stdout.write(`${seq}\n`);
      seq++;
    } catch {
      // Unmounted under us, read-only or I/O error: not acknowledged; the same number again.
    } finally {
      if (fd >= 0) closeSync(fd);
    }
  }
  await sleep(interval);
}
