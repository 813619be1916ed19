/* SPDX-License-Identifier: MIT */
/*
 * journal_testlib.h -- a journal on a fresh namespace plus a model of what
 * was appended, for the journal suites: every append records (seq, type,
 * length, payload checksum); a reopen replays into a list that
 * jt_replay_matches compares with the model.
 */
#ifndef NVFS_JOURNAL_TESTLIB_H
#define NVFS_JOURNAL_TESTLIB_H

#include <stdbool.h>
#include <stdint.h>

#include "nvfs_journal.h"
#include "nvfs_pmem.h"

struct jt_rec {
	uint64_t seq;
	uint32_t type;
	uint32_t len;
	uint64_t csum;
};

struct jt_list {
	struct jt_rec *r;
	size_t n, cap;
};

struct jt {
	const char *name;
	char path[4096];
	struct nvfs_alloc *a;
	struct nvfs_journal *j;
	struct nvfs_journal_report report;  /* of the last replay */
	struct jt_list model;               /* appended, not forgotten */
	struct jt_list replayed;            /* by the last replay */
	uint64_t next_seq;                  /* expected from the next append */
	uint8_t *buf;                       /* NVFS_JOURNAL_MAX_PAYLOAD bytes */
};

/* jt_setup -- namespace, journal of nr_buckets, open and (empty) replay */
void jt_setup(struct jt *t, const char *name, unsigned nr_buckets);

/* jt_teardown -- close everything, free the model */
void jt_teardown(struct jt *t);

/*
 * jt_append -- append len pseudo-random bytes of type; asserts the
 * sequence number is the next one and records it in the model
 */
int64_t jt_append(struct jt *t, uint64_t *rng, uint32_t type, size_t len);

/* jt_forget_upto -- drop model entries <= seq (after a checkpoint) */
void jt_forget_upto(struct jt *t, uint64_t seq);

/* jt_reopen -- close journal and allocator, reopen both, replay */
void jt_reopen(struct jt *t);

/* jt_open -- open allocator and journal and replay (no asserts on content) */
int jt_open(struct jt *t);

/* jt_replay_matches -- the last replay returned exactly the model */
bool jt_replay_matches(const struct jt *t);

/* jt_list_push -- append a record to a list */
void jt_list_push(struct jt_list *l, struct jt_rec r);

/*
 * jt_payload -- the deterministic payload of an entry of this type and
 * length (the same bytes for the same type, length and seed)
 */
void jt_payload(uint8_t *buf, uint32_t type, size_t len);

/* jt_gran_set -- force (or not) the granularity of the mappings made from now */
void jt_gran_set(enum nvfs_pmem_gran gran);

/* jt_has -- s contains what (printed if not) */
bool jt_has(const char *s, const char *what);

#endif /* NVFS_JOURNAL_TESTLIB_H */
