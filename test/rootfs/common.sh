# Shared by busybox.sh and debian.sh; sourced, not executed.
# Caches live outside the repository so a fresh clone stays clean and a
# second run (or a second test file) reuses the work.

PROCVIEW_TEST_CACHE=${PROCVIEW_TEST_CACHE:-/var/cache/procview-test}

die() {
	echo "${0##*/}: $*" >&2
	exit 1
}

# copy_tree SRC DEST: DEST gets its own copy of SRC. Regular files are
# copied, not hardlinked, because tests write into rootfs files (e.g.
# /etc/passwd is never rewritten, but dd and shells create files) and a
# hardlinked cache would silently absorb any in-place edit.
copy_tree() {
	local src=$1 dest=$2
	mkdir -p "$dest"
	cp -a --reflink=auto "$src"/. "$dest"/
}

# with_cache_lock CMD...: serialise cache builds between parallel test files.
with_cache_lock() {
	mkdir -p "$PROCVIEW_TEST_CACHE"
	(
		flock 9
		"$@"
	) 9>"$PROCVIEW_TEST_CACHE/.lock"
}
