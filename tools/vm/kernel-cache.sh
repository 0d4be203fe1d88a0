# shellcheck shell=sh
# The cache of kernel trees built from Debian's linux-source-6.1, shared by
# tools/vm/build-kernel (kernel-<key>) and tools/vm/build-uml (uml-<key>),
# which source this file.  It is part of both keys, so a change to it
# rebuilds both.  Messages go to stderr, named after the calling script.
#
#   cache_open PREFIX LOCK FILE...
#	tree=$cache/PREFIX-<key>, the key hashing the FILEs, this file and
#	the source package's version ($srcver).  A built tree is printed on
#	stdout and the script exits 0.  Otherwise cache_open takes the lock
#	$cache/LOCK, reuses the tree if a build finished meanwhile, else
#	unpacks the source into $tree.tmp and changes to it.  From then on
#	the script removes $tree.tmp when it fails or is interrupted.
#   cache_done START
#	The build in $tree.tmp succeeded (it began at START, date +%s): it
#	becomes $tree, old trees are pruned, $tree is printed on stdout.

tarball=/usr/src/linux-source-6.1.tar.xz
cache=${MEMTOPO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/memtopo}
cache_self=$(cd "$(dirname "$0")" && pwd)/kernel-cache.sh

# The stamp's time is the tree's last use, which cache_prune reads.  A
# tree cache_prune took away between the test and the touch is built again.
cache_reuse() {
	[ -f "$tree/.memtopo-built" ] || return 0
	touch -c "$tree/.memtopo-built" 2>/dev/null && [ -f "$tree/.memtopo-built" ] || return 0
	echo "$tree"
	exit 0
}

cache_open() {
	cache_prefix=$1 cache_lock=$2
	shift 2
	[ -f "$tarball" ] ||
		{ echo "${0##*/}: $tarball missing (apt-get install linux-source-6.1)" >&2; exit 1; }
	srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || stat -c %s "$tarball")
	key=$( (cat "$@" "$cache_self"; echo "$srcver") | sha256sum | cut -c1-16)
	tree=$cache/$cache_prefix-$key
	cache_reuse
	mkdir -p "$cache"
	# One build of a prefix at a time (work trees and make check steps
	# share the cache): a second caller waits for the first, then reuses
	# its tree.  The lock, on descriptor 9, is held until this script
	# exits (after its trap below has removed a half tree) and until the
	# last build process that inherited it is gone.
	exec 9>>"$cache/$cache_lock"
	flock 9
	cache_reuse
	# A build that fails or is interrupted removes its half tree (1.5 GB);
	# one killed outright leaves it to the next build of the same key or
	# to cache_prune.
	trap 'rm -rf "$tree.tmp"' EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
	rm -rf "$tree.tmp"
	mkdir -p "$tree.tmp"
	echo "${0##*/}: unpacking linux-source $srcver into $tree" >&2
	tar -xJf "$tarball" -C "$tree.tmp" --strip-components=1
	cd "$tree.tmp" || exit 1
}

# Another key's tree is another fragment, script or source version, which
# another checkout may still use (a worktree on another branch): it goes
# once unused for a day.  A half-built tree is only a killed build's, as
# the lock keeps builds of a prefix apart: it goes now.  A tree to remove
# is first renamed to a half tree's name, which cache_reuse does not
# take: a checkout of its key arriving meanwhile builds it again, where
# it would have been handed a tree half deleted; one that marked it just
# before the rename keeps it.
cache_prune() {
	for old in "$cache/$cache_prefix"-*; do
		case ${old##*/} in
		"${tree##*/}") ;;
		"$cache_prefix"-????????????????.tmp)
			[ -e "$old" ] || continue
			echo "${0##*/}: removing $old" >&2
			rm -rf "$old" ;;
		"$cache_prefix"-????????????????)
			[ -z "$(find "$old/.memtopo-built" -mmin -1440 2>/dev/null)" ] || continue
			rm -rf "$old.tmp"
			mv "$old" "$old.tmp" || continue
			if [ -n "$(find "$old.tmp/.memtopo-built" -mmin -1440 2>/dev/null)" ]; then
				mv "$old.tmp" "$old"
				continue
			fi
			echo "${0##*/}: removing $old (unused for a day)" >&2
			rm -rf "$old.tmp" ;;
		esac
	done
}

cache_done() {
	cd "$cache" || exit 1
	rm -rf "$tree"
	mv "$tree.tmp" "$tree"
	touch "$tree/.memtopo-built"
	cache_prune
	echo "${0##*/}: done in $(( $(date +%s) - $1 ))s" >&2
	echo "$tree"
}
