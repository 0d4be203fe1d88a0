/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace events for features whose notifications have no listener
 * callback: IOMMU map/unmap and RAM discard populate/discard.  A feature
 * fills a struct memtopo_event (the uapi record: type, section, payload)
 * and hands it to memtopo_space_emit_event_locked(), which queues it on
 * every userspace subscription of the space that selected its type.  The
 * kinds that do have a callback (regions, dirty logging, ioeventfds,
 * coalesced MMIO) reach subscriptions through the callbacks themselves.
 *
 * The emit function lives in the engine core (listener.c), so features
 * compiled into the userspace harness link without the ioctl glue.
 *
 * Ordering.  A subscription's queue is one sequence: an emitted event
 * lands after everything the subscription queued before it, so emit at
 * the point where QEMU calls the notifier, relative to the listener
 * callbacks of the same change.  An event emitted between a commit's begin
 * and commit callbacks belongs to that commit: it carries the generation
 * of the view the commit publishes and is signalled with the commit's
 * COMMIT event.  One emitted outside a commit carries the generation of
 * the space's current view and signals the subscription's eventfd at once.
 * Overflow is as for every event: a queue that cannot take it queues
 * OVERFLOW and drops it.
 */
#ifndef _MEMTOPO_EVENTS_H
#define _MEMTOPO_EVENTS_H

#include <uapi/linux/memtopo.h>
#include <memtopo/memtopo.h>

/* The uapi range flags are the section's flags, bit for bit. */
static_assert(MEMTOPO_RANGE_READONLY == MEMTOPO_FR_READONLY);
static_assert(MEMTOPO_RANGE_ROMD == MEMTOPO_FR_ROMD);
static_assert(MEMTOPO_RANGE_NONVOLATILE == MEMTOPO_FR_NONVOLATILE);

/**
 * memtopo_section_range_flags() - what userspace is told of a section's
 * flags (struct memtopo_range, struct memtopo_event).
 * @s: the section.
 *
 * Context: any.
 * Return: MEMTOPO_RANGE_* flags; the section's other flags are internal.
 */
static inline u32 memtopo_section_range_flags(const struct memtopo_section *s)
{
	return s->flags & (MEMTOPO_FR_READONLY | MEMTOPO_FR_ROMD | MEMTOPO_FR_NONVOLATILE);
}

/**
 * memtopo_event_init() - start an event for a section.
 * @ev: the event to fill; zeroed first.
 * @type: MEMTOPO_EVENT_*.
 * @s: the section it is about, or NULL (the event then names no region).
 *
 * Sets @region, @start, @last, @offset, @range_flags and @new_mask (the
 * section's dirty-log mask) from @s; the caller adds the payload.
 *
 * Context: any.
 */
static inline void memtopo_event_init(struct memtopo_event *ev, u32 type,
				      const struct memtopo_section *s)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	if (!s)
		return;
	ev->region = memtopo_region_id(s->mr);
	ev->start = s->start;
	ev->last = s->last;
	ev->offset = s->offset;
	ev->range_flags = memtopo_section_range_flags(s);
	ev->new_mask = s->dirty_log_mask;
}

#endif /* _MEMTOPO_EVENTS_H */
