#!/bin/sh
# memtopoctl's read/write and --json, run inside the VM (check boots it).
# Prints TAP; every --json output is also printed between "JSON-BEGIN NAME"
# and "JSON-END" lines so the host can parse it (check does, with python3).
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
bad() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $1"; shift; for l in "$@"; do echo "# $l"; done; }
expect() { # expect DESCRIPTION EXPECTED_OUTPUT EXPECTED_STATUS COMMAND...
	desc=$1 want=$2 want_rc=$3
	shift 3
	got=$("$@" 2>/tmp/err)
	rc=$?
	if [ "$got" = "$want" ] && [ "$rc" = "$want_rc" ]; then
		ok "$desc"
	else
		bad "$desc" "command: $*" "expected status $want_rc, output: $want" \
			"got status $rc, output: $got" "stderr: $(cat /tmp/err)"
	fi
}
expect_err() { # expect_err DESCRIPTION STDERR_SUBSTRING STATUS COMMAND...
	desc=$1 want=$2 want_rc=$3
	shift 3
	"$@" >/dev/null 2>/tmp/err
	rc=$?
	if [ "$rc" = "$want_rc" ] && grep -q -- "$want" /tmp/err; then
		ok "$desc"
	else
		bad "$desc" "command: $*" "expected status $want_rc and \"$want\"" \
			"got status $rc, stderr: $(cat /tmp/err)"
	fi
}
json() { # json NAME COMMAND...: print the output for the host, check the status
	name=$1
	shift
	echo "JSON-BEGIN $name"
	"$@"
	rc=$?
	echo "JSON-END"
	if [ "$rc" = 0 ]; then
		ok "--json $name: status 0"
	else
		bad "--json $name: status $rc"
	fi
}
C() { memtopoctl -c cli "$@"; }

C destroy 2>/dev/null
# a ROM image: bytes 0x00..0xff, then zeros up to the region's 4K
i=0
: >rom.bin
while [ $i -lt 256 ]; do
	# shellcheck disable=SC2059 # the format is the byte, as an octal escape
	printf "\\$(printf %03o "$i")" >>rom.bin
	i=$((i + 1))
done
cat >map.txt <<'MAP'
create-region container sys 2^64
create-region ram kram 64K kernel
add-subregion sys kram 0x10000
create-region rom krom 4K kernel=rom.bin
add-subregion sys krom 0x20000
create-region ram uram 4K uaddr=0x1000
add-subregion sys uram 0x30000
create-region io dev 0x100
add-subregion sys dev 0x40000
create-space mem sys
MAP
expect "script builds the map" "applied 10 operations" 0 C script map.txt
expect "kernel RAM starts zeroed" "0x00000000" 0 C read mem 0x10000
expect "write 8 bytes" "" 0 C write mem 0x10000 0x1122334455667788 8
expect "read them back, 8" "0x1122334455667788" 0 C read mem 0x10000 8
expect "read them back, 4 (little-endian)" "0x55667788" 0 C read mem 0x10000
expect "read them back, 2 at +6" "0x1122" 0 C read mem 0x10006 2
expect "read them back, 1 at +1" "0x77" 0 C read mem 0x10001 1
expect "write 1 byte" "" 0 C write mem 0x1ffff 0xab 1
expect "hex dump, 3 bytes" "88 77 66" 0 C read mem 0x10000 3
expect "hex dump, 18 bytes" "$(printf '00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f\n10 11')" 0 \
	C read mem 0x20000 18
