/* SPDX-License-Identifier: MIT */
/*
 * nvfs_journal.h -- a generic, typed, checksummed log in pmem, with group
 * commit, checkpoint and replay.
 *
 * THE JOURNAL
 *   Callers append entries (a non-zero type and a payload of 0 bytes up to
 *   NVFS_JOURNAL_MAX_PAYLOAD, ~4 MiB).  Every entry gets a sequence number;
 *   numbers are consecutive in append order.  Entries are batched into
 *   sets; a set is committed with one persist of its checksummed header,
 *   after its entries' payloads (see docs/JOURNAL.md for the steps).
 *   The journal's space is held by the NVFS_JOURNAL_OWNER_UUID owner of the
 *   allocator (nvfs_format.h) and is created once, by nvfs_journal_create.
 *
 * CALLING SEQUENCE
 *     nvfs_journal_open(alloc, &ops, 0, &j);
 *     nvfs_journal_replay(j, apply, arg, &report);  -- before any append
 *     ... apply them to the backing store, make it durable, then ...
 *     nvfs_journal_checkpoint(j, report.last_seq);
 *     seq = nvfs_journal_append(j, type, buf, len);     -- any thread
 *     nvfs_journal_commit(j, seq);                       -- durable now
 *     ... the consumer applies entries, makes them durable elsewhere ...
 *     nvfs_journal_checkpoint(j, seq);                   -- space reusable
 *     nvfs_journal_close(&j);   -- commits what was appended; no checkpoint
 *
 * GROUP COMMIT
 *   Appenders copy their entries straight into pmem in parallel.  A commit
 *   closes the open set and persists it; appenders that ask for a commit
 *   while one is running wait for it and are then covered by the next, so
 *   concurrent appenders share persists.  At CACHE_LINE/BYTE granularity an
 *   append+commit makes no system call.
 *
 * SPACE
 *   When an append does not fit, it commits what is pending, calls
 *   ops->want_checkpoint and sleeps until nvfs_journal_checkpoint frees
 *   space; it never fails for lack of space (unless the entry cannot fit
 *   even in an empty journal: -EMSGSIZE) and never busy-waits.
 *   want_checkpoint is also called when the fill crosses the high watermark
 *   (NVFS_JOURNAL_HIGH_WATERMARK_PCT), so that checkpoints start early.
 *
 * ERRORS are negative errno with a message (nvfs_err.h).  A persist error
 * latches: every later append/commit/checkpoint returns it.
 *
 * THREADS: append, commit, checkpoint and stats may be called from any
 * thread concurrently; open, replay and close may not overlap with anything.
 */
#ifndef NVFS_JOURNAL_H
#define NVFS_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "nvfs_format.h"

struct nvfs_alloc;
struct nvfs_journal;

#define NVFS_JOURNAL_HIGH_WATERMARK_PCT 50u

struct nvfs_journal_ops {
	/*
	 * The journal wants a checkpoint: fill_pct of it is in use (blocked:
	 * an appender is waiting for space).  Called without journal locks
	 * held, possibly from an appending thread: it must not append or
	 * block on the journal itself -- signal a checkpointer and return.
	 * May be NULL.
	 */
	void (*want_checkpoint)(void *arg, unsigned fill_pct, bool blocked);
	void *arg;
};

/*
 * nvfs_journal_create -- allocate and initialise a journal of about bytes
 * (rounded down to whole 4 MiB buckets, at least 2) in the namespace.
 * Persist order: buckets, then the header page (its record, then its
 * content with valid tail copies); the journal exists once its header is
 * valid, so a crash half way leaves a journal that open refuses as
 * incomplete.  0, -EEXIST (there is one), -ENOSPC (no room: the message
 * says how much there is), -EINVAL (fewer than 2 buckets), or an error of
 * the allocator.
 */
int nvfs_journal_create(struct nvfs_alloc *a, uint64_t bytes);

/*
 * nvfs_journal_fit -- the journal size for a namespace of ns_bytes:
 * *bytes == 0 asks for the default (a quarter of the pages, at least 2
 * and at most 256 buckets); a given size is rounded down to whole buckets.
 * 0, or -ENOSPC / -EINVAL with a message when the journal (plus its header
 * page) cannot fit the empty namespace or is below 2 buckets.
 */
int nvfs_journal_fit(uint64_t ns_bytes, uint64_t *bytes);

/* open flags */
#define NVFS_JOURNAL_RDONLY (1u << 0) /* fsck -n: no append/checkpoint */

/*
 * nvfs_journal_open -- find the journal through the owner list, validate
 * its header and tail copies, and scan from the tail to the end of the
 * committed log.  Writes nothing.  ops may be NULL.
 * 0, -ENOENT (no journal in this namespace), -EUCLEAN/-EBADMSG (corrupt
 * header, records or both tail copies; the message names it), -ENOMEM.
 * Damage inside the log is not an open error: replay reports it.
 */
int nvfs_journal_open(struct nvfs_alloc *a, const struct nvfs_journal_ops *ops,
		      unsigned flags, struct nvfs_journal **out);

/*
 * nvfs_journal_close -- commit what was appended, free DRAM state.  Does
 * not checkpoint: what was not checkpointed is replayed at the next open.
 * Returns the commit's error, if any.  Sets *j to NULL.
 */
