/* SPDX-License-Identifier: MIT */
/*
 * journal.c -- create, open, append, group commit and checkpoint (see
 * nvfs_journal.h; the protocols with their persist steps are in
 * docs/JOURNAL.md and repeated above each function).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "journal_int.h"
#include "nvfs_alloc.h"
#include "nvfs_csum.h"
#include "nvfs_err.h"
#include "nvfs_ns.h"

static const uint8_t journal_uuid[NVFS_UUID_BYTES] = NVFS_JOURNAL_OWNER_UUID;

struct blocks {
	uint64_t hdr_off;
	unsigned nr_hdr, nr_other;
	uint64_t other_off;
	unsigned other_order;
	uint64_t *buckets;
	unsigned nr_buckets, cap;
};

/* collect_block -- foreach callback sorting the journal owner's blocks */
static int
collect_block(void *arg, uint64_t off, unsigned order)
{
	struct blocks *b = arg;

	if (order == 0) {
		b->hdr_off = off;
		b->nr_hdr++;
	} else if (order == NVFS_JOURNAL_BUCKET_ORDER) {
		if (b->nr_buckets == b->cap) {
			unsigned cap = b->cap ? b->cap * 2 : 16;
			uint64_t *p = realloc(b->buckets, cap * sizeof(*p));
			if (!p)
				return -ENOMEM;
			b->buckets = p;
			b->cap = cap;
		}
		b->buckets[b->nr_buckets++] = off;
	} else {
		b->nr_other++;
		b->other_off = off;
		b->other_order = order;
	}
	return 0;
}

/* cmp_u64 -- for qsort */
static int
cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

/*
 * nvfs_journal_create -- allocate the journal and write its header.
 *   1. The owner; the buckets (each record persisted by the allocator),
 *      the set header at each bucket's start zeroed and persisted: a
 *      namespace made over an older one (mkfs -f) must not show that
 *      journal's first set where this one's log ends (end_begun would
 *      take it for a set of ours begun and damaged).
 *   2. The header page: its record, then header + tail copy A (gen 1,
 *      lsn 0, seq 1) -- copy B is left invalid (zero) -- persisted.  The
 *      journal exists from here on.
 */
