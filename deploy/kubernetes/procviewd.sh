#!/bin/sh
# procviewd for the DaemonSet's main container. Only one procviewd serves a
# state root (a lock in it): when procview-hook started one on the node
# before this pod ran, ours exits at once and is retried until it can take
# over. Logs go to stderr (kubectl logs) and to log_file.
set -u
DAEMON=${PROCVIEW_DAEMON:-/usr/libexec/procview/procviewd}
CONF=${PROCVIEW_CONFIG:-/etc/procview/config.toml}
DELAY=${PROCVIEW_RETRY_SECONDS:-5}
# Prometheus metrics on the pod's address (the node config's default,
# 127.0.0.1:9847, is only reachable from the pod itself).
pid=
trap 'if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null; wait "$pid"; fi; exit 0' TERM INT
while :; do
	"$DAEMON" --config "$CONF" ${PROCVIEW_METRICS_ADDRESS:+--metrics-address "$PROCVIEW_METRICS_ADDRESS"} &
	pid=$!
	wait "$pid" || echo "procviewd exited with status $?" >&2
	pid=
	sleep "$DELAY"
done
