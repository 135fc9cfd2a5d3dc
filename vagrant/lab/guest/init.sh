#!/bin/busybox sh
# /init of the lab's tiny initramfs: mount the host's root (9p, read-only) under a
# tmpfs overlay and switch into it. Everything a node needs after that comes from the
# host's own filesystem, so the initramfs holds only busybox and the modules to get there.
export PATH=/bin
busybox mkdir -p /proc /sys /dev /lower /upper /newroot
busybox mount -t proc proc /proc
busybox mount -t sysfs sys /sys
busybox mount -t devtmpfs dev /dev
# Read the command line before /proc is moved away.
CMDLINE=$(busybox cat /proc/cmdline)
# The last KEY=value on the command line wins, so `lab up --kernel-args` can override.
arg() { v=; for w in $CMDLINE; do case "$w" in "$1="*) v="${w#*=}";; esac; done; echo "$v"; }
# `xlss lab up --accel kvm` first boots this far with xlss.probe=1 to see that KVM works.
if [ "$(arg xlss.probe)" = 1 ]; then echo "xlss-init: probe ok"; busybox poweroff -f; fi
TAG=$(arg xlss.share)
SETUP=$(arg xlss.setup)
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci netfs fscache 9pnet 9pnet_virtio 9p overlay; do
  busybox insmod /modules/$m.ko || echo "xlss-init: insmod $m failed"
done
fail() { echo "xlss-init: $*"; busybox sleep 2; busybox poweroff -f; }
# cache=loose is safe: the share is read-only, and it halves node's start-up time.
busybox mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose "$TAG" /lower || fail "cannot mount 9p share $TAG"
busybox mount -t tmpfs -o mode=0755 tmpfs /upper || fail "cannot mount tmpfs"
busybox mkdir -p /upper/data /upper/work
busybox mount -t overlay -o lowerdir=/lower,upperdir=/upper/data,workdir=/upper/work overlay /newroot || fail "cannot mount overlay"
busybox mount --move /proc /newroot/proc
busybox mount --move /sys /newroot/sys
busybox mount --move /dev /newroot/dev
[ -n "$SETUP" ] || fail "no xlss.setup= on the kernel command line"
exec busybox switch_root /newroot /bin/sh "$SETUP"
