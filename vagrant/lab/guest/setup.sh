#!/bin/sh
# Runs in a lab guest right after switch_root (as PID 1, briefly): makes the node out of
# the host's read-only root and a tmpfs overlay, then hands PID 1 to busybox init, which
# keeps the lab agent running and reaps orphans.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# The last KEY=value on the command line wins, so `lab up --kernel-args` can override.
arg() { v=; for w in $(cat /proc/cmdline); do case "$w" in "$1="*) v="${w#*=}";; esac; done; echo "$v"; }
NODE=$(arg xlss.node)
IP=$(arg xlss.ip)
AGENT=$(arg xlss.agent)
# The host's node, wherever it is installed (the guest shares the host's root).
NODEJS=$(arg xlss.nodejs)
[ -n "$NODEJS" ] || NODEJS=/usr/bin/node
INIT=$(arg xlss.init)
HERE=$(dirname "$0")
log() { echo "xlss-setup: $*"; }

# A fresh /run, unless the checkout lives there. /tmp stays the overlay's own: the
# checkout (agent, scripts) may live under the host's /tmp, and a tmpfs would hide it.
case "$HERE" in /run/*) ;; *) mount -t tmpfs -o mode=0755 tmpfs /run;; esac
mkdir -p /dev/pts /dev/shm && mount -t devpts devpts /dev/pts && mount -t tmpfs tmpfs /dev/shm
hostname "$NODE"
echo "$NODE" > /etc/hostname

# What every xlss node needs (shared with the Vagrant provisioner).
sh "$HERE/../../node-setup.sh" --no-udev || log "node setup failed"

modprobe -a virtio_blk virtio_net virtio_console virtio_rng 2>/dev/null
ip link set lo up
ip link set eth0 up && ip addr add "$IP" dev eth0 || log "network setup failed"

# udev would name disks by serial; without it, make the same links ourselves.
mkdir -p /dev/disk/by-id
for b in /sys/block/vd*; do
  s=$(cat "$b/serial" 2>/dev/null) && [ -n "$s" ] && ln -sf "/dev/${b##*/}" "/dev/disk/by-id/virtio-$s"
done

# The state disk survives crashes (the overlay does not): daemon state lives there.
STATE=/dev/disk/by-id/virtio-xlss-state
if [ -e "$STATE" ]; then
  blkid "$STATE" >/dev/null 2>&1 || mkfs.ext4 -q -E nodiscard -L xlss-state "$STATE"
  mkdir -p /var/lib/xlss && mount -t ext4 "$STATE" /var/lib/xlss || log "cannot mount the state disk"
fi
# /etc is the overlay's and lost on a crash: what a service needs there is kept under
# /var/lib/xlss/etc on the state disk and copied over /etc at every boot.
mkdir -p /var/lib/xlss/etc && cp -a /var/lib/xlss/etc/. /etc/ || log "cannot restore /etc from the state disk"
# Who this node is, for services (written after the restore: always the current truth).
mkdir -p /etc/xlss
printf 'NODE_NAME=%s\nNODE_ADDRESS=%s\n' "$NODE" "${IP%/*}" > /etc/xlss/node.env

# The backup target every node reaches: the lab directory's backups/ on the host (NFS
# in production). Read-write and uncached: several guests write into it.
mkdir -p /srv/xlss-backups
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 xlssbackups /srv/xlss-backups ||
  log "cannot mount the backup share"

if [ "$INIT" = systemd ]; then
  # xlss-daemon.service runs /usr/local/bin/xlss (the overlay's /usr/local is empty).
  [ -e /usr/local/bin/xlss ] || ln -s "$(cd "$HERE/../../.." && pwd)/bin/xlss.js" /usr/local/bin/xlss
  exec sh "$HERE/systemd-init.sh"
fi
# The daemon's line is there once the node has a daemon config (a cluster lab).
cat > /etc/inittab <<TAB
::respawn:$NODEJS $AGENT
$(sh "$HERE/daemon-inittab.sh")
::ctrlaltdel:/bin/busybox poweroff -f
TAB
log "node $NODE ready for init"
exec /bin/busybox init
