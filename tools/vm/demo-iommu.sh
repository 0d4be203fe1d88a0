#!/bin/sh
# A device behind an IOMMU, for `make run` (demo.sh) and the CLI test
# (tools/memtopoctl/tests/cli.sh), inside the VM:
#   sh demo-iommu.sh CONTEXT SPACE ADDR
# The device's DMA space is an IOMMU region; a DMA read of an IOVA fails
# as unassigned until userspace maps it to ADDR of SPACE (RAM whose bytes
# memtopoctl can read), returns those bytes while mapped and fails again
# after the unmap, while `memtopoctl watch` prints the IOMMU's events.
# Exits non-zero, saying why, when anything differs.
set -e
ctx=$1 space=$2 ram=$3
iova=0x40000
M() { memtopoctl -c "$ctx" "$@"; }
fail() { echo "demo-iommu: FAIL: $*" >&2; exit 1; }
# a DMA read that must be refused as unassigned
dma_refused() {
	if out=$(M read dev-dma $iova 16 2>&1); then
		fail "DMA read of the unmapped IOVA $iova returned $out"
	fi
	case $out in
	*"unassigned address"*) echo "   $out" ;;
	*) fail "DMA read of the unmapped IOVA $iova: $out" ;;
	esac
}

echo "== a device behind an IOMMU: its DMA space reaches $space only where mapped"
M create-region iommu dev-iommu 2^64 >/dev/null
M create-space dev-dma dev-iommu >/dev/null
M watch dev-dma --events all --timeout 3 > iommu.log &
watcher=$!
sleep 1
echo "   DMA read of IOVA $iova before the map:"
dma_refused
want=$(M read "$space" "$ram" 16)
echo "   memtopoctl iommu map dev-iommu $iova 0x2000 $space $ram r"
M iommu map dev-iommu $iova 0x2000 "$space" "$ram" r
M iommu show dev-iommu | sed 's/^/   /'
got=$(M read dev-dma $iova 16)
echo "   DMA read of IOVA $iova: $got"
[ "$got" = "$want" ] || fail "DMA read $got where $space $ram holds $want"
echo "   memtopoctl iommu unmap dev-iommu $iova 0x2000; DMA read again:"
M iommu unmap dev-iommu $iova 0x2000
dma_refused
wait $watcher || true
echo "   what memtopoctl watch dev-dma --events all printed:"
sed 's/^/   /' iommu.log
[ "$(grep -c "iommu_map *dev-iommu iova $iova mask 0x1fff" iommu.log)" = 1 ] ||
	fail "watch did not print the map"
[ "$(grep -c "iommu_unmap *dev-iommu iova $iova mask 0x1fff" iommu.log)" = 1 ] ||
	fail "watch did not print the unmap"
[ "$(grep -c iommu_ iommu.log)" = 2 ] || fail "watch printed other IOMMU events"
echo "== IOMMU demo done"
