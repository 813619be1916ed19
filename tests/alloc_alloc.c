/* SPDX-License-Identifier: MIT */
/*
 * alloc_alloc.c -- the persistent allocator through its public API: owners,
 * alloc/free, exhaustion, reopen, exclusive use, and every corruption the
 * open-time validation must refuse (or, in CHECK/REPAIR mode, report and
 * fix), ending with a random-mutation loop over a valid image.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc_testlib.h"
#include "nvfs_alloc.h"
#include "nvfs_csum.h"
#include "nvfs_err.h"
#include "nvfs_ns.h"
#include "nvfs_test.h"

#define NS_BYTES (NVFS_PAGES_OFF + (8u << 20)) /* 2048 pages */

static const uint8_t uuid_j[NVFS_UUID_BYTES] = { 0x10, 0x20, 0x30 };
static const uint8_t uuid_d[NVFS_UUID_BYTES] = { 0x11, 0x21, 0x31 };
static const uint8_t uuid_x[NVFS_UUID_BYTES] = { 0x12, 0x22, 0x32 };

/* fresh -- a formatted namespace at a per-test path, opened */
static struct nvfs_alloc *
fresh(const char *name)
{
	struct nvfs_alloc *a = NULL;

	test_ns_make(nvfs_test_path(name), NS_BYTES);
	CU_ASSERT_FATAL(nvfs_alloc_open(nvfs_test_path(name), NULL, &a) == 0);
	return a;
}

/* reopen -- close and open again, strictly */
static struct nvfs_alloc *
reopen(struct nvfs_alloc **a, const char *name)
{
	nvfs_alloc_close(a);
	CU_ASSERT_FATAL(nvfs_alloc_open(nvfs_test_path(name), NULL, a) == 0);
	return *a;
}

/* poke64 -- overwrite the u64 at off of a closed namespace file */
static void
poke64(const char *name, uint64_t off, uint64_t v)
{
	int fd = open(nvfs_test_path(name), O_RDWR);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(pwrite(fd, &v, 8, (off_t)off) == 8);
	close(fd);
}

/* peek64 -- the u64 at off of a closed namespace file */
static uint64_t
peek64(const char *name, uint64_t off)
{
	uint64_t v = 0;
	int fd = open(nvfs_test_path(name), O_RDONLY);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(pread(fd, &v, 8, (off_t)off) == 8);
	close(fd);
	return v;
}

/* open_fails -- strict open fails with rc and a message containing what */
static void
open_fails(const char *name, int rc, const char *what)
{
	struct nvfs_alloc *a = NULL;
	int got = nvfs_alloc_open(nvfs_test_path(name), NULL, &a);

	CU_ASSERT_EQUAL(got, rc);
	CU_ASSERT_PTR_NULL(a);
	if (!strstr(nvfs_errmsg(), what))
		printf("\n  message '%s' lacks '%s'", nvfs_errmsg(), what);
	CU_ASSERT_PTR_NOT_NULL(strstr(nvfs_errmsg(), what));
	if (a)
		nvfs_alloc_close(&a);
}

/* first_recs_off -- the first record page of the owner in slot */
static uint64_t
first_recs_off(const char *name, unsigned slot)
{
	return peek64(name, nvfs_ns_owner_head_off(slot) + 64);
}

static void
test_alloc_open_fresh_namespace_is_empty(void)
{
	struct nvfs_alloc *a = fresh("empty.pmem");
	struct nvfs_alloc_stats st;

	nvfs_alloc_stats(a, &st);
	CU_ASSERT_EQUAL(st.pages_total, (NS_BYTES - NVFS_PAGES_OFF) / NVFS_PAGE_BYTES);
	CU_ASSERT_EQUAL(st.pages_free, st.pages_total);
	CU_ASSERT_EQUAL(st.owners, 0);
	CU_ASSERT_EQUAL(st.records, 0);
	CU_ASSERT_EQUAL(nvfs_alloc_owner_next(a, -1), -ENOENT);
	CU_ASSERT_FALSE(nvfs_alloc_readonly(a));
	CU_ASSERT(nvfs_alloc_check(a) == 0);
	nvfs_alloc_close(&a);
	CU_ASSERT_PTR_NULL(a);
}

static void
test_alloc_owner_create_find_get_info(void)
{
	struct nvfs_alloc *a = fresh("owners.pmem");
	static const uint8_t zero[NVFS_UUID_BYTES];
	struct nvfs_alloc_owner_info info;

	int j = nvfs_alloc_owner_create(a, uuid_j, "journal");
	CU_ASSERT(j >= 0);
	CU_ASSERT_EQUAL(nvfs_alloc_owner_find(a, uuid_j), j);
	CU_ASSERT_EQUAL(nvfs_alloc_owner_find(a, uuid_d), -ENOENT);
	CU_ASSERT_EQUAL(nvfs_alloc_owner_create(a, uuid_j, "again"), -EEXIST);
	CU_ASSERT_EQUAL(nvfs_alloc_owner_get(a, uuid_j, "ignored"), j);
	int d = nvfs_alloc_owner_get(a, uuid_d, NULL);
	CU_ASSERT(d >= 0 && d != j);
	CU_ASSERT_EQUAL(nvfs_alloc_owner_create(a, zero, "zero"), -EINVAL);
	CU_ASSERT_EQUAL(nvfs_alloc_owner_create(a, uuid_x,
						"a label that is far too long to fit"), -EINVAL);
	CU_ASSERT_EQUAL(nvfs_alloc_owner_info(a, j, &info), 0);
	CU_ASSERT_STRING_EQUAL(info.label, "journal");
	CU_ASSERT(memcmp(info.uuid, uuid_j, NVFS_UUID_BYTES) == 0);
	CU_ASSERT_EQUAL(nvfs_alloc_owner_info(a, 62, &info), -ENOENT);
	CU_ASSERT_EQUAL(nvfs_alloc_owner_info(a, -1, &info), -ENOENT);

	/* Fill every slot: the 64th owner finds none. */
	for (unsigned i = 2; i < NVFS_OWNER_SLOTS; i++) {
		uint8_t u[NVFS_UUID_BYTES] = { 0x77, (uint8_t)i };
		CU_ASSERT(nvfs_alloc_owner_create(a, u, NULL) >= 0);
	}
	CU_ASSERT_EQUAL(nvfs_alloc_owner_create(a, uuid_x, "one too many"), -ENOSPC);
	a = reopen(&a, "owners.pmem");
	CU_ASSERT_EQUAL(nvfs_alloc_owner_find(a, uuid_j), j);
	CU_ASSERT_EQUAL(nvfs_alloc_owner_info(a, d, &info), 0);
	CU_ASSERT_STRING_EQUAL(info.label, "");
	nvfs_alloc_close(&a);
}

