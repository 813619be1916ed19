/* SPDX-License-Identifier: MIT */
/*
 * journal_int.h -- the journal's DRAM state, shared by journal.c (create,
 * open, append, commit, checkpoint), format.c (set and tail encode/validate)
 * and replay.c (scan and replay).
 */
#ifndef NVFS_JOURNAL_INT_H
#define NVFS_JOURNAL_INT_H

#include <pthread.h>

#include "nvfs_journal.h"
#include "nvfs_pmem.h"

/*
 * Sets between the last committed one and the open one, in a fixed ring of
 * slots indexed by a counter that only grows (slot = counter % SET_SLOTS).
 * An appender holds the counter of the set it reserved in, so the slot it
 * decrements stays valid even after the set was closed.
 */
#define SET_SLOTS 64u

/* A set keeps taking entries until it holds this many bytes (or a bucket ends). */
#define SET_SOFT_MAX_BYTES (256u << 10)

struct jset_slot {
	uint64_t lsn;
	uint64_t first_seq;
	uint32_t bytes;       /* reserved so far, header included */
	uint32_t nr_entries;
	uint32_t flags;       /* NVFS_JSET_PAD */
	uint32_t writers;     /* appenders still copying into it */
};

struct nvfs_journal {
	struct nvfs_alloc *a;
	struct nvfs_pmem *pm;
	bool readonly;
	struct nvfs_journal_ops ops;

	/* Geometry, fixed at open. */
	struct nvfs_pm_journal_hdr *hdr;  /* in pmem */
	uint64_t hdr_off;
	uint64_t id;                       /* hdr->journal_id */
	uint64_t seed;                     /* checksum seed of every journal csum */
	uint64_t *bucket_off;              /* ring order: increasing offsets */
	unsigned nr_buckets;
	uint64_t ring_bytes;

	pthread_mutex_t lock;              /* protects everything below */
	pthread_cond_t cond;               /* writers done, commit done, space freed */
	int failed;                        /* latched persist error */

	/* Durable tail: the current copy, and what it says. */
	unsigned tail_slot;
	uint64_t tail_gen, tail_lsn, tail_seq;

	/* The log: committed up to commit_lsn / committed_seq; appended to head. */
	uint64_t commit_lsn, committed_seq;
	uint64_t head_lsn, next_seq;

	/*
	 * Sets not yet committed: counters [commit_ctr, end_ctr); the last one
	 * takes entries while set_open.  The slots hold at most SET_SLOTS.
	 */
	struct jset_slot sets[SET_SLOTS];
	uint64_t commit_ctr, end_ctr;
	bool set_open;
	bool committing;

	/* Where the open-time scan stopped, and whether replay found damage. */
	uint64_t stop_lsn, stop_seq;
	bool damaged;        /* appends wait for the tail to pass the damage */
	char tail_warning[256]; /* an invalid, non-zero tail copy (replay reports it) */
	bool replay_done;
	bool appended;
	bool watermark_signalled;

	pthread_mutex_t ckpt_lock;         /* serialises tail updates */

	/* Counters for nvfs_journal_stats. */
	uint64_t n_appends, n_commits, n_persists, n_checkpoints, n_waits;
};

/* ring_ptr -- the pmem address of lsn (which must not cross a bucket end) */
static inline char *
ring_ptr(const struct nvfs_journal *j, uint64_t lsn)
{
	uint64_t pos = lsn % j->ring_bytes;
	return j->pm->base + j->bucket_off[pos / NVFS_JOURNAL_BUCKET_BYTES] +
	       pos % NVFS_JOURNAL_BUCKET_BYTES;
}

/* bucket_left -- bytes from lsn to the end of its bucket */
static inline uint64_t
bucket_left(uint64_t lsn)
{
	return NVFS_JOURNAL_BUCKET_BYTES - lsn % NVFS_JOURNAL_BUCKET_BYTES;
}

/* align64 -- round up to the journal alignment */
static inline uint64_t
align64(uint64_t n)
{
	return (n + NVFS_JOURNAL_ALIGN - 1) & ~(uint64_t)(NVFS_JOURNAL_ALIGN - 1);
}

/* entry_bytes -- space an entry of len payload bytes takes in a set */
static inline uint64_t
entry_bytes(uint64_t len)
{
	return align64(NVFS_JOURNAL_ENTRY_HDR_BYTES + len);
}

/* ---- format.c ------------------------------------------------------------ */

/* jhdr_csum / jhdr_check -- the header page's fixed part (H1, H2, H4) */
uint64_t jhdr_csum(const struct nvfs_pm_journal_hdr *h, uint64_t ns_seed);
int jhdr_check(const struct nvfs_pm_journal_hdr *h, uint64_t ns_seed, uint64_t off);

/* jtail_fill / jtail_check -- a tail copy (T1..T3) */
void jtail_fill(struct nvfs_pm_journal_tail *t, uint64_t seed, uint64_t gen,
		uint64_t tail_lsn, uint64_t tail_seq);
int jtail_check(const struct nvfs_pm_journal_tail *t, uint64_t seed, uint64_t off);

/*
 * jset_csum -- the set checksum: header bytes 16..63, then the headers of
 * its entries.  The entries are walked with bounds checks against
 * set_bytes; returns false (and sets *why) if they do not fit.
 */
bool jset_csum(const struct nvfs_journal *j, const struct nvfs_pm_jset *s,
	       uint64_t *csum, char *why, size_t why_len);

/*
 * jset_check -- J1..J5 for the set at lsn, expected to start sequence seq.
 * Returns 0 if valid, 1 if not (with the reason in why).  Never reads
 * outside the set's bucket.
 */
int jset_check(const struct nvfs_journal *j, uint64_t lsn, uint64_t seq,
	       char *why, size_t why_len);

/* jset_magic -- the magic of this journal's sets */
static inline uint64_t
jset_magic(const struct nvfs_journal *j)
{
	return NVFS_JOURNAL_SET_MAGIC ^ j->id;
}

/* jset_at -- the set header at lsn */
static inline struct nvfs_pm_jset *
jset_at(const struct nvfs_journal *j, uint64_t lsn)
{
	return (struct nvfs_pm_jset *)ring_ptr(j, lsn);
}

/* ---- replay.c ------------------------------------------------------------ */

/* jscan_end -- walk valid sets from the tail; set stop_lsn/stop_seq */
void jscan_end(struct nvfs_journal *j);

#endif /* NVFS_JOURNAL_INT_H */
