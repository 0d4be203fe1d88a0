#!/usr/bin/env bash
# Host test of tools/vm/verdict: canned guest outputs and console logs, each
# with the exit status and the report line the verdict must give.
set -u
here=$(cd "$(dirname "$0")" && pwd)
verdict=$here/../verdict
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

ok_out='MEMTOPO-BOOTED 6.1.0
MEMTOPO-STEP insmod-memtopo 0
MEMTOPO-KUNIT-BEGIN s1
KTAP version 1
1..1
    KTAP version 1
    # Subtest: s1
    1..3
    ok 1 a
        # Subtest: b
        ok 1 param-0
        ok 2 param-1
    ok 2 b
    ok 3 c # SKIP not here
ok 1 s1
MEMTOPO-KUNIT-END s1
MEMTOPO-SELFTEST-BEGIN t1
TAP version 13
1..2
ok 1 f.x
ok 2 f.y
MEMTOPO-SELFTEST-END t1 0
MEMTOPO-STEP rmmod-memtopo 0
MEMTOPO-KMEMLEAK-BEGIN
MEMTOPO-KMEMLEAK-END
MEMTOPO-EXIT: 0'
ok_log='[    0.000000] Linux version 6.1.0
[    1.000000] kasan: KernelAddressSanitizer initialized
[    2.000000] memtopo: loading out-of-tree module taints kernel.'

# check NAME WANT-RC WANT-REGEX OUT LOG [verdict options]; an empty regex
# wants no output at all.
check() {
	local name=$1 want=$2 re=$3 rc
	printf '%s\n' "$4" >"$tmp/out"
	printf '%s\n' "$5" >"$tmp/log"
	shift 5
	"$verdict" "$@" "$tmp/log" "$tmp/out" >"$tmp/res" 2>&1
	rc=$?
	if [ "$rc" = "$want" ] && { [ -z "$re" ] && [ ! -s "$tmp/res" ] ||
		{ [ -n "$re" ] && grep -Eq -- "$re" "$tmp/res"; }; }; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $name: status $rc (want $want), output:"
		sed 's/^/    /' "$tmp/res"
	fi
}

check pass 0 'verdict: PASS \(kunit 2 passed 0 failed 1 skipped, selftests 2 passed' \
	"$ok_out" "$ok_log" --selftests 1 --kunit
check kunit-not-ok 1 'kunit s1: 1 failed' \
	"$(printf '%s\n' "$ok_out" | sed 's/^    ok 2 b/    not ok 2 b/; s/^ok 1 s1/not ok 1 s1/')" "$ok_log"
check kunit-truncated 1 'kunit s1: results incomplete' \
	"$(printf '%s\n' "$ok_out" | grep -v '^ok 1 s1')" "$ok_log"
check kunit-lost-case-line 1 'kunit s1: 1 failed' \
	"$(printf '%s\n' "$ok_out" | grep -v '^    ok 1 a' | sed 's/^ok 1 s1/not ok 1 s1/')" "$ok_log"
check kunit-missing 1 'no KUnit suite reported' \
	"$(printf '%s\n' "$ok_out" | sed '/KUNIT-BEGIN/,/KUNIT-END/d')" "$ok_log" --kunit
check selftest-not-ok 1 'selftest t1: 1 failed' \
	"$(printf '%s\n' "$ok_out" | sed 's/^ok 2 f.y/not ok 2 f.y/; s/END t1 0/END t1 1/')" "$ok_log"
check selftest-short 1 'selftest t1: 1 failed' \
	"$(printf '%s\n' "$ok_out" | grep -v '^ok 2 f.y')" "$ok_log"
check selftest-exit-status 1 'selftest t1: 1 failed' \
	"$(printf '%s\n' "$ok_out" | sed 's/END t1 0/END t1 139/')" "$ok_log"
check selftest-skip 0 'selftests 0 passed 0 failed 1 skipped' \
	"$(printf '%s\n' "$ok_out" | sed '/^ok [12] f/d; s/^1\.\.2/1..0/; s/END t1 0/END t1 4/')" "$ok_log"
check selftest-hang 1 'selftest t1: did not finish' \
	"$(printf '%s\n' "$ok_out" | sed '/SELFTEST-END/,$d')" "$ok_log"
check selftests-missing 1 'selftests: 1 of 2 ran' "$ok_out" "$ok_log" --selftests 2
check step-failed 1 'step rmmod-memtopo failed \(status 1\)' \
	"$(printf '%s\n' "$ok_out" | sed 's/rmmod-memtopo 0/rmmod-memtopo 1/')" "$ok_log"
