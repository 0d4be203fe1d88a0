MEMTOPO_ENGINE_OBJS := ctx.o region.o render.o view.o space.o listener.o window.o
# QEMU parity (issue 5): engine-level, no ioctl; needs eventfd and SRCU.
MEMTOPO_ENGINE_OBJS += dirty.o ioeventfd.o coalesced.o dispatch.o
