/* SPDX-License-Identifier: MIT */
/*
 * journal_corrupt.c -- damage in a journal's pmem: a closed namespace file
 * is corrupted with pwrite at offsets computed from the journal owner's
 * blocks (header page and buckets, found through the allocator), then
 * reopened and replayed.  Covers the last set (a clean end), a middle set
 * (damage: replay stops, reports what it skipped, and the log can be
 * restarted past it), the tail copies, the header page (H1..H4), the
 * owner's records (H3), and a random-mutation loop.
 *
 * There are no out-of-line data pages to corrupt: the journal stores every
 * payload inline, inside its set in the ring.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc_testlib.h"
#include "journal_testlib.h"
#include "nvfs_alloc.h"
#include "nvfs_csum.h"
#include "nvfs_err.h"
#include "nvfs_journal.h"
#include "nvfs_ns.h"
#include "nvfs_test.h"

#define BUCKET NVFS_JOURNAL_BUCKET_BYTES

static const uint8_t juuid[NVFS_UUID_BYTES] = NVFS_JOURNAL_OWNER_UUID;

struct iset {
	uint64_t lsn, first_seq;
	uint32_t bytes, nr;
};

/* A journal image: built once, restored before each corruption. */
struct img {
	char path[4096];
	void *saved;
	size_t len;
	uint64_t hdr_off, bucket[16], ring;
	unsigned nr_buckets, nr_sets;
	struct iset set[64];
	struct jt_rec *model;  /* every entry appended: seq i + 1 at index i */
	size_t n;
	uint64_t tail_lsn, tail_seq, head_lsn;
};

/* ---- file access ------------------------------------------------------- */

static void
file_read(const char *path, uint64_t off, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(pread(fd, buf, len, (off_t)off) == (ssize_t)len);
	close(fd);
}

static void
file_write(const char *path, uint64_t off, const void *buf, size_t len)
{
	int fd = open(path, O_RDWR);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(pwrite(fd, buf, len, (off_t)off) == (ssize_t)len);
	close(fd);
}

/* flip -- invert one bit of the byte at off */
static void
flip(const char *path, uint64_t off, unsigned bit)
{
	uint8_t b;
	file_read(path, off, &b, 1);
	b ^= (uint8_t)(1u << bit);
	file_write(path, off, &b, 1);
}

/* ---- layout ------------------------------------------------------------ */

struct blocks {
	struct img *im;
	unsigned other;
};

static int
collect_block(void *arg, uint64_t off, unsigned order)
{
	struct blocks *b = arg;
	if (order == 0)
		b->im->hdr_off = off;
	else if (order == NVFS_JOURNAL_BUCKET_ORDER && b->im->nr_buckets < 16)
		b->im->bucket[b->im->nr_buckets++] = off;
	else
		b->other++;
	return 0;
}

static int
cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

/* img_layout -- header page and buckets (in ring order) from the records */
static void
img_layout(struct img *im)
{
	struct nvfs_alloc *a = NULL;
	struct blocks b = { im, 0 };

	CU_ASSERT_FATAL(nvfs_alloc_open(im->path, NULL, &a) == 0);
	int owner = nvfs_alloc_owner_find(a, juuid);
	CU_ASSERT_FATAL(owner >= 0);
	im->nr_buckets = 0;
	CU_ASSERT_FATAL(nvfs_alloc_foreach(a, owner, collect_block, &b) == 0);
	CU_ASSERT_FATAL(b.other == 0);
	qsort(im->bucket, im->nr_buckets, sizeof(im->bucket[0]), cmp_u64);
	im->ring = (uint64_t)im->nr_buckets * BUCKET;
	nvfs_alloc_close(&a);
}

/* ring_off -- file offset of lsn */
static uint64_t
ring_off(const struct img *im, uint64_t lsn)
{
	uint64_t pos = lsn % im->ring;
	return im->bucket[pos / BUCKET] + pos % BUCKET;
}

/* entry_off -- file offset of entry k (0-based) of set i, from the model's lengths */
static uint64_t
entry_off(const struct img *im, unsigned i, unsigned k)
{
	uint64_t off = NVFS_JOURNAL_SET_HDR_BYTES;
	for (unsigned e = 0; e < k; e++) {
		uint32_t len = im->model[im->set[i].first_seq - 1 + e].len;
		off += (NVFS_JOURNAL_ENTRY_HDR_BYTES + len + 63) & ~(uint64_t)63;
	}
	return ring_off(im, im->set[i].lsn) + off;
}

/* img_walk -- the sets in the file from lsn 0, as they were committed */
static void
img_walk(struct img *im)
{
	uint64_t lsn = 0, seq = 1;

	for (unsigned i = 0; i < im->nr_sets; i++) {
		struct nvfs_pm_jset h;
		file_read(im->path, ring_off(im, lsn), &h, sizeof(h));
		CU_ASSERT_FATAL(h.lsn == lsn && h.first_seq == seq && h.set_bytes >= 64);
		im->set[i] = (struct iset){ lsn, seq, h.set_bytes, h.nr_entries };
		lsn += h.set_bytes;
		seq += h.nr_entries;
	}
}

/*
 * img_build -- a journal of nr_sets committed sets of per_set entries of
 * 1..max_len bytes, the first ckpt_sets of them checkpointed; closed, laid
 * out and saved
 */
static void
img_build(struct img *im, const char *name, unsigned nr_buckets, unsigned nr_sets,
	  unsigned per_set, unsigned max_len, unsigned ckpt_sets)
{
	struct jt jt;
	struct nvfs_journal_stats st;
	uint64_t rng = nvfs_test_seed() * 7919 + nr_sets;

	memset(im, 0, sizeof(*im));
	jt_setup(&jt, name, nr_buckets);
	snprintf(im->path, sizeof(im->path), "%s", jt.path);
	for (unsigned s = 0; s < nr_sets; s++) {
		for (unsigned e = 0; e < per_set; e++)
			jt_append(&jt, &rng, 1 + (s + e) % 7,
				  1 + (size_t)(nvfs_test_rand(&rng) % max_len));
		CU_ASSERT_FATAL(nvfs_journal_commit(jt.j, 0) == 0);
		if (s + 1 == ckpt_sets)
			CU_ASSERT_FATAL(nvfs_journal_checkpoint(jt.j, jt.next_seq - 1) == 0);
	}
	nvfs_journal_stats(jt.j, &st);
	im->tail_lsn = st.tail_lsn;
	im->tail_seq = st.tail_seq;
	im->head_lsn = st.head_lsn;
	im->n = jt.model.n;
	im->model = malloc(im->n * sizeof(*im->model));
	CU_ASSERT_FATAL(im->model != NULL);
	memcpy(im->model, jt.model.r, im->n * sizeof(*im->model));
	im->nr_sets = nr_sets;
	jt_teardown(&jt);
	img_layout(im);
	img_walk(im);
	CU_ASSERT_FATAL(im->set[nr_sets - 1].first_seq + im->set[nr_sets - 1].nr - 1 == im->n);
	im->saved = nvfs_test_read_file(im->path, &im->len);
	CU_ASSERT_FATAL(im->saved != NULL);
}

