#!/bin/sh
# procview node install, run by the DaemonSet's init container (privileged,
# hostPID, host directories mounted at their own paths):
#   1. copy the binaries from the image to PROCVIEW_BINDIR on the node,
#   2. copy the config from this ConfigMap to /etc/procview/config.toml,
#   3. `procview install --engine ENGINE` (idempotent),
#   4. restart the engine on the node when step 3 changed its config,
#   5. with PROCVIEW_STATE_SIZE set, mount a tmpfs of that size on the state
#      root on the node (PROCVIEW_STATE_ROOT), unless it is a mount already
#      or containers are registered in it.
# Every path can be overridden through the environment (the repo's tests run
# this script against a temporary directory).
set -eu

ENGINE=${PROCVIEW_ENGINE:-auto}
SRC=${PROCVIEW_IMAGE_BINDIR:-/usr/libexec/procview}
BINDIR=${PROCVIEW_BINDIR:-/opt/procview/bin}
CONF_SRC=${PROCVIEW_CONFIG_SOURCE:-/etc/procview-deploy/config.toml}
CONF=${PROCVIEW_CONFIG_DEST:-/etc/procview/config.toml}
ENGINE_CONFIG=${PROCVIEW_ENGINE_CONFIG:-}
RESTART=${PROCVIEW_RESTART_ENGINE:-true}
PROC=${PROCVIEW_PROC:-/proc}
STATE_ROOT=${PROCVIEW_STATE_ROOT:-/run/procview}
STATE_SIZE=${PROCVIEW_STATE_SIZE:-}
BINARIES="procview-runc procview-hook procviewd procview procview-agent"

log() { echo "procview-node-install: $*" >&2; }

# fingerprint FILE...: one line that changes when any FILE's content does.
fingerprint() {
	for f in "$@"; do
		[ -f "$f" ] || continue
		echo "$f"
		cat "$f"
	done | cksum
}

if [ "$ENGINE" = auto ]; then
	# hostPID: the node's processes are visible; CRI-O wins over a
	# containerd that only serves something else (e.g. docker).
	ENGINE=
	for c in "$PROC"/[0-9]*/comm; do
		case $(cat "$c" 2>/dev/null || true) in
		crio) ENGINE=crio; break ;;
		containerd) ENGINE=containerd ;;
		esac
	done
	[ -n "$ENGINE" ] || { log "neither crio nor containerd runs on this node: set PROCVIEW_ENGINE"; exit 1; }
	log "engine: $ENGINE (detected)"
fi
case $ENGINE in
containerd)
	UNIT=containerd
	WATCH="${ENGINE_CONFIG:-/etc/containerd/config.toml}"
	;;
crio)
	UNIT=crio
	WATCH="${ENGINE_CONFIG:-/etc/crio/crio.conf.d/99-procview.conf} ${PROCVIEW_HOOKS_DIR:-/usr/share/containers/oci/hooks.d}/procview.json ${PROCVIEW_HOOKS_DIR:-/usr/share/containers/oci/hooks.d}/procview-poststop.json"
	;;
*)
	log "PROCVIEW_ENGINE must be containerd, crio or auto, not '$ENGINE'"
	exit 1
	;;
esac

# Binaries: write beside, then rename, so a running procview-runc or
# procviewd from an older version is never overwritten in place.
mkdir -p "$BINDIR"
for b in $BINARIES; do
	cp "$SRC/$b" "$BINDIR/.$b.new"
	chmod 0755 "$BINDIR/.$b.new"
	mv -f "$BINDIR/.$b.new" "$BINDIR/$b"
done
log "binaries in $BINDIR: $BINARIES"

mkdir -p "$(dirname "$CONF")"
cp "$CONF_SRC" "$CONF.new"
mv -f "$CONF.new" "$CONF"
log "config: $CONF"

set -- --engine "$ENGINE"
if [ -n "$ENGINE_CONFIG" ]; then set -- "$@" --config "$ENGINE_CONFIG"; fi
if [ -n "${PROCVIEW_HOOKS_DIR:-}" ]; then set -- "$@" --hooks-dir "$PROCVIEW_HOOKS_DIR"; fi
# shellcheck disable=SC2086
before=$(fingerprint $WATCH)
"$BINDIR/procview" install "$@" --bin-dir "$BINDIR"
# shellcheck disable=SC2086
after=$(fingerprint $WATCH)

if [ "$before" = "$after" ]; then
	log "$ENGINE already configured"
elif [ "$RESTART" = true ]; then
	# Running containers survive: their shims (containerd) or conmon (CRI-O)
	# keep them; the kubelet reconnects.
	log "restarting $UNIT on the node"
	nsenter -t 1 -m -u -i -n -p -- systemctl restart "$UNIT"
else
	log "$ENGINE config changed: restart $UNIT on the node to load it"
fi

# The state root on its own size-limited tmpfs: a container with
# CAP_SYS_ADMIN in its user namespace can remount its view binds
# read-write, and then fills at most this tmpfs, not the node's /run. Not
# over registered containers (their views would vanish from the daemon):
# then it applies from the next boot.
if [ -n "$STATE_SIZE" ]; then
	# shellcheck disable=SC2016
	nsenter -t 1 -m -- sh -ec '
		if mountpoint -q "$1"; then echo "state root $1 is a mount already"; exit 0; fi
		if [ -n "$(ls -A "$1/containers" 2>/dev/null)" ]; then
			echo "containers registered in $1: not mounting a tmpfs over it before the next boot"; exit 0
		fi
		mkdir -p "$1"
		mount -t tmpfs -o "size=$2,mode=0755,nosuid,nodev,noexec" procview-state "$1"
		echo "state root $1: tmpfs of $2"
	' sh "$STATE_ROOT" "$STATE_SIZE" | while read -r l; do log "$l"; done
fi