int
nvfs_journal_create(struct nvfs_alloc *a, uint64_t bytes)
{
	uint64_t nr = bytes / NVFS_JOURNAL_BUCKET_BYTES, off, hdr_off;
	int owner, rc;

	if (nr < NVFS_JOURNAL_MIN_BUCKETS)
		return nvfs_err_set(EINVAL, "a journal of %llu bytes is too small: it "
				    "needs at least %u buckets of %u MiB",
				    (unsigned long long)bytes, NVFS_JOURNAL_MIN_BUCKETS,
				    NVFS_JOURNAL_BUCKET_BYTES >> 20);
	owner = nvfs_alloc_owner_get(a, journal_uuid, "journal");
	if (owner < 0)
		return owner;
	struct nvfs_alloc_owner_info info;
	if ((rc = nvfs_alloc_owner_info(a, owner, &info)))
		return rc;
	if (info.nr_allocs)
		return nvfs_err_set(EEXIST, "the namespace already has a journal");
	for (uint64_t i = 0; i < nr; i++) {
		rc = nvfs_alloc_pages(a, owner, NVFS_JOURNAL_BUCKET_ORDER, &off);
		if (rc == -ENOSPC) {
			struct nvfs_alloc_stats st;
			nvfs_alloc_stats(a, &st);
			rc = nvfs_err_set(ENOSPC, "no room for a journal of %llu MiB: got "
					  "%llu of %llu buckets of %u MiB",
					  (unsigned long long)(bytes >> 20),
					  (unsigned long long)i, (unsigned long long)nr,
					  NVFS_JOURNAL_BUCKET_BYTES >> 20);
		}
		if (rc)
			goto undo;
		struct nvfs_pm_jset *first = nvfs_alloc_ptr(a, off);
		memset(first, 0, sizeof(*first));
		if ((rc = nvfs_pmem_persist(nvfs_alloc_pmem(a), first, sizeof(*first))))
			goto undo;
	}
	if ((rc = nvfs_alloc_pages(a, owner, 0, &hdr_off)))
		goto undo;

	struct nvfs_pm_journal_hdr h;
	memset(&h, 0, sizeof(h));
	h.magic = NVFS_JOURNAL_MAGIC;
	if (getrandom(&h.journal_id, sizeof(h.journal_id), 0) != sizeof(h.journal_id))
		h.journal_id = nvfs_csum(&hdr_off, sizeof(hdr_off), (uint64_t)time(NULL));
	h.ring_bytes = nr * NVFS_JOURNAL_BUCKET_BYTES;
	h.bucket_order = NVFS_JOURNAL_BUCKET_ORDER;
	h.version = NVFS_JOURNAL_VERSION;
	h.csum = jhdr_csum(&h, nvfs_ns_seed(nvfs_alloc_sb(a)));

	char *page = nvfs_alloc_ptr(a, hdr_off);
	memset(page, 0, NVFS_PAGE_BYTES);
	memcpy(page, &h, sizeof(h));
	jtail_fill((struct nvfs_pm_journal_tail *)(page + NVFS_JOURNAL_TAIL_OFF0),
		   nvfs_csum(&h.journal_id, 8, nvfs_ns_seed(nvfs_alloc_sb(a))), 1, 0, 1);
	rc = nvfs_pmem_persist(nvfs_alloc_pmem(a), page, NVFS_PAGE_BYTES);
	if (rc)
		return rc;
	return 0;
undo:
	{
		/* Give back what was taken; the journal did not come to exist. */
		struct blocks b = { 0 };
		nvfs_alloc_foreach(a, owner, collect_block, &b);
		for (unsigned i = 0; i < b.nr_buckets; i++)
			nvfs_alloc_free(a, owner, b.buckets[i]);
		free(b.buckets);
	}
	return rc;
}

/* nvfs_journal_fit -- default or check a journal size for a namespace */
int
nvfs_journal_fit(uint64_t ns_bytes, uint64_t *bytes)
{
	const uint64_t bb = NVFS_JOURNAL_BUCKET_BYTES;
	uint64_t avail = ns_bytes > NVFS_PAGES_OFF ? ns_bytes - NVFS_PAGES_OFF : 0;
	/* Buckets are 4 MiB-aligned blocks; the header page needs one more
	 * page, from the remainder or else from a bucket-sized block. */
	uint64_t slots = avail / bb - (avail % bb >= NVFS_PAGE_BYTES ? 0 : 1);
	uint64_t want = *bytes;

	if (avail / bb == 0)
		slots = 0;
	if (want == 0) {
		want = avail / 4 / bb * bb;
		if (want < NVFS_JOURNAL_MIN_BUCKETS * bb)
			want = NVFS_JOURNAL_MIN_BUCKETS * bb;
		if (want > 256 * bb)
			want = 256 * bb;
	}
	want = want / bb * bb;
	if (want < NVFS_JOURNAL_MIN_BUCKETS * bb)
		return nvfs_err_set(EINVAL, "a journal of %llu bytes is too small: at "
				    "least %u MiB", (unsigned long long)*bytes,
				    (unsigned)(NVFS_JOURNAL_MIN_BUCKETS * bb >> 20));
	if (want / bb > slots)
		return nvfs_err_set(ENOSPC, "a namespace of %llu MiB has no room for a "
				    "journal of %llu MiB (at most %llu MiB fits)",
				    (unsigned long long)(ns_bytes >> 20),
				    (unsigned long long)(want >> 20),
				    (unsigned long long)(slots * bb >> 20));
	*bytes = want;
	return 0;
}