/* img_restore_all -- the whole saved file (allocator records included) */
static void
img_restore_all(const struct img *im)
{
	CU_ASSERT_FATAL(nvfs_test_write_file(im->path, im->saved, im->len) == 0);
}

/*
 * img_restore -- the journal's header page and the part of the ring the
 * tests touch (the images' sets all lie in the first 1 MiB of bucket 0; the
 * corruption tests write at most a few KiB after them)
 */
static void
img_restore(const struct img *im)
{
	uint64_t span = im->head_lsn + (1u << 20);

	CU_ASSERT_FATAL(span <= BUCKET);
	file_write(im->path, im->hdr_off, (const char *)im->saved + im->hdr_off,
		   NVFS_PAGE_BYTES);
	file_write(im->path, im->bucket[0], (const char *)im->saved + im->bucket[0], span);
}

static void
img_free(struct img *im)
{
	free(im->saved);
	free(im->model);
	memset(im, 0, sizeof(*im));
}

/* img_open -- allocator + journal + replay into t->replayed (jt_open) */
static int
img_open(const struct img *im, struct jt *t)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->path, sizeof(t->path), "%s", im->path);
	t->buf = malloc(NVFS_JOURNAL_MAX_PAYLOAD + 64);
	CU_ASSERT_FATAL(t->buf != NULL);
	nvfs_err_clear();
	return jt_open(t);
}

/* replayed_range -- the last replay returned exactly the model's seqs from..to */
static bool
replayed_range(const struct jt *t, const struct img *im, uint64_t from, uint64_t to)
{
	size_t want = to >= from ? (size_t)(to - from + 1) : 0;

	if (t->replayed.n != want) {
		printf("\n  replayed %zu entries, expected seqs %llu..%llu", t->replayed.n,
		       (unsigned long long)from, (unsigned long long)to);
		return false;
	}
	for (size_t i = 0; i < want; i++) {
		const struct jt_rec *a = &t->replayed.r[i], *b = &im->model[from - 1 + i];
		if (a->seq != b->seq || a->type != b->type || a->len != b->len ||
		    a->csum != b->csum) {
			printf("\n  replayed entry %zu (seq %llu) differs from the appended one",
			       i, (unsigned long long)a->seq);
			return false;
		}
	}
	return true;
}

/* open_fails -- journal open on the image fails with rc and a message naming what */
static void
open_fails(const struct img *im, int rc, const char *what, const char *what2)
{
	struct jt t;
	int got = img_open(im, &t);
	if (got != rc)
		printf("\n  open returned %d, expected %d: %s", got, rc, nvfs_errmsg());
	CU_ASSERT_EQUAL(got, rc);
	CU_ASSERT_PTR_NULL(t.j);
	CU_ASSERT(jt_has(nvfs_errmsg(), what));
	if (what2)
		CU_ASSERT(jt_has(nvfs_errmsg(), what2));
	jt_teardown(&t);
}

/* commit_reopen_clean -- commit, reopen: exactly the model, no damage reported */
static void
commit_reopen_clean(struct jt *t)
{
	CU_ASSERT_EQUAL(nvfs_journal_commit(t->j, 0), 0);
	jt_reopen(t);
	CU_ASSERT(jt_replay_matches(t));
	CU_ASSERT_FALSE(t->report.damaged);
}

/* ---- (a) the last set ---------------------------------------------------- */

static void
test_journal_corrupt_last_set_is_a_clean_end(void)
{
	struct img im;
	static const struct {
		const char *what;
		int where;          /* 0: set header byte, 1: last entry's payload */
		unsigned off, bit;
		const char *rule;
	} cases[] = {
		{ "magic", 0, 0, 2, "(J1)" },
		{ "csum", 0, 9, 0, "(J4)" },
		{ "first_seq", 0, 24, 1, "(J2)" },
		{ "nr_entries", 0, 36, 0, "(J3)" },
		{ "payload", 1, 0, 5, "(J5)" },
	};

	img_build(&im, "jc_last.pmem", 3, 5, 4, 3000, 0);
	const struct iset *last = &im.set[im.nr_sets - 1];
	for (unsigned c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct jt t;
		img_restore(&im);
		uint64_t off = cases[c].where == 0
			? ring_off(&im, last->lsn) + cases[c].off
			: entry_off(&im, im.nr_sets - 1, last->nr - 1) + NVFS_JOURNAL_ENTRY_HDR_BYTES;
		flip(im.path, off, cases[c].bit);
		CU_ASSERT_FATAL(img_open(&im, &t) == 0);
		CU_ASSERT(replayed_range(&t, &im, 1, last->first_seq - 1));
		CU_ASSERT_FALSE(t.report.damaged);  /* indistinguishable from a torn last set */
		CU_ASSERT_EQUAL(t.report.stop_lsn, last->lsn);
		CU_ASSERT_EQUAL(t.report.stop_seq, last->first_seq);
		if (!jt_has(t.report.reason, cases[c].rule))
			printf(" (last set's %s)", cases[c].what);
		CU_ASSERT(jt_has(t.report.reason, cases[c].rule));
		if (c == 0) {
			/* The log goes on from the end of the prefix, with its sequence numbers. */
			uint64_t rng = 5;
			t.next_seq = last->first_seq;
			for (uint64_t s = 1; s < last->first_seq; s++)
				jt_list_push(&t.model, im.model[s - 1]);
			jt_append(&t, &rng, 9, 77);
			commit_reopen_clean(&t);
		}
		jt_teardown(&t);
	}
	img_free(&im);
}

/*
 * The last set damaged after its commit cannot be told from a torn one (no
 * durable head), but it is never silent: the report's end_warning names
 * where the log ends and why, for every field a flip can hit (magic
 * included: the header still holds the expected lsn and seq).  A log that
 * simply ends in never-written space, or in sets of an older pass, has no
 * warning.
 */
