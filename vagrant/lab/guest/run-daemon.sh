#!/bin/sh
# Runs the xlss daemon for busybox init (respawn), its output appended to a log on the
# state disk. A daemon that exits at once (a bad config exits 2) is not restarted in a
# tight loop: init respawns this script, which waits a little after a short run.
NODEJS=$1 BUNDLE=$2 CONFIG=$3
LOG=/var/lib/xlss/daemon.log
STAMP=/run/xlss-daemon.started
if [ -f "$STAMP" ] && [ $(( $(date +%s) - $(cat "$STAMP") )) -lt 5 ]; then sleep 2; fi
date +%s > "$STAMP"
# The heap option of systemd/xlss-daemon.service (NODE_OPTIONS there; see why in it).
exec "$NODEJS" --max-semi-space-size=1 "$BUNDLE" daemon --config "$CONFIG" >> "$LOG" 2>&1
