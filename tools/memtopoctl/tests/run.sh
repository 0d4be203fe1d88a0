#!/bin/sh
# import-mtree tests, run inside the VM (tools/memtopoctl/tests/check boots
# it with this folder as /work).  For every machine NAME here:
#   NAME.tree-D.txt  QEMU's "info mtree -D" (disabled regions printed)
#   NAME.tree.txt    QEMU's "info mtree" of the same machine
#   NAME.flat.txt    QEMU's "info mtree -f" of the same machine
#   NAME.hints       optional: facts the text does not print
# each tree text is imported into a context of its own, and
#   - `show flat` must equal NAME.flat.txt, address space by address space;
#   - after the -D import, `show tree -D` must print NAME.tree-D.txt and
#     `show tree` must print NAME.tree.txt exactly: the import rebuilt the
#     disabled regions, not just something that renders the same.
# (The plain text cannot be reprinted exactly in general: it does not say
# where hidden regions were, what a hidden alias target is, or which
# memory-region blocks hidden aliases queued.  Only its flat view is checked.)
# Prints TAP; exit status 0 when every check passes.
n=0
fail=0
check() { # check DESCRIPTION COMMAND...
	desc=$1
	shift
	n=$((n + 1))
	if out=$("$@" 2>&1); then
		echo "ok $n $desc"
	else
		fail=$((fail + 1))
		echo "not ok $n $desc"
		printf '%s\n' "$out" | sed 's/^/# /'
	fi
}
same_text() { # same_text CTX EXPECTED_FILE [-D]
	ctx=$1 expected=$2
	shift 2
	memtopoctl -c "$ctx" show tree "$@" >/tmp/actual.txt || return 1
	diff -u "$expected" /tmp/actual.txt
}
import_and_compare() { # import_and_compare CTX TREE BASE
	if [ -f "$3.hints" ]; then
		memtopoctl -c "$1" import-mtree "$2" --hints "$3.hints"
	else
		memtopoctl -c "$1" import-mtree "$2"
	fi && memtopoctl -c "$1" diff-flat "$3.flat.txt"
}

set -- *.tree-D.txt *.tree.txt
plan=0
for t in "$@"; do
	[ -f "$t" ] || continue
	case $t in
	*.tree-D.txt) plan=$((plan + 3)) ;;
	*) plan=$((plan + 1)) ;;
	esac
done
[ "$plan" -gt 0 ] || { echo "1..0 # no inputs"; exit 1; }
echo "1..$plan"
for t in "$@"; do
	[ -f "$t" ] || continue
	case $t in
	*.tree-D.txt) base=${t%.tree-D.txt} ctx=import-$base-D ;;
	*) base=${t%.tree.txt} ctx=import-$base ;;
	esac
	memtopoctl -c "$ctx" destroy 2>/dev/null
	check "$t: import, flat view equals $base.flat.txt" import_and_compare "$ctx" "$t" "$base"
	case $t in
	*.tree-D.txt)
		check "$t: show tree -D reprints it" same_text "$ctx" "$t" -D
		if [ -f "$base.tree.txt" ]; then
			check "$t: show tree prints $base.tree.txt" same_text "$ctx" "$base.tree.txt"
		else
			check "$t: (no $base.tree.txt to compare)" true
		fi
		;;
	esac
	memtopoctl -c "$ctx" destroy
done
echo "import tests: $((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