static void
test_journal_corrupt_last_set_is_reported_not_silent(void)
{
	struct img im;
	static const struct {
		int where;          /* 0: set header byte, 1: last entry's header, 2: payload */
		unsigned off;
	} cases[] = { { 0, 0 }, { 0, 7 }, { 0, 9 }, { 0, 16 }, { 0, 24 }, { 0, 33 },
		      { 0, 36 }, { 0, 40 }, { 0, 50 }, { 1, 0 }, { 1, 9 }, { 2, 3 } };

	img_build(&im, "jc_lastwarn.pmem", 3, 5, 4, 3000, 0);
	const struct iset *last = &im.set[im.nr_sets - 1];
	struct jt t;
	CU_ASSERT_FATAL(img_open(&im, &t) == 0);
	CU_ASSERT_EQUAL(t.report.end_warning[0], '\0'); /* a clean end */
	jt_teardown(&t);
	for (unsigned c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		img_restore(&im);
		uint64_t eoff = entry_off(&im, im.nr_sets - 1, last->nr - 1);
		uint64_t off = cases[c].where == 0 ? ring_off(&im, last->lsn) + cases[c].off
			     : cases[c].where == 1 ? eoff + cases[c].off
			     : eoff + NVFS_JOURNAL_ENTRY_HDR_BYTES + cases[c].off;
		flip(im.path, off, 0);
		CU_ASSERT_FATAL(img_open(&im, &t) == 0);
		CU_ASSERT_FALSE(t.report.damaged);
		CU_ASSERT_EQUAL(t.report.stop_lsn, last->lsn);
		char lsn[64];
		snprintf(lsn, sizeof(lsn), "lsn %llu (seq %llu)", (unsigned long long)last->lsn,
			 (unsigned long long)last->first_seq);
		if (!jt_has(t.report.end_warning, lsn))
			printf(" (case %u)", c);
		CU_ASSERT(jt_has(t.report.end_warning, lsn));
		jt_teardown(&t);
	}
	img_free(&im);
}

/* ---- (b) a middle set ----------------------------------------------------- */

enum where { SET_HDR, ENTRY_HDR, ENTRY_PAYLOAD, LAST_PAYLOAD };

struct mcase {
	const char *what;
	unsigned set;
	enum where where;
	unsigned off, bit;
	const char *rule, *rule2;  /* the reason names rule (or rule2) */
};

static const struct mcase middle_cases[] = {
	{ "set magic", 2, SET_HDR, 0, 3, "(J1)", NULL },
	{ "set csum", 2, SET_HDR, 8, 0, "(J4)", NULL },
	{ "set lsn", 2, SET_HDR, 16, 6, "(J2)", NULL },
	{ "set lsn high", 2, SET_HDR, 23, 7, "(J2)", NULL },
	{ "set first_seq", 2, SET_HDR, 24, 0, "(J2)", NULL },
	{ "set set_bytes low", 2, SET_HDR, 32, 0, "(J3)", NULL },
	{ "set set_bytes 64", 2, SET_HDR, 32, 6, "(J3)", "(J4)" },
	{ "set set_bytes high", 2, SET_HDR, 35, 6, "(J3)", NULL },
	{ "set nr_entries +1", 2, SET_HDR, 36, 0, "(J3)", NULL },
	{ "set nr_entries high", 2, SET_HDR, 38, 0, "(J3)", NULL },
	{ "set flags pad", 2, SET_HDR, 40, 0, "(J3)", NULL },
	{ "set flags unknown", 2, SET_HDR, 41, 4, "(J3)", NULL },
	{ "set reserved first", 2, SET_HDR, 44, 0, "(J3)", NULL },
	{ "set reserved last", 2, SET_HDR, 63, 7, "(J3)", NULL },
	{ "entry type", 2, ENTRY_HDR, 0, 1, "(J4)", NULL },
	{ "entry payload_bytes", 2, ENTRY_HDR, 4, 0, "(J4)", "(J3)" },
	{ "entry payload_bytes high", 2, ENTRY_HDR, 7, 7, "(J3)", NULL },
	{ "entry payload_csum", 2, ENTRY_HDR, 8, 0, "(J4)", NULL },
	{ "entry reserved", 2, ENTRY_HDR, 16, 0, "(J4)", NULL },
	{ "entry payload", 2, ENTRY_PAYLOAD, 0, 0, "(J5)", NULL },
	{ "last entry payload", 3, LAST_PAYLOAD, 0, 7, "(J5)", NULL },
	{ "first set magic", 0, SET_HDR, 0, 0, "(J1)", NULL },
	{ "first set payload", 0, ENTRY_PAYLOAD, 0, 1, "(J5)", NULL },
};