expect "ROM image, 4 at 0xfc" "0xfffefdfc" 0 C read mem 0x200fc
expect "ROM zero-padded past the image" "0x00000000" 0 C read mem 0x20100
expect_err "ROM refuses writes" "read-only" 1 C write mem 0x20000 1
expect "ROM unchanged" "0x03020100" 0 C read mem 0x20000
expect_err "unassigned" "unassigned address" 1 C read mem 0x50000
expect_err "a read past the end of the ROM" "unassigned address" 1 C read mem 0x20ffe 4
expect "a read from kernel RAM into the ROM" "0x0100ab00" 0 C read mem 0x1fffe 4
expect_err "a write from kernel RAM into the ROM" "read-only" 1 C write mem 0x1fffe 0xffffffff 4
expect "it wrote nothing, not even the RAM part" "0x0100ab00" 0 C read mem 0x1fffe 4
expect_err "userspace-backed RAM is out of reach" "cannot access" 1 C read mem 0x30000
expect_err "device without callbacks" "cannot access" 1 C read mem 0x40000
expect_err "value too wide" "does not fit" 2 C write mem 0x10000 0x100 1
expect_err "bad size" "SIZE is 1, 2, 4 or 8" 2 C write mem 0x10000 1 3
expect_err "unknown space" "no address space" 1 C read nospace 0
expect_err "kernel RAM past the context's budget" "No space left on device" 1 \
	C create-region ram huge 2G kernel
expect "the refused region was not made" "0" 0 sh -c "memtopoctl -c cli show regions | grep -c ' huge'; true"
expect_err "kernel I/O region" "Invalid argument" 1 C create-region io kio 4K kernel
expect_err "kernel=FILE larger than SIZE" "larger than the region" 2 \
	C create-region rom small 16 kernel=rom.bin
expect "show regions marks kernel RAM" "1" 0 sh -c "memtopoctl -c cli show regions | grep -c 'kram .*kernel-backed'"
# file and process backings: the bytes are the file's, and stay so after memtopoctl exits
expect "memfd RAM: created with its backing" "1" 0 sh -c \
	"memtopoctl -c cli create-region ram mram 8K memfd | grep -c '^region #[0-9]* backing #[1-9][0-9]* offset 0x0$'"
: >page.bin
i=0
while [ $i -lt 3 ]; do
	head -c 4096 /dev/zero | tr '\0' "$(printf "\\$(printf %03o $((0x41 + i)))")" >>page.bin
	i=$((i + 1))
done
expect "file=PATH:OFFSET: created" "1" 0 sh -c \
	"memtopoctl -c cli create-region ram fram 8K file=page.bin:0x1000 | grep -c 'backing #[1-9][0-9]* offset 0x1000$'"
cat >fmap.txt <<'MAP'
add-subregion sys mram 0x50000
add-subregion sys fram 0x60000
MAP
expect "file-backed regions mapped" "applied 2 operations" 0 C script fmap.txt
expect "memfd RAM starts zeroed" "0x00000000" 0 C read mem 0x51ffc
expect "memfd RAM keeps a write across processes" "" 0 C write mem 0x51ffc 0xcafef00d
expect "memfd RAM reads it back" "0xcafef00d" 0 C read mem 0x51ffc
expect "file RAM reads the file from the offset" "0x42424242" 0 C read mem 0x60000
expect "file RAM, its second page" "0x43434343" 0 C read mem 0x61ffc
expect "a write through the map" "" 0 C write mem 0x60004 0x64636261
expect "reaches the file itself" "BBBBabcdBBBB" 0 sh -c "dd if=page.bin bs=1 skip=4096 count=12 2>/dev/null"
expect "show regions marks file RAM" "2" 0 sh -c "memtopoctl -c cli show regions | grep -c '[mf]ram .*file-backed backing #'"
expect_err "file=: no such file" "No such file" 2 C create-region ram nofile 4K file=/nonexistent
expect_err "file=: misaligned offset" "Invalid argument" 1 C create-region ram mis 4K file=page.bin:0x800
expect_err "file=: past the end of the file" "No such device or address" 1 \
	C create-region ram past 8K file=page.bin:0x2000
expect_err "file=: a directory cannot be mapped" "No such device" 1 C create-region rom dir 4K file=/
expect "refused file regions were not made" "0" 0 sh -c \
	"memtopoctl -c cli show regions | grep -c ' nofile\| mis \| past \| dir '; true"
