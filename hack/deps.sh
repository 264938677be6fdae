#!/usr/bin/env bash
# deps.sh: install what `make test` needs on a Debian/Ubuntu machine, only
# what is missing (idempotent). Used by `make deps` (a step of `make test`)
# and by .ci/run, so a fresh machine passes `sudo make test` by itself.
#
# Every Debian package the tests use, in one place:
#   runtimes and engines: runc crun podman containerd docker.io lxcfs
#   bats suite:           bats jq busybox-static debootstrap util-linux
#                         procps sysstat python3-psutil iproute2 file tcpdump
#   sysinfo probes:       gcc libc6-dev gcc-multilib (static 64-bit and i386 builds)
#   VM suite (test/vm):   qemu-system-x86 (kernel fetched there via apt-get download)
#   runc 1.2 (test/runtimes/runc12.sh, go install with cgo): gcc libseccomp-dev
#   build:                make git ca-certificates
set -euo pipefail

PACKAGES=(
	runc crun podman containerd docker.io lxcfs
	bats jq busybox-static debootstrap util-linux procps sysstat python3-psutil iproute2 file tcpdump
	gcc libc6-dev gcc-multilib
	qemu-system-x86
	prometheus curl
	libseccomp-dev
	make git ca-certificates
	gcc libc6-dev # test/reliability/threads.c, built static by hardening.bash
)

if [ "$(id -u)" != 0 ]; then
	echo "deps: run as root (sudo make test)" >&2
	exit 1
fi
command -v dpkg-query >/dev/null || { echo "deps: not a Debian/Ubuntu machine; install by hand: ${PACKAGES[*]}" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# test/vm downloads a kernel package with apt-get download, which needs
# package lists, so they are refreshed whenever none are present too.
if [ ${#missing[@]} -eq 0 ] && compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
	echo "deps: all ${#PACKAGES[@]} packages present"
	exit 0
fi
echo "deps: installing ${missing[*]:-(none; refreshing lists)}"
apt-get update -qq
[ ${#missing[@]} -gt 0 ] || exit 0
# Keep package scripts from starting docker/containerd services: the tests
# drive the runtimes directly. Only a policy file this script made is removed.
made_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 0755 /usr/sbin/policy-rc.d
	made_policy=1
fi
trap '[ $made_policy = 0 ] || rm -f /usr/sbin/policy-rc.d' EXIT
apt-get install -y -qq -o Dpkg::Options::=--force-confold "${missing[@]}" </dev/null
