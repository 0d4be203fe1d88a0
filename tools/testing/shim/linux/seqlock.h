/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SHIM_SEQLOCK_H
#define _SHIM_SEQLOCK_H
#include "shim_base.h"
typedef struct { unsigned int sequence; } seqcount_t;
typedef seqcount_t seqcount_mutex_t;
#define seqcount_mutex_init(s, lock) ((s)->sequence = 0)
#define seqcount_init(s) ((s)->sequence = 0)
#define write_seqcount_begin(s) ((s)->sequence++)
#define write_seqcount_end(s) ((s)->sequence++)
#define read_seqcount_begin(s) ((s)->sequence & ~1u)
#define read_seqcount_retry(s, v) ((s)->sequence != (v))
#endif