expect "process RAM: created" "1" 0 sh -c "memtopoctl -c cli create-region ram pram 4K process | grep -c 'backing #'"
echo "add-subregion sys pram 0x70000" >pmap.txt
C script pmap.txt >/dev/null
expect_err "process RAM after its owner exited" "No such process" 1 C read mem 0x70000
expect_err "unknown command" 'unknown command "bogus"' 2 memtopoctl -c cli-unknown bogus
expect_err "an unknown command creates no context" "No such file" 1 \
	memtopoctl -c cli-unknown destroy

# --json for every command that prints data
json info C --json info
json show-tree C --json show tree
json show-tree-D C --json show tree -D
json show-flat C --json show flat
json show-regions C --json show regions
json show-spaces C --json show spaces
json flat C --json flat mem
json lookup C --json lookup mem 0x10000
json read-word C --json read mem 0x10000 8
json read-dump C --json read mem 0x20000 20
json create C --json create-region ram extra 4K kernel
json create-memfd C --json create-region ram extra-memfd 4K memfd
echo "create-region io s1 16" >s.txt
json script C --json script s.txt
C show flat >flat.txt
json diff-flat C --json diff-flat flat.txt
json import-dry C --json import-mtree disabled.tree-D.txt --hints disabled.hints --dry-run
json import memtopoctl -c cli-import --json import-mtree disabled.tree-D.txt --hints disabled.hints
json watch sh -c "memtopoctl -c cli --json watch mem --replay --count 1 --timeout 5"
json watch-all sh -c "memtopoctl -c cli --json watch mem --replay --events all --count 1 --timeout 5"
expect_err "watch refuses an unknown event kind" "unknown event" 1 \
	memtopoctl -c cli watch mem --events region_add,bogus
# resync by difference: the ranges one generation lacks, from the kernel's kept views
g0=$(C flat mem | sed -n 's/^generation \([0-9]*\),.*/\1/p')
C set dev address 0x48000
g1=$(C flat mem | sed -n 's/^generation \([0-9]*\),.*/\1/p')
expect "diff-flat between two generations" "generation $g0 -> $g1: 2 events
- 0000000000040000-00000000000400ff dev @0
+ 0000000000048000-00000000000480ff dev @0" 0 C diff-flat mem --from "$g0" --to "$g1"
expect "diff-flat back: the other way round" "generation $g1 -> $g0: 2 events
- 0000000000048000-00000000000480ff dev @0
+ 0000000000040000-00000000000400ff dev @0" 0 C diff-flat mem --from "$g1" --to "$g0"
json diff-flat-gen C --json diff-flat mem --from "$g0"
expect_err "diff-flat from a generation never made" "Invalid argument" 1 \
	C diff-flat mem --from 99999999
C set dev address 0x40000
# an alias holding a subregion (QEMU allows it): printed under the alias, never rendered
cat >alias.txt <<'MAP'
create-region container top 2^64
create-region container inner 64K
create-region ram r 4K
create-alias win inner 0 64K
create-alias sub r 0 4K
add-subregion inner r 0
add-subregion top win 0x100000
add-subregion win sub 0x1000 1
create-space as top
MAP
expect "script adds a subregion to an alias" "applied 9 operations" 0 \
	memtopoctl -c cli-alias script alias.txt
expect "show tree prints it under the alias" 1 0 sh -c "memtopoctl -c cli-alias show tree |
	grep -c '^      0000000000101000-0000000000101fff (prio 1, ram): alias sub @r '"
expect "show flat: only the alias's target renders" \
	"  0000000000100000-0000000000100fff (prio 0, ram): r" 0 \
	sh -c "memtopoctl -c cli-alias show flat | grep prio"
expect "unmap the alias" "" 0 sh -c "memtopoctl -c cli-alias del-subregion win >/dev/null"
expect_err "an alias with a subregion cannot be destroyed" "busy" 1 \
	memtopoctl -c cli-alias destroy-region win