static void
test_alloc_pages_free_argument_errors(void)
{
	struct nvfs_alloc *a = fresh("args.pmem");
	int j = nvfs_alloc_owner_create(a, uuid_j, "j");
	int d = nvfs_alloc_owner_create(a, uuid_d, "d");
	uint64_t off;

	CU_ASSERT_EQUAL(nvfs_alloc_pages(a, j, NVFS_MAX_ORDER, &off), -EINVAL);
	CU_ASSERT_EQUAL(nvfs_alloc_pages(a, 40, 0, &off), -EINVAL);
	CU_ASSERT_EQUAL(nvfs_alloc_pages(a, -3, 0, &off), -EINVAL);
	CU_ASSERT_EQUAL(nvfs_alloc_pages(a, j, 3, &off), 0);
	CU_ASSERT_EQUAL(off % (8 * NVFS_PAGE_BYTES), 0);
	CU_ASSERT(off >= NVFS_PAGES_OFF && off + 8 * NVFS_PAGE_BYTES <= NS_BYTES);
	CU_ASSERT_EQUAL(nvfs_alloc_free(a, d, off), -EPERM);
	CU_ASSERT_EQUAL(nvfs_alloc_free(a, j, off + NVFS_PAGE_BYTES), -ENOENT);
	CU_ASSERT_EQUAL(nvfs_alloc_free(a, j, off + 1), -ENOENT);
	CU_ASSERT_EQUAL(nvfs_alloc_free(a, j, off), 0);
	CU_ASSERT_EQUAL(nvfs_alloc_free(a, j, off), -ENOENT); /* double free */
	CU_ASSERT(nvfs_alloc_check(a) == 0);
	nvfs_alloc_close(&a);
}

static void
test_alloc_pages_exhaustion_enospc_then_recovers(void)
{
	struct nvfs_alloc *a = fresh("exhaust.pmem");
	struct nvfs_alloc_stats st;
	int j = nvfs_alloc_owner_create(a, uuid_j, "j");
	uint64_t total = (NS_BYTES - NVFS_PAGES_OFF) / NVFS_PAGE_BYTES;
	uint64_t *offs = calloc(total, sizeof(*offs));
	uint64_t n = 0, off;

	CU_ASSERT_FATAL(offs != NULL);
	while (nvfs_alloc_pages(a, j, 0, &off) == 0)
		offs[n++] = off;
	CU_ASSERT_EQUAL(n, total);
	CU_ASSERT_EQUAL(nvfs_alloc_pages(a, j, 0, &off), -ENOSPC);
	CU_ASSERT_PTR_NOT_NULL(strstr(nvfs_errmsg(), "no free block"));
	nvfs_alloc_stats(a, &st);
	CU_ASSERT_EQUAL(st.pages_free, 0);
	CU_ASSERT_EQUAL(st.records, total);
	CU_ASSERT_EQUAL(st.recs_pages_used, (total + NVFS_RECS_PER_PAGE - 1) / NVFS_RECS_PER_PAGE);

	/* Free everything: the area coalesces back into the largest blocks. */
	for (uint64_t i = 0; i < n; i++)
		CU_ASSERT_EQUAL_FATAL(nvfs_alloc_free(a, j, offs[i]), 0);
	nvfs_alloc_stats(a, &st);
	CU_ASSERT_EQUAL(st.pages_free, total);
	CU_ASSERT_EQUAL(st.free_blocks[11], 1); /* 2048 pages at an 8 MiB boundary */
	CU_ASSERT_EQUAL(nvfs_alloc_pages(a, j, 11, &off), 0);
	CU_ASSERT_EQUAL(nvfs_alloc_pages(a, j, 0, &off), -ENOSPC);
	CU_ASSERT(nvfs_alloc_check(a) == 0);
	a = reopen(&a, "exhaust.pmem");
	CU_ASSERT(nvfs_alloc_check(a) == 0);
	nvfs_alloc_stats(a, &st);
	CU_ASSERT_EQUAL(st.pages_free, 0);
	CU_ASSERT_EQUAL(st.records, 1);
	free(offs);
	nvfs_alloc_close(&a);
}

/*
 * random_ops -- n random allocs/frees over three owners, tracking live
 * blocks; returns how many are live.
 */
static unsigned
random_ops(struct nvfs_alloc *a, int owners[3], uint64_t *live, int *live_owner,
	   unsigned nlive, unsigned n, uint64_t *rng)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t r = nvfs_test_rand(rng);
		if (nlive && (r % 100 < 45 || nlive == TEST_MAX_BLOCKS)) {
			unsigned k = (unsigned)((r >> 8) % nlive);
			CU_ASSERT_EQUAL_FATAL(nvfs_alloc_free(a, live_owner[k], live[k]), 0);
			live[k] = live[--nlive];
			live_owner[k] = live_owner[nlive];
			continue;
		}
		unsigned order = (unsigned)((r >> 16) % 100 < 80 ? (r >> 24) % 3 : (r >> 24) % 9);
		int o = owners[(r >> 40) % 3];
		uint64_t off;
		int rc = nvfs_alloc_pages(a, o, order, &off);
		CU_ASSERT_FATAL(rc == 0 || rc == -ENOSPC);
		if (rc == 0) {
			live[nlive] = off;
			live_owner[nlive++] = o;
		}
	}
	return nlive;
}

static void
test_alloc_reopen_reproduces_exact_state(void)
{
	struct nvfs_alloc *a = fresh("reopen.pmem");
	struct test_state *before = malloc(sizeof(*before));
	struct test_state *after = malloc(sizeof(*after));
	uint64_t *live = calloc(TEST_MAX_BLOCKS, sizeof(*live));
	int *live_owner = calloc(TEST_MAX_BLOCKS, sizeof(*live_owner));
	uint64_t rng = nvfs_test_seed() * 31;
	unsigned nlive = 0, rounds = 10, ops = 0;
	int owners[3];

	CU_ASSERT_FATAL(before && after && live && live_owner);
	owners[0] = nvfs_alloc_owner_create(a, uuid_j, "journal");
	owners[1] = nvfs_alloc_owner_create(a, uuid_d, "data");
	owners[2] = nvfs_alloc_owner_create(a, uuid_x, "x");
	for (unsigned round = 0; round < rounds; round++) {
		unsigned n = 3000 / nvfs_test_scale_div();
		nlive = random_ops(a, owners, live, live_owner, nlive, n, &rng);
		ops += n;
		CU_ASSERT_EQUAL(nvfs_alloc_check(a), 0);
		test_state_collect(a, before);
		CU_ASSERT(test_state_disjoint(before, nvfs_alloc_sb(a)));
		CU_ASSERT_EQUAL(before->n, nlive);
		a = reopen(&a, "reopen.pmem");
		test_state_collect(a, after);
		/* Same owners, blocks and -- rebuilt from scratch -- free lists. */
		CU_ASSERT(test_state_equal(before, after, true));
		CU_ASSERT_EQUAL(nvfs_alloc_check(a), 0);
	}
	printf("\n  %u random alloc/free ops, %u reopens, state identical each time",
	       ops, rounds);
	nvfs_alloc_close(&a);
	free(before);
	free(after);
	free(live);
	free(live_owner);
}