/* find_blocks -- the journal owner's header page and buckets (H3) */
static int
find_blocks(struct nvfs_journal *j)
{
	int owner = nvfs_alloc_owner_find(j->a, journal_uuid);
	struct blocks b = { 0 };
	int rc;

	if (owner < 0)
		return nvfs_err_set(ENOENT, "the namespace has no journal (mkfs.nvfs "
				    "creates one)");
	if ((rc = nvfs_alloc_foreach(j->a, owner, collect_block, &b))) {
		free(b.buckets);
		return nvfs_err_set(-rc, "out of memory listing the journal's buckets");
	}
	if (b.nr_hdr + b.nr_buckets + b.nr_other == 0) {
		/* An owner left by a create that failed for lack of space. */
		free(b.buckets);
		return nvfs_err_set(ENOENT, "the namespace has no journal (mkfs.nvfs "
				    "creates one)");
	}
	if (b.nr_other)
		rc = nvfs_err_set(EUCLEAN, "journal owner holds a block of order %u at "
				  "%#llx: journal blocks are order 0 or %u (H3)",
				  b.other_order, (unsigned long long)b.other_off,
				  NVFS_JOURNAL_BUCKET_ORDER);
	else if (b.nr_hdr != 1)
		rc = nvfs_err_set(EUCLEAN, "journal owner holds %u header pages, expected "
				  "1: the journal is incomplete (interrupted mkfs?) (H3)",
				  b.nr_hdr);
	else if (b.nr_buckets < NVFS_JOURNAL_MIN_BUCKETS)
		rc = nvfs_err_set(EUCLEAN, "journal has %u buckets, at least %u needed (H3)",
				  b.nr_buckets, NVFS_JOURNAL_MIN_BUCKETS);
	if (rc) {
		free(b.buckets);
		return rc;
	}
	qsort(b.buckets, b.nr_buckets, sizeof(b.buckets[0]), cmp_u64);
	j->bucket_off = b.buckets;
	j->nr_buckets = b.nr_buckets;
	j->ring_bytes = (uint64_t)b.nr_buckets * NVFS_JOURNAL_BUCKET_BYTES;
	j->hdr_off = b.hdr_off;
	j->hdr = nvfs_alloc_ptr(j->a, b.hdr_off);
	return 0;
}

/* load_tail -- validate the header and pick the current tail copy */
static int
load_tail(struct nvfs_journal *j)
{
	uint64_t ns_seed = nvfs_ns_seed(nvfs_alloc_sb(j->a));
	int rc = jhdr_check(j->hdr, ns_seed, j->hdr_off);

	if (rc)
		return rc;
	if (j->hdr->ring_bytes != j->ring_bytes)
		return nvfs_err_set(EUCLEAN, "journal header at %#llx: ring_bytes %llu, but "
				    "the owner records hold %llu bytes of buckets: a bucket "
				    "record was lost (H3)", (unsigned long long)j->hdr_off,
				    (unsigned long long)j->hdr->ring_bytes,
				    (unsigned long long)j->ring_bytes);
	j->id = j->hdr->journal_id;
	j->seed = nvfs_csum(&j->id, 8, ns_seed);
	int best = -1;
	char msg[2][256];
	for (unsigned i = 0; i < 2; i++) {
		uint64_t off = i ? NVFS_JOURNAL_TAIL_OFF1 : NVFS_JOURNAL_TAIL_OFF0;
		const struct nvfs_pm_journal_tail *t = (const void *)((char *)j->hdr + off);
		if (jtail_check(t, j->seed, j->hdr_off + off)) {
			snprintf(msg[i], sizeof(msg[i]), "%s", nvfs_errmsg());
			/* Zero is the copy B of a journal never checkpointed. */
			static const struct nvfs_pm_journal_tail zero_tail;
			if (memcmp(t, &zero_tail, sizeof(*t)) != 0)
				snprintf(j->tail_warning, sizeof(j->tail_warning), "%s",
					 msg[i]);
			continue;
		}
		if (best < 0 || t->gen > j->tail_gen) {
			best = (int)i;
			j->tail_gen = t->gen;
			j->tail_lsn = t->tail_lsn;
			j->tail_seq = t->tail_seq;
		}
	}
	if (best < 0)
		return nvfs_err_set(EUCLEAN, "journal: both tail copies are invalid: %s; %s",
				    msg[0], msg[1]);
	j->tail_slot = (unsigned)best;
	return 0;
}

