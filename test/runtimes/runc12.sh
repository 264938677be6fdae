#!/bin/bash
# runc12.sh: print the path of a runc 1.2 (time namespaces) built from the Go
# module proxy, building it first if the cache has none. Debian 12's runc is
# 1.1.5, which has no time namespaces; the bats suite runs the time and
# consumer tests on both.
#
# The binary is cached outside the repository, in
# $PROCVIEW_TEST_CACHE/runc-$VERSION/runc, under the cache lock, so parallel
# test files build it once. Needs gcc and libseccomp-dev (hack/deps.sh):
# runc needs cgo, and -tags seccomp keeps the seccomp filters the engines
# ask for.
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/../rootfs/common.sh"

VERSION=${RUNC12_VERSION:-v1.2.6}
dir=$PROCVIEW_TEST_CACHE/runc-${VERSION#v}
bin=$dir/runc

build() {
	[ -x "$bin" ] && "$bin" --version >/dev/null 2>&1 && return 0
	command -v gcc >/dev/null || die "gcc missing: apt-get install -y gcc libseccomp-dev"
	[ -f /usr/include/seccomp.h ] || die "libseccomp-dev missing: apt-get install -y libseccomp-dev"
	local go=${GO:-}
	[ -n "$go" ] || go=$(command -v go || echo /usr/local/go/bin/go)
	[ -x "$go" ] || die "go missing"
	local tmp
	tmp=$(mktemp -d "$PROCVIEW_TEST_CACHE/.runc.XXXXXX")
	echo "runc12.sh: building runc $VERSION with cgo and seccomp (about a minute)" >&2
	if ! GOBIN=$tmp/bin GOPATH=$tmp/gopath GOCACHE=$tmp/gocache CGO_ENABLED=1 \
		"$go" install -tags seccomp "github.com/opencontainers/runc@$VERSION" >"$tmp/log" 2>&1; then
		tail -n 30 "$tmp/log" >&2
		chmod -R u+w "$tmp"
		rm -rf "$tmp"
		die "go install runc@$VERSION failed"
	fi
	mkdir -p "$dir"
	install -m 0755 "$tmp/bin/runc" "$bin.new"
	mv -f "$bin.new" "$bin"
	chmod -R u+w "$tmp"
	rm -rf "$tmp"
}

with_cache_lock build
"$bin" features >/dev/null 2>&1 || die "$bin features failed"
echo "$bin"