expect "emptied, it can" "" 0 sh -c "memtopoctl -c cli-alias del-subregion sub >/dev/null &&
	memtopoctl -c cli-alias destroy-region win >/dev/null"
memtopoctl -c cli-alias destroy
# what the text cannot tell: a warning, not a silent guess (the import still succeeds)
cat >guess.txt <<'MAP'
address-space: memory
  0000000000000000-ffffffffffffffff (prio 0, i/o): system
    0000000000000000-0000000000000fff (prio 0, ram): alias a1 @dup 0000000000000000-0000000000000fff
    0000000000001000-0000000000002fff (prio 0, ram): low
    0000000000002000-0000000000003fff (prio 0, ram): high

memory-region: dup
  0000000000000000-0000000000000fff (prio 0, ram): dup

memory-region: dup
  0000000000000000-0000000000001fff (prio 0, ram): dup

MAP
echo "container system" >guess.hints
expect_err "import-mtree warns: two alias targets with one name" \
	'warning: different alias targets are named "dup"' 0 \
	memtopoctl -c cli-guess import-mtree guess.txt --hints guess.hints
memtopoctl -c cli-guess destroy
expect_err "import-mtree warns: same-priority overlap at different starts" \
	'in "system", "low" and "high" overlap with priority 0 at different starts' 0 \
	memtopoctl -c cli-guess import-mtree guess.txt --hints guess.hints --dry-run
expect "import-mtree: no warning where the text tells" 0 0 \
	sh -c "memtopoctl import-mtree disabled.tree-D.txt --hints disabled.hints --dry-run \
		2>&1 >/dev/null | grep -c warning; exit 0"
echo "JSON-BEGIN lookup-unassigned"
C --json lookup mem 0x50000
echo "JSON-END"
# serve: a device answered from a table on stdin; writes are printed
printf '0x10 0xab\n0x11 0xcd\n' >table.txt
# not through C(): $! must be memtopoctl itself, the process killed below
memtopoctl -c cli serve dev table - <table.txt >serve.out 2>serve.err &
srv=$!
i=0
until grep -qs serving serve.err || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
expect "serve table: a read answered from the table" "0xcdab" 0 C read mem 0x40010 2
expect "serve table: other offsets read 0" "0x00" 0 C read mem 0x40020 1
expect "serve: a write reaches the server" "" 0 C write mem 0x40030 0x42 1
expect "serve: the written value reads back" "0x42" 0 C read mem 0x40030 1
expect_err "serve: a second server is refused" "Device or resource busy" 1 C serve dev regs
kill $srv
wait $srv
expect "serve: the server printed the write" "write 0x30/1 = 0x42" 0 cat serve.out
expect_err "serve: accesses fail once the server is gone" "No such device" 1 \
	C read mem 0x40010 2
