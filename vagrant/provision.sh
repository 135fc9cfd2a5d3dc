#!/bin/sh
# Provisions one xlss node of the Vagrant lab (Debian 12), called by the Vagrantfile as
#   provision.sh <node name> <node count> <subnet, first three octets>
# with the checkout rsynced to $XLSS_DIR (/opt/xlss). Safe to run again (`vagrant
# provision`): every step checks or overwrites, none appends twice.
set -eu
NAME=${1:?node name}
NODES=${2:-3}
SUBNET=${3:-10.77.0}
XLSS_DIR=${XLSS_DIR:-/opt/xlss}
NODE_MAJOR=20
export DEBIAN_FRONTEND=noninteractive
log() { echo "xlss-provision[$NAME]: $*"; }

# Packages: LVM and DRBD's userland; the drbd kernel module (8.4) is in Debian's kernel.
log "installing packages"
apt-get update -q
apt-get install -y -q --no-install-recommends lvm2 drbd-utils ca-certificates curl gnupg rsync thin-provisioning-tools
if ! modinfo drbd >/dev/null 2>&1; then
  # A box with a kernel flavour that lacks drbd (e.g. -cloud): the generic one has it.
  log "this kernel has no drbd module: installing linux-image-amd64 (run 'vagrant reload' after)"
  apt-get install -y -q linux-image-amd64
fi

# Node 20: Debian 12 ships Node 18, so use NodeSource's apt repository for the 20.x line
# (signed, and upgraded by apt with the rest of the system).
if ! node --version 2>/dev/null | grep -q "^v$NODE_MAJOR\."; then
  log "installing Node $NODE_MAJOR from NodeSource"
  install -d -m 0755 /etc/apt/keyrings
  curl -fsSL https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key |
    gpg --dearmor --yes -o /etc/apt/keyrings/nodesource.gpg
  echo "deb [signed-by=/etc/apt/keyrings/nodesource.gpg] https://deb.nodesource.com/node_$NODE_MAJOR.x nodistro main" \
    > /etc/apt/sources.list.d/nodesource.list
  apt-get update -q
  apt-get install -y -q nodejs
fi
log "node $(node --version), npm $(npm --version)"

# Every node knows the others by name (DRBD resource files name hosts).
i=1
while [ "$i" -le "$NODES" ]; do
  ip="$SUBNET.$((10 + i))"
  sed -i "/[[:space:]]node$i\$/d" /etc/hosts
  echo "$ip node$i" >> /etc/hosts
  i=$((i + 1))
done

# The checkout: build it where it was synced.
[ -f "$XLSS_DIR/package.json" ] || { log "no checkout in $XLSS_DIR (is the rsync folder synced?)"; exit 1; }
log "building $XLSS_DIR"
cd "$XLSS_DIR"
npm ci --no-audit --no-fund
npm run build
ln -sfn "$XLSS_DIR/bin/xlss.js" /usr/local/bin/xlss

# Disks by serial at the same path as in the qemu lab and on libvirt: virtio disks have
# /dev/disk/by-id/virtio-<serial> from udev already; VirtualBox's SATA disks get the
# same links here.
cat > /etc/udev/rules.d/60-xlss-disks.rules <<'RULES'
SUBSYSTEM=="block", ENV{DEVTYPE}=="disk", ENV{ID_BUS}=="ata", ENV{ID_SERIAL_SHORT}=="xlss-*", SYMLINK+="disk/by-id/virtio-$env{ID_SERIAL_SHORT}"
RULES
udevadm control --reload && udevadm trigger --subsystem-match=block && udevadm settle

# The state disk (daemon state, per-node config) survives everything: mounted at boot.
STATE=/dev/disk/by-id/virtio-xlss-state
if [ -e "$STATE" ]; then
  blkid "$STATE" >/dev/null 2>&1 || mkfs.ext4 -q -L xlss-state "$STATE"
  mkdir -p /var/lib/xlss
  grep -q '^LABEL=xlss-state ' /etc/fstab || echo 'LABEL=xlss-state /var/lib/xlss ext4 defaults,nofail 0 2' >> /etc/fstab
  mountpoint -q /var/lib/xlss || mount /var/lib/xlss
  mkdir -p /var/lib/xlss/etc
fi
mkdir -p /etc/xlss
printf 'NODE_NAME=%s\nNODE_ADDRESS=%s\n' "$NAME" "$SUBNET.$((10 + ${NAME#node}))" > /etc/xlss/node.env

# The node's system setup, shared with the qemu lab's guests (which pass --no-udev; these
# VMs have udev, so LVM keeps its defaults).
log "node setup"
sh "$XLSS_DIR/vagrant/node-setup.sh"
# Load the modules at every boot, not only now.
printf '%s\n' dm-mod dm-snapshot dm-thin-pool drbd > /etc/modules-load.d/xlss.conf

# xlss's units for bare-metal installs, if the checkout has any yet.
units=$(find "$XLSS_DIR/systemd" -maxdepth 1 -type f \( -name '*.service' -o -name '*.socket' \
  -o -name '*.timer' -o -name '*.target' -o -name '*.path' \) 2>/dev/null | sort)
if [ -n "$units" ]; then
  for u in $units; do
    install -m 0644 "$u" "/etc/systemd/system/${u##*/}"
    log "installed unit ${u##*/}"
  done
  systemctl daemon-reload
  for u in $units; do
    name=${u##*/}
    case "$name" in *@.*) continue;; esac # templates are enabled per instance
    if grep -q '^\[Install\]' "$u"; then systemctl enable "$name"; fi
  done
else
  log "no units under $XLSS_DIR/systemd yet: nothing to install"
fi

log "done: $(uname -n), $(ip -4 -o addr show | awk '{print $4}' | grep "^$SUBNET\." || echo "no $SUBNET.x address")"