static void
test_journal_corrupt_middle_set_reports_damage_and_restarts_past_it(void)
{
	struct img im;
	unsigned n = sizeof(middle_cases) / sizeof(middle_cases[0]);

	img_build(&im, "jc_mid.pmem", 3, 6, 4, 3000, 0);
	for (unsigned c = 0; c < n; c++) {
		const struct mcase *mc = &middle_cases[c];
		const struct iset *bad = &im.set[mc->set], *next = &im.set[mc->set + 1];
		struct jt t;
		uint64_t off;

		switch (mc->where) {
		case SET_HDR:
			off = ring_off(&im, bad->lsn) + mc->off;
			break;
		case ENTRY_HDR:
			off = entry_off(&im, mc->set, 0) + mc->off;
			break;
		case ENTRY_PAYLOAD:
			off = entry_off(&im, mc->set, 0) + NVFS_JOURNAL_ENTRY_HDR_BYTES + mc->off;
			break;
		default:
			off = entry_off(&im, mc->set, bad->nr - 1) + NVFS_JOURNAL_ENTRY_HDR_BYTES +
			      im.model[bad->first_seq + bad->nr - 2].len - 1;
			break;
		}
		img_restore(&im);
		flip(im.path, off, mc->bit);
		int rc = img_open(&im, &t);
		if (rc)
			printf("\n  %s: open %d %s", mc->what, rc, nvfs_errmsg());
		CU_ASSERT_FATAL(rc == 0);
		bool ok = replayed_range(&t, &im, 1, bad->first_seq - 1) &&
			  t.report.damaged && t.report.stop_lsn == bad->lsn &&
			  t.report.stop_seq == bad->first_seq &&
			  t.report.last_seq == bad->first_seq - 1 &&
			  t.report.skipped_from_lsn == next->lsn &&
			  t.report.skipped_first_seq == next->first_seq &&
			  t.report.skipped_last_seq == im.n &&
			  t.report.skipped_sets == im.nr_sets - mc->set - 1 &&
			  (strstr(t.report.reason, mc->rule) ||
			   (mc->rule2 && strstr(t.report.reason, mc->rule2)));
		if (!ok)
			printf("\n  %s: damaged %d stop %llu/%llu skipped %llu..%llu from %llu "
			       "(%llu sets): %s", mc->what, t.report.damaged,
			       (unsigned long long)t.report.stop_lsn,
			       (unsigned long long)t.report.stop_seq,
			       (unsigned long long)t.report.skipped_first_seq,
			       (unsigned long long)t.report.skipped_last_seq,
			       (unsigned long long)t.report.skipped_from_lsn,
			       (unsigned long long)t.report.skipped_sets, t.report.reason);
		CU_ASSERT(ok);

		/* No append until the replayed prefix is checkpointed. */
		CU_ASSERT_EQUAL(nvfs_journal_append(t.j, 1, "x", 1), -EUCLEAN);
		CU_ASSERT_EQUAL(nvfs_journal_checkpoint(t.j, t.report.last_seq), 0);
		struct nvfs_journal_stats st;
		nvfs_journal_stats(t.j, &st);
		CU_ASSERT(st.next_seq > im.n);  /* past every skipped sequence number */
		t.next_seq = st.next_seq;
		t.model.n = 0;
		uint64_t rng = c + 1;
		for (unsigned e = 0; e < 3; e++)
			jt_append(&t, &rng, 4, 10 + 40 * e);
		CU_ASSERT_EQUAL(nvfs_journal_commit(t.j, 0), 0);
		/* Only the new entries, now and at every later open. */
		for (unsigned r = 0; r < 2; r++) {
			jt_reopen(&t);
			CU_ASSERT(jt_replay_matches(&t));
			CU_ASSERT_FALSE(t.report.damaged);
			CU_ASSERT_EQUAL(t.report.first_seq, st.next_seq);
		}
		jt_teardown(&t);
	}
	img_free(&im);
}

/* Damaged, then checkpointed and closed without appending: the skipped sets stay dead. */
static void
test_journal_corrupt_middle_set_checkpoint_then_reopen_without_appends(void)
{
	struct img im;
	struct jt t;

	img_build(&im, "jc_mid2.pmem", 3, 5, 3, 2000, 0);
	flip(im.path, ring_off(&im, im.set[1].lsn) + 8, 4);
	CU_ASSERT_FATAL(img_open(&im, &t) == 0);
	CU_ASSERT(t.report.damaged);
	CU_ASSERT_EQUAL(nvfs_journal_checkpoint(t.j, t.report.last_seq), 0);
	for (unsigned r = 0; r < 2; r++) {
		jt_reopen(&t);
		CU_ASSERT_EQUAL(t.report.entries, 0);
		CU_ASSERT_FALSE(t.report.damaged);
	}
	uint64_t rng = 3;
	struct nvfs_journal_stats st;
	nvfs_journal_stats(t.j, &st);
	CU_ASSERT(st.next_seq > im.n);
	t.next_seq = st.next_seq;
	t.model.n = 0;
	jt_append(&t, &rng, 2, 500);
	CU_ASSERT_EQUAL(nvfs_journal_commit(t.j, 0), 0);
	jt_reopen(&t);
	CU_ASSERT(jt_replay_matches(&t));
	jt_teardown(&t);
	img_free(&im);
}

/* Damage in the first set after a checkpointed prefix: nothing replayed, checkpoint(0). */
static void
test_journal_corrupt_first_set_after_tail_checkpoint_zero_restarts(void)
{
	struct img im;
	struct jt t;
	struct nvfs_journal_stats st;
	uint64_t rng = 17;

	img_build(&im, "jc_first.pmem", 2, 5, 3, 1500, 2); /* tail at set 2 */
	CU_ASSERT_EQUAL(im.tail_seq, im.set[2].first_seq);
	flip(im.path, ring_off(&im, im.set[2].lsn) + 16 + 3, 0); /* its lsn: J2 */
	CU_ASSERT_FATAL(img_open(&im, &t) == 0);
	CU_ASSERT_EQUAL(t.report.entries, 0);
	CU_ASSERT_EQUAL(t.report.last_seq, 0);
	CU_ASSERT(t.report.damaged);
	CU_ASSERT_EQUAL(t.report.stop_seq, im.tail_seq);
	CU_ASSERT_EQUAL(t.report.skipped_first_seq, im.set[3].first_seq);
	CU_ASSERT_EQUAL(t.report.skipped_last_seq, im.n);
	CU_ASSERT(jt_has(t.report.reason, "(J2)"));
	CU_ASSERT_EQUAL(nvfs_journal_append(t.j, 1, "y", 1), -EUCLEAN);
	CU_ASSERT_EQUAL(nvfs_journal_checkpoint(t.j, t.report.last_seq), 0);
	nvfs_journal_stats(t.j, &st);
	CU_ASSERT(st.next_seq > im.n);
	t.next_seq = st.next_seq;
	t.model.n = 0;
	jt_append(&t, &rng, 6, 3000);
	jt_append(&t, &rng, 6, 0);
	commit_reopen_clean(&t);
	jt_teardown(&t);
	img_free(&im);
}

/* ---- (c) the tail copies ------------------------------------------------- */