expect_err "serve: RAM cannot be served" "Invalid argument" 1 C serve kram regs
# ioeventfds, coalesced MMIO, dirty logs, txn, on a context of their own
D() { memtopoctl -c cli-dirty "$@"; }
D destroy 2>/dev/null
cat >dmap.txt <<'MAP'
create-region container sys 2^64
create-region ram vram 64K uaddr=0x7f0000000000
add-subregion sys vram 0x100000
create-region ram bare 4K
add-subregion sys bare 0x200000
create-region io mmio 4K
add-subregion sys mmio 0x300000
create-space mem sys
MAP
expect "dirty: the map" "applied 8 operations" 0 D script dmap.txt
expect "ioeventfd add, with data" "" 0 D ioeventfd add mmio 0x10 4 0x42
expect "ioeventfd add, any write" "" 0 D ioeventfd add mmio 0x20 0
expect_err "ioeventfd add: a collision" "File exists" 1 D ioeventfd add mmio 0x20 0
expect "ioeventfd list" "$(printf '0x10 len 4 data 0x42\n0x20 len 0')" 0 D ioeventfd list mmio
json ioeventfd-list D --json ioeventfd list mmio
expect "ioeventfd del by its fields" "" 0 D ioeventfd del mmio 0x10 4 0x42
expect_err "ioeventfd del: nothing there" "No such file" 1 D ioeventfd del mmio 0x10 4 0x42
expect "ioeventfd list after del" "0x20 len 0" 0 D ioeventfd list mmio
expect "coalesced add" "" 0 D coalesced add mmio 0x100 0x80
expect_err "coalesced on RAM" "Invalid argument" 1 D coalesced add vram 0 16
expect "coalesced list" "0x100 length 0x80" 0 D coalesced list mmio
json coalesced-list D --json coalesced list mmio
expect "coalesced del" "" 0 D coalesced del mmio 0x100 0x80
expect "coalesced list, empty" "" 0 D coalesced list mmio
expect_err "dirty get: migration never logged" "No such file" 1 D dirty get vram migration
expect "dirty global-start dirty-rate" "" 0 D dirty global-start dirty-rate
expect "dirty get: nothing yet" "none" 0 D dirty get vram migration
expect "dirty mark 0x1001+0x2000" "" 0 D dirty mark vram 0x1001 0x2000
expect "dirty mark the last byte" "" 0 D dirty mark vram 0xffff 1
expect "dirty get: pages 1-3 and 15" "1-3 15" 0 D dirty get vram migration
json dirty-get D --json dirty get vram migration
expect "dirty get --clear" "1-3 15" 0 D dirty get vram migration --clear
expect "dirty get: cleared" "none" 0 D dirty get vram migration
expect "dirty mark all" "" 0 D dirty mark vram 0 64K
expect "dirty clear pages 0-7" "" 0 D dirty clear vram migration 0 8
expect "dirty get: 8-15 left" "8-15" 0 D dirty get vram migration
expect_err "dirty mark: RAM nothing backs" "Operation not permitted" 1 D dirty mark bare 0 1
expect_err "dirty mark: not RAM" "Invalid argument" 1 D dirty mark mmio 0 1
expect_err "dirty mark: past the end" "Invalid argument" 1 D dirty mark vram 0xffff 2
expect_err "dirty global-stop: a reason not on" "Invalid argument" 1 D dirty global-stop limit
expect "dirty global-stop dirty-rate" "" 0 D dirty global-stop dirty-rate
expect "dirty global-sync" "" 0 D dirty global-sync
expect_err "dirty: an unknown reason" "REASON is" 2 D dirty global-start often
expect "dirty vga on" "" 0 D dirty vga vram on
# a watcher with only log_sync_global hears one per sync; one that also
# asks for log_sync hears log_sync per logging range instead (QEMU's
# memory_region_sync_dirty_bitmap())
memtopoctl -c cli-dirty watch mem --events log_sync_global --timeout 3 >watch-sg.out &
sg=$!
memtopoctl -c cli-dirty --json watch mem --events log_sync,log_sync_global --timeout 3 \
	>watch-sg.json &
sj=$!
sleep 1
expect "dirty global-sync, vram logging for vga" "" 0 D dirty global-sync
wait $sg $sj
expect "watch: log_sync_global, once, no section" 1 0 \
	grep -c '^ *[0-9]* gen [0-9]* *log_sync_global *$' watch-sg.out
expect "watch --json: log_sync, not log_sync_global, beside it" "log_sync 1 0" 0 sh -c \
	'printf "log_sync %s %s" "$(grep -c "\"type\": \"log_sync\"" watch-sg.json)" \
		"$(grep -c log_sync_global watch-sg.json)"'
expect "dirty vga on, a second reference" "" 0 D dirty vga vram on
expect "dirty vga off, one left" "" 0 D dirty vga vram off
expect "vga still logs: a mark shows" "0" 0 sh -c \
	"memtopoctl -c cli-dirty dirty mark vram 0 1 && memtopoctl -c cli-dirty dirty get vram vga"
