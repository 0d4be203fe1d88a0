#!/usr/bin/env bash
# Host test of tools/vm/kernel-cache.sh, the cache build-kernel and
# build-uml share: a stand-in builder sources a copy of it, pointed at a
# small tarball, in a cache of its own, and builds, reuses, fails, is
# interrupted and prunes as they do, in a few seconds.
set -u
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
export MEMTOPO_CACHE=$tmp/cache

ok() { # ok NAME CONDITION...: CONDITION (a command) must succeed
	local name=$1
	shift
	if "$@"; then
		pass=$((pass + 1))
	else
		echo "FAIL: $name"
		fail=$((fail + 1))
	fi
}

mkdir -p "$tmp/src/linux-fake" "$tmp/bin"
echo source >"$tmp/src/linux-fake/Makefile"
tar -cJf "$tmp/linux.tar.xz" -C "$tmp/src" linux-fake
sed "s|^tarball=.*|tarball=$tmp/linux.tar.xz|" "$here/../kernel-cache.sh" >"$tmp/bin/kernel-cache.sh"
grep -qx "tarball=$tmp/linux.tar.xz" "$tmp/bin/kernel-cache.sh" || { echo "FAIL: no tarball= line"; exit 1; }
echo fragment >"$tmp/bin/fragment"
# The builder logs each build; SLEEP and FAIL stand for a long and a
# failed make.
cat >"$tmp/bin/build-fake" <<'EOF'
#!/bin/sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/kernel-cache.sh"
cache_open "$PREFIX" ".$PREFIX.lock" "$here/fragment" "$here/build-fake"
[ -f Makefile ]
echo "$tree" >>"$here/builds"
[ -z "${SLEEP:-}" ] || sleep "$SLEEP"
[ -z "${FAIL:-}" ] || exit 1
echo built >built
cache_done "$(date +%s)"
EOF
chmod +x "$tmp/bin/build-fake"
build() { PREFIX=$1 "$tmp/bin/build-fake" 2>>"$tmp/stderr"; }
builds() { wc -l <"$tmp/bin/builds" 2>/dev/null || echo 0; }
old() { touch -d '2 days ago' "$1/.memtopo-built"; }
fresh() { [ -n "$(find "$1/.memtopo-built" -mmin -1440 2>/dev/null)" ]; }
no_tmp() { ! ls -d "$MEMTOPO_CACHE"/*.tmp >/dev/null 2>&1; }

# A build: the tree is printed, built, stamped; nothing half built remains.
tree=$(build kernel)
ok build-status [ $? = 0 ]
ok build-name [ "${tree%-*}" = "$MEMTOPO_CACHE/kernel" ]
ok build-tree [ -f "$tree/built" ]
ok build-stamp fresh "$tree"
ok build-no-tmp no_tmp

# Reuse: the same tree, no build, and its stamp marks the use.
old "$tree"
ok reuse-tree [ "$(build kernel)" = "$tree" ]
ok reuse-no-build [ "$(builds)" = 1 ]
ok reuse-marks-use fresh "$tree"

# Two callers at once: the second waits for the first, then reuses.
echo two >"$tmp/bin/fragment"
SLEEP=2 build kernel >"$tmp/first" &
sleep 0.5
second=$(build kernel)
wait $!
ok lock-one-build [ "$(builds)" = 2 ]
ok lock-same-tree [ "$second" = "$(cat "$tmp/first")" ]
ok lock-new-key [ "$second" != "$tree" ]

# The key covers the fragment, the builder and the cache's own code.
echo three >"$tmp/bin/fragment"
third=$(build kernel)
ok key-fragment [ "$third" != "$second" ]
echo '# a change' >>"$tmp/bin/kernel-cache.sh"
ok key-cache-code [ "$(build kernel)" != "$third" ]
ok key-rebuilt [ "$(builds)" = 4 ]

# A failed or interrupted build leaves no half tree.
echo four >"$tmp/bin/fragment"
FAIL=1 build kernel >/dev/null
ok failed-status [ $? != 0 ]
ok failed-no-tmp no_tmp
for sig in INT TERM HUP; do
	SLEEP=30 PREFIX=kernel timeout -s "$sig" 1 "$tmp/bin/build-fake" >/dev/null 2>&1
	ok "$sig-status" [ $? = 124 ]
	ok "$sig-no-tmp" no_tmp
done
ok interrupted-started [ "$(builds)" = 8 ]

# A finished build prunes its prefix's trees unused for a day and every
# half tree; it keeps the fresh ones and never touches another prefix's.
k=$MEMTOPO_CACHE/kernel u=$MEMTOPO_CACHE/uml
mkdir -p "$k-1111111111111111" "$k-2222222222222222" "$k-3333333333333333.tmp" \
	"$k-4444444444444444" "$k-notakey" "$u-1111111111111111" "$u-3333333333333333.tmp" \
	"$k-5555555555555555" "$k-5555555555555555.tmp"
touch "$k-1111111111111111/.memtopo-built" "$k-2222222222222222/.memtopo-built" \
	"$k-notakey/.memtopo-built" "$u-1111111111111111/.memtopo-built" \
	"$k-5555555555555555/.memtopo-built"
old "$k-1111111111111111"
old "$k-5555555555555555"
old "$k-notakey"
old "$u-1111111111111111"
old "$tree"
echo five >"$tmp/bin/fragment"
new=$(build kernel)
ok prune-built [ -f "$new/built" ]
ok prune-old [ ! -e "$k-1111111111111111" ]
ok prune-old-built [ ! -e "$tree" ]
ok prune-tmp [ ! -e "$k-3333333333333333.tmp" ]
ok prune-unstamped [ ! -e "$k-4444444444444444" ]
ok prune-old-and-its-tmp [ ! -e "$k-5555555555555555" ] && [ ! -e "$k-5555555555555555.tmp" ]
ok prune-no-tmp-left [ -z "$(find "$MEMTOPO_CACHE" -maxdepth 1 -name 'kernel-*.tmp')" ]
ok keep-fresh [ -d "$k-2222222222222222" ]
ok keep-other-names [ -d "$k-notakey" ]
ok keep-other-prefix [ -d "$u-1111111111111111" ]
ok keep-other-prefix-tmp [ -d "$u-3333333333333333.tmp" ]
uml=$(build uml)
ok uml-prunes-old [ ! -e "$u-1111111111111111" ]
ok uml-prunes-tmp [ ! -e "$u-3333333333333333.tmp" ]
ok uml-keeps-kernel [ -d "$new" ]
ok uml-keeps-kernel-fresh [ -d "$k-2222222222222222" ]
ok uml-tree [ "${uml%-*}" = "$u" ]

echo "kernel-cache tests: $pass passed, $fail failed"
[ "$fail" = 0 ] || { sed 's/^/stderr: /' "$tmp/stderr"; exit 1; }