static void
test_journal_corrupt_tail_copies(void)
{
	struct img im;
	struct jt t;

	/* 5 sets, the first 2 checkpointed: copy B (gen 2) is current, A (gen 1) older. */
	img_build(&im, "jc_tail.pmem", 2, 5, 3, 2000, 2);
	CU_ASSERT_EQUAL(im.tail_lsn, im.set[2].lsn);
	CU_ASSERT_EQUAL(im.tail_seq, im.set[2].first_seq);
	uint64_t a = im.hdr_off + NVFS_JOURNAL_TAIL_OFF0, b = im.hdr_off + NVFS_JOURNAL_TAIL_OFF1;

	/* Intact: from the current tail. */
	CU_ASSERT_FATAL(img_open(&im, &t) == 0);
	CU_ASSERT(replayed_range(&t, &im, im.tail_seq, im.n));
	jt_teardown(&t);

	/* The older copy corrupted: nothing changes. */
	static const unsigned fields[] = { 0, 8, 16, 24, 32, 40, 63 };
	for (unsigned f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
		img_restore(&im);
		flip(im.path, a + fields[f], 1);
		CU_ASSERT_FATAL(img_open(&im, &t) == 0);
		CU_ASSERT(replayed_range(&t, &im, im.tail_seq, im.n));
		CU_ASSERT_FALSE(t.report.damaged);
		jt_teardown(&t);
	}
	/* The current copy corrupted: the older one is used, replay starts earlier. */
	for (unsigned f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
		img_restore(&im);
		flip(im.path, b + fields[f], 1);
		CU_ASSERT_FATAL(img_open(&im, &t) == 0);
		CU_ASSERT(replayed_range(&t, &im, 1, im.n));  /* a superset from the older tail */
		CU_ASSERT_FALSE(t.report.damaged);
		jt_teardown(&t);
	}
	/* Both: refused, naming them. */
	img_restore(&im);
	flip(im.path, a + 0, 0);
	flip(im.path, b + 30, 2);
	open_fails(&im, -EUCLEAN, "tail copies", "(T1)");
	CU_ASSERT(jt_has(nvfs_errmsg(), "(T2)"));
	img_free(&im);

	/* A fresh journal has only copy A: corrupting it leaves none. */
	img_build(&im, "jc_tail1.pmem", 2, 2, 2, 100, 0);
	flip(im.path, im.hdr_off + NVFS_JOURNAL_TAIL_OFF0 + 24, 6);
	open_fails(&im, -EUCLEAN, "tail copies", "(T2)");
	img_free(&im);
}

/*
 * wrap_image -- a 2-bucket journal (8 MiB ring, room for 8 sets of exactly
 * 1 MiB): first sets committed and checkpointed (copy B current, copy A
 * still at lsn 0 / seq 1), then second sets committed and NOT checkpointed,
 * the ring wrapping over where copy A points; closed.  Returns the path.
 */
static const char *
wrap_image(struct jt *jt, const char *name, unsigned first, unsigned second)
{
	uint64_t rng = nvfs_test_seed() + 4242;
	const size_t len = (1u << 20) - 96;  /* a set of exactly 1 MiB */

	jt_setup(jt, name, 2);
	for (unsigned i = 0; i < first; i++) {
		jt_append(jt, &rng, 1, len);
		CU_ASSERT_FATAL(nvfs_journal_commit(jt->j, 0) == 0);
	}
	CU_ASSERT_FATAL(nvfs_journal_checkpoint(jt->j, first) == 0);
	jt_forget_upto(jt, first);
	for (unsigned i = 0; i < second; i++) {
		jt_append(jt, &rng, 2, len);
		CU_ASSERT_FATAL(nvfs_journal_commit(jt->j, 0) == 0);
	}
	struct nvfs_journal_stats st;
	nvfs_journal_stats(jt->j, &st);
	CU_ASSERT_EQUAL(st.tail_lsn, (uint64_t)first << 20);
	CU_ASSERT_EQUAL(st.head_lsn, (uint64_t)(first + second) << 20);
	CU_ASSERT_EQUAL(nvfs_journal_close(&jt->j), 0);
	nvfs_alloc_close(&jt->a);
	/* Intact: the second sets. */
	CU_ASSERT_FATAL(jt_open(jt) == 0);
	CU_ASSERT(jt_replay_matches(jt));
	CU_ASSERT_EQUAL(nvfs_journal_close(&jt->j), 0);
	nvfs_alloc_close(&jt->a);
	return jt->path;
}

/*
 * lose_current_tail -- corrupt copy B of the closed image at path and
 * reopen; the acknowledged entries first+1 .. first+second must be replayed,
 * or named as skipped (report.damaged), or open must refuse the journal.
 */
static void
lose_current_tail(struct jt *jt, unsigned first, unsigned second)
{
	struct img im;
	uint64_t lo = first + 1, hi = first + second;

	memset(&im, 0, sizeof(im));
	snprintf(im.path, sizeof(im.path), "%s", jt->path);
	img_layout(&im);
	flip(im.path, im.hdr_off + NVFS_JOURNAL_TAIL_OFF1 + 24, 3);
	int rc = jt_open(jt);
	if (rc == 0) {
		const struct nvfs_journal_report *r = &jt->report;
		bool all_replayed = r->entries && r->first_seq <= lo && r->last_seq >= hi;
		bool all_named = r->damaged && r->skipped_first_seq <= lo &&
				 r->skipped_last_seq >= hi;
		printf("\n  current tail copy lost after %u+%u MiB: replayed %llu entries "
		       "(%llu..%llu), damaged %d, skipped %llu..%llu: %s", first, second,
		       (unsigned long long)r->entries, (unsigned long long)r->first_seq,
		       (unsigned long long)r->last_seq, r->damaged,
		       (unsigned long long)r->skipped_first_seq,
		       (unsigned long long)r->skipped_last_seq, r->reason);
		CU_ASSERT(all_replayed || all_named);
		if (!all_replayed && !all_named) {
			struct nvfs_journal_stats st;
			nvfs_journal_stats(jt->j, &st);
			printf("\n  the next append would get seq %llu (entries up to %llu "
			       "were acknowledged)", (unsigned long long)st.next_seq,
			       (unsigned long long)hi);
		}
	} else {
		CU_ASSERT_EQUAL(rc, -EUCLEAN);
	}
	jt->model.n = 0;
	jt_teardown(jt);
}

/*
 * The older tail copy points into space the ring has reused since.  With
 * the current copy lost, open falls back to it (allowed), but it cannot
 * replay from there: the set at the older tail is from the newer pass (J2).
 * The acknowledged entries after the current tail must then at least be
 * named as skipped.  Here they are: find_damage() finds the old, already
 * checkpointed sets still lying after the older tail and walks on into the
 * new ones, so the report says damaged, skipped 2..9 (2..6 were applied
 * long ago; 7..9 are really lost to the caller, who then checkpoints past
 * them).
 */
static void
test_journal_corrupt_current_tail_after_partial_wrap_names_the_entries(void)
{
	struct jt jt;

	wrap_image(&jt, "jc_tailwrap.pmem", 6, 3);  /* copy B: lsn 6 MiB, seq 7; seq 9 wrapped */
	lose_current_tail(&jt, 6, 3);
}

/*
 * The same when the checkpoint emptied a full ring and the ring was then
 * filled again exactly: copy A (lsn 0, seq 1) points at a position holding
 * a set of lsn 8 MiB, and no set of the older pass is left for
 * find_damage() to find.
 *
 * This used to lose the 8 acknowledged, never checkpointed entries 9..16
 * silently (0 entries, damaged false, sequence numbers restarting at 1);
 * find_damage() now also counts sets of a later pass over the ring and
 * names them.
 */
