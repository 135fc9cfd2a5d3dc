#!/bin/sh
# Runs in a lab guest as PID 1 when the kernel command line says xlss.init=systemd, after
# setup.sh made the node (mounts, node-setup.sh, network, disk links, state disk). It
# turns the host's systemd configuration, seen through the tmpfs overlay, into a small
# guest one, then hands PID 1 to systemd:
#   - the lab agent becomes xlss-lab-agent.service (Restart=always), wanted by multi-user;
#   - every *.service under <checkout>/systemd/ is linked in and enabled, so xlss's own
#     units run for real (there are none yet: the mechanism waits for them);
#   - what the host enabled is switched off, and what a guest must not run (udev: this
#     lab has none on purpose; fsck/remount of the overlay root; /etc/fstab mounts;
#     gettys; timers; network managers; ...) is masked.
# Everything written here lands in the overlay's tmpfs upper layer: the host's /etc is
# never touched, and a rebooted guest starts from the host's files again.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# The last KEY=value on the command line wins, so `lab up --kernel-args` can override.
arg() { v=; for w in $(cat /proc/cmdline); do case "$w" in "$1="*) v="${w#*=}";; esac; done; echo "$v"; }
log() { echo "xlss-systemd-init: $*"; }
NODE=$(arg xlss.node)
AGENT=$(arg xlss.agent)
NODEJS=$(arg xlss.nodejs)
[ -n "$NODEJS" ] || NODEJS=/usr/bin/node
# The checkout: the agent bundle is <checkout>/dist/lab-agent.mjs.
CHECKOUT=$(dirname "$(dirname "$AGENT")")
ETC=/etc/systemd/system
LIB=/usr/lib/systemd/system

fail_to_busybox() {
  # Without systemd the node would never become ready: fall back to busybox init.
  log "$* — falling back to busybox init"
  printf '::respawn:%s %s\n::ctrlaltdel:/bin/busybox poweroff -f\n' "$NODEJS" "$AGENT" > /etc/inittab
  exec /bin/busybox init
}
[ -x /sbin/init ] && [ -d "$LIB" ] || fail_to_busybox "no systemd on this host (/sbin/init)"
[ -n "$AGENT" ] || fail_to_busybox "no xlss.agent= on the kernel command line"

mask() { for u in "$@"; do ln -sfn /dev/null "$ETC/$u"; done; }

