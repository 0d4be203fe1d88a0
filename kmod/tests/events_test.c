// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "memtopo_events": memtopo_space_emit_event_locked(), the way
 * features without a listener callback (IOMMU, RAM discard) reach
 * userspace subscriptions.  An emitted event reaches exactly the listeners
 * that take events, in the order of the calls, interleaved with the
 * callbacks of a commit exactly where it was emitted.
 */
#include <kunit/test.h>

#include "engine_util.h"
#include "events.h"

#define EV_LOG_MAX 16

/* One log for every listener, so the interleaving is checked. */
struct ev_log {
	u32 n;
	struct {
		char what;	/* b(egin), c(ommit), a(dd), e(vent) */
		u32 type;
		u64 start;
		u64 iova;
	} rec[EV_LOG_MAX];
};

struct ev_listener {
	struct memtopo_listener l;
	struct ev_log *log;
	/* emit an IOMMU_MAP from region_add, as a feature's hook would */
	bool emit_on_add;
};

static void ev_rec(struct ev_log *log, char what, u32 type, u64 start, u64 iova)
{
	if (log->n < EV_LOG_MAX)
		log->rec[log->n] = (typeof(log->rec[0])){ what, type, start, iova };
	log->n++;
}

static void ev_begin(void *priv)
{
	struct ev_listener *el = priv;

	ev_rec(el->log, 'b', 0, 0, 0);
}

static void ev_commit(void *priv)
{
	struct ev_listener *el = priv;

	ev_rec(el->log, 'c', 0, 0, 0);
}

static void ev_add(void *priv, const struct memtopo_section *s)
{
	struct ev_listener *el = priv;
	struct memtopo_event ev;

	if (!el->emit_on_add)
		return;
	memtopo_event_init(&ev, MEMTOPO_EVENT_IOMMU_MAP, s);
	ev.iommu.iova = s->start;
	memtopo_space_emit_event_locked(el->l.space, &ev);
}

static void ev_rec_add(void *priv, const struct memtopo_section *s)
{
	struct ev_listener *el = priv;

	ev_rec(el->log, 'a', 0, s->start, 0);
}

static void ev_event(void *priv, const struct memtopo_event *ev)
{
	struct ev_listener *el = priv;

	ev_rec(el->log, 'e', ev->type, ev->start, ev->iommu.iova);
}

static const struct memtopo_listener_ops ev_taker_ops = {
	.begin = ev_begin,
	.commit = ev_commit,
	.region_add = ev_rec_add,
	.event = ev_event,
};

static const struct memtopo_listener_ops ev_emitter_ops = {
	.region_add = ev_add,
};

static void ev_expect(struct kunit *test, const struct ev_log *log, const char *what,
		      const u32 *types)
{
	u32 i, n = strlen(what);

	KUNIT_ASSERT_EQ(test, log->n, n);
	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_EQ_MSG(test, log->rec[i].what, what[i], "record %u", i);
		KUNIT_EXPECT_EQ_MSG(test, log->rec[i].type, types[i], "record %u", i);
	}
}