static void
test_journal_corrupt_current_tail_after_full_wrap_loses_nothing_silently(void)
{
	struct jt jt;

	wrap_image(&jt, "jc_tailfull.pmem", 8, 8);  /* copy B: lsn 8 MiB, seq 9; ring full */
	lose_current_tail(&jt, 8, 8);
}

/* ---- (d) the header page -------------------------------------------------- */

/* rechecksum -- recompute the header checksum in the file (so a later rule is reached) */
static void
rechecksum(const struct img *im)
{
	struct nvfs_pm_sb sb;
	struct nvfs_pm_journal_hdr h;

	file_read(im->path, NVFS_SB_OFF, &sb, sizeof(sb));
	file_read(im->path, im->hdr_off, &h, sizeof(h));
	h.csum = nvfs_csum((const uint8_t *)&h + 16, sizeof(h) - 16, nvfs_pm_seed(sb.ns_uuid));
	file_write(im->path, im->hdr_off, &h, sizeof(h));
}

static void
test_journal_corrupt_header_page_refused(void)
{
	struct img im;
	static const struct {
		const char *what;
		unsigned off, bit;
		bool rechecksum;
		int rc;
		const char *rule, *more;
	} cases[] = {
		{ "magic", 0, 0, false, -EUCLEAN, "(H1)", "magic" },
		{ "magic high", 7, 7, false, -EUCLEAN, "(H1)", "magic" },
		{ "csum", 8, 3, false, -EBADMSG, "(H2)", "checksum" },
		{ "journal_id", 16, 0, false, -EBADMSG, "(H2)", NULL },
		{ "ring_bytes", 24, 0, false, -EBADMSG, "(H2)", NULL },
		{ "bucket_order", 32, 0, false, -EBADMSG, "(H2)", NULL },
		{ "version", 36, 1, false, -EBADMSG, "(H2)", NULL },
		{ "reserved", 50, 0, false, -EBADMSG, "(H2)", NULL },
		/* with a matching checksum, the later rules */
		{ "ring_bytes, re-checksummed", 26, 6, true, -EUCLEAN, "(H3)", "ring_bytes" },
		{ "ring_bytes low, re-checksummed", 24, 0, true, -EUCLEAN, "(H3)", "ring_bytes" },
		{ "bucket_order, re-checksummed", 32, 0, true, -EUCLEAN, "(H3)", "bucket_order" },
		{ "version, re-checksummed", 36, 1, true, -EUCLEAN, "(H4)", "version" },
		{ "reserved, re-checksummed", 63, 7, true, -EUCLEAN, "(H4)", "reserved" },
		/* a new journal_id changes the seed of the tail copies: both invalid */
		{ "journal_id, re-checksummed", 17, 2, true, -EUCLEAN, "tail copies", "(T2)" },
	};

	img_build(&im, "jc_hdr.pmem", 2, 3, 3, 500, 0);
	for (unsigned c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		img_restore(&im);
		flip(im.path, im.hdr_off + cases[c].off, cases[c].bit);
		if (cases[c].rechecksum)
			rechecksum(&im);
		open_fails(&im, cases[c].rc, cases[c].rule, cases[c].more);
	}
	/* The bytes between the header and the tail copies are not part of the format. */
	img_restore(&im);
	flip(im.path, im.hdr_off + 512, 0);
	flip(im.path, im.hdr_off + 4000, 0);
	struct jt t;
	CU_ASSERT_FATAL(img_open(&im, &t) == 0);
	CU_ASSERT(replayed_range(&t, &im, 1, im.n));
	jt_teardown(&t);
	img_free(&im);
}

/* ---- (e) the journal owner's records ----------------------------------- */

/*
 * records_open -- open the image's allocator (on the whole saved file
 * again if restore) to edit the journal owner's records: its rank
 */
static int
records_open(const struct img *im, bool restore, struct nvfs_alloc **a)
{
	if (restore)
		img_restore_all(im);
	CU_ASSERT_FATAL(nvfs_alloc_open(im->path, NULL, a) == 0);
	return nvfs_alloc_owner_find(*a, juuid);
}

/* records_refused -- close the edited allocator: the journal open fails (H3) naming more */
static void
records_refused(const struct img *im, struct nvfs_alloc **a, const char *more)
{
	nvfs_alloc_close(a);
	open_fails(im, -EUCLEAN, "(H3)", more);
}

static void
test_journal_corrupt_owner_records_refused(void)
{
	struct img im;
	struct nvfs_alloc *a = NULL;
	uint64_t off;
	int owner;

	img_build(&im, "jc_recs.pmem", 3, 3, 3, 500, 0);

	/* A bucket record lost: the ring no longer adds up. */
	owner = records_open(&im, false, &a);
	CU_ASSERT_FATAL(owner >= 0);
	CU_ASSERT_FATAL(nvfs_alloc_free(a, owner, im.bucket[1]) == 0);
	records_refused(&im, &a, "ring_bytes");

	/* Two lost: fewer than the minimum. */
	owner = records_open(&im, false, &a);
	CU_ASSERT_FATAL(nvfs_alloc_free(a, owner, im.bucket[0]) == 0);
	records_refused(&im, &a, "buckets");

	/* A stray block of another order. */
	owner = records_open(&im, true, &a);
	CU_ASSERT_FATAL(nvfs_alloc_pages(a, owner, 3, &off) == 0);
	records_refused(&im, &a, "order 3");

	/* A second header page. */
	owner = records_open(&im, true, &a);
	CU_ASSERT_FATAL(nvfs_alloc_pages(a, owner, 0, &off) == 0);
	records_refused(&im, &a, "2 header pages");

	/* No header page (an interrupted create). */
	owner = records_open(&im, true, &a);
	CU_ASSERT_FATAL(nvfs_alloc_free(a, owner, im.hdr_off) == 0);
	records_refused(&im, &a, "0 header pages");

	/* The owner without any block. */
	owner = records_open(&im, true, &a);
	CU_ASSERT_FATAL(nvfs_alloc_free(a, owner, im.hdr_off) == 0);
	for (unsigned i = 0; i < im.nr_buckets; i++)
		CU_ASSERT_FATAL(nvfs_alloc_free(a, owner, im.bucket[i]) == 0);
	nvfs_alloc_close(&a);
	{
		/* Either the incomplete journal (H3) or, if the allocator drops an
		 * owner without blocks, no journal at all. */
		struct jt t;
		int got = img_open(&im, &t);
		CU_ASSERT(got == -EUCLEAN || got == -ENOENT);
		CU_ASSERT(got == -ENOENT ? jt_has(nvfs_errmsg(), "no journal")
					 : jt_has(nvfs_errmsg(), "(H3)"));
		jt_teardown(&t);
	}
	img_free(&im);

	/* No journal at all. */
	const char *path = nvfs_test_path("jc_none.pmem");
	struct nvfs_journal *j = NULL;
	test_ns_make(path, NVFS_PAGES_OFF + (8u << 20));
	CU_ASSERT_FATAL(nvfs_alloc_open(path, NULL, &a) == 0);
	CU_ASSERT_EQUAL(nvfs_journal_open(a, NULL, 0, &j), -ENOENT);
	CU_ASSERT_PTR_NULL(j);
	CU_ASSERT(jt_has(nvfs_errmsg(), "no journal"));
	nvfs_alloc_close(&a);
}

