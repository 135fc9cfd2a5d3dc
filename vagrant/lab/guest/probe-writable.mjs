// Failover probe, run inside a lab guest before the crash: waits until MOUNT is a DRBD
// device mounted here (before failover it is only an empty directory of the guest, and a
// write there would prove nothing), then tries an O_SYNC write of one block to a file on
// it, again and again, and prints "writable" after the first that returns. The host takes
// the time when it reads the line.
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { drbdMounted } from './drbd-mounted.mjs';

const [mount, intervalArg] = process.argv.slice(2);
const interval = Number(intervalArg ?? 50);
const block = Buffer.alloc(4096, 'p');

process.stdout.write('waiting\n');
for (;;) {
  if (drbdMounted(mount)) {
    try {
      const fd = openSync(`${mount}/.xlss-probe`, constants.O_WRONLY | constants.O_CREAT | constants.O_SYNC);
      writeSync(fd, block, 0, block.length, 0);
      closeSync(fd);
      process.stdout.write('writable\n');
      process.exit(0);
    } catch {
      // Not writable yet (read-only, I/O suspended and failed): try again.
    }
  }
  await sleep(interval);
}