expect "dirty vga off, the last" "" 0 D dirty vga vram off
expect_err "dirty vga off without a reference" "Invalid argument" 1 D dirty vga vram off
expect "clear the vga log" "" 0 D dirty clear vram vga
expect "vga off: a mark marks nothing" "none" 0 sh -c \
	"memtopoctl -c cli-dirty dirty mark vram 0 1 && memtopoctl -c cli-dirty dirty get vram vga"
# txn: three changes, one commit (a watcher asking for one commit sees all of them)
cat >txn.txt <<'TXN'
# a comment
coalesced add mmio 0 8
ioeventfd add mmio 0x40 2
set vram address 0x400000
TXN
memtopoctl -c cli-dirty --json watch mem --events all --count 1 --timeout 20 >watch-txn.out &
w=$!
# it must have subscribed before the commit; it prints nothing until then
sleep 2
json txn D --json txn txn.txt
wait $w
expect "txn: its one commit moves the RAM" 1 0 grep -c '"type": "region_add", "region": [0-9]*, "name": "vram", "start": 4194304' watch-txn.out
expect "txn: the same commit adds the coalesced range" 1 0 grep -c '"type": "coalesced_io_add"' watch-txn.out
expect "txn: and the ioeventfd" 1 0 grep -c '"type": "eventfd_add"' watch-txn.out
printf 'coalesced add mmio 0x80 8\ncoalesced add mmio 0x80 8\ncoalesced add mmio 0x90 8\n' >bad.txt
expect_err "txn: a failing line stops it" "bad.txt:2: failed; 1 earlier command is committed" 1 \
	D txn bad.txt
expect "txn: the line before stays, the one after never ran" \
	"$(printf '0x0 length 0x8\n0x80 length 0x8')" 0 D coalesced list mmio
D destroy
# RAM discard: a manager before mapping, populate/discard, show, errors
C create-region ram vm0 32K >/dev/null
expect "discard set-manager" "vm0: granularity 0x1000, 0 of 8 blocks populated (0x0 of 0x8000 bytes)" \
	0 C discard set-manager vm0 4K
expect "discard populate" "vm0: granularity 0x1000, 3 of 8 blocks populated (0x3000 of 0x8000 bytes)" \
	0 C discard populate vm0 0x2000 0x3000
expect "discard discard" "vm0: granularity 0x1000, 2 of 8 blocks populated (0x2000 of 0x8000 bytes)" \
	0 C discard discard vm0 0x3000 0x1000
expect "discard show: the block map and the runs" "vm0: granularity 0x1000, 2 of 8 blocks populated (0x2000 of 0x8000 bytes)
  0000000000 ..#.#...
  populated 0x2000-0x2fff
  populated 0x4000-0x4fff" 0 C discard show vm0
json discard-show C --json discard show vm0
expect_err "discard: unaligned range refused" "unaligned to the granularity" 1 \
	C discard populate vm0 0x800 0x1000
expect_err "discard: a second manager refused" "has a manager already" 1 \
	C discard set-manager vm0 8K
C add-subregion sys vm0 0x100000 >/dev/null
expect_err "discard: a mapped region keeps its manager" "Device or resource busy" 1 \
	C discard clear-manager vm0
