// Whether MOUNT is a DRBD device mounted on this guest (shared by the guest programs that
// write to a volume only where it is really mounted; before that, the mount point is an
// empty directory of the guest, and a write there would prove nothing).
import { readFileSync } from 'node:fs';

export function drbdMounted(mount) {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .some((line) => {
      const [dev, path] = line.split(' ');
      return path === mount && dev?.startsWith('/dev/drbd');
    });
}