static void
test_alloc_open_second_opener_gets_ebusy(void)
{
	struct nvfs_alloc *a = fresh("busy.pmem"), *b = NULL;
	struct nvfs_alloc_opts ro = { .flags = NVFS_ALLOC_RDONLY };

	CU_ASSERT_EQUAL(nvfs_alloc_open(nvfs_test_path("busy.pmem"), NULL, &b), -EBUSY);
	CU_ASSERT_PTR_NOT_NULL(strstr(nvfs_errmsg(), "in use"));
	CU_ASSERT_EQUAL(nvfs_alloc_open(nvfs_test_path("busy.pmem"), &ro, &b), -EBUSY);
	nvfs_alloc_close(&a);
	/* Two read-only openers share the lock; a writer then waits its turn. */
	CU_ASSERT_EQUAL(nvfs_alloc_open(nvfs_test_path("busy.pmem"), &ro, &a), 0);
	CU_ASSERT_EQUAL(nvfs_alloc_open(nvfs_test_path("busy.pmem"), &ro, &b), 0);
	struct nvfs_alloc *c = NULL;
	CU_ASSERT_EQUAL(nvfs_alloc_open(nvfs_test_path("busy.pmem"), NULL, &c), -EBUSY);
	nvfs_alloc_close(&a);
	nvfs_alloc_close(&b);
}

static void
test_alloc_rdonly_refuses_changes(void)
{
	struct nvfs_alloc *a = fresh("ro.pmem");
	struct nvfs_alloc_opts ro = { .flags = NVFS_ALLOC_RDONLY };
	uint64_t off;

	int j = nvfs_alloc_owner_create(a, uuid_j, "j");
	CU_ASSERT_EQUAL(nvfs_alloc_pages(a, j, 0, &off), 0);
	nvfs_alloc_close(&a);
	CU_ASSERT_EQUAL_FATAL(nvfs_alloc_open(nvfs_test_path("ro.pmem"), &ro, &a), 0);
	CU_ASSERT(nvfs_alloc_readonly(a));
	CU_ASSERT_EQUAL(nvfs_alloc_pages(a, j, 0, &off), -EROFS);
	CU_ASSERT_EQUAL(nvfs_alloc_free(a, j, off), -EROFS);
	CU_ASSERT_EQUAL(nvfs_alloc_owner_create(a, uuid_d, "d"), -EROFS);
	CU_ASSERT_EQUAL(nvfs_alloc_owner_find(a, uuid_j), j);
	nvfs_alloc_close(&a);
}

static void
test_alloc_open_rejects_missing_small_and_foreign_files(void)
{
	struct nvfs_alloc *a = NULL;

	CU_ASSERT_EQUAL(nvfs_alloc_open(nvfs_test_path("nonexistent"), NULL, &a), -ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(nvfs_errmsg(), "nonexistent"));
	CU_ASSERT_FATAL(nvfs_test_mkfile(nvfs_test_path("small.pmem"), 8192) == 0);
	open_fails("small.pmem", -EMEDIUMTYPE, "too small");
	CU_ASSERT_FATAL(nvfs_test_mkfile(nvfs_test_path("zero.pmem"), NS_BYTES) == 0);
	open_fails("zero.pmem", -EMEDIUMTYPE, "not an nvfs namespace");
	CU_ASSERT_FATAL(nvfs_test_mkfile(nvfs_test_path("empty.file"), 0) == 0);
	CU_ASSERT(nvfs_alloc_open(nvfs_test_path("empty.file"), NULL, &a) < 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(nvfs_errmsg(), "empty"));
	CU_ASSERT(nvfs_alloc_open(nvfs_test_dir(), NULL, &a) < 0);
	CU_ASSERT_PTR_NULL(a);
}

static void
test_alloc_open_truncated_namespace_refused(void)
{
	test_ns_make(nvfs_test_path("trunc.pmem"), NS_BYTES);
	CU_ASSERT_FATAL(truncate(nvfs_test_path("trunc.pmem"), NS_BYTES - 4096) == 0);
	open_fails("trunc.pmem", -EUCLEAN, "truncated");
}

struct worker {
	struct nvfs_alloc *a;
	int owner;
	uint64_t seed;
	unsigned ops;
	unsigned errors;
	uint64_t *held;     /* blocks this thread holds at the end */
	unsigned nheld;
};

/* worker_run -- random alloc/free on a shared allocator */
static void *
worker_run(void *arg)
{
	struct worker *w = arg;

	for (unsigned i = 0; i < w->ops; i++) {
		uint64_t r = nvfs_test_rand(&w->seed), off;
		if (w->nheld && (r % 2 || w->nheld == 256)) {
			unsigned k = (unsigned)((r >> 8) % w->nheld);
			w->errors += nvfs_alloc_free(w->a, w->owner, w->held[k]) != 0;
			w->held[k] = w->held[--w->nheld];
		} else {
			int rc = nvfs_alloc_pages(w->a, w->owner, (unsigned)((r >> 16) % 3), &off);
			if (rc == 0)
				w->held[w->nheld++] = off;
			else
				w->errors += rc != -ENOSPC;
		}
	}
	return NULL;
}

static void
test_alloc_concurrent_threads_stay_consistent(void)
{
	enum { THREADS = 4 };
	struct nvfs_alloc *a = fresh("threads.pmem");
	struct worker w[THREADS];
	pthread_t tid[THREADS];
	struct test_state *st = malloc(sizeof(*st)), *st2 = malloc(sizeof(*st2));
	unsigned held = 0;

	CU_ASSERT_FATAL(st && st2);
	int owners[2] = { nvfs_alloc_owner_create(a, uuid_j, "j"),
			  nvfs_alloc_owner_create(a, uuid_d, "d") };
	for (unsigned t = 0; t < THREADS; t++) {
		w[t] = (struct worker){ a, owners[t % 2], nvfs_test_seed() * 97 + t,
					20000 / nvfs_test_scale_div(), 0,
					calloc(256, sizeof(uint64_t)), 0 };
		CU_ASSERT_FATAL(w[t].held != NULL);
		CU_ASSERT_FATAL(pthread_create(&tid[t], NULL, worker_run, &w[t]) == 0);
	}
	for (unsigned t = 0; t < THREADS; t++) {
		pthread_join(tid[t], NULL);
		CU_ASSERT_EQUAL(w[t].errors, 0);
		held += w[t].nheld;
	}
	CU_ASSERT_EQUAL(nvfs_alloc_check(a), 0);
	test_state_collect(a, st);
	CU_ASSERT_EQUAL(st->n, held); /* every held block recorded, nothing else */
	CU_ASSERT(test_state_disjoint(st, nvfs_alloc_sb(a)));
	a = reopen(&a, "threads.pmem");
	test_state_collect(a, st2);
	CU_ASSERT(test_state_equal(st, st2, true));
	printf("\n  %u threads x %u ops, %u blocks held at the end", THREADS, w[0].ops, held);
	for (unsigned t = 0; t < THREADS; t++)
		free(w[t].held);
	free(st);
	free(st2);
	nvfs_alloc_close(&a);
}

/* ---- corruption ---------------------------------------------------------- */

/*
 * populated -- a namespace with owners j, d and a few blocks each; j has two
 * record pages when big is set.  Returns j's first block.
 */
