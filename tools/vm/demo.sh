#!/bin/sh
# The demo of `make run`, run inside the stock-kernel VM with memtopo.ko
# loaded and the project's tools on PATH (tools/vm/run --files): give a PC
# 2 GiB of RAM in a memfd with a guest image in it (tools/vmm/vmm-example.c,
# which has a kernel consumer read the image back), build the rest of the
# machine map from one script (one batch, one commit), print it the way
# QEMU's `info mtree` does, move PCI BARs while `watch` prints the events,
# look addresses up, serve a serial port and an RTC from userspace, and
# grow and shrink a virtio-mem-like RAM region while `watch` prints its
# populate and discard events; then a device behind an IOMMU reads the
# guest image by DMA only while userspace maps it (demo-iommu.sh).
set -e
echo "== memtopo demo: $(uname -r)"
echo "== /dev/memtopo: $(ls -l /dev/memtopo)"
memtopoctl info | sed 's/^/   /'

echo "== guest RAM: a 2 GiB memfd the VMM maps, with a guest image at 1 MiB (vmm-example)"
# the kernel consumer that reads the image through the map
insmod /memtopo/modules/memtopo_vhost.ko
vmm-example -c pc -m 2048 | sed 's/^/   /'
echo "== another process reads the image back through the map (MEMTOPO_SPACE_RW)"
memtopoctl -c pc read memory 0x100000 64 | sed 's/^/   /'
printf '   "'
memtopoctl -c pc read memory 0x100000 64 | tr -s ' ' '\n' | while read -r b; do printf "\\x$b"; done
printf '"\n'
rmmod memtopo_vhost

cat > pc.map <<'MAP'
# The rest of a PC around the RAM vmm-example made (system, pc.ram in a
# memfd, ram-below-4g, the memory space): the BIOS at the top, a PCI hole
# with two devices, the legacy VGA window and the I/O port space.
create-region container pci 2^64
add-subregion system pci 0 -1
create-region rom pc.bios 256K
add-subregion pci pc.bios 0xfffc0000
create-alias isa-bios pc.bios 0x20000 128K
set isa-bios readonly 1
add-subregion system isa-bios 0xe0000 1
create-region io vga-lowmem 128K
add-subregion system vga-lowmem 0xa0000 1
create-region ram e1000.bar0 128K
add-subregion pci e1000.bar0 0xfebc0000 1
create-region io nvme.bar0 16K
add-subregion pci nvme.bar0 0xfebd0000 1
create-region io ioapic 4K
add-subregion system ioapic 0xfec00000
create-region container io 64K
create-region io pic 2
add-subregion io pic 0x20
create-region io rtc 2
add-subregion io rtc 0x70
create-region io serial 8
add-subregion io serial 0x3f8
create-space I/O io
MAP

echo "== memtopoctl script pc.map (one batch, one commit)"
memtopoctl -c pc script pc.map
echo "== memtopoctl show tree   (QEMU's info mtree)"
memtopoctl -c pc show tree
echo "== memtopoctl show flat   (QEMU's info mtree -f)"
memtopoctl -c pc show flat

echo "== watch memory while the guest's firmware moves the PCI BARs"
memtopoctl -c pc watch memory --count 3 --timeout 10 > watch.log &
watcher=$!
sleep 1
memtopoctl -c pc set e1000.bar0 address 0xc0000000
memtopoctl -c pc set nvme.bar0 address 0xc0020000
printf 'set e1000.bar0 enabled 0\nset nvme.bar0 priority 2\n' | memtopoctl -c pc script -
wait $watcher || true
cat watch.log

echo "== lookups"
for a in 0x0 0xb8000 0xc0000010 0xc0021000 0xfebc0000 0xffff0000; do
	memtopoctl -c pc lookup memory $a || true
done
memtopoctl -c pc lookup I/O 0x3f8

echo "== a refused batch changes nothing"
printf 'set nvme.bar0 address 0\nadd-subregion pci pc.bios 0\n' > bad.map
memtopoctl -c pc script bad.map || true
memtopoctl -c pc lookup memory 0xc0020000

echo "== a serial port at 0x3f8 served from userspace (memtopoctl serve, MEMTOPO_SERVE)"
memtopoctl -c pc serve serial uart &
uart=$!
# bound once the line status register answers "transmitter empty"
until [ "$(memtopoctl -c pc read I/O 0x3fd 1 2>/dev/null)" = 0x60 ]; do sleep 0.1; done
# other processes write a line to the transmit register, one byte each
printf 'Hello, memtopo: a device model in userspace\n' | od -An -tu1 -v |
	while read -r bytes; do
		for b in $bytes; do memtopoctl -c pc write I/O 0x3f8 "$b" 1; done
	done

echo "== an RTC at 0x70 answering reads (index at 0x70, data at 0x71, BCD)"
memtopoctl -c pc serve rtc rtc &
rtc=$!
until memtopoctl -c pc read I/O 0x71 1 >/dev/null 2>&1; do sleep 0.1; done
cmos() { memtopoctl -c pc write I/O 0x70 "$1" 1 && memtopoctl -c pc read I/O 0x71 1 | cut -c3-; }
echo "   20$(cmos 0x09)-$(cmos 0x08)-$(cmos 0x07) $(cmos 0x04):$(cmos 0x02):$(cmos 0x00) UTC" \
	"(guest clock: $(date -u '+%Y-%m-%d %H:%M:%S'))"

echo "== a virtio-mem-like device: 64M of RAM at 4G in 2M blocks, all discarded at first"
memtopoctl -c pc create-region ram vmem0 64M >/dev/null
# the manager comes before the memory is mapped, as virtio-mem sets it up
memtopoctl -c pc discard set-manager vmem0 2M | sed "s/^/   /"
memtopoctl -c pc add-subregion system vmem0 0x100000000
memtopoctl -c pc watch memory --timeout 5 \
	--events region_add,region_del,discard_populate,discard_discard > vmem.log &
watcher=$!
sleep 1
echo "   grow to 8M, then to 32M (only the new blocks are announced), shrink to 16M:"
memtopoctl -c pc discard populate vmem0 0 8M | sed 's/^/   /'
memtopoctl -c pc discard populate vmem0 0 32M | sed 's/^/   /'
memtopoctl -c pc discard discard vmem0 16M 16M | sed 's/^/   /'
memtopoctl -c pc discard show vmem0 | sed 's/^/   /'
echo "   unplug a block in the middle, then move the device: its populated parts go first"
memtopoctl -c pc discard discard vmem0 4M 2M >/dev/null
memtopoctl -c pc set vmem0 address 0x180000000
wait $watcher || true
cat vmem.log

sh demo-iommu.sh pc memory 0x100000

echo "== destroying the context ends both servers (end of file on their device fds)"
memtopoctl -c pc destroy
wait $uart $rtc
echo "== demo done"
