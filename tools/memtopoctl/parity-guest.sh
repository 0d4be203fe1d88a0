#!/bin/sh
# QEMU parity, run inside the VM (tools/memtopoctl/parity boots it): import
# every QEMU `info mtree` in this folder and its random/ and arch/ subfolders with
# memtopoctl and compare `show flat` with QEMU's `info mtree -f`, address
# space by address space.
pass=0
fail=0
for t in *.tree.txt random/*.tree.txt arch/*.tree.txt; do
	[ -f "$t" ] || continue
	base=${t%.tree.txt}
	name=parity-$(basename "$base")
	hints=
	[ -f "$base.hints" ] && hints="--hints $base.hints"
	if out=$(memtopoctl -c "$name" import-mtree "$t" $hints 2>&1 &&
		 memtopoctl -c "$name" diff-flat "$base.flat.txt" 2>&1); then
		pass=$((pass + 1))
		echo "ok $base"
	else
		fail=$((fail + 1))
		echo "not ok $base"
		echo "$out" | sed 's/^/# /'
	fi
	memtopoctl -c "$name" destroy 2>/dev/null
done
echo "parity: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
