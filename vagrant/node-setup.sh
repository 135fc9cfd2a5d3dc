#!/bin/sh
# One description of an xlss node's system setup, used by the Vagrant provisioner and by
# the qemu lab's guests: kernel modules and the LVM and DRBD settings xlss relies on.
#   --no-udev   the node runs without udev (the qemu lab): LVM must not wait for it.
set -u
NO_UDEV=0
for a in "$@"; do case "$a" in --no-udev) NO_UDEV=1;; esac; done

modprobe -a dm-mod dm-snapshot dm-thin-pool drbd 2>/dev/null || echo "node-setup: some modules did not load" >&2

mkdir -p /etc/lvm /etc/drbd.d
# The host's LVM must never look inside DRBD devices or xlss's LVs: a tenant's own PV in
# a volume would be activated here and hold the device open (demote, down and delete
# would then fail). Reject-only patterns, so no other alias of such a device can accept
# it (lvm.conf: a name matching "a" before "r" wins), and every other disk is scanned
# as before. The VG is "xlss" (see daemon/README.md).
FILTER='global_filter = [ "r|^/dev/drbd|", "r|^/dev/xlss/|", "r|^/dev/mapper/xlss-|", "r|^/dev/disk/by-id/dm-name-xlss-|" ]'
if [ "$NO_UDEV" = 1 ]; then
  cat > /etc/lvm/lvmlocal.conf <<CONF
# Written by xlss node-setup: this node has no udev.
devices {
  obtain_device_list_from_udev = 0
  $FILTER
}
activation {
  udev_sync = 0
  udev_rules = 0
}
CONF
else
  cat > /etc/lvm/lvmlocal.conf <<CONF
# Written by xlss node-setup.
devices {
  $FILTER
}
CONF
fi
# No phoning home from drbdadm, on lab nodes or production ones.
cat > /etc/drbd.d/global_common.conf <<'CONF'
# Written by xlss node-setup.
global {
  usage-count no;
}
common {
}
CONF