static uint64_t
populated(const char *name, bool big)
{
	struct nvfs_alloc *a = fresh(name);
	int j = nvfs_alloc_owner_create(a, uuid_j, "journal");
	int d = nvfs_alloc_owner_create(a, uuid_d, "data");
	uint64_t first = 0, off;
	unsigned n = big ? NVFS_RECS_PER_PAGE + 10 : 10;

	CU_ASSERT_FATAL(j == 0 && d == 1);
	for (unsigned i = 0; i < n; i++) {
		CU_ASSERT_FATAL(nvfs_alloc_pages(a, j, 0, &off) == 0);
		if (i == 0)
			first = off;
	}
	for (unsigned i = 0; i < 5; i++)
		CU_ASSERT_FATAL(nvfs_alloc_pages(a, d, 1, &off) == 0);
	nvfs_alloc_close(&a);
	return first;
}

/* rec_off -- byte offset of record i of the page at page_off */
static uint64_t
rec_off(uint64_t page_off, unsigned i)
{
	return page_off + NVFS_RECS_HDR_BYTES + 8u * i;
}

struct problems {
	unsigned n;
	char last[512];
};

/* on_problem -- CHECK-mode callback */
static void
on_problem(void *arg, const char *msg, bool repaired)
{
	struct problems *p = arg;
	(void)repaired;
	p->n++;
	snprintf(p->last, sizeof(p->last), "%s", msg);
}

/*
 * check_then_repair -- the damage is reported by a read-only CHECK open
 * (nothing written), fixed by a REPAIR open, and then a strict open works.
 */
static void
check_then_repair(const char *name, const char *what)
{
	struct problems probs = { 0 };
	struct nvfs_alloc_opts chk = { .flags = NVFS_ALLOC_RDONLY | NVFS_ALLOC_CHECK,
				       .problem = on_problem, .arg = &probs };
	struct nvfs_alloc_opts fix = { .flags = NVFS_ALLOC_CHECK | NVFS_ALLOC_REPAIR };
	struct nvfs_alloc *a = NULL;
	size_t len_before = 0, len_after = 0;
	void *before = nvfs_test_read_file(nvfs_test_path(name), &len_before);

	CU_ASSERT_EQUAL_FATAL(nvfs_alloc_open(nvfs_test_path(name), &chk, &a), 0);
	CU_ASSERT(chk.nr_problems >= 1);
	CU_ASSERT_EQUAL(chk.nr_repaired, 0);
	CU_ASSERT_EQUAL(probs.n, chk.nr_problems);
	CU_ASSERT_PTR_NOT_NULL(strstr(probs.last, what));
	CU_ASSERT_EQUAL(nvfs_alloc_check(a), 0);
	nvfs_alloc_close(&a);
	void *after = nvfs_test_read_file(nvfs_test_path(name), &len_after);
	CU_ASSERT(before && after && len_before == len_after &&
		  memcmp(before, after, len_before) == 0); /* -n never writes */
	free(before);
	free(after);

	CU_ASSERT_EQUAL_FATAL(nvfs_alloc_open(nvfs_test_path(name), &fix, &a), 0);
	CU_ASSERT(fix.nr_problems >= 1);
	CU_ASSERT_EQUAL(fix.nr_repaired, fix.nr_problems);
	nvfs_alloc_close(&a);
	CU_ASSERT_EQUAL_FATAL(nvfs_alloc_open(nvfs_test_path(name), NULL, &a), 0);
	CU_ASSERT_EQUAL(nvfs_alloc_check(a), 0);
	struct test_state *st = malloc(sizeof(*st));
	test_state_collect(a, st);
	CU_ASSERT(test_state_disjoint(st, nvfs_alloc_sb(a)));
	free(st);
	nvfs_alloc_close(&a);
}

static void
test_alloc_open_overlapping_records_refused(void)
{
	populated("overlap.pmem", false);
	uint64_t page = first_recs_off("overlap.pmem", 0);
	/* Record 3 of j made to name the same pages as record 0 (A5). */
	poke64("overlap.pmem", rec_off(page, 3), peek64("overlap.pmem", rec_off(page, 0)));
	open_fails("overlap.pmem", -EUCLEAN, "(A5)");
	check_then_repair("overlap.pmem", "(A5)");
}

static void
test_alloc_open_overlap_across_owners_refused(void)
{
	populated("overlap2.pmem", false);
	uint64_t pj = first_recs_off("overlap2.pmem", 0);
	uint64_t pd = first_recs_off("overlap2.pmem", 1);
	/* d's order-1 block made to start at j's order-0 page: it covers it. */
	uint64_t jrec = peek64("overlap2.pmem", rec_off(pj, 0));
	uint64_t pg = nvfs_pm_rec_pgoff(jrec) & ~UINT64_C(1);
	poke64("overlap2.pmem", rec_off(pd, 2), nvfs_pm_rec_encode(pg, 1));
	open_fails("overlap2.pmem", -EUCLEAN, "overlap");
	check_then_repair("overlap2.pmem", "overlap");
}

static void
test_alloc_open_bad_record_bits_refused(void)
{
	populated("recbits.pmem", false);
	uint64_t page = first_recs_off("recbits.pmem", 0);
	uint64_t rec = peek64("recbits.pmem", rec_off(page, 1));
	poke64("recbits.pmem", rec_off(page, 1), rec | UINT64_C(1) << 62); /* reserved */
	open_fails("recbits.pmem", -EUCLEAN, "(A1)");
	poke64("recbits.pmem", rec_off(page, 1), nvfs_pm_rec_encode(nvfs_pm_rec_pgoff(rec) | 1, 1));
	open_fails("recbits.pmem", -EUCLEAN, "(A3)");
	poke64("recbits.pmem", rec_off(page, 1), nvfs_pm_rec_encode(NS_BYTES / NVFS_PAGE_BYTES, 0));
	open_fails("recbits.pmem", -EUCLEAN, "(A4)");
	check_then_repair("recbits.pmem", "(A4)");
}

static void
test_alloc_open_cyclic_chain_refused(void)
{
	populated("cycle.pmem", true);
	uint64_t head = first_recs_off("cycle.pmem", 0);
	uint64_t second = peek64("cycle.pmem", head + 48);
	CU_ASSERT_FATAL(nvfs_ns_recs_off_valid(second));
	/* The last page of the chain points back at the first (P5). */
	poke64("cycle.pmem", second + 48, head);
	open_fails("cycle.pmem", -EUCLEAN, "reached twice");
	check_then_repair("cycle.pmem", "reached twice");
}

static void
test_alloc_open_shared_recs_page_refused(void)
{
	populated("shared.pmem", false);
	/* d's chain head replaced by j's page: reached twice (P5). */
	uint64_t pj = first_recs_off("shared.pmem", 0);
	poke64("shared.pmem", nvfs_ns_owner_head_off(1) + 64, pj);
	open_fails("shared.pmem", -EUCLEAN, "(P5)");
	check_then_repair("shared.pmem", "(P5)");
}

