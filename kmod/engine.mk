# The engine: the core, and the QEMU-parity features it calls only through
# the hooks of memtopo_hooks.h (implemented by parity.c).  Core files
# include neither parity.h nor an ioctl-glue header (tools/lint checks it).
# tools/testing compiles the same set in userspace.
MEMTOPO_CORE_OBJS := ctx.o region.o render.o view.o space.o listener.o window.o commit.o \
		     undo.o array.o history.o describe.o
MEMTOPO_PARITY_OBJS := parity.o dirty.o ioeventfd.o coalesced.o dispatch.o discard.o \
		       iommu.o
MEMTOPO_ENGINE_OBJS := $(MEMTOPO_CORE_OBJS) $(MEMTOPO_PARITY_OBJS)