/* nvfs_journal_open -- find, validate, scan */
int
nvfs_journal_open(struct nvfs_alloc *a, const struct nvfs_journal_ops *ops,
		  unsigned flags, struct nvfs_journal **out)
{
	struct nvfs_journal *j = calloc(1, sizeof(*j));
	int rc;

	if (!j)
		return nvfs_err_set(ENOMEM, "out of memory");
	j->a = a;
	j->pm = nvfs_alloc_pmem(a);
	j->readonly = (flags & NVFS_JOURNAL_RDONLY) || nvfs_alloc_readonly(a);
	if (ops)
		j->ops = *ops;
	pthread_mutex_init(&j->lock, NULL);
	pthread_mutex_init(&j->ckpt_lock, NULL);
	pthread_cond_init(&j->cond, NULL);
	if ((rc = find_blocks(j)) || (rc = load_tail(j))) {
		nvfs_journal_close(&j);
		return rc;
	}
	jscan_end(j);
	j->commit_lsn = j->head_lsn = j->stop_lsn;
	j->committed_seq = j->stop_seq - 1;
	j->next_seq = j->stop_seq;
	*out = j;
	return 0;
}

/* nvfs_journal_close -- commit, free */
int
nvfs_journal_close(struct nvfs_journal **jp)
{
	struct nvfs_journal *j = *jp;
	int rc = 0;

	if (!j)
		return 0;
	if (j->appended && !j->readonly)
		rc = nvfs_journal_commit(j, 0);
	free(j->bucket_off);
	pthread_cond_destroy(&j->cond);
	pthread_mutex_destroy(&j->ckpt_lock);
	pthread_mutex_destroy(&j->lock);
	free(j);
	*jp = NULL;
	return rc;
}

/* slot -- the set with counter c */
static inline struct jset_slot *
slot(struct nvfs_journal *j, uint64_t c)
{
	return &j->sets[c % SET_SLOTS];
}

/*
 * latched -- (locked) 0, or the latched persist error with its message, for
 * every call after the failure
 */
static int
latched(const struct nvfs_journal *j)
{
	if (!j->failed)
		return 0;
	return nvfs_err_set(-j->failed, "journal: an earlier persist failed (%s); "
			    "nothing more is written until the journal is reopened",
			    strerror(-j->failed));
}

/* fail -- (locked) latch a persist error and wake everyone who waits */
static int
fail(struct nvfs_journal *j, int rc)
{
	if (!j->failed)
		j->failed = rc;
	pthread_cond_broadcast(&j->cond);
	return rc;
}

/* fits -- [head, head+bytes) would not overwrite un-checkpointed log */
static inline bool
fits(const struct nvfs_journal *j, uint64_t bytes)
{
	return j->head_lsn + bytes - j->tail_lsn <= j->ring_bytes;
}

/* fill_pct -- how full the ring is (locked) */
static inline unsigned
fill_pct(const struct nvfs_journal *j)
{
	return (unsigned)((j->head_lsn - j->tail_lsn) * 100 / j->ring_bytes);
}

/*
 * wait_for_space -- (locked) make room for bytes more: commit what is
 * pending (so that it can be checkpointed); if that is not enough, ask for
 * a checkpoint and sleep until the tail moves.  Returns with the lock held;
 * the caller re-checks.
 */
static int
wait_for_space(struct nvfs_journal *j, uint64_t bytes)
{
	j->n_waits++;
	pthread_mutex_unlock(&j->lock);
	int rc = nvfs_journal_commit(j, 0);
	pthread_mutex_lock(&j->lock);
	if (rc || fits(j, bytes))
		return rc;
	uint64_t tail = j->tail_lsn;
	unsigned pct = fill_pct(j);
	pthread_mutex_unlock(&j->lock);
	if (j->ops.want_checkpoint)
		j->ops.want_checkpoint(j->ops.arg, pct, true);
	pthread_mutex_lock(&j->lock);
	while (!j->failed && j->tail_lsn == tail)
		pthread_cond_wait(&j->cond, &j->lock);
	return latched(j);
}