/* ---- (f) random mutations ------------------------------------------------ */

struct fuzz_replay {
	const struct img *im;
	uint64_t first, prev, n;
	unsigned bad;
};

/* fuzz_entry -- a replayed entry must be the appended one of its seq */
static int
fuzz_entry(void *arg, const struct nvfs_journal_entry *e)
{
	struct fuzz_replay *f = arg;
	const struct jt_rec *m = e->seq >= 1 && e->seq <= f->im->n ? &f->im->model[e->seq - 1]
								     : NULL;
	if (!f->n)
		f->first = e->seq;
	else if (e->seq != f->prev + 1)
		f->bad++;
	f->prev = e->seq;
	f->n++;
	if (!m || m->type != e->type || m->len != e->payload_bytes ||
	    m->csum != nvfs_csum(e->payload, e->payload_bytes, 0)) {
		if (f->bad++ < 3)
			printf("\n  replayed seq %llu type %u len %u differs from the appended entry",
			       (unsigned long long)e->seq, e->type, e->payload_bytes);
	}
	return 0;
}

struct region {
	uint64_t off, len;
};

static void
test_journal_corrupt_random_mutations_never_replay_wrong_entries(void)
{
	struct img im;
	struct nvfs_alloc *a = NULL;
	uint64_t rng = nvfs_test_seed() * 6151;
	unsigned iters = 2000 / nvfs_test_scale_div();
	unsigned refused = 0, clean = 0, damaged = 0, from_older = 0, full = 0;

	/* 12 small sets, 4 checkpointed: both tail copies valid. */
	img_build(&im, "jc_fuzz.pmem", 2, 12, 3, 400, 4);
	struct region regions[4 + 64];
	unsigned nr = 0;
	regions[nr++] = (struct region){ im.hdr_off, 64 };
	regions[nr++] = (struct region){ im.hdr_off + NVFS_JOURNAL_TAIL_OFF0, 64 };
	regions[nr++] = (struct region){ im.hdr_off + NVFS_JOURNAL_TAIL_OFF1, 64 };
	regions[nr++] = (struct region){ ring_off(&im, 0), im.head_lsn }; /* all in bucket 0 */
	CU_ASSERT_FATAL(im.head_lsn < BUCKET);
	for (unsigned s = 0; s < im.nr_sets; s++)  /* set headers and first entry headers */
		regions[nr++] = (struct region){ ring_off(&im, im.set[s].lsn),
						 NVFS_JOURNAL_SET_HDR_BYTES +
						 NVFS_JOURNAL_ENTRY_HDR_BYTES };

	CU_ASSERT_FATAL(nvfs_alloc_open(im.path, NULL, &a) == 0);
	int fd = open(im.path, O_RDWR);
	CU_ASSERT_FATAL(fd >= 0);
	for (unsigned it = 0; it < iters; it++) {
		uint64_t offs[8];
		uint8_t old[8];
		unsigned k = 1 + (unsigned)(nvfs_test_rand(&rng) % 8);
		for (unsigned i = 0; i < k; i++) {
			const struct region *r = &regions[nvfs_test_rand(&rng) % nr];
			offs[i] = r->off + nvfs_test_rand(&rng) % r->len;
			CU_ASSERT_FATAL(pread(fd, &old[i], 1, (off_t)offs[i]) == 1);
			uint64_t x = nvfs_test_rand(&rng);
			uint8_t v = x & 0x100 ? (uint8_t)(old[i] ^ (1u << (x % 8))) : (uint8_t)(x >> 16);
			CU_ASSERT_FATAL(pwrite(fd, &v, 1, (off_t)offs[i]) == 1);
		}
		struct nvfs_journal *j = NULL;
		nvfs_err_clear();
		int rc = nvfs_journal_open(a, NULL, 0, &j);
		if (rc) {
			refused++;
			CU_ASSERT(rc < 0);
			CU_ASSERT(nvfs_errmsg()[0] != '\0');
			CU_ASSERT_PTR_NULL(j);
		} else {
			struct fuzz_replay f = { &im, 0, 0, 0, 0 };
			struct nvfs_journal_report rep;
			CU_ASSERT_EQUAL(nvfs_journal_replay(j, fuzz_entry, &f, &rep), 0);
			CU_ASSERT_EQUAL(f.bad, 0);
			CU_ASSERT_EQUAL(rep.entries, f.n);
			/* from the current tail, or from the older one if the current is lost */
			CU_ASSERT(f.n == 0 || f.first == im.tail_seq || f.first == 1);
			if (rep.damaged)
				damaged++;
			else
				clean++;
			from_older += f.n && f.first == 1;
			full += f.n && f.prev == im.n;
			CU_ASSERT_EQUAL(nvfs_journal_close(&j), 0);
		}
		for (unsigned i = k; i-- > 0;)
			CU_ASSERT_FATAL(pwrite(fd, &old[i], 1, (off_t)offs[i]) == 1);
	}
	close(fd);
	nvfs_alloc_close(&a);
	printf("\n  %u mutated images: %u refused with a message, %u replayed a clean "
	       "prefix, %u reported damage (%u from the older tail, %u complete)", iters,
	       refused, clean, damaged, from_older, full);
	CU_ASSERT(refused > 0 && clean > 0 && damaged > 0);
	img_free(&im);
}

/*
 * test_journal_checkpoint_refuses_a_set_changed_under_it -- the tail never
 * moves on the strength of a set header that changed on pmem after it was
 * committed (a flipped set_bytes used to move the durable tail past
 * committed entries).
 */
