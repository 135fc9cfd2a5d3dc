#!/bin/sh
# The busybox init line that keeps the xlss daemon running in a lab guest (respawned when
# it exits), once the node has a daemon config. Used by setup.sh at boot, and by the lab
# (`--install`) right after it wrote the config on the first `up`: the line is added to
# /etc/inittab and init re-reads it on SIGHUP.
HERE=$(dirname "$0")
CHECKOUT=$(cd "$HERE/../../.." && pwd)
arg() { v=; for w in $(cat /proc/cmdline); do case "$w" in "$1="*) v="${w#*=}";; esac; done; echo "$v"; }
NODEJS=$(arg xlss.nodejs)
[ -n "$NODEJS" ] || NODEJS=/usr/bin/node
CONFIG=/etc/xlss/daemon.yaml
[ -f "$CONFIG" ] || exit 0
# The log lives on the state disk so that it survives a crash of the guest.
LINE="::respawn:/bin/sh $HERE/run-daemon.sh $NODEJS $CHECKOUT/dist/xlss-daemon.mjs $CONFIG"
if [ "$1" = --install ]; then
  grep -qF "$LINE" /etc/inittab || echo "$LINE" >> /etc/inittab
  kill -HUP 1
else
  echo "$LINE"
fi