expect_err "discard: show without a manager" "No such file or directory" 1 C discard show kram
# a device behind an IOMMU: its DMA space reaches kernel RAM only where mapped
expect "create an IOMMU region" "" 0 sh -c "memtopoctl -c cli create-region iommu mmu 2^64 >/dev/null"
expect "create the device's space" "" 0 sh -c "memtopoctl -c cli create-space dma mmu >/dev/null"
expect "show regions names the kind" 1 0 sh -c "memtopoctl -c cli show regions | grep -c '^#[0-9]* *iommu *mmu '"
expect_err "DMA before the map: unassigned" "unassigned address" 1 C read dma 0x5000
# a watcher of the device's space hears every table change (idle 4 s: then it ends)
memtopoctl -c cli watch dma --events all --timeout 4 >watch-iommu.out &
iw=$!
sleep 1
expect "iommu map, read-only" "" 0 C iommu map mmu 0x5000 0x1000 mem 0x10000 r
expect "DMA through the IOMMU reads RAM" "0x55667788" 0 C read dma 0x5000
expect_err "DMA write to a read-only mapping" "does not permit" 1 C write dma 0x5000 1
expect_err "iommu map over a mapping" "mapped already" 1 C iommu map mmu 0x5000 0x2000 mem 0 rw
expect_err "iommu map unaligned" "4K-aligned" 1 C iommu map mmu 0x6800 0x1000 mem 0 rw
expect "iommu map another page" "" 0 C iommu map mmu 0x7000 0x1000 mem 0x11000
expect "iommu show: the first mapping" 1 0 sh -c "memtopoctl -c cli iommu show mmu |
	grep -c '^  0000000000005000-0000000000005fff -> mem #[0-9]* 0000000000010000 (r)$'"
expect "iommu show: the second mapping" 1 0 sh -c "memtopoctl -c cli iommu show mmu |
	grep -c '^  0000000000007000-0000000000007fff -> mem #[0-9]* 0000000000011000 (rw)$'"
expect "iommu show: the count" 1 0 sh -c "memtopoctl -c cli iommu show mmu | grep -c ': 2 mappings$'"
json iommu-show C --json iommu show mmu
expect_err "iommu unmap a hole" "not mapped" 1 C iommu unmap mmu 0x5000 0x3000
expect "iommu unmap" "" 0 C iommu unmap mmu 0x5000 0x1000
expect_err "DMA after the unmap: unassigned" "unassigned address" 1 C read dma 0x5000
expect "iommu unmap all" "" 0 C iommu unmap mmu all
expect "iommu show: empty" 1 0 sh -c "memtopoctl -c cli iommu show mmu | grep -c ': 0 mappings$'"
wait $iw
# shellcheck disable=SC2016 # awk's fields
expect "watch: the IOMMU's changes in order, refusals left out" \
	"$(printf 'iommu_map 0x5000 0xfff\niommu_map 0x7000 0xfff\niommu_unmap 0x5000 0xfff\niommu_unmap 0x7000 0xfff')" \
	0 awk 'NR > 1 { print $4, $7, $9 }' watch-iommu.out
expect "watch: a map's target and permissions" 1 0 \
	grep -c 'iommu_map *mmu iova 0x5000 mask 0xfff -> space [0-9]* 0x10000 perm r-$' watch-iommu.out
# a late watcher with --replay: the IOMMU's range, then the mappings in it
expect "iommu map two pages again" "" 0 C iommu map mmu 0x5000 0x2000 mem 0x10000 r
expect "watch --replay: the mappings follow the IOMMU's region_add" \
	"$(printf 'region_add @0\niommu_map 0x5000 0xfff\niommu_map 0x6000 0xfff\ncommit')" 0 sh -c \
	"memtopoctl -c cli watch dma --replay --events region_add,iommu_map,commit --count 1 \
		--timeout 5 | awk 'NR > 1 { print \$4, \$7, \$9 }' | sed 's/ *$//'"
json watch-iommu-replay sh -c \
	"memtopoctl -c cli --json watch dma --replay --events all --count 1 --timeout 5"
expect "iommu unmap all again" "" 0 C iommu unmap mmu all
# a mapping outlives its target space: listed as gone, not by a name
expect "create a target space" "" 0 sh -c "memtopoctl -c cli create-space mem2 sys >/dev/null"
expect "iommu map into it" "" 0 C iommu map mmu 0x5000 0x1000 mem2 0x10000 r
expect "destroy the target space" "" 0 C destroy-space mem2
expect "iommu show: the target is gone" 1 0 sh -c "memtopoctl -c cli iommu show mmu |
	grep -c '^  0000000000005000-0000000000005fff -> (gone) #[0-9]* 0000000000010000 (r)$'"
