MEMTOPO_ENGINE_OBJS := ctx.o region.o render.o view.o space.o listener.o