static void
test_alloc_open_recs_page_of_other_owner_refused(void)
{
	struct nvfs_pm_sb sb;
	struct nvfs_pm_recs_page hdr;

	populated("other.pmem", false);
	/* d's page claims to be slot 0's, with a valid checksum (P3). */
	uint64_t pd = first_recs_off("other.pmem", 1);
	int fd = open(nvfs_test_path("other.pmem"), O_RDWR);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(pread(fd, &sb, sizeof(sb), NVFS_SB_OFF) == sizeof(sb));
	CU_ASSERT_FATAL(pread(fd, &hdr, NVFS_RECS_HDR_BYTES, (off_t)pd) == NVFS_RECS_HDR_BYTES);
	hdr.owner_slot = 0;
	hdr.csum = nvfs_csum((uint8_t *)&hdr + 16, 32, nvfs_ns_seed(&sb));
	CU_ASSERT_FATAL(pwrite(fd, &hdr, NVFS_RECS_HDR_BYTES, (off_t)pd) == NVFS_RECS_HDR_BYTES);
	close(fd);
	open_fails("other.pmem", -EUCLEAN, "(P3)");
	check_then_repair("other.pmem", "(P3)");
}

static void
test_alloc_open_bad_chain_link_refused(void)
{
	populated("link.pmem", false);
	poke64("link.pmem", nvfs_ns_owner_head_off(0) + 64, NVFS_RECS_AREA_OFF + 4096);
	open_fails("link.pmem", -EUCLEAN, "(O4, R1)");
	check_then_repair("link.pmem", "(O4, R1)");
}

static void
test_alloc_open_recs_page_bad_checksum_refused(void)
{
	populated("pagecsum.pmem", false);
	uint64_t pj = first_recs_off("pagecsum.pmem", 0);
	poke64("pagecsum.pmem", pj + 40, pj + NVFS_RECS_PAGE_BYTES); /* self_off */
	open_fails("pagecsum.pmem", -EBADMSG, "(P2)");
	check_then_repair("pagecsum.pmem", "(P2)");
}

static void
test_alloc_open_owner_commit_mismatch_refused(void)
{
	populated("commit.pmem", false);
	uint64_t h = nvfs_ns_owner_head_off(1);
	poke64("commit.pmem", h + 16, 0x6b636f6c62); /* label changed under the commit */
	open_fails("commit.pmem", -EBADMSG, "(O1)");
	check_then_repair("commit.pmem", "(O1)");
}

static void
test_alloc_open_duplicate_owner_uuid_refused(void)
{
	populated("dup.pmem", false);
	/* Give slot 1 slot 0's uuid and a commit that matches it (O2). */
	int fd = open(nvfs_test_path("dup.pmem"), O_RDWR);
	struct nvfs_pm_owner_head h0, h1;
	struct nvfs_pm_sb sb;
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(pread(fd, &sb, sizeof(sb), NVFS_SB_OFF) == sizeof(sb));
	CU_ASSERT_FATAL(pread(fd, &h0, sizeof(h0), (off_t)nvfs_ns_owner_head_off(0)) == sizeof(h0));
	CU_ASSERT_FATAL(pread(fd, &h1, sizeof(h1), (off_t)nvfs_ns_owner_head_off(1)) == sizeof(h1));
	memcpy(h1.uuid, h0.uuid, NVFS_UUID_BYTES);
	h1.commit = nvfs_ns_owner_commit(nvfs_ns_seed(&sb), 1, &h1);
	CU_ASSERT_FATAL(pwrite(fd, &h1, sizeof(h1), (off_t)nvfs_ns_owner_head_off(1)) == sizeof(h1));
	close(fd);
	/* slot 1's record page still names the old uuid, but O2 comes first */
	open_fails("dup.pmem", -EUCLEAN, "(O2)");
	check_then_repair("dup.pmem", "(O2)");
}

static void
test_alloc_open_primary_sb_corrupt_uses_backup_after_repair(void)
{
	struct test_state *before = malloc(sizeof(*before));
	struct test_state *after = malloc(sizeof(*after));
	struct nvfs_alloc *a = NULL;

	populated("sb.pmem", false);
	CU_ASSERT_FATAL(nvfs_alloc_open(nvfs_test_path("sb.pmem"), NULL, &a) == 0);
	test_state_collect(a, before);
	nvfs_alloc_close(&a);
	poke64("sb.pmem", NVFS_SB_OFF + 128, 12345); /* ns_bytes, checksum now wrong */
	open_fails("sb.pmem", -EBADMSG, "backup copy is valid");
	check_then_repair("sb.pmem", "(S2)");
	CU_ASSERT_FATAL(nvfs_alloc_open(nvfs_test_path("sb.pmem"), NULL, &a) == 0);
	test_state_collect(a, after);
	CU_ASSERT(test_state_equal(before, after, true));
	nvfs_alloc_close(&a);
	/* Both copies gone: nothing to repair from, and it says what is wrong. */
	poke64("sb.pmem", NVFS_SB_OFF, 0);
	poke64("sb.pmem", NVFS_SB_BACKUP_OFF, 0);
	open_fails("sb.pmem", -EMEDIUMTYPE, "not an nvfs namespace");
	free(before);
	free(after);
}

static void
test_alloc_open_backup_sb_corrupt_refused_then_repaired(void)
{
	populated("sbb.pmem", false);
	poke64("sbb.pmem", NVFS_SB_BACKUP_OFF + 176, 1); /* pages_total */
	open_fails("sbb.pmem", -EBADMSG, "backup superblock corrupt");
	check_then_repair("sbb.pmem", "(S2)");
}

static void
test_alloc_open_owner_list_header_corrupt_refused(void)
{
	populated("olh.pmem", false);
	poke64("olh.pmem", NVFS_OWNER_LIST_OFF + 16, 99);
	open_fails("olh.pmem", -EBADMSG, "owner list header");
	check_then_repair("olh.pmem", "owner list header");
}

/* set_sb_field64 -- change a u64 in both superblock copies, fix checksums */
static void
set_sb_field64(const char *name, size_t field_off, uint64_t v)
{
	int fd = open(nvfs_test_path(name), O_RDWR);
	struct nvfs_pm_sb sb;

	CU_ASSERT_FATAL(fd >= 0);
	for (off_t co = NVFS_SB_OFF; co <= NVFS_SB_BACKUP_OFF; co += 2048) {
		CU_ASSERT_FATAL(pread(fd, &sb, sizeof(sb), co) == sizeof(sb));
		memcpy((char *)&sb + field_off, &v, 8);
		sb.csum = nvfs_ns_sb_csum(&sb);
		CU_ASSERT_FATAL(pwrite(fd, &sb, sizeof(sb), co) == sizeof(sb));
	}
	close(fd);
}

