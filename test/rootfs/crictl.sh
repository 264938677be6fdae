#!/bin/bash
# crictl.sh: print the path of a crictl built from the Go module proxy
# (sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION, about 100 s the first
# time), cached under $PROCVIEW_TEST_CACHE/crictl-<version>/ outside the
# repository. Debian 12 packages no crictl.
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/common.sh"

CRICTL_VERSION=${CRICTL_VERSION:-v1.34.0}
dir=$PROCVIEW_TEST_CACHE/crictl-$CRICTL_VERSION

build() {
	[ -x "$dir/crictl" ] && return 0
	command -v go >/dev/null || PATH=$PATH:/usr/local/go/bin
	command -v go >/dev/null || die "needs go to build crictl"
	local tmp
	tmp=$(mktemp -d "$PROCVIEW_TEST_CACHE/.crictl.XXXXXX")
	# A private GOPATH/GOBIN: nothing lands in the repository or ~/go/bin.
	GOBIN=$tmp/bin GOFLAGS=-modcacherw CGO_ENABLED=0 \
		go install "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION" >&2 ||
		{ rm -rf "$tmp"; die "go install crictl@$CRICTL_VERSION failed"; }
	mkdir -p "$tmp/out"
	mv "$tmp/bin/crictl" "$tmp/out/crictl"
	rm -rf "$dir"
	mv "$tmp/out" "$dir"
	rm -rf "$tmp"
}

# Its own lock: the 100 s build must not hold up the rootfs caches.
mkdir -p "$PROCVIEW_TEST_CACHE"
(
	flock 9
	build
) 9>"$PROCVIEW_TEST_CACHE/.crictl.lock"
echo "$dir/crictl"