check no-exit-marker 1 'did not finish: timeout' \
	"$(printf '%s\n' "$ok_out" | grep -v EXIT)" "$ok_log"
check never-booted 1 'never started' '' "$ok_log"
check kmemleak-report 1 'splat \[kmemleak\]: unreferenced object 0xffff888' \
	"$(printf '%s\n' "$ok_out" | sed 's/^MEMTOPO-KMEMLEAK-BEGIN/&\nunreferenced object 0xffff888004a1b000 (size 128):/')" "$ok_log"

# One console line per splat kind, each must fail a passing run.
while IFS='|' read -r kind line; do
	check "splat-$kind" 1 "splat \\[$kind\\]" "$ok_out" "$ok_log
[    3.000000] $line
[    3.000001] Call Trace:
[    3.000002]  <TASK>"
done <<'EOF'
kasan|BUG: KASAN: slab-use-after-free in memtopo_fault_inject+0x1/0x2 [memtopo]
kasan|KASAN: null-ptr-deref in range [0x0000000000000000-0x0000000000000007]
ubsan|UBSAN: shift-out-of-bounds in kmod/fault_selftest.c:80:3
kmemleak|unreferenced object 0xffff888004a1b000 (size 128):
lockdep|WARNING: possible circular locking dependency detected
lockdep|WARNING: possible recursive locking detected
lockdep|WARNING: inconsistent lock state
lockdep|WARNING: bad unlock balance detected!
rcu|WARNING: suspicious RCU usage
rcu|rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:
sleep|BUG: sleeping function called from invalid context at kmod/x.c:1
sleep|BUG: scheduling while atomic: insmod/99/0x00000002
hung|INFO: task insmod:99 blocked for more than 120 seconds.
oops|BUG: kernel NULL pointer dereference, address: 0000000000000000
oops|general protection fault, probably for non-canonical address 0xdffffc0000000000: 0000 [#1] PREEMPT SMP KASAN
oops|kernel BUG at kmod/region.c:10!
oops|Kernel panic - not syncing: Fatal exception
slab|BUG kmalloc-64 (Tainted: G    B      O      ): Poison overwritten
slab|ODEBUG: free active (active state 0) object type: timer_list hint: 0x0
warning|WARNING: CPU: 1 PID: 99 at kmod/fault_selftest.c:75 memtopo_fault_inject+0x1/0x2 [memtopo]
bug|BUG: Bad page state in process insmod  pfn:01234
trace|Call Trace:
EOF
check kmemleak-summary-only 0 'verdict: PASS' "$ok_out" "$ok_log
[    3.000000] kmemleak: 8 new suspected memory leaks (see /sys/kernel/debug/kmemleak)"
check expected-splat 0 'verdict: PASS' "$ok_out" "$ok_log
[    3.000000] memtopo: expect-splat begin
[    3.000001] WARNING: CPU: 1 PID: 99 at kmod/x.c:1 f+0x1/0x2
[    3.000002] Call Trace:
[    3.000003] memtopo: expect-splat end"

cmd_out='MEMTOPO-BOOTED 6.1.0
MEMTOPO-STEP insmod-memtopo 0
hello
MEMTOPO-CMD-EXIT 3
MEMTOPO-STEP rmmod-memtopo 0
MEMTOPO-EXIT: 3'
check cmd-status 3 '' "$cmd_out" "$ok_log" --mode cmd
check cmd-ok 0 '' "$(printf '%s\n' "$cmd_out" | sed 's/EXIT 3/EXIT 0/; s/EXIT: 3/EXIT: 0/')" "$ok_log" --mode cmd
check cmd-ok-but-splat 1 'splat \[warning\]' \
	"$(printf '%s\n' "$cmd_out" | sed 's/EXIT 3/EXIT 0/; s/EXIT: 3/EXIT: 0/')" "$ok_log
[    3.000000] WARNING: CPU: 0 PID: 1 at x.c:1 f" --mode cmd
check cmd-ok-but-unload 1 'step rmmod-memtopo failed' \
	"$(printf '%s\n' "$cmd_out" | sed 's/EXIT 3/EXIT 0/; s/EXIT: 3/EXIT: 0/; s/rmmod-memtopo 0/rmmod-memtopo 1/')" "$ok_log" --mode cmd
check cmd-timeout 1 'did not finish' "$(printf '%s\n' "$cmd_out" | sed '/CMD-EXIT/,$d')" "$ok_log" --mode cmd

echo "verdict tests: $pass passed, $fail failed"
[ "$fail" = 0 ]