/* open_set -- (locked) a new set of bytes at head; a pad set is closed at once */
static void
open_set(struct nvfs_journal *j, uint32_t flags, uint64_t bytes)
{
	*slot(j, j->end_ctr++) = (struct jset_slot){ j->head_lsn, j->next_seq,
						     (uint32_t)bytes, 0, flags, 0 };
	j->head_lsn += bytes;
	j->set_open = !(flags & NVFS_JSET_PAD);
}

/*
 * reserve -- (locked) room for an entry of need bytes in the open set,
 * closing full sets, padding bucket ends and waiting for space or for set
 * slots as needed.  On success *ctr names the set and *lsn the entry.
 */
static int
reserve(struct nvfs_journal *j, uint64_t need, uint64_t *ctr, uint64_t *lsn)
{
	int rc = latched(j);

	for (; !rc; rc = latched(j)) {
		if (j->set_open) {
			struct jset_slot *s = slot(j, j->end_ctr - 1);
			/* The end of the set's own bucket: bucket_left(head) would
			 * be a whole bucket when the set ends exactly there. */
			uint64_t set_bucket_end = s->lsn + bucket_left(s->lsn);
			bool room = j->head_lsn + need <= set_bucket_end &&
				    (s->nr_entries == 0 || s->bytes + need <= SET_SOFT_MAX_BYTES);
			if (room && fits(j, need)) {
				*ctr = j->end_ctr - 1;
				*lsn = j->head_lsn;
				s->bytes += (uint32_t)need;
				s->nr_entries++;
				s->writers++;
				j->head_lsn += need;
				return 0;
			}
			if (room) {
				rc = wait_for_space(j, need);
				continue;
			}
			j->set_open = false; /* full: the next commit takes it */
		}
		if (j->end_ctr - j->commit_ctr >= SET_SLOTS) {
			/* Every slot holds an uncommitted set: commit them. */
			pthread_mutex_unlock(&j->lock);
			rc = nvfs_journal_commit(j, 0);
			pthread_mutex_lock(&j->lock);
			continue;
		}
		uint64_t left = bucket_left(j->head_lsn);
		uint64_t want = left < NVFS_JOURNAL_SET_HDR_BYTES + need
				? left : NVFS_JOURNAL_SET_HDR_BYTES + need;
		if (!fits(j, want))
			rc = wait_for_space(j, want);
		else if (want == left && left < NVFS_JOURNAL_SET_HDR_BYTES + need)
			open_set(j, NVFS_JSET_PAD, left); /* the entry goes in the next bucket */
		else
			open_set(j, 0, NVFS_JOURNAL_SET_HDR_BYTES);
	}
	return rc;
}

/*
 * copy_entry -- write an entry (header + payload) at lsn and, below PAGE
 * granularity, make it durable from this thread (its flushes must be
 * drained on this core before the committer's header persist).  Not
 * locked.  The padding after the payload is never read, so never written.
 */
static void
copy_entry(struct nvfs_journal *j, uint64_t lsn, uint32_t type,
	   const struct iovec *iov, int iovcnt, uint64_t len)
{
	char *dst = ring_ptr(j, lsn);
	char *p = dst + NVFS_JOURNAL_ENTRY_HDR_BYTES;
	bool nt = len >= 4096;
	XXH3_state_t st;
	struct nvfs_pm_jentry e;

	nvfs_csum_begin(&st, j->seed);
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len == 0)
			continue; /* iov_base may be NULL */
		XXH3_64bits_update(&st, iov[i].iov_base, iov[i].iov_len);
		nvfs_pmem_copy(j->pm, p, iov[i].iov_base, iov[i].iov_len, nt);
		p += iov[i].iov_len;
	}
	memset(&e, 0, sizeof(e));
	e.type = type;
	e.payload_bytes = (uint32_t)len;
	e.payload_csum = XXH3_64bits_digest(&st);
	nvfs_pmem_copy(j->pm, dst, &e, sizeof(e), false);
	if (j->pm->gran != NVFS_GRAN_PAGE)
		nvfs_pmem_drain(j->pm);
}

