#!/bin/sh
# A node of a cluster lab, set up by `xlss lab up` after it wrote the daemon's config and
# tokens under /var/lib/xlss/etc/xlss (the state disk): the VG and its thin pool on the
# data disk, the config in place, the daemon started and kept running by init.
# Idempotent: on a node that has been set up before, the VG and pool are left as they are.
#   cluster-node.sh VG POOL PERCENT_OF_VG INIT
set -eu
VG=$1 POOL=$2 PERCENT=$3 INIT=$4
HERE=$(dirname "$0")
DISK=/dev/disk/by-id/virtio-xlss-data
if ! vgs "$VG" >/dev/null 2>&1; then
  pvcreate -qq -y "$DISK"
  vgcreate -qq "$VG" "$DISK"
fi
# The rest of the VG stays free for thick volumes and COW snapshots.
lvs "$VG/$POOL" >/dev/null 2>&1 || lvcreate -qq -y --type thin-pool -l "$PERCENT%VG" -n "$POOL" "$VG"
mkdir -p /etc/xlss
cp -a /var/lib/xlss/etc/xlss/. /etc/xlss/
if [ "$INIT" = systemd ]; then
  systemctl start --no-block xlss-daemon
else
  sh "$HERE/daemon-inittab.sh" --install
fi