static void mt_events_emit_test(struct kunit *test)
{
	struct ev_log *log = kunit_kzalloc(test, sizeof(*log), GFP_KERNEL);
	struct ev_listener *taker, *emitter, *deaf;
	struct memtopo_region *root, *a;
	struct memtopo_space *as;
	struct memtopo_event ev;
	static const u32 types[] = { 0, 0, MEMTOPO_EVENT_IOMMU_MAP, 0 };
	static const u32 outside[] = { MEMTOPO_EVENT_DISCARD_POPULATE,
				       MEMTOPO_EVENT_DISCARD_DISCARD };

	KUNIT_ASSERT_NOT_NULL(test, log);
	taker = kunit_kzalloc(test, sizeof(*taker), GFP_KERNEL);
	emitter = kunit_kzalloc(test, sizeof(*emitter), GFP_KERNEL);
	deaf = kunit_kzalloc(test, sizeof(*deaf), GFP_KERNEL);
	KUNIT_ASSERT_TRUE(test, taker && emitter && deaf);
	root = mt_region(test, MEMTOPO_CONTAINER, "root", 0x100000);
	a = mt_region(test, MEMTOPO_RAM, "a", 0x1000);
	as = mt_space(test, "as", root);

	taker->l = (struct memtopo_listener){ .ops = &ev_taker_ops, .priv = taker };
	taker->log = log;
	mt_listen(test, as, &taker->l);
	/* runs after the taker: its emission lands between add and commit */
	emitter->l = (struct memtopo_listener){ .ops = &ev_emitter_ops, .priv = emitter,
						.priority = 1 };
	emitter->emit_on_add = true;
	mt_listen(test, as, &emitter->l);
	/* a listener without the event op is never called for one */
	deaf->l = (struct memtopo_listener){ .ops = &ev_emitter_ops, .priv = deaf,
					     .priority = 2 };
	mt_listen(test, as, &deaf->l);
	log->n = 0;

	mt_add(test, root, 0x4000, a, 0);
	ev_expect(test, log, "baec", types);
	KUNIT_EXPECT_EQ(test, log->rec[1].start, 0x4000);
	KUNIT_EXPECT_EQ(test, log->rec[2].start, 0x4000);
	KUNIT_EXPECT_EQ(test, log->rec[2].iova, 0x4000);

	/* outside a commit: delivered at once, in call order */
	log->n = 0;
	memtopo_ctx_lock(mt_ctx(test));
	memtopo_event_init(&ev, MEMTOPO_EVENT_DISCARD_POPULATE, NULL);
	memtopo_space_emit_event_locked(as, &ev);
	ev.type = MEMTOPO_EVENT_DISCARD_DISCARD;
	memtopo_space_emit_event_locked(as, &ev);
	memtopo_ctx_unlock(mt_ctx(test));
	ev_expect(test, log, "ee", outside);
}

/* The helper copies what a section says, and only that. */
static void mt_events_init_test(struct kunit *test)
{
	struct memtopo_region *r = mt_region(test, MEMTOPO_RAM, "r", 0x2000);
	struct memtopo_section s = {
		.start = 0x10000, .last = 0x10fff, .mr = r, .offset = 0x1000,
		.flags = MEMTOPO_FR_READONLY | MEMTOPO_FR_NONVOLATILE, .dirty_log_mask = 5,
		.generation = 99,
	};
	struct memtopo_event ev;

	memset(&ev, 0xff, sizeof(ev));
	memtopo_event_init(&ev, MEMTOPO_EVENT_LOG_SYNC, &s);
	KUNIT_EXPECT_EQ(test, ev.type, MEMTOPO_EVENT_LOG_SYNC);
	KUNIT_EXPECT_EQ(test, ev.region, memtopo_region_id(r));
	KUNIT_EXPECT_EQ(test, ev.start, 0x10000);
	KUNIT_EXPECT_EQ(test, ev.last, 0x10fff);
	KUNIT_EXPECT_EQ(test, ev.offset, 0x1000);
	KUNIT_EXPECT_EQ(test, ev.range_flags, MEMTOPO_RANGE_READONLY | MEMTOPO_RANGE_NONVOLATILE);
	KUNIT_EXPECT_EQ(test, ev.new_mask, 5);
	/* the subscription numbers and stamps it */
	KUNIT_EXPECT_EQ(test, ev.seq, 0);
	KUNIT_EXPECT_EQ(test, ev.generation, 0);
	KUNIT_EXPECT_EQ(test, ev.iommu.iova, 0);
}

static struct kunit_case mt_events_cases[] = {
	KUNIT_CASE(mt_events_emit_test),
	KUNIT_CASE(mt_events_init_test),
	{}
};

static struct kunit_suite mt_events_suite = {
	.name = "memtopo_events",
	.init = mt_fix_init,
	.exit = mt_fix_exit,
	.test_cases = mt_events_cases,
};

kunit_test_suite(mt_events_suite);