/* nvfs_journal_appendv -- reserve, copy (unlocked), release */
int64_t
nvfs_journal_appendv(struct nvfs_journal *j, uint32_t type, const struct iovec *iov,
		     int iovcnt)
{
	uint64_t len = 0, ctr = 0, lsn = 0;

	for (int i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	if (type == 0)
		return nvfs_err_set(EINVAL, "journal entry type 0 is reserved");
	if (len > NVFS_JOURNAL_MAX_PAYLOAD ||
	    NVFS_JOURNAL_SET_HDR_BYTES + entry_bytes(len) > j->ring_bytes)
		return nvfs_err_set(EMSGSIZE, "journal entry of %llu bytes is larger than "
				    "the %u-byte maximum", (unsigned long long)len,
				    NVFS_JOURNAL_MAX_PAYLOAD);
	if (j->readonly)
		return nvfs_err_set(EROFS, "journal is open read-only");
	pthread_mutex_lock(&j->lock);
	int rc;
	if (!j->replay_done)
		rc = nvfs_err_set(EINVAL, "journal: append before replay");
	else if (j->next_seq >= NVFS_JOURNAL_LIMIT - 1)
		rc = nvfs_err_set(EOVERFLOW, "journal: sequence numbers exhausted");
	else if (j->damaged)
		rc = nvfs_err_set(EUCLEAN, "journal: the log is damaged after the "
				  "replayed entries; checkpoint them before appending");
	else
		rc = reserve(j, entry_bytes(len), &ctr, &lsn);
	uint64_t seq = rc ? 0 : j->next_seq++;
	pthread_mutex_unlock(&j->lock);
	if (rc)
		return rc;

	copy_entry(j, lsn, type, iov, iovcnt, len);

	pthread_mutex_lock(&j->lock);
	j->appended = true;
	j->n_appends++;
	if (--slot(j, ctr)->writers == 0)
		pthread_cond_broadcast(&j->cond);
	bool signal = !j->watermark_signalled &&
		      fill_pct(j) >= NVFS_JOURNAL_HIGH_WATERMARK_PCT;
	unsigned pct = fill_pct(j);
	j->watermark_signalled |= signal;
	pthread_mutex_unlock(&j->lock);
	if (signal && j->ops.want_checkpoint)
		j->ops.want_checkpoint(j->ops.arg, pct, false);
	return (int64_t)seq;
}

int64_t
nvfs_journal_append(struct nvfs_journal *j, uint32_t type, const void *payload, size_t len)
{
	struct iovec iov = { (void *)payload, len };
	return nvfs_journal_appendv(j, type, &iov, 1);
}

/*
 * persist_set -- write and persist one closed set's header.  Its entries
 * were copied (and, below PAGE granularity, flushed and drained by their
 * appenders) before; the header checksum covers their headers, so the set
 * becomes valid with this one persist.  Not locked: only the committer
 * touches closed sets.
 */
static int
persist_set(struct nvfs_journal *j, const struct jset_slot *s)
{
	struct nvfs_pm_jset *h = jset_at(j, s->lsn);
	struct nvfs_pm_jset hdr;
	char why[128];
	int rc;

	memset(&hdr, 0, sizeof(hdr));
	hdr.magic = jset_magic(j);
	hdr.lsn = s->lsn;
	hdr.first_seq = s->first_seq;
	hdr.set_bytes = s->bytes;
	hdr.nr_entries = s->nr_entries;
	hdr.flags = s->flags;
	/* Checksum the entry headers in place: copy the header in first. */
	memcpy(h, &hdr, sizeof(hdr));
	if (!jset_csum(j, h, &hdr.csum, why, sizeof(why)))
		return nvfs_err_set(EIO, "journal: set at lsn %llu is malformed: %s",
				    (unsigned long long)s->lsn, why);
	h->csum = hdr.csum;
	if (j->pm->gran == NVFS_GRAN_PAGE)
		rc = nvfs_pmem_persist(j->pm, h, s->bytes);
	else
		rc = nvfs_pmem_persist(j->pm, h, sizeof(*h));
	__atomic_fetch_add(&j->n_persists, 1, __ATOMIC_RELAXED);
	return rc;
}

/*
 * commit_pending -- (locked, as the committer) close the open set, wait for
 * the writers of every uncommitted set, then persist them in order, one
 * persist each, so that no set is durable before the sets before it.
 */
static int
commit_pending(struct nvfs_journal *j)
{
	uint64_t from = j->commit_ctr, end = j->end_ctr;

	j->set_open = false;
	if (from == end) {
		/* Nothing reserved anywhere: all that was appended is durable. */
		j->committed_seq = j->next_seq - 1;
		return 0;
	}
	for (uint64_t c = from; c < end; c++)
		while (slot(j, c)->writers)
			pthread_cond_wait(&j->cond, &j->lock);
	pthread_mutex_unlock(&j->lock);

	int rc = 0;
	for (uint64_t c = from; c < end && !rc; c++)
		rc = persist_set(j, slot(j, c));

	pthread_mutex_lock(&j->lock);
	if (rc)
		return fail(j, rc);
	const struct jset_slot *last = slot(j, end - 1);
	j->commit_lsn = last->lsn + last->bytes;
	j->committed_seq = last->first_seq + last->nr_entries - 1;
	j->commit_ctr = end;
	j->n_commits++;
	return 0;
}

/* nvfs_journal_commit -- group commit up to seq */
int
nvfs_journal_commit(struct nvfs_journal *j, uint64_t seq)
{
	int rc = 0;

	pthread_mutex_lock(&j->lock);
	if (j->failed) {
		rc = latched(j);
		goto out;
	}
	if (seq >= j->next_seq) {
		rc = nvfs_err_set(EINVAL, "journal: commit of entry %llu, which was not "
				  "appended (next is %llu)", (unsigned long long)seq,
				  (unsigned long long)j->next_seq);
		goto out;
	}
	if (seq == 0)
		seq = j->next_seq - 1;
	while (!rc && j->committed_seq < seq) {
		if (j->failed) {
			rc = latched(j);
			break;
		}
		if (j->committing) {
			pthread_cond_wait(&j->cond, &j->lock);
			continue;
		}
		j->committing = true;
		rc = commit_pending(j);
		j->committing = false;
		pthread_cond_broadcast(&j->cond);
	}
out:
	pthread_mutex_unlock(&j->lock);
	return rc;
}

/*
 * new_tail -- (locked) the first set not fully checkpointed by seq: walk the
 * committed sets from the tail and stop at the first holding an entry >
 * seq.  The headers were written by this process or validated at open, but
 * pmem is re-checked as it is walked (a flipped bit must not move the
 * durable tail to a wrong place): -EUCLEAN if one does not hold.
 */
static int
new_tail(struct nvfs_journal *j, uint64_t seq, uint64_t *lsn, uint64_t *first_seq)
{
	uint64_t l = j->tail_lsn, s = j->tail_seq;

	while (l < j->commit_lsn) {
		const struct nvfs_pm_jset *h = jset_at(j, l);
		if (h->magic != jset_magic(j) || h->lsn != l || h->first_seq != s ||
		    h->set_bytes < NVFS_JOURNAL_SET_HDR_BYTES ||
		    h->set_bytes % NVFS_JOURNAL_ALIGN || h->set_bytes > bucket_left(l) ||
		    h->set_bytes > j->commit_lsn - l ||
		    h->nr_entries > h->set_bytes / NVFS_JOURNAL_ALIGN)
			return nvfs_err_set(EUCLEAN, "journal: the committed set at lsn %llu "
					    "changed on pmem (media error?); the tail is "
					    "not moved", (unsigned long long)l);
		if (h->first_seq + h->nr_entries > seq + 1)
			break;
		s = h->first_seq + h->nr_entries;
		l += h->set_bytes;
	}
	*lsn = l;
	*first_seq = l == j->commit_lsn ? j->committed_seq + 1 : s;
	return 0;
}

/*
 * nvfs_journal_checkpoint -- advance the durable tail.
 *   1. Write the tail copy that is not current with gen + 1 and the new
 *      (tail_lsn, tail_seq); persist it.  It is current from here on.
 *   2. Let appenders reuse the space before tail_lsn.
 * A torn step 1 leaves the old copy current: the old tail is still valid
 * because no space was reused before step 2.
 */
int
nvfs_journal_checkpoint(struct nvfs_journal *j, uint64_t seq)
{
	uint64_t lsn = 0, first = 0;
	int rc = 0;

	if (j->readonly)
		return nvfs_err_set(EROFS, "journal is open read-only");
	pthread_mutex_lock(&j->ckpt_lock);
	pthread_mutex_lock(&j->lock);
	if (j->failed || seq > j->committed_seq || !j->replay_done) {
		rc = j->failed ? latched(j)
		     : !j->replay_done
			? nvfs_err_set(EINVAL, "journal: checkpoint before replay")
			: nvfs_err_set(EINVAL, "journal: checkpoint of entry %llu beyond "
				       "the committed log (%llu)", (unsigned long long)seq,
				       (unsigned long long)j->committed_seq);
		goto out;
	}
	if ((rc = new_tail(j, seq, &lsn, &first)))
		goto out;
	bool reseq = j->damaged && lsn == j->commit_lsn;
	if (reseq)
		first = j->next_seq; /* past every sequence number the damage holds */
	if (lsn == j->tail_lsn && !reseq)
		goto out;
	unsigned target = j->tail_slot ^ 1;
	uint64_t gen = j->tail_gen + 1;
	pthread_mutex_unlock(&j->lock);

	struct nvfs_pm_journal_tail *t = (void *)((char *)j->hdr +
		(target ? NVFS_JOURNAL_TAIL_OFF1 : NVFS_JOURNAL_TAIL_OFF0));
	struct nvfs_pm_journal_tail fresh;
	jtail_fill(&fresh, j->seed, gen, lsn, first);
	memcpy(t, &fresh, sizeof(fresh));
	rc = nvfs_pmem_persist(j->pm, t, sizeof(*t));            /* step 1 */

	pthread_mutex_lock(&j->lock);
	if (rc) {
		fail(j, rc);
		goto out;
	}
	j->tail_slot = target;                                    /* step 2 */
	j->tail_gen = gen;
	j->tail_lsn = lsn;
	j->tail_seq = first;
	if (reseq)
		j->damaged = false;
	if (fill_pct(j) < NVFS_JOURNAL_HIGH_WATERMARK_PCT)
		j->watermark_signalled = false;
	j->n_checkpoints++;
	pthread_cond_broadcast(&j->cond);
out:
	pthread_mutex_unlock(&j->lock);
	pthread_mutex_unlock(&j->ckpt_lock);
	return rc;
}

void
nvfs_journal_stats(struct nvfs_journal *j, struct nvfs_journal_stats *st)
{
	pthread_mutex_lock(&j->lock);
	*st = (struct nvfs_journal_stats){
		.ring_bytes = j->ring_bytes, .nr_buckets = j->nr_buckets,
		.tail_lsn = j->tail_lsn, .head_lsn = j->head_lsn,
		.tail_seq = j->tail_seq, .next_seq = j->next_seq,
		.committed_seq = j->committed_seq,
		.used_bytes = j->head_lsn - j->tail_lsn,
		.appends = j->n_appends, .commits = j->n_commits,
		.persists = __atomic_load_n(&j->n_persists, __ATOMIC_RELAXED),
		.checkpoints = j->n_checkpoints,
		.waits_for_space = j->n_waits,
	};
	pthread_mutex_unlock(&j->lock);
}
