#!/bin/sh
# /init of the memtopo test VM (busybox sh).  tools/vm/run puts it in the
# initramfs together with /memtopo/config, the modules, the tools and the
# selftests.  The kernel console is ttyS0; everything this script and the
# tests print goes to ttyS1, framed by MEMTOPO-* marker lines that
# tools/vm/verdict reads on the host.
/bin/busybox --install -s /bin
export PATH=/memtopo/bin:/memtopo/selftests:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp
stty -F /dev/ttyS1 raw -echo 2>/dev/null
exec </dev/null >/dev/ttyS1 2>&1
# shellcheck source=/dev/null
. /memtopo/config
failed=0

finish() {
	echo "MEMTOPO-EXIT: $1"
	# Closing the port waits until the UART has sent everything.
	exec >/dev/null 2>&1
	sync
	reboot -f
}

# step NAME CMD...: run CMD, report its status to the host.
step() {
	name=$1
	shift
	"$@"
	rc=$?
	echo "MEMTOPO-STEP $name $rc"
	[ "$rc" = 0 ] || failed=$((failed + 1))
	return "$rc"
}

kmemleak=/sys/kernel/debug/kmemleak
uptime() { cut -d' ' -f1 /proc/uptime; }
# Objects allocated before this moment (in jiffies, as kmemleak reports
# them) are the boot's: reports of those (ACPI caches have been seen) are
# not ours and are left out.
j_start=$(awk '/^jiffies:/ { print $2; exit }' /proc/timer_list 2>/dev/null)

# After the module is gone: kmemleak reports an object only once it is 5 s
# old and a second scan finds it unreferenced with an unchanged checksum,
# so scan, let 5 s pass since the unload, scan again; print what remains.
leak_check() {
	[ -w $kmemleak ] || return 0
	t_end=$(uptime)
	sleep 1
	echo scan >$kmemleak
	wait=$(awk -v a="$t_end" -v b="$(uptime)" 'BEGIN { w = a + 6 - b; print (w > 0 ? int(w + 1) : 0) }')
	sleep "$wait"
	echo scan >$kmemleak
	echo "MEMTOPO-KMEMLEAK-BEGIN"
	awk -v j0="${j_start:-0}" '
		/^unreferenced object/ { hdr = $0; keep = -1; next }
		keep == -1 && /jiffies [0-9]+/ {
			j = $0; sub(/.*jiffies /, "", j); sub(/[^0-9].*/, "", j)
			keep = j + 0 >= j0 + 0
			if (keep) print hdr; else ignored++
		}
		keep == 1 { print }
		END { if (ignored) print "MEMTOPO-KMEMLEAK-IGNORED " ignored " objects allocated during boot" }
	' $kmemleak
	echo "MEMTOPO-KMEMLEAK-END"
}

# Fault injection (fail-nth, failslab) must not print a stack trace per
# injected failure: traces are splats to the verdict.  fail-nth must reach
# GFP_KERNEL allocations too (the KUnit suites cannot set this themselves);
# it only ever fails a task that asked for it.
for f in /sys/kernel/debug/failslab /sys/kernel/debug/fail_page_alloc \
	/sys/kernel/debug/fail_usercopy; do
	[ -w $f/verbose ] && echo 0 >$f/verbose
	[ -w $f/ignore-gfp-wait ] && echo N >$f/ignore-gfp-wait
done

echo "MEMTOPO-BOOTED $(uname -r)"
# shellcheck disable=SC2086 # one word per parameter
if ! step insmod-memtopo insmod /memtopo/modules/memtopo.ko $MEMTOPO_PARAMS; then
	finish 1
fi
step devnode test -c /dev/memtopo

if [ "$MODE" = cmd ]; then
	cd /work && sh /memtopo/cmd
	cmd_rc=$?
	cd /
	echo "MEMTOPO-CMD-EXIT $cmd_rc"
	if [ "$UNLOAD" = 1 ]; then
		step rmmod-memtopo rmmod memtopo
		leak_check
	fi
	finish "$cmd_rc"
fi

if [ -f /memtopo/modules/memtopo_kunit.ko ]; then
	ls /sys/kernel/debug/kunit >/tmp/suites.before 2>/dev/null
	step insmod-memtopo_kunit insmod /memtopo/modules/memtopo_kunit.ko
	for d in /sys/kernel/debug/kunit/*; do
		s=${d##*/}
		[ -f "$d/results" ] || continue
		grep -qx "$s" /tmp/suites.before && continue
		echo "MEMTOPO-KUNIT-BEGIN $s"
		cat "/sys/kernel/debug/kunit/$s/results"
		echo "MEMTOPO-KUNIT-END $s"
	done
	step rmmod-memtopo_kunit rmmod memtopo_kunit
fi

if [ -f /memtopo/modules/memtopo_mirror.ko ]; then
	step insmod-memtopo_mirror insmod /memtopo/modules/memtopo_mirror.ko
fi
if [ -f /memtopo/modules/memtopo_vhost.ko ]; then
	step insmod-memtopo_vhost insmod /memtopo/modules/memtopo_vhost.ko
fi
for t in /memtopo/selftests/*; do
	[ -x "$t" ] || continue
	name=${t##*/}
	echo "MEMTOPO-SELFTEST-BEGIN $name"
	(cd /tmp && "$t")
	echo "MEMTOPO-SELFTEST-END $name $?"
done
if [ -f /memtopo/modules/memtopo_mirror.ko ]; then
	step rmmod-memtopo_mirror rmmod memtopo_mirror
fi
if [ -f /memtopo/modules/memtopo_vhost.ko ]; then
	step rmmod-memtopo_vhost rmmod memtopo_vhost
fi

step rmmod-memtopo rmmod memtopo
leak_check
finish "$failed"