static void
test_journal_checkpoint_refuses_a_set_changed_under_it(void)
{
	struct jt t;
	uint64_t rng = nvfs_test_seed() + 77;
	struct nvfs_journal_stats st;

	jt_setup(&t, "jc_newtail.pmem", 2);
	for (unsigned i = 0; i < 3; i++) {
		jt_append(&t, &rng, 1, 100);
		CU_ASSERT_FATAL(nvfs_journal_commit(t.j, 0) == 0);
	}
	struct img im;
	memset(&im, 0, sizeof(im));
	snprintf(im.path, sizeof(im.path), "%s", t.path);
	nvfs_journal_stats(t.j, &st);
	/* set 0 at lsn 0 (the first bucket), set_bytes at offset 32 */
	struct nvfs_pm_jset *h = nvfs_alloc_ptr(t.a, 0);
	(void)h;
	int owner = nvfs_alloc_owner_find(t.a, juuid);
	uint64_t first_bucket = UINT64_MAX;
	struct blocks b = { &im, 0 };
	CU_ASSERT_FATAL(nvfs_alloc_foreach(t.a, owner, collect_block, &b) == 0);
	for (unsigned i = 0; i < im.nr_buckets; i++)
		if (im.bucket[i] < first_bucket)
			first_bucket = im.bucket[i];
	uint32_t *set_bytes = (uint32_t *)((char *)nvfs_alloc_ptr(t.a, first_bucket) + 32);
	*set_bytes ^= 1u << 20;
	CU_ASSERT_EQUAL(nvfs_journal_checkpoint(t.j, 1), -EUCLEAN);
	CU_ASSERT_PTR_NOT_NULL(strstr(nvfs_errmsg(), "changed on pmem"));
	struct nvfs_journal_stats after;
	nvfs_journal_stats(t.j, &after);
	CU_ASSERT_EQUAL(after.tail_lsn, st.tail_lsn); /* not moved */
	*set_bytes ^= 1u << 20;
	CU_ASSERT_EQUAL(nvfs_journal_checkpoint(t.j, 1), 0);
	jt_forget_upto(&t, 1);
	jt_reopen(&t);
	CU_ASSERT(jt_replay_matches(&t)); /* entries 2 and 3 are still there */
	jt_teardown(&t);
}

/* test_journal_contract_refusals -- calls outside the contract are refused */
static void
test_journal_contract_refusals(void)
{
	struct jt t;
	struct nvfs_journal *j;
	uint64_t rng = nvfs_test_seed() + 78;

	jt_setup(&t, "jc_contract.pmem", 2);
	CU_ASSERT_EQUAL(nvfs_journal_commit(t.j, 5), -EINVAL); /* never appended */
	jt_append(&t, &rng, 1, 10);
	CU_ASSERT_EQUAL(nvfs_journal_commit(t.j, 1), 0);
	CU_ASSERT_EQUAL(nvfs_journal_close(&t.j), 0);
	CU_ASSERT_FATAL(nvfs_journal_open(t.a, NULL, 0, &j) == 0);
	CU_ASSERT_EQUAL(nvfs_journal_checkpoint(j, 1), -EINVAL); /* before replay */
	CU_ASSERT_EQUAL(nvfs_journal_append(j, 1, "x", 1), -EINVAL);
	CU_ASSERT_EQUAL(nvfs_journal_replay(j, NULL, NULL, NULL), 0);
	CU_ASSERT_EQUAL(nvfs_journal_checkpoint(j, 1), 0);
	CU_ASSERT(nvfs_journal_append(j, 1, "x", 1) == 2);
	CU_ASSERT_EQUAL(nvfs_journal_replay(j, NULL, NULL, NULL), -EINVAL); /* after */
	CU_ASSERT_EQUAL(nvfs_journal_close(&j), 0);
	t.model.n = 0;
	jt_teardown(&t);
}

/*
 * test_journal_tail_copy_out_of_range_refused -- a tail copy with a valid
 * checksum but an lsn near 2^64 (T3): arithmetic on it would wrap and
 * entries would be lost silently, so it is invalid.
 */
static void
test_journal_tail_copy_out_of_range_refused(void)
{
	struct img im;

	img_build(&im, "jc_range.pmem", 2, 2, 2, 100, 0);
	struct nvfs_pm_journal_hdr h;
	struct nvfs_pm_sb sb;
	file_read(im.path, NVFS_SB_OFF, &sb, sizeof(sb));
	file_read(im.path, im.hdr_off, &h, sizeof(h));
	uint64_t seed = nvfs_csum(&h.journal_id, 8, nvfs_ns_seed(&sb));
	struct nvfs_pm_journal_tail t;
	memset(&t, 0, sizeof(t));
	t.magic = NVFS_JOURNAL_TAIL_MAGIC;
	t.gen = 7;
	t.tail_lsn = UINT64_MAX - 63;
	t.tail_seq = 1;
	t.csum = nvfs_csum((uint8_t *)&t + 16, sizeof(t) - 16, seed);
	file_write(im.path, im.hdr_off + NVFS_JOURNAL_TAIL_OFF0, &t, sizeof(t));
	open_fails(&im, -EUCLEAN, "tail copies", "(T3)");
	img_free(&im);
}

NVFS_SUITE(journal_corrupt, "journal/corrupt", NULL, NULL,
	   NVFS_TEST(test_journal_checkpoint_refuses_a_set_changed_under_it),
	   NVFS_TEST(test_journal_contract_refusals),
	   NVFS_TEST(test_journal_tail_copy_out_of_range_refused),
	   NVFS_TEST(test_journal_corrupt_last_set_is_a_clean_end),
	   NVFS_TEST(test_journal_corrupt_last_set_is_reported_not_silent),
	   NVFS_TEST(test_journal_corrupt_middle_set_reports_damage_and_restarts_past_it),
	   NVFS_TEST(test_journal_corrupt_middle_set_checkpoint_then_reopen_without_appends),
	   NVFS_TEST(test_journal_corrupt_first_set_after_tail_checkpoint_zero_restarts),
	   NVFS_TEST(test_journal_corrupt_tail_copies),
	   NVFS_TEST(test_journal_corrupt_current_tail_after_partial_wrap_names_the_entries),
	   NVFS_TEST(test_journal_corrupt_current_tail_after_full_wrap_loses_nothing_silently),
	   NVFS_TEST(test_journal_corrupt_header_page_refused),
	   NVFS_TEST(test_journal_corrupt_owner_records_refused),
	   NVFS_TEST(test_journal_corrupt_random_mutations_never_replay_wrong_entries))
