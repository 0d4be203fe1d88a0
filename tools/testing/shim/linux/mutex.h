/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SHIM_MUTEX_H
#define _SHIM_MUTEX_H
#include "shim_base.h"
#include <pthread.h>
struct mutex {
	pthread_mutex_t m;
	pthread_t owner;
	bool held;
};
static inline void mutex_init(struct mutex *l) { pthread_mutex_init(&l->m, NULL); l->held = false; }
static inline void mutex_lock(struct mutex *l) { pthread_mutex_lock(&l->m); l->owner = pthread_self(); l->held = true; }
static inline void mutex_unlock(struct mutex *l) { assert(l->held); l->held = false; pthread_mutex_unlock(&l->m); }
static inline void mutex_destroy(struct mutex *l) { assert(!l->held); pthread_mutex_destroy(&l->m); }
#define lockdep_assert_held(l) assert((l)->held && pthread_equal((l)->owner, pthread_self()))
#define lockdep_is_held(l) ((l)->held)
#endif