static void
test_alloc_open_unknown_features(void)
{
	struct nvfs_alloc *a = NULL;
	uint64_t off;

	populated("feat.pmem", false);
	set_sb_field64("feat.pmem", offsetof(struct nvfs_pm_sb, feature_compat), 1u << 7);
	CU_ASSERT_EQUAL_FATAL(nvfs_alloc_open(nvfs_test_path("feat.pmem"), NULL, &a), 0);
	CU_ASSERT_FALSE(nvfs_alloc_readonly(a));
	nvfs_alloc_close(&a);
	set_sb_field64("feat.pmem", offsetof(struct nvfs_pm_sb, feature_ro_compat), 1u << 3);
	CU_ASSERT_EQUAL_FATAL(nvfs_alloc_open(nvfs_test_path("feat.pmem"), NULL, &a), 0);
	CU_ASSERT(nvfs_alloc_readonly(a)); /* unknown ro_compat: read-only */
	CU_ASSERT_EQUAL(nvfs_alloc_pages(a, 0, 0, &off), -EROFS);
	nvfs_alloc_close(&a);
	set_sb_field64("feat.pmem", offsetof(struct nvfs_pm_sb, feature_incompat), 1u << 2);
	open_fails("feat.pmem", -EOPNOTSUPP, "(S4)");
	set_sb_field64("feat.pmem", offsetof(struct nvfs_pm_sb, feature_incompat), 0);
	struct nvfs_pm_sb sb;
	int fd = open(nvfs_test_path("feat.pmem"), O_RDWR);
	CU_ASSERT_FATAL(fd >= 0 && pread(fd, &sb, sizeof(sb), NVFS_SB_OFF) == sizeof(sb));
	close(fd);
	sb.version = NVFS_FORMAT_VERSION + 1;
	sb.csum = nvfs_ns_sb_csum(&sb);
	fd = open(nvfs_test_path("feat.pmem"), O_RDWR);
	CU_ASSERT_FATAL(pwrite(fd, &sb, sizeof(sb), NVFS_SB_OFF) == sizeof(sb));
	CU_ASSERT_FATAL(pwrite(fd, &sb, sizeof(sb), NVFS_SB_BACKUP_OFF) == sizeof(sb));
	close(fd);
	open_fails("feat.pmem", -EPROTONOSUPPORT, "unsupported format version");
}

/* state_of -- the strict-open state of a namespace file */
static void
state_of(const char *name, struct test_state *st)
{
	struct nvfs_alloc *a = NULL;

	CU_ASSERT_FATAL(nvfs_alloc_open(nvfs_test_path(name), NULL, &a) == 0);
	test_state_collect(a, st);
	nvfs_alloc_close(&a);
}

/*
 * repair_keeps -- damage that only touches a field outside the commit is
 * refused strictly, then repaired without losing any allocation.
 */
static void
repair_keeps(const char *name, uint64_t off, uint64_t v, const char *what)
{
	struct test_state *before = malloc(sizeof(*before));
	struct test_state *after = malloc(sizeof(*after));

	CU_ASSERT_FATAL(before && after);
	populated(name, true);
	state_of(name, before);
	poke64(name, off, v);
	open_fails(name, -EUCLEAN, what);
	check_then_repair(name, what);
	state_of(name, after);
	CU_ASSERT(test_state_equal(before, after, true)); /* nothing dropped */
	free(before);
	free(after);
}

static void
test_alloc_repair_reserved0_keeps_owner_and_blocks(void)
{
	repair_keeps("rres0.pmem", nvfs_ns_owner_head_off(0) + 56, 1, "reserved0");
}

static void
test_alloc_repair_other_namespace_link_keeps_owner_and_blocks(void)
{
	repair_keeps("rns3.pmem", nvfs_ns_owner_head_off(0) + 64 + 3 * 8, 0x6000,
		     "recs_off[3]");
}

static void
test_alloc_repair_bad_middle_page_unlinks_only_it(void)
{
	struct test_state *before = malloc(sizeof(*before));
	struct test_state *after = malloc(sizeof(*after));
	struct nvfs_alloc *a = NULL;
	uint64_t off;

	CU_ASSERT_FATAL(before && after);
	/* j gets three record pages: newest first in the chain. */
	a = fresh("mid.pmem");
	int j = nvfs_alloc_owner_create(a, uuid_j, "journal");
	for (unsigned i = 0; i < 2 * NVFS_RECS_PER_PAGE + 5; i++)
		CU_ASSERT_FATAL(nvfs_alloc_pages(a, j, 0, &off) == 0);
	nvfs_alloc_close(&a);
	uint64_t p1 = first_recs_off("mid.pmem", 0), p2 = peek64("mid.pmem", p1 + 48);
	uint64_t p3 = peek64("mid.pmem", p2 + 48);
	CU_ASSERT_FATAL(nvfs_ns_recs_off_valid(p3) && peek64("mid.pmem", p3 + 48) == 0);
	state_of("mid.pmem", before);
	poke64("mid.pmem", p2, 0x4242); /* the middle page's magic */
	open_fails("mid.pmem", -EUCLEAN, "(P1)");
	check_then_repair("mid.pmem", "unlinked");
	CU_ASSERT_EQUAL(peek64("mid.pmem", p1 + 48), p3); /* p1 now links to p3 */
	state_of("mid.pmem", after);
	/* Exactly the middle page's 1016 blocks are gone; the others are kept. */
	CU_ASSERT_EQUAL(after->n, before->n - NVFS_RECS_PER_PAGE);
	free(before);
	free(after);
}

static void
test_alloc_check_without_repair_refuses_writes(void)
{
	struct nvfs_alloc *a = NULL;
	struct nvfs_alloc_opts chk = { .flags = NVFS_ALLOC_CHECK };
	uint64_t off;

	populated("chk.pmem", false);
	CU_ASSERT_FATAL(nvfs_alloc_open(nvfs_test_path("chk.pmem"), &chk, &a) == 0);
	CU_ASSERT_EQUAL(nvfs_alloc_pages(a, 0, 0, &off), -EROFS);
	CU_ASSERT_EQUAL(nvfs_alloc_owner_create(a, uuid_x, "x"), -EROFS);
	nvfs_alloc_close(&a);
}

struct reenter {
	struct nvfs_alloc *a;
	int owner;
	int rc;
};

/* free_from_callback -- a foreach callback calling back into the allocator */
static int
free_from_callback(void *arg, uint64_t off, unsigned order)
{
	struct reenter *r = arg;
	(void)order;
	r->rc = nvfs_alloc_free(r->a, r->owner, off);
	return 1;
}

static void
test_alloc_foreach_callback_reentry_gets_edeadlk(void)
{
	struct nvfs_alloc *a = fresh("reenter.pmem");
	int j = nvfs_alloc_owner_create(a, uuid_j, "j");
	uint64_t off;

	CU_ASSERT_FATAL(nvfs_alloc_pages(a, j, 0, &off) == 0);
	struct reenter r = { a, j, 0 };
	CU_ASSERT_EQUAL(nvfs_alloc_foreach(a, j, free_from_callback, &r), 1);
	CU_ASSERT_EQUAL(r.rc, -EDEADLK);
	CU_ASSERT_EQUAL(nvfs_alloc_free(a, j, off), 0); /* outside: fine */
	nvfs_alloc_close(&a);
}

/*
 * test_alloc_pages_random_ops_match_page_model -- the persistent allocator
 * (not only its DRAM buddy) against a per-page reference model for 100,000
 * random allocs and frees over several owners: no page handed out twice,
 * ENOSPC only when the model has no aligned free run, free page count
 * equal, buddy invariants (coalescing included) via nvfs_alloc_check every
 * 5,000 operations and at a reopen at the end.
 */