int nvfs_journal_close(struct nvfs_journal **j);

struct nvfs_journal_entry {
	uint64_t seq;
	uint32_t type;
	uint32_t payload_bytes;
	const void *payload;       /* in pmem, valid during the callback */
	uint64_t lsn;              /* of the set holding it */
};

struct nvfs_journal_report {
	uint64_t first_seq;        /* first entry replayed (0 if none) */
	uint64_t last_seq;         /* last entry replayed (0 if none) */
	uint64_t entries;          /* replayed */
	uint64_t sets;             /* replayed, pad sets included */
	uint64_t payload_bytes;    /* replayed */
	/*
	 * Damage: replay stopped at the set at stop_lsn (expected sequence
	 * stop_seq) because of damage, and valid sets were found after it:
	 * the first at skipped_from_lsn holding entries skipped_first_seq ..
	 * skipped_last_seq, which were NOT replayed.  damaged is false at a
	 * clean end of log (a torn last set is a clean end: never committed).
	 */
	bool damaged;
	uint64_t stop_lsn, stop_seq;
	uint64_t skipped_from_lsn, skipped_first_seq, skipped_last_seq, skipped_sets;
	char reason[256];          /* why the set at stop_lsn is invalid */
	/*
	 * Not empty when a tail copy was invalid but not blank: either a tail
	 * update was torn by a crash (harmless) or the current copy was damaged,
	 * in which case replay started at the older tail and may return
	 * entries that were already checkpointed: replay must be idempotent.
	 */
	char tail_warning[256];
	/*
	 * Not empty when the log ends at a set that was begun but is invalid:
	 * its header has this journal's magic and an lsn that is not of an
	 * older pass over the ring, or the expected lsn or sequence number.
	 * Either the crash tore the set's commit (its entries were never
	 * acknowledged) or a committed LAST set was damaged since: nothing
	 * durable says where the log ends, so the two cannot be told apart
	 * (docs/JOURNAL.md, "The end of the log").  Not damage: it is reported,
	 * and the log ends before that set.
	 */
	char end_warning[320];
};

/*
 * nvfs_journal_replay -- call fn for every committed entry after the durable
 * tail, in order, until fn returns non-zero (which is returned).  Memory
 * use is constant.  Returns 0 at the end of the log, whether or not damage
 * was found (see report->damaged, which the caller must check), or -EINVAL
 * after an append.  Must be called before the first append and the first
 * checkpoint of this open.  Applying an entry must be idempotent: after a
 * damaged tail copy (report->tail_warning) replay starts at the older tail.
 */
int nvfs_journal_replay(struct nvfs_journal *j,
			int (*fn)(void *arg, const struct nvfs_journal_entry *e),
			void *arg, struct nvfs_journal_report *report);

/*
 * nvfs_journal_append -- append an entry; returns its sequence number
 * (> 0), or a negative errno: -EINVAL (type 0, or no replay yet), -EMSGSIZE
 * (payload larger than NVFS_JOURNAL_MAX_PAYLOAD), -EROFS, -EUCLEAN (replay
 * found damage and the replayed entries are not checkpointed yet),
 * -EOVERFLOW (sequence numbers exhausted), or a latched persist error.  The
 * entry is durable only after nvfs_journal_commit(j, seq).  May sleep
 * waiting for a checkpoint when the journal is full.
 */
int64_t nvfs_journal_append(struct nvfs_journal *j, uint32_t type, const void *payload,
			    size_t len);

/* nvfs_journal_appendv -- the same, the payload gathered from iov */
int64_t nvfs_journal_appendv(struct nvfs_journal *j, uint32_t type,
			     const struct iovec *iov, int iovcnt);

/*
 * nvfs_journal_commit -- return once every entry up to seq is durable
 * (seq 0: everything appended so far).  0, -EINVAL (seq was never
 * appended), or a persist error (latched: returned by every later call).
 */
int nvfs_journal_commit(struct nvfs_journal *j, uint64_t seq);

/*
 * nvfs_journal_checkpoint -- the consumer has applied every entry up to
 * seq and made it durable elsewhere: advance the durable tail past the set
 * holding seq (entries sharing a set with later ones stay until those are
 * checkpointed too) and reuse the space.  seq must be committed.
 * 0, -EINVAL (seq beyond the committed log, or before replay), -EROFS,
 * -EUCLEAN (a committed set changed on pmem), or a persist error.
 */
int nvfs_journal_checkpoint(struct nvfs_journal *j, uint64_t seq);

struct nvfs_journal_stats {
	uint64_t ring_bytes;
	unsigned nr_buckets;
	uint64_t tail_lsn, head_lsn;  /* durable tail; end of the appended log */
	uint64_t tail_seq;            /* first entry not checkpointed */
	uint64_t next_seq;            /* the next append's sequence number */
	uint64_t committed_seq;       /* last durable entry */
	uint64_t used_bytes;          /* head_lsn - tail_lsn */
	uint64_t appends, commits, persists, checkpoints, waits_for_space;
};

void nvfs_journal_stats(struct nvfs_journal *j, struct nvfs_journal_stats *st);

#endif /* NVFS_JOURNAL_H */
