/* SPDX-License-Identifier: MIT */
/*
 * replay.c -- find the end of the committed log, replay it, and tell a
 * clean end (a torn last set, never acknowledged) from damage (an invalid
 * set followed by valid later ones).
 *
 * Replay is a pure function of the pmem contents: the tail copy says where
 * to start, each valid set says where the next one must be (lsn +
 * set_bytes) and which sequence number it must start with, and the walk
 * stops at the first set that does not hold (rules J1..J5).  Every read is
 * bounds-checked by jset_check before the set is trusted; memory use is
 * constant whatever the journal size.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "journal_int.h"
#include "nvfs_err.h"
#include "nvfs_util.h"

/*
 * walk -- follow valid sets from (lsn, seq), at most one ring's length,
 * calling fn (if any) for each entry; returns fn's non-zero result or 0,
 * with end_lsn and end_seq set to where the walk stopped and why in why.
 */
static int
walk(const struct nvfs_journal *j, uint64_t lsn, uint64_t seq,
     int (*fn)(void *arg, const struct nvfs_journal_entry *e), void *arg,
     struct nvfs_journal_report *rep, uint64_t *end_lsn, uint64_t *end_seq,
     char *why, size_t why_len)
{
	uint64_t limit = lsn + j->ring_bytes;
	int rc = 0;

	why[0] = '\0';
	while (lsn < limit && jset_check(j, lsn, seq, why, why_len) == 0) {
		const struct nvfs_pm_jset *s = jset_at(j, lsn);
		const char *p = (const char *)s + NVFS_JOURNAL_SET_HDR_BYTES;
		for (uint32_t i = 0; i < s->nr_entries && fn; i++) {
			const struct nvfs_pm_jentry *e = (const void *)p;
			struct nvfs_journal_entry ent = {
				seq + i, e->type, e->payload_bytes,
				p + NVFS_JOURNAL_ENTRY_HDR_BYTES, lsn };
			if ((rc = fn(arg, &ent)))
				break;
			if (rep) {
				rep->entries++;
				rep->payload_bytes += e->payload_bytes;
				if (!rep->first_seq)
					rep->first_seq = ent.seq;
				rep->last_seq = ent.seq;
			}
			p += entry_bytes(e->payload_bytes);
		}
		if (rc)
			break;
		if (rep)
			rep->sets++;
		seq += s->nr_entries;
		lsn += s->set_bytes;
	}
	if (lsn >= limit)
		snprintf(why, why_len, "walked the whole ring");
	*end_lsn = lsn;
	*end_seq = seq;
	return rc;
}

/*
 * ring_advise -- readahead policy for the whole ring.  The mapping is
 * MADV_RANDOM at PAGE granularity (nvfs_pmem.h: small writeback units);
 * the scans of open and replay read the ring in order, so they switch to
 * MADV_SEQUENTIAL meanwhile (a cold 256 MiB ring on disk: seconds, not
 * minutes).  Advice only: errors are ignored.
 */
static void
ring_advise(const struct nvfs_journal *j, int advice)
{
	if (j->pm->gran != NVFS_GRAN_PAGE || j->pm->is_devdax)
		return;
	for (unsigned b = 0; b < j->nr_buckets; b++)
		(void)madvise(j->pm->base + j->bucket_off[b], NVFS_JOURNAL_BUCKET_BYTES,
			      advice);
}

/* jscan_end -- where the committed log ends (stop_lsn, stop_seq) */
void
jscan_end(struct nvfs_journal *j)
{
	char why[160];

	ring_advise(j, MADV_SEQUENTIAL);
	walk(j, j->tail_lsn, j->tail_seq, NULL, NULL, NULL, &j->stop_lsn, &j->stop_seq,
	     why, sizeof(why));
	ring_advise(j, MADV_RANDOM);
}

/* count_entries -- walk callback that only counts */
static int
count_entries(void *arg, const struct nvfs_journal_entry *e)
{
	(void)arg; (void)e;
	return 0;
}

/*
 * find_damage -- look past the stop point for a valid set that a legal
 * crash cannot leave there: one whose first sequence number is not before
 * stop_seq and whose header sits at its own ring position with an lsn of
 * this pass (a set damaged after it was committed) or of a LATER pass (the
 * current tail copy was lost and the older one points at reused space).
 * What a legal crash leaves beyond the end of the log is only older passes.
 * Only 64-byte aligned positions can hold a set, and the magic (xored with
 * the journal id) is checked first: one load per 64 bytes.  Every such set
 * in the ring is counted, and the report names the whole range of entries
 * they hold.
 */