static void
test_alloc_pages_random_ops_match_page_model(void)
{
	struct nvfs_alloc *a = fresh("model.pmem");
	uint64_t total = (NS_BYTES - NVFS_PAGES_OFF) / NVFS_PAGE_BYTES;
	uint64_t first = NVFS_PAGES_OFF / NVFS_PAGE_BYTES, used = 0;
	uint8_t *page = calloc(total, 1);
	uint64_t *live = calloc(total, sizeof(*live));
	unsigned *live_order = calloc(total, sizeof(*live_order));
	int *live_owner = calloc(total, sizeof(*live_owner));
	unsigned nlive = 0, n = 100000 / nvfs_test_scale_div(), enospc = 0;
	uint64_t rng = nvfs_test_seed() * 977;
	int owners[3] = { nvfs_alloc_owner_create(a, uuid_j, "j"),
			  nvfs_alloc_owner_create(a, uuid_d, "d"),
			  nvfs_alloc_owner_create(a, uuid_x, "x") };

	CU_ASSERT_FATAL(page && live && live_order && live_owner);
	for (unsigned i = 0; i < n; i++) {
		uint64_t r = nvfs_test_rand(&rng), off;
		if (nlive && (r % 100 < 48 || used > total - 64)) {
			unsigned k = (unsigned)((r >> 8) % nlive);
			CU_ASSERT_EQUAL_FATAL(nvfs_alloc_free(a, live_owner[k], live[k]), 0);
			uint64_t pg = live[k] / NVFS_PAGE_BYTES - first;
			memset(page + pg, 0, (size_t)1 << live_order[k]);
			used -= UINT64_C(1) << live_order[k];
			nlive--;
			live[k] = live[nlive];
			live_order[k] = live_order[nlive];
			live_owner[k] = live_owner[nlive];
		} else {
			unsigned order = (unsigned)((r >> 16) % 6);
			int o = owners[(r >> 32) % 3];
			int rc = nvfs_alloc_pages(a, o, order, &off);
			if (rc == -ENOSPC) {
				/* The model must agree: no aligned free run of 2^order. */
				uint64_t step = UINT64_C(1) << order;
				for (uint64_t p = (first + step - 1) / step * step - first;
				     p + step <= total; p += step)
					CU_ASSERT_FATAL(memchr(page + p, 0, step) == NULL ||
							memchr(page + p, 1, step) != NULL);
				enospc++;
				continue;
			}
			CU_ASSERT_EQUAL_FATAL(rc, 0);
			uint64_t pg = off / NVFS_PAGE_BYTES - first;
			CU_ASSERT_FATAL(pg + (UINT64_C(1) << order) <= total);
			CU_ASSERT_FATAL(((pg + first) & ((UINT64_C(1) << order) - 1)) == 0);
			CU_ASSERT_FATAL(memchr(page + pg, 1, (size_t)1 << order) == NULL);
			memset(page + pg, 1, (size_t)1 << order);
			used += UINT64_C(1) << order;
			live[nlive] = off;
			live_order[nlive] = order;
			live_owner[nlive++] = o;
		}
		if (i % 5000 == 4999) {
			struct nvfs_alloc_stats st;
			nvfs_alloc_stats(a, &st);
			CU_ASSERT_EQUAL_FATAL(st.pages_free, total - used);
			CU_ASSERT_EQUAL_FATAL(nvfs_alloc_check(a), 0);
		}
	}
	a = reopen(&a, "model.pmem");
	CU_ASSERT_EQUAL(nvfs_alloc_check(a), 0);
	struct nvfs_alloc_stats st;
	nvfs_alloc_stats(a, &st);
	CU_ASSERT_EQUAL(st.pages_free, total - used);
	CU_ASSERT_EQUAL(st.records, nlive);
	printf("\n  %u ops against the page model, %u ENOSPC confirmed by it", n, enospc);
	nvfs_alloc_close(&a);
	free(page);
	free(live);
	free(live_order);
	free(live_owner);
}

/* ---- fuzz ---------------------------------------------------------------- */

struct region {
	uint64_t off, len;
};

/* pick_offset -- a random byte, mostly inside live metadata */
static uint64_t
pick_offset(const struct region *r, unsigned nr, uint64_t *rng)
{
	const struct region *pick = &r[nvfs_test_rand(rng) % nr];
	return pick->off + nvfs_test_rand(rng) % pick->len;
}

/* fuzz_once -- open a mutated image strictly and in CHECK mode */
static void
fuzz_once(const char *path, unsigned *accepted, unsigned *refused)
{
	struct nvfs_alloc *a = NULL;
	struct nvfs_alloc_opts chk = { .flags = NVFS_ALLOC_RDONLY | NVFS_ALLOC_CHECK };
	struct test_state *st = malloc(sizeof(*st));

	CU_ASSERT_FATAL(st != NULL);
	nvfs_err_clear();
	int rc = nvfs_alloc_open(path, NULL, &a);
	if (rc == 0) {
		/* Accepted: it must be consistent. */
		(*accepted)++;
		CU_ASSERT_EQUAL(nvfs_alloc_check(a), 0);
		test_state_collect(a, st);
		CU_ASSERT(test_state_disjoint(st, nvfs_alloc_sb(a)));
		nvfs_alloc_close(&a);
	} else {
		(*refused)++;
		CU_ASSERT(rc < 0);
		CU_ASSERT(nvfs_errmsg()[0] != '\0'); /* refused with a message */
	}
	/* CHECK mode opens whatever has a usable superblock, consistently. */
	rc = nvfs_alloc_open(path, &chk, &a);
	if (rc == 0) {
		CU_ASSERT_EQUAL(nvfs_alloc_check(a), 0);
		test_state_collect(a, st);
		CU_ASSERT(test_state_disjoint(st, nvfs_alloc_sb(a)));
		nvfs_alloc_close(&a);
	} else {
		CU_ASSERT(nvfs_errmsg()[0] != '\0');
	}
	free(st);
}