expect "iommu show --json: the target is gone" 1 0 sh -c \
	"memtopoctl -c cli --json iommu show mmu | grep -c '\"gone\": true'"
expect_err "DMA through it: unassigned" "unassigned address" 1 C read dma 0x5000
expect "iommu unmap it" "" 0 C iommu unmap mmu all
expect_err "iommu on a RAM region" "not an IOMMU" 1 C iommu map kram 0 0x1000 mem 0
expect_err "iommu: bad permissions" "r, w or rw" 2 C iommu map mmu 0 0x1000 mem 0 x
# make run's IOMMU demo checks itself: here against kernel RAM
if sh demo-iommu.sh cli mem 0x10000 >demo-iommu.out 2>&1; then
	ok "make run's IOMMU demo"
else
	bad "make run's IOMMU demo" "$(cat demo-iommu.out)"
fi
# watch after an overflow resyncs by difference from the last commit it
# read, or from the whole view when that generation is gone.  The watcher is
# stopped while a bank of 128 devices moves 17 times (257 events a commit):
# its queue (4096 events at most) overflows at the 16th move, and a map this
# small keeps only its last two views (kmod/history.c), so the 15th move's
# is the oldest kept when the 17th is published.  check rebuilds the mirror
# the output describes and compares it with `flat`.
O() { memtopoctl -c cli-ovf "$@"; }
O destroy 2>/dev/null
{
	echo "create-region container sys 2^64"
	echo "create-region container bank 0x100000"
	i=0
	while [ $i -lt 128 ]; do
		echo "create-region io b$i 0x100"
		echo "add-subregion bank b$i $((i * 4096))"
		i=$((i + 1))
	done
	echo "add-subregion sys bank 0"
	echo "create-region io spare 0x100"
	echo "create-space mem sys"
} >ovf.txt
expect "overflow: the bank's map" "applied 261 operations" 0 O script ovf.txt
# overflow_run NAME text|json fresh|stale: moves while the watcher is stopped;
# stale destroys a region too, which drops every kept view
overflow_run() {
	# memtopoctl itself in the background (not O's subshell): it is stopped
	if [ "$2" = json ]; then
		memtopoctl -c cli-ovf --json watch mem --replay --timeout 3 >"$1.out" &
	else
		memtopoctl -c cli-ovf watch mem --replay --timeout 3 >"$1.out" &
	fi
	wp=$!
	# subscribed: the replay's commit is out
	t=0
	while ! grep -q commit "$1.out" && [ $t -lt 300 ]; do
		sleep 0.1
		t=$((t + 1))
	done
	kill -STOP $wp
	k=1
	while [ $k -le 17 ]; do
		O set bank address $((k * 1048576)) || echo "move $k failed"
		k=$((k + 1))
	done
	if [ "$3" = stale ]; then O destroy-region spare; fi
	kill -CONT $wp
	wait $wp
	echo "JSON-BEGIN $1"
	cat "$1.out"
	echo "JSON-END"
	echo "JSON-BEGIN $1-flat"
	O --json flat mem
	echo "JSON-END"
}
overflow_run watch-overflow-diff json fresh
overflow_run watch-overflow-stale json stale
overflow_run watch-overflow-text text fresh >/dev/null
expect "overflow, text: an overflow, then the resync by difference" \
	"$(printf 'overflow\nresync by difference: 256 events')" 0 \
	sed -n 's/.* \(overflow\) *$/\1/p; s/^resync generation [0-9]* -> [0-9]* \(by difference: [0-9]* events\)$/resync \1/p' \
	watch-overflow-text.out
expect "overflow, text: the difference's lines" 256 0 grep -c '^  [-+] 0000' watch-overflow-text.out
O destroy
memtopoctl -c cli-import destroy
C destroy
echo "1..$n"
echo "cli tests: $((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