static bool
find_damage(struct nvfs_journal *j, struct nvfs_journal_report *rep)
{
	char why[160];
	uint64_t limit = j->tail_lsn + j->ring_bytes;
	uint64_t magic = jset_magic(j);

	for (uint64_t p = j->stop_lsn; p < limit; p += NVFS_JOURNAL_ALIGN) {
		const struct nvfs_pm_jset *s = jset_at(j, p);
		if (s->magic != magic || s->lsn < p || s->lsn >= NVFS_JOURNAL_LIMIT ||
		    (s->lsn - p) % j->ring_bytes || s->first_seq < j->stop_seq ||
		    s->first_seq >= NVFS_JOURNAL_LIMIT)
			continue;
		if (p == j->stop_lsn && s->lsn == p)
			continue; /* the set that stopped the walk itself */
		if (jset_check(j, s->lsn, s->first_seq, why, sizeof(why)))
			continue;
		/* Report the whole range found, lowest first entry to highest last. */
		uint64_t last = s->first_seq + s->nr_entries - 1;
		if (!rep->damaged || s->first_seq < rep->skipped_first_seq) {
			rep->skipped_first_seq = s->first_seq;
			rep->skipped_from_lsn = s->lsn;
		}
		if (!rep->damaged || last > rep->skipped_last_seq)
			rep->skipped_last_seq = last;
		rep->skipped_sets++;
		rep->damaged = true;
		p += s->set_bytes - NVFS_JOURNAL_ALIGN; /* past this valid set */
	}
	return rep->damaged;
}

/*
 * end_begun -- the set header where the log ends (at lsn, expected to start
 * seq) was begun in this pass: this journal's magic with an lsn that is not
 * of an older pass over the ring, or another magic over a header that holds
 * the expected lsn or sequence number.  What a legal crash leaves there is a
 * set of an older pass or never-written space, unless the crash tore the
 * set's own commit; a committed set damaged since reads the same way.
 */
static bool
end_begun(const struct nvfs_journal *j, uint64_t lsn, uint64_t seq)
{
	const struct nvfs_pm_jset *s = jset_at(j, lsn);

	if (s->magic == jset_magic(j))
		return !(s->lsn < lsn && (lsn - s->lsn) % j->ring_bytes == 0);
	if (nvfs_mem_is_zero(s, sizeof(*s)))
		return false;
	return s->lsn == lsn || s->first_seq == seq;
}

/* nvfs_journal_replay -- every committed entry after the tail, in order */
int
nvfs_journal_replay(struct nvfs_journal *j,
		    int (*fn)(void *arg, const struct nvfs_journal_entry *e), void *arg,
		    struct nvfs_journal_report *rep)
{
	struct nvfs_journal_report local;
	uint64_t end_lsn, end_seq;
	char why[160];

	if (!rep)
		rep = &local;
	memset(rep, 0, sizeof(*rep));
	if (j->appended)
		return nvfs_err_set(EINVAL, "journal: replay after append");
	ring_advise(j, MADV_SEQUENTIAL);
	int rc = walk(j, j->tail_lsn, j->tail_seq, fn ? fn : count_entries, arg, rep,
		      &end_lsn, &end_seq, why, sizeof(why));
	if (rc) {
		ring_advise(j, MADV_RANDOM);
		return rc;
	}
	rep->stop_lsn = end_lsn;
	rep->stop_seq = end_seq;
	snprintf(rep->reason, sizeof(rep->reason), "%s", why);
	snprintf(rep->tail_warning, sizeof(rep->tail_warning), "%s", j->tail_warning);
	bool damaged = find_damage(j, rep);
	if (!damaged && end_lsn < j->tail_lsn + j->ring_bytes && end_begun(j, end_lsn, end_seq))
		snprintf(rep->end_warning, sizeof(rep->end_warning), "the log ends at lsn "
			 "%llu (seq %llu) with a set that was begun but is invalid (%s): "
			 "a set whose commit the crash tore (never acknowledged), or a "
			 "committed last set damaged since, whose entries are lost",
			 (unsigned long long)end_lsn, (unsigned long long)end_seq, why);
	ring_advise(j, MADV_RANDOM);
	if (damaged) {
		/*
		 * Valid sets beyond the stop point must never be taken as new:
		 * the log continues past every sequence number they can hold
		 * (the ring holds at most ring_bytes / 64 entries), once the
		 * tail has been moved past the damage (nvfs_journal_checkpoint).
		 */
		pthread_mutex_lock(&j->lock);
		j->damaged = true;
		uint64_t jump = end_seq + j->ring_bytes / NVFS_JOURNAL_ALIGN + 1;
		if (jump <= rep->skipped_last_seq)
			jump = rep->skipped_last_seq + 1;
		/* Both terms are below NVFS_JOURNAL_LIMIT (J3, T3): no overflow;
		 * append refuses sequence numbers at the limit. */
		j->next_seq = jump;
		pthread_mutex_unlock(&j->lock);
	}
	j->replay_done = true;
	return 0;
}