static void
test_alloc_open_survives_random_mutations(void)
{
	const char *name = "fuzz.pmem";
	const char *path = nvfs_test_path(name);
	uint64_t rng = nvfs_test_seed() * 104729;
	unsigned iters = 3000 / nvfs_test_scale_div(), accepted = 0, refused = 0;

	populated(name, true);
	uint64_t pj = first_recs_off(name, 0), pj2 = peek64(name, pj + 48);
	uint64_t pd = first_recs_off(name, 1);
	const struct region regions[] = {
		{ NVFS_SB_OFF, NVFS_SB_BYTES },
		{ NVFS_SB_BACKUP_OFF, NVFS_SB_BYTES },
		{ NVFS_OWNER_LIST_OFF, NVFS_OWNER_LIST_HDR_BYTES + 2 * NVFS_OWNER_HEAD_BYTES },
		{ pj, NVFS_RECS_HDR_BYTES + 80 }, { pj2, NVFS_RECS_PAGE_BYTES },
		{ pd, NVFS_RECS_HDR_BYTES + 40 },
		{ 0, NVFS_PAGES_OFF },
	};
	int fd = open(path, O_RDWR);
	CU_ASSERT_FATAL(fd >= 0);
	for (unsigned it = 0; it < iters; it++) {
		uint64_t offs[8];
		uint8_t old[8];
		unsigned n = 1 + (unsigned)(nvfs_test_rand(&rng) % 8);
		for (unsigned k = 0; k < n; k++) {
			offs[k] = pick_offset(regions, sizeof(regions) / sizeof(regions[0]), &rng);
			CU_ASSERT_FATAL(pread(fd, &old[k], 1, (off_t)offs[k]) == 1);
			uint64_t r = nvfs_test_rand(&rng);
			uint8_t v = r & 0x100 ? (uint8_t)(old[k] ^ (1u << (r % 8))) : (uint8_t)(r >> 16);
			CU_ASSERT_FATAL(pwrite(fd, &v, 1, (off_t)offs[k]) == 1);
		}
		fuzz_once(path, &accepted, &refused);
		for (unsigned k = n; k-- > 0;) /* undo in reverse: offsets may repeat */
			CU_ASSERT_FATAL(pwrite(fd, &old[k], 1, (off_t)offs[k]) == 1);
	}
	close(fd);
	printf("\n  %u mutated images: %u accepted consistent, %u refused with a message",
	       iters, accepted, refused);
	CU_ASSERT(refused > 0 && accepted > 0);
}

/*
 * test_alloc_repair_converges_on_random_mutations -- fsck's REPAIR mode on
 * mutated images: it always ends with an image that opens strictly and is
 * consistent (the metadata area is restored between iterations).
 */
static void
test_alloc_repair_converges_on_random_mutations(void)
{
	const char *name = "rfuzz.pmem";
	const char *path = nvfs_test_path(name);
	uint64_t rng = nvfs_test_seed() * 7333;
	unsigned iters = 300 / nvfs_test_scale_div(), opened = 0;
	uint8_t *meta = malloc(NVFS_PAGES_OFF);

	CU_ASSERT_FATAL(meta != NULL);
	populated(name, true);
	uint64_t pj = first_recs_off(name, 0);
	const struct region regions[] = {
		{ NVFS_SB_OFF, NVFS_SB_BYTES }, { NVFS_SB_BACKUP_OFF, NVFS_SB_BYTES },
		{ NVFS_OWNER_LIST_OFF, NVFS_OWNER_LIST_HDR_BYTES + 2 * NVFS_OWNER_HEAD_BYTES },
		{ pj, NVFS_RECS_PAGE_BYTES }, { pj, NVFS_RECS_HDR_BYTES },
	};
	int fd = open(path, O_RDWR);
	CU_ASSERT_FATAL(fd >= 0 && pread(fd, meta, NVFS_PAGES_OFF, 0) == NVFS_PAGES_OFF);
	for (unsigned it = 0; it < iters; it++) {
		unsigned n = 1 + (unsigned)(nvfs_test_rand(&rng) % 6);
		for (unsigned k = 0; k < n; k++) {
			uint64_t off = pick_offset(regions, 5, &rng);
			uint8_t v = (uint8_t)nvfs_test_rand(&rng);
			CU_ASSERT_FATAL(pwrite(fd, &v, 1, (off_t)off) == 1);
		}
		struct nvfs_alloc_opts fix = { .flags = NVFS_ALLOC_CHECK | NVFS_ALLOC_REPAIR };
		struct nvfs_alloc *a = NULL;
		if (nvfs_alloc_open(path, &fix, &a) == 0) {
			nvfs_alloc_close(&a);
			/* Repaired: a strict open now accepts it, consistently. */
			int rc = nvfs_alloc_open(path, NULL, &a);
			if (rc)
				printf("\n  after repair: %s", nvfs_errmsg());
			CU_ASSERT_EQUAL(rc, 0);
			if (!rc) {
				CU_ASSERT_EQUAL(nvfs_alloc_check(a), 0);
				nvfs_alloc_close(&a);
			}
			opened++;
		} else {
			CU_ASSERT(nvfs_errmsg()[0] != '\0');
		}
		CU_ASSERT_FATAL(pwrite(fd, meta, NVFS_PAGES_OFF, 0) == NVFS_PAGES_OFF);
	}
	close(fd);
	free(meta);
	printf("\n  %u mutated images repaired: %u then opened strictly", iters, opened);
	CU_ASSERT(opened > 0);
}

NVFS_SUITE(alloc_alloc, "alloc/alloc", NULL, NULL,
	   NVFS_TEST(test_alloc_open_fresh_namespace_is_empty),
	   NVFS_TEST(test_alloc_owner_create_find_get_info),
	   NVFS_TEST(test_alloc_pages_free_argument_errors),
	   NVFS_TEST(test_alloc_pages_exhaustion_enospc_then_recovers),
	   NVFS_TEST(test_alloc_reopen_reproduces_exact_state),
	   NVFS_TEST(test_alloc_concurrent_threads_stay_consistent),
	   NVFS_TEST(test_alloc_open_second_opener_gets_ebusy),
	   NVFS_TEST(test_alloc_rdonly_refuses_changes),
	   NVFS_TEST(test_alloc_open_rejects_missing_small_and_foreign_files),
	   NVFS_TEST(test_alloc_open_truncated_namespace_refused),
	   NVFS_TEST(test_alloc_open_overlapping_records_refused),
	   NVFS_TEST(test_alloc_open_overlap_across_owners_refused),
	   NVFS_TEST(test_alloc_open_bad_record_bits_refused),
	   NVFS_TEST(test_alloc_open_cyclic_chain_refused),
	   NVFS_TEST(test_alloc_open_shared_recs_page_refused),
	   NVFS_TEST(test_alloc_open_recs_page_of_other_owner_refused),
	   NVFS_TEST(test_alloc_open_bad_chain_link_refused),
	   NVFS_TEST(test_alloc_open_recs_page_bad_checksum_refused),
	   NVFS_TEST(test_alloc_open_owner_commit_mismatch_refused),
	   NVFS_TEST(test_alloc_open_duplicate_owner_uuid_refused),
	   NVFS_TEST(test_alloc_open_primary_sb_corrupt_uses_backup_after_repair),
	   NVFS_TEST(test_alloc_open_backup_sb_corrupt_refused_then_repaired),
	   NVFS_TEST(test_alloc_open_owner_list_header_corrupt_refused),
	   NVFS_TEST(test_alloc_open_unknown_features),
	   NVFS_TEST(test_alloc_repair_reserved0_keeps_owner_and_blocks),
	   NVFS_TEST(test_alloc_repair_other_namespace_link_keeps_owner_and_blocks),
	   NVFS_TEST(test_alloc_repair_bad_middle_page_unlinks_only_it),
	   NVFS_TEST(test_alloc_check_without_repair_refuses_writes),
	   NVFS_TEST(test_alloc_foreach_callback_reentry_gets_edeadlk),
	   NVFS_TEST(test_alloc_pages_random_ops_match_page_model),
	   NVFS_TEST(test_alloc_open_survives_random_mutations),
	   NVFS_TEST(test_alloc_repair_converges_on_random_mutations))