# 1. Switch off everything the host's administrator enabled (postgresql, nfs, rpcbind,
#    apt and other timers, docker, ssh, ...): a guest is not a copy of the host. Removing
#    the links in the overlay only hides them from this guest.
for d in "$ETC"/*.wants "$ETC"/*.requires "$ETC"/*.upholds; do
  [ -d "$d" ] && rm -rf "$d"
done
rm -f "$ETC/default.target" "$ETC/ctrl-alt-del.target"

# 2. Mask what a guest must not run or does not need, also when it is static or wanted by
#    a unit shipped in /usr/lib (step 1 cannot reach those).
#    - No udev in this lab on purpose (LVM is configured for that by node-setup.sh), and
#      nothing may wait for udev to settle.
mask systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket \
  systemd-udev-trigger.service systemd-udev-settle.service systemd-hwdb-update.service
#    - The root is an overlay on a read-only 9p share: no fsck, no remount, no growing,
#      no partition discovery; the host's fstab is not ours (an empty one is written below).
mask systemd-remount-fs.service systemd-fsck-root.service systemd-fsck@.service \
  systemd-growfs-root.service systemd-growfs@.service systemd-repart.service \
  systemd-fsckd.service systemd-fsckd.socket systemd-quotacheck.service quotaon.service
#    - Filesystems setup.sh or the kernel has mounted already, or that a guest never uses.
mask remote-fs.target remote-fs-pre.target nfs-client.target proc-sys-fs-binfmt_misc.automount \
  proc-sys-fs-binfmt_misc.mount systemd-binfmt.service sys-fs-fuse-connections.mount \
  sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount
#    - No one logs in on a lab guest: the host talks to the agent over virtio-serial.
#      serial-getty would also wait 90 s for a dev-ttyS0.device that only udev announces.
mask getty.target getty-static.service getty@.service serial-getty@.service \
  console-getty.service container-getty@.service autovt@.service \
  systemd-logind.service systemd-user-sessions.service user@.service \
  systemd-ask-password-wall.path systemd-ask-password-console.path
#    - Network: setup.sh configured eth0 with the lab's fixed address; a network manager
#      would flush or re-do it, and "online" waits would hang.
mask networking.service ifup@.service ifupdown-pre.service ifupdown-wait-online.service \
  systemd-networkd.service systemd-networkd.socket systemd-networkd-wait-online.service \
  NetworkManager.service NetworkManager-wait-online.service systemd-resolved.service \
  network-online.target dhcpcd.service
#    - Services and timers of the host (enabled ones are off after step 1; masked by name
#      too so nothing pulls them in): remote access, scheduled jobs, time sync (the guest
#      clock comes from qemu), containers, databases, mail, NFS.
mask ssh.service ssh.socket sshd.service cron.service anacron.service anacron.timer atd.service \
  apt-daily.timer apt-daily.service apt-daily-upgrade.timer apt-daily-upgrade.service \
  dpkg-db-backup.timer man-db.timer e2scrub_all.timer e2scrub_reap.service exim4-base.timer \
  exim4.service fstrim.timer logrotate.timer systemd-tmpfiles-clean.timer \
  unattended-upgrades.service packagekit.service \
  systemd-timesyncd.service chrony.service ntp.service ntpsec.service \
  docker.service docker.socket containerd.service \
  postgresql.service nfs-server.service nfs-blkmap.service rpcbind.service rpcbind.socket \
  rsyslog.service syslog.socket uuidd.socket
#    - Storage the guest runs by hand (xlss drives LVM and DRBD itself): no mdadm, no
#      multipath, no iSCSI, no dmeventd monitoring of LVs at boot (lvm2-monitor would scan
#      and activate every VG on the data disk before xlss decides), no auto-activation of
#      VGs through lvm2-pvscan@ (it is udev-driven anyway), no drbd.service bringing up
#      resources on its own. The lvmpolld socket stays: long LVM operations can use it.
mask lvm2-monitor.service dm-event.socket dm-event.service lvm2-pvscan@.service \
  blk-availability.service mdadm-shutdown.service mdmonitor.service mdmonitor-oneshot.timer \
  mdcheck_start.timer mdcheck_continue.timer multipathd.service multipathd.socket \
  iscsid.service iscsid.socket open-iscsi.service drbd.service \
  cryptsetup.target veritysetup.target integritysetup.target
#    - Costly under emulation and useless on a throw-away node: security profiles, first
#      boot and update hooks, hardware and random-seed bookkeeping, utmp records, kdump.
mask apparmor.service systemd-firstboot.service systemd-machine-id-commit.service \
  ldconfig.service systemd-sysusers.service systemd-update-done.service \
  systemd-random-seed.service systemd-pstore.service systemd-update-utmp.service \
  systemd-update-utmp-runlevel.service systemd-pcrphase.service \
  systemd-pcrphase-sysinit.service systemd-boot-update.service kexec-load.service \
  kdump-tools.service systemd-journal-catalog-update.service systemd-journal-flush.service

# Generators run before any unit: no fstab or gpt-auto mounts, no getty on the console.
mkdir -p /etc/systemd/system-generators
for g in systemd-fstab-generator systemd-gpt-auto-generator systemd-getty-generator; do
  ln -sfn /dev/null "/etc/systemd/system-generators/$g"
done
echo "# xlss lab guest: setup.sh mounts what the node needs" > /etc/fstab

# /tmp is the host's, seen through the overlay, and may hold the checkout itself (CI
# clones there): tmpfiles must not empty it at boot (its default is `D /tmp`).
mkdir -p /etc/tmpfiles.d
echo 'd /tmp 1777 root root -' > /etc/tmpfiles.d/tmp.conf

# One machine id per node (the host's would be shared by all guests); stable per name.
printf 'xlss-lab-%s' "$NODE" | md5sum | cut -c1-32 > /etc/machine-id

# journald keeps the journal in memory (the overlay is tmpfs anyway) and small.
mkdir -p /etc/systemd/journald.conf.d
cat > /etc/systemd/journald.conf.d/xlss-lab.conf <<'CONF'
[Journal]
Storage=volatile
RuntimeMaxUse=16M
CONF
# Fail fast rather than wait the default 90 s for something that will never come.
mkdir -p /etc/systemd/system.conf.d
cat > /etc/systemd/system.conf.d/xlss-lab.conf <<'CONF'
[Manager]
DefaultTimeoutStartSec=30s
DefaultTimeoutStopSec=10s
CONF

# 3. The lab agent, as the inittab line of busybox mode runs it. Default dependencies:
#    it starts after basic.target, so "ready" means the guest's early boot is done.
#    KillMode=process: like under busybox init, commands it started keep running when it
#    is restarted. No start limit: the lab is useless without it.
cat > "$ETC/xlss-lab-agent.service" <<UNIT
[Unit]
Description=xlss lab agent (host commands over virtio-serial port xlss.agent)
StartLimitIntervalSec=0

[Service]
Type=simple
ExecStart=$NODEJS $AGENT
Restart=always
RestartSec=1s
KillMode=process
StandardOutput=journal+console
StandardError=journal+console

[Install]
WantedBy=multi-user.target
UNIT
mkdir -p "$ETC/multi-user.target.wants"
ln -sfn "$ETC/xlss-lab-agent.service" "$ETC/multi-user.target.wants/xlss-lab-agent.service"

# 4. xlss's own units, from the checkout: linked like `systemctl link` does and enabled
#    for multi-user.target. Units come from the read-only share, so a rebuilt checkout is
#    what the next boot runs.
if [ -d "$CHECKOUT/systemd" ]; then
  for u in "$CHECKOUT"/systemd/*.service "$CHECKOUT"/systemd/*.socket "$CHECKOUT"/systemd/*.timer \
    "$CHECKOUT"/systemd/*.target "$CHECKOUT"/systemd/*.path; do
    [ -f "$u" ] || continue
    name=${u##*/}
    ln -sfn "$u" "$ETC/$name"
    case "$name" in *@.*) continue;; esac # templates are started by instance, not enabled
    ln -sfn "$ETC/$name" "$ETC/multi-user.target.wants/$name"
    log "linked $name from $CHECKOUT/systemd"
  done
fi

ln -sfn "$LIB/multi-user.target" "$ETC/default.target"
log "node $NODE hands PID 1 to systemd"
exec /sbin/init
