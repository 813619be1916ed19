/* SPDX-License-Identifier: MIT */
/*
 * alloc_buddy.c -- tests of the in-DRAM buddy allocator (alloc/buddy.c).
 *
 * The directed tests pin down the decomposition, splitting, merging and
 * argument checks; test_buddy_model_random_ops drives random operations
 * against a per-page reference model and compares after every step.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nvfs_buddy.h"
#include "nvfs_test.h"

/* a block, as reported by nvfs_buddy_foreach_free */
struct blk {
	uint64_t pgoff;
	unsigned order;
};

/* the sorted list of free blocks at some moment */
struct snap {
	struct blk *v;
	size_t n;
	size_t cap;
};

/* snap_add -- foreach callback appending a block; non-zero on ENOMEM */
static int
snap_add(void *arg, uint64_t pgoff, unsigned order)
{
	struct snap *s = arg;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct blk *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n].pgoff = pgoff;
	s->v[s->n].order = order;
	s->n++;
	return 0;
}

/* cmp_blk -- order blocks by first page */
static int
cmp_blk(const void *a, const void *b)
{
	const struct blk *x = a, *y = b;

	return x->pgoff < y->pgoff ? -1 : x->pgoff > y->pgoff;
}

/* snap_take -- the sorted free blocks of b, into s (reusing its buffer) */
static void
snap_take(const struct nvfs_buddy *b, struct snap *s)
{
	s->n = 0;
	CU_ASSERT_EQUAL(nvfs_buddy_foreach_free(b, snap_add, s), 0);
	if (s->n)
		qsort(s->v, s->n, sizeof(s->v[0]), cmp_blk);
}

/* snap_fini -- free a snapshot */
static void
snap_fini(struct snap *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* snap_equal -- same free blocks? */
static bool
snap_equal(const struct snap *a, const struct snap *b)
{
	return a->n == b->n &&
	       (a->n == 0 || memcmp(a->v, b->v, a->n * sizeof(a->v[0])) == 0);
}

/* same_as -- is b's free-block set exactly the snapshot s? */
static bool
same_as(const struct nvfs_buddy *b, const struct snap *s)
{
	struct snap now = { 0 };
	bool eq;

	snap_take(b, &now);
	eq = snap_equal(&now, s);
	snap_fini(&now);
	return eq;
}

/*
 * assert_exact_cover -- every free block is aligned and in range, and
 * together they tile [first, first + nr) exactly.
 */
static void
assert_exact_cover(const struct nvfs_buddy *b, uint64_t first, uint64_t nr)
{
	struct snap s = { 0 };
	uint64_t next = first, sum = 0;

	snap_take(b, &s);
	for (size_t i = 0; i < s.n; i++) {
		uint64_t size = (uint64_t)1 << s.v[i].order;

		CU_ASSERT(s.v[i].order < nvfs_buddy_max_order(b));
		CU_ASSERT_EQUAL(s.v[i].pgoff & (size - 1), 0);
		CU_ASSERT_EQUAL(s.v[i].pgoff, next);
		CU_ASSERT(s.v[i].pgoff >= first);
		CU_ASSERT(s.v[i].pgoff - first + size <= nr);
		next = s.v[i].pgoff + size;
		sum += size;
	}
	CU_ASSERT_EQUAL(next, first + nr);
	CU_ASSERT_EQUAL(sum, nr);
	CU_ASSERT_EQUAL(nvfs_buddy_free_pages(b), nr);
	snap_fini(&s);
}

/* assert_blocks -- the sorted free blocks are exactly want[0..n) */
static void
assert_blocks(const struct nvfs_buddy *b, const struct blk *want, size_t n)
{
	struct snap s = { 0 };

	snap_take(b, &s);
	CU_ASSERT_EQUAL_FATAL(s.n, n);
	for (size_t i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(s.v[i].pgoff, want[i].pgoff);
		CU_ASSERT_EQUAL(s.v[i].order, want[i].order);
	}
	snap_fini(&s);
}

/* test_buddy_new_decomposes_unaligned_range -- greedy aligned tiling */
static void
test_buddy_new_decomposes_unaligned_range(void)
{
	static const struct blk want[] = {
		{ 5, 0 }, { 6, 1 }, { 8, 3 }, { 16, 4 },
		{ 32, 5 }, { 64, 5 }, { 96, 3 }, { 104, 0 },
	};
	static const uint64_t firsts[] = { 0, 3, 4096 + 3, 12345, 1 << 20 };
	struct nvfs_buddy *b = NULL;

	CU_ASSERT_EQUAL_FATAL(nvfs_buddy_new(5, 100, 20, &b), 0);
	assert_blocks(b, want, sizeof(want) / sizeof(want[0]));
	CU_ASSERT_EQUAL(nvfs_buddy_free_blocks(b, 5), 2);
	CU_ASSERT_EQUAL(nvfs_buddy_free_blocks(b, 6), 0);
	CU_ASSERT_EQUAL(nvfs_buddy_free_pages(b), 100);
	CU_ASSERT_EQUAL(nvfs_buddy_max_order(b), 20);
	CU_ASSERT_EQUAL(nvfs_buddy_check(b), 0);
	nvfs_buddy_delete(&b);
	CU_ASSERT_PTR_NULL(b);

	for (size_t i = 0; i < sizeof(firsts) / sizeof(firsts[0]); i++) {
		uint64_t nr = (1 << 16) + 2 * i + 1;

		CU_ASSERT_EQUAL_FATAL(nvfs_buddy_new(firsts[i], nr, 20, &b), 0);
		assert_exact_cover(b, firsts[i], nr);
		CU_ASSERT_EQUAL(nvfs_buddy_check(b), 0);
		nvfs_buddy_delete(&b);
	}
}

/* test_buddy_new_caps_blocks_at_max_order -- no block of order max_order */
static void
test_buddy_new_caps_blocks_at_max_order(void)
{
	struct nvfs_buddy *b = NULL;

	CU_ASSERT_EQUAL_FATAL(nvfs_buddy_new(0, 64, 3, &b), 0);
	CU_ASSERT_EQUAL(nvfs_buddy_free_blocks(b, 2), 16);
	CU_ASSERT_EQUAL(nvfs_buddy_free_blocks(b, 3), 0);
	assert_exact_cover(b, 0, 64);
	CU_ASSERT_EQUAL(nvfs_buddy_check(b), 0);
	nvfs_buddy_delete(&b);

	CU_ASSERT_EQUAL_FATAL(nvfs_buddy_new(7, 9, 1, &b), 0);
	CU_ASSERT_EQUAL(nvfs_buddy_free_blocks(b, 0), 9);
	assert_exact_cover(b, 7, 9);
	CU_ASSERT_EQUAL(nvfs_buddy_check(b), 0);
	nvfs_buddy_delete(&b);
}

/* test_buddy_new_rejects_invalid_args -- empty, bad max_order, overflow */
static void
test_buddy_new_rejects_invalid_args(void)
{
	struct nvfs_buddy *b = NULL;

	CU_ASSERT_EQUAL(nvfs_buddy_new(0, 0, 10, &b), -EINVAL);
	CU_ASSERT_EQUAL(nvfs_buddy_new(0, 16, 0, &b), -EINVAL);
	CU_ASSERT_EQUAL(nvfs_buddy_new(0, 16, 33, &b), -EINVAL);
	CU_ASSERT_EQUAL(nvfs_buddy_new(UINT64_MAX - 9, 10, 4, &b), -EINVAL);
	CU_ASSERT_EQUAL(nvfs_buddy_new(1, UINT64_MAX, 4, &b), -EINVAL);
	CU_ASSERT_PTR_NULL(b);
	CU_ASSERT_EQUAL(nvfs_buddy_new(0, 16, 32, &b), 0);
	CU_ASSERT_EQUAL(nvfs_buddy_free_blocks(b, 4), 1);
	nvfs_buddy_delete(&b);
}

/* test_buddy_new_handles_range_at_top -- pages just below UINT64_MAX */
static void
test_buddy_new_handles_range_at_top(void)
{
	uint64_t first = UINT64_MAX - 40, got[40], p;
	struct nvfs_buddy *b = NULL;
	struct snap init = { 0 };

	CU_ASSERT_EQUAL_FATAL(nvfs_buddy_new(first, 40, 32, &b), 0);
	assert_exact_cover(b, first, 40);
	snap_take(b, &init);
	for (int i = 0; i < 40; i++) {
		CU_ASSERT_EQUAL(nvfs_buddy_alloc(b, 0, &got[i]), 0);
		CU_ASSERT(got[i] >= first && got[i] < first + 40);
	}
	CU_ASSERT_EQUAL(nvfs_buddy_alloc(b, 0, &p), -ENOSPC);
	CU_ASSERT_EQUAL(nvfs_buddy_free(b, UINT64_MAX - 1, 1), -EINVAL);
	for (int i = 0; i < 40; i++)
		CU_ASSERT_EQUAL(nvfs_buddy_free(b, got[i], 0), 0);
	CU_ASSERT(same_as(b, &init));
	CU_ASSERT_EQUAL(nvfs_buddy_check(b), 0);
	snap_fini(&init);
	nvfs_buddy_delete(&b);
}

/* test_buddy_alloc_splits_largest_block -- upper halves stay free */
static void
test_buddy_alloc_splits_largest_block(void)
{
	struct nvfs_buddy *b = NULL;
	uint64_t p = 99;

	CU_ASSERT_EQUAL_FATAL(nvfs_buddy_new(1024, 1024, 11, &b), 0);
	CU_ASSERT_EQUAL(nvfs_buddy_free_blocks(b, 10), 1);
	CU_ASSERT_EQUAL(nvfs_buddy_alloc(b, 0, &p), 0);
	CU_ASSERT_EQUAL(p, 1024);
	for (unsigned o = 0; o < 10; o++)
		CU_ASSERT_EQUAL(nvfs_buddy_free_blocks(b, o), 1);
	CU_ASSERT_EQUAL(nvfs_buddy_free_blocks(b, 10), 0);
	CU_ASSERT_EQUAL(nvfs_buddy_free_pages(b), 1023);
	CU_ASSERT_EQUAL(nvfs_buddy_check(b), 0);

	/* an order-3 request takes the existing order-3 block, no split */
	CU_ASSERT_EQUAL(nvfs_buddy_alloc(b, 3, &p), 0);
	CU_ASSERT_EQUAL(p, 1024 + 8);
	CU_ASSERT_EQUAL(nvfs_buddy_free_blocks(b, 3), 0);
	CU_ASSERT_EQUAL(nvfs_buddy_free_blocks(b, 4), 1);
	CU_ASSERT_EQUAL(nvfs_buddy_check(b), 0);
	nvfs_buddy_delete(&b);
}

/* test_buddy_free_merges_to_max_order -- any free order restores one block */
static void
test_buddy_free_merges_to_max_order(void)
{
	static const struct blk whole[] = { { 0, 9 } };
	uint64_t seed = nvfs_test_seed(), got[512];
	struct nvfs_buddy *b = NULL;

	CU_ASSERT_EQUAL_FATAL(nvfs_buddy_new(0, 512, 10, &b), 0);
	assert_blocks(b, whole, 1);
	for (int i = 0; i < 512; i++)
		CU_ASSERT_EQUAL(nvfs_buddy_alloc(b, 0, &got[i]), 0);
	CU_ASSERT_EQUAL(nvfs_buddy_free_pages(b), 0);
	CU_ASSERT_EQUAL(nvfs_buddy_check(b), 0);
	/* free in a shuffled order: every merge must still happen */
	for (int i = 511; i > 0; i--) {
		int j = (int)(nvfs_test_rand(&seed) % (uint64_t)(i + 1));
		uint64_t t = got[i];

		got[i] = got[j];
		got[j] = t;
	}
	for (int i = 0; i < 512; i++) {
		CU_ASSERT_EQUAL(nvfs_buddy_free(b, got[i], 0), 0);
		if (i % 37 == 0)
			CU_ASSERT_EQUAL(nvfs_buddy_check(b), 0);
	}
	assert_blocks(b, whole, 1);
	CU_ASSERT_EQUAL(nvfs_buddy_check(b), 0);
	nvfs_buddy_delete(&b);
}

/* test_buddy_free_stops_at_range_edge -- buddies outside never merge */
static void
test_buddy_free_stops_at_range_edge(void)
{
	static const struct blk want[] = { { 2, 1 }, { 4, 1 } };
	struct nvfs_buddy *b = NULL;
	uint64_t p1, p2;

	CU_ASSERT_EQUAL_FATAL(nvfs_buddy_new(2, 4, 8, &b), 0);
	assert_blocks(b, want, 2);
	CU_ASSERT_EQUAL(nvfs_buddy_alloc(b, 1, &p1), 0);
	CU_ASSERT_EQUAL(nvfs_buddy_alloc(b, 1, &p2), 0);
	CU_ASSERT_EQUAL(nvfs_buddy_alloc(b, 0, &p1), -ENOSPC);
	CU_ASSERT_EQUAL(nvfs_buddy_free(b, 4, 1), 0);
	CU_ASSERT_EQUAL(nvfs_buddy_free(b, 2, 1), 0);
	assert_blocks(b, want, 2);
	CU_ASSERT_EQUAL(nvfs_buddy_alloc(b, 2, &p1), -ENOSPC);
	CU_ASSERT_EQUAL(nvfs_buddy_check(b), 0);
	nvfs_buddy_delete(&b);
}

/* test_buddy_alloc_rejects_order_too_large -- order >= max_order */
static void
test_buddy_alloc_rejects_order_too_large(void)
{
	struct nvfs_buddy *b = NULL;
	uint64_t p = 77;

	CU_ASSERT_EQUAL_FATAL(nvfs_buddy_new(0, 64, 6, &b), 0);
	CU_ASSERT_EQUAL(nvfs_buddy_alloc(b, 6, &p), -EINVAL);
	CU_ASSERT_EQUAL(nvfs_buddy_alloc(b, 63, &p), -EINVAL);
	CU_ASSERT_EQUAL(nvfs_buddy_alloc(b, 4000000000u, &p), -EINVAL);
	CU_ASSERT_EQUAL(p, 77);
	CU_ASSERT_EQUAL(nvfs_buddy_free(b, 0, 6), -EINVAL);
	CU_ASSERT_EQUAL(nvfs_buddy_reserve(b, 0, 6), -EINVAL);
	CU_ASSERT_EQUAL(nvfs_buddy_reserve(b, 0, 200), -EINVAL);
	CU_ASSERT_EQUAL(nvfs_buddy_free_pages(b), 64);
	/* max_order - 1 is fine */
	CU_ASSERT_EQUAL(nvfs_buddy_alloc(b, 5, &p), 0);
	CU_ASSERT_EQUAL(nvfs_buddy_check(b), 0);
	nvfs_buddy_delete(&b);
}

/* test_buddy_free_rejects_misaligned_and_out_of_range -- -EINVAL */
static void
test_buddy_free_rejects_misaligned_and_out_of_range(void)
{
	struct nvfs_buddy *b = NULL;
	struct snap before = { 0 };
	uint64_t p;

	CU_ASSERT_EQUAL_FATAL(nvfs_buddy_new(3, 32, 6, &b), 0);
	/* use everything so that a wrongly accepted free would show */
	while (nvfs_buddy_alloc(b, 0, &p) == 0)
		;
	snap_take(b, &before);
	CU_ASSERT_EQUAL(nvfs_buddy_free(b, 5, 1), -EINVAL);
	CU_ASSERT_EQUAL(nvfs_buddy_free(b, 12, 3), -EINVAL);
	CU_ASSERT_EQUAL(nvfs_buddy_reserve(b, 6, 2), -EINVAL);
	CU_ASSERT_EQUAL(nvfs_buddy_free(b, 2, 0), -EINVAL);
	CU_ASSERT_EQUAL(nvfs_buddy_free(b, 35, 0), -EINVAL);
	CU_ASSERT_EQUAL(nvfs_buddy_free(b, 32, 2), -EINVAL);
	CU_ASSERT_EQUAL(nvfs_buddy_free(b, 0, 5), -EINVAL);
	CU_ASSERT_EQUAL(nvfs_buddy_free(b, UINT64_MAX, 0), -EINVAL);
	CU_ASSERT_EQUAL(nvfs_buddy_reserve(b, 2, 1), -EINVAL);
	CU_ASSERT_EQUAL(nvfs_buddy_reserve(b, 32, 3), -EINVAL);
	CU_ASSERT_EQUAL(nvfs_buddy_free_pages(b), 0);
	CU_ASSERT(same_as(b, &before));
	CU_ASSERT_EQUAL(nvfs_buddy_check(b), 0);
	snap_fini(&before);
	nvfs_buddy_delete(&b);
}

/* test_buddy_free_refuses_double_free -- -EEXIST, nothing changes */
static void
test_buddy_free_refuses_double_free(void)
{
	static const struct blk whole[] = { { 0, 6 } };
	struct nvfs_buddy *b = NULL;
	struct snap before = { 0 };
	uint64_t p;

	CU_ASSERT_EQUAL_FATAL(nvfs_buddy_new(0, 64, 7, &b), 0);
	CU_ASSERT_EQUAL(nvfs_buddy_alloc(b, 2, &p), 0);
	CU_ASSERT_EQUAL(p, 0);
	CU_ASSERT_EQUAL(nvfs_buddy_free(b, 0, 2), 0);
	assert_blocks(b, whole, 1);
	/* the block was merged into (0, 6): freeing it again is refused */
	CU_ASSERT_EQUAL(nvfs_buddy_free(b, 0, 2), -EEXIST);
	CU_ASSERT_EQUAL(nvfs_buddy_free(b, 0, 6), -EEXIST);
	CU_ASSERT_EQUAL(nvfs_buddy_free(b, 40, 3), -EEXIST);
	assert_blocks(b, whole, 1);

	CU_ASSERT_EQUAL(nvfs_buddy_alloc(b, 0, &p), 0);
	CU_ASSERT_EQUAL(p, 0);
	snap_take(b, &before);
	CU_ASSERT_EQUAL(nvfs_buddy_free(b, 1, 0), -EEXIST);	/* exact */
	CU_ASSERT_EQUAL(nvfs_buddy_free(b, 2, 1), -EEXIST);	/* exact */
	CU_ASSERT_EQUAL(nvfs_buddy_free(b, 3, 0), -EEXIST);	/* inside */
	CU_ASSERT_EQUAL(nvfs_buddy_free(b, 16, 2), -EEXIST);	/* inside */
	CU_ASSERT_EQUAL(nvfs_buddy_free(b, 63, 0), -EEXIST);	/* inside */
	CU_ASSERT(same_as(b, &before));
	CU_ASSERT_EQUAL(nvfs_buddy_free_pages(b), 63);
	CU_ASSERT_EQUAL(nvfs_buddy_check(b), 0);
	/* the real free still works afterwards */
	CU_ASSERT_EQUAL(nvfs_buddy_free(b, 0, 0), 0);
	assert_blocks(b, whole, 1);
	snap_fini(&before);
	nvfs_buddy_delete(&b);
}

/* test_buddy_alloc_exhausts_then_recovers -- -ENOSPC exactly at nr_pages */
static void
test_buddy_alloc_exhausts_then_recovers(void)
{
	const uint64_t first = 4096 + 3, nr = 3000;
	struct nvfs_buddy *b = NULL;
	struct snap init = { 0 };
	uint64_t *got = calloc(nr + 1, sizeof(*got));
	uint8_t *seen = calloc(nr, 1);
	uint64_t n = 0, p;
	int ret;

	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_PTR_NOT_NULL_FATAL(seen);
	CU_ASSERT_EQUAL_FATAL(nvfs_buddy_new(first, nr, 12, &b), 0);
	snap_take(b, &init);
	while (n <= nr && (ret = nvfs_buddy_alloc(b, 0, &got[n])) == 0) {
		CU_ASSERT(got[n] >= first && got[n] < first + nr);
		if (got[n] >= first && got[n] < first + nr) {
			CU_ASSERT_EQUAL(seen[got[n] - first], 0);
			seen[got[n] - first] = 1;
		}
		n++;
	}
	CU_ASSERT_EQUAL(ret, -ENOSPC);
	CU_ASSERT_EQUAL(n, nr);
	CU_ASSERT_EQUAL(nvfs_buddy_free_pages(b), 0);
	for (unsigned o = 0; o < 12; o++) {
		CU_ASSERT_EQUAL(nvfs_buddy_free_blocks(b, o), 0);
		CU_ASSERT_EQUAL(nvfs_buddy_alloc(b, o, &p), -ENOSPC);
	}
	CU_ASSERT_EQUAL(nvfs_buddy_check(b), 0);
	for (uint64_t i = 0; i < n; i++)
		CU_ASSERT_EQUAL(nvfs_buddy_free(b, got[i], 0), 0);
	CU_ASSERT(same_as(b, &init));
	CU_ASSERT_EQUAL(nvfs_buddy_check(b), 0);
	/* recovery: the largest block is available again */
	CU_ASSERT_EQUAL(nvfs_buddy_alloc(b, 10, &p), 0);
	CU_ASSERT_EQUAL(p, 5120);
	CU_ASSERT_EQUAL(nvfs_buddy_alloc(b, 0, &p), 0);
	snap_fini(&init);
	nvfs_buddy_delete(&b);
	free(got);
	free(seen);
}

/* in_reserved -- does page p fall in one of the n reserved blocks? */
static bool
in_reserved(const struct blk *r, size_t n, uint64_t p)
{
	for (size_t i = 0; i < n; i++)
		if (p >= r[i].pgoff && p < r[i].pgoff + ((uint64_t)1 << r[i].order))
			return true;
	return false;
}

/* test_buddy_reserve_excludes_pages_from_alloc -- never handed out */
static void
test_buddy_reserve_excludes_pages_from_alloc(void)
{
	static const struct blk res[] = {
		{ 4128, 3 }, { 4352, 8 }, { 4100, 0 }, { 5098, 0 }, { 4099, 0 },
	};
	const size_t nres = sizeof(res) / sizeof(res[0]);
	const uint64_t first = 4099, nr = 1000;
	uint64_t rpages = 0, n = 0;
	struct nvfs_buddy *b = NULL;
	struct snap init = { 0 };
	uint64_t got[1000];

	CU_ASSERT_EQUAL_FATAL(nvfs_buddy_new(first, nr, 10, &b), 0);
	snap_take(b, &init);
	for (size_t i = 0; i < nres; i++) {
		CU_ASSERT_EQUAL(nvfs_buddy_reserve(b, res[i].pgoff, res[i].order), 0);
		rpages += (uint64_t)1 << res[i].order;
		CU_ASSERT_EQUAL(nvfs_buddy_free_pages(b), nr - rpages);
		CU_ASSERT_EQUAL(nvfs_buddy_check(b), 0);
	}
	while (n < nr && nvfs_buddy_alloc(b, 0, &got[n]) == 0) {
		CU_ASSERT(!in_reserved(res, nres, got[n]));
		CU_ASSERT(got[n] >= first && got[n] < first + nr);
		n++;
	}
	CU_ASSERT_EQUAL(n, nr - rpages);
	CU_ASSERT_EQUAL(nvfs_buddy_free_pages(b), 0);
	for (uint64_t i = 0; i < n; i++)
		CU_ASSERT_EQUAL(nvfs_buddy_free(b, got[i], 0), 0);
	/* the reserved blocks come back through free like any allocation */
	for (size_t i = 0; i < nres; i++)
		CU_ASSERT_EQUAL(nvfs_buddy_free(b, res[i].pgoff, res[i].order), 0);
	CU_ASSERT(same_as(b, &init));
	CU_ASSERT_EQUAL(nvfs_buddy_check(b), 0);
	snap_fini(&init);
	nvfs_buddy_delete(&b);
}

/* test_buddy_reserve_refuses_overlap -- -EEXIST, nothing changes */
static void
test_buddy_reserve_refuses_overlap(void)
{
	struct nvfs_buddy *b = NULL;
	struct snap before = { 0 };
	uint64_t p;

	CU_ASSERT_EQUAL_FATAL(nvfs_buddy_new(4099, 1000, 10, &b), 0);
	CU_ASSERT_EQUAL(nvfs_buddy_reserve(b, 4128, 3), 0);
	CU_ASSERT_EQUAL(nvfs_buddy_reserve(b, 4352, 8), 0);
	CU_ASSERT_EQUAL(nvfs_buddy_alloc(b, 9, &p), -ENOSPC);
	snap_take(b, &before);
	CU_ASSERT_EQUAL(nvfs_buddy_reserve(b, 4128, 3), -EEXIST);	/* same */
	CU_ASSERT_EQUAL(nvfs_buddy_reserve(b, 4132, 1), -EEXIST);	/* inside */
	CU_ASSERT_EQUAL(nvfs_buddy_reserve(b, 4128, 5), -EEXIST);	/* contains */
	CU_ASSERT_EQUAL(nvfs_buddy_reserve(b, 4352 + 16, 4), -EEXIST);
	CU_ASSERT_EQUAL(nvfs_buddy_reserve(b, 4352, 8), -EEXIST);
	CU_ASSERT(same_as(b, &before));
	CU_ASSERT_EQUAL(nvfs_buddy_check(b), 0);
	/* an allocated block is as taken as a reserved one */
	CU_ASSERT_EQUAL(nvfs_buddy_alloc(b, 4, &p), 0);
	CU_ASSERT_EQUAL(nvfs_buddy_reserve(b, p, 4), -EEXIST);
	CU_ASSERT_EQUAL(nvfs_buddy_reserve(b, p + 15, 0), -EEXIST);
	/* a free block next to the reserved one is still reservable */
	CU_ASSERT_EQUAL(nvfs_buddy_reserve(b, 4608, 7), 0);
	CU_ASSERT_EQUAL(nvfs_buddy_reserve(b, 4136, 3), 0);
	CU_ASSERT_EQUAL(nvfs_buddy_check(b), 0);
	snap_fini(&before);
	nvfs_buddy_delete(&b);
}

/* what the model run exercised, for the summary line */
struct model_stats {
	uint64_t allocs;
	uint64_t enospc;
	uint64_t frees;
	uint64_t reserves;
	uint64_t refused;	/* reserves answered -EEXIST or -EINVAL */
	uint64_t full;		/* times the range was completely used */
};

/*
 * The reference model: one byte per page (0 free, 1 used) and the list of
 * live blocks (allocated or reserved, each freed exactly once later).
 */
struct model {
	struct nvfs_buddy *b;
	uint64_t first;
	uint64_t nr;
	unsigned max_order;
	uint8_t *used;
	uint64_t nfree;
	struct blk *live;
	size_t nlive;
	uint64_t rng;
	uint64_t counts[32];	/* scratch for the per-order recount */
	bool filling;		/* phase of the operation mix */
	struct model_stats *st;
};

/* on failure: mark the CUnit assertion and stop the model run */
#define MCHECK(cond) do {			\
	if (!(cond)) {				\
		CU_ASSERT(cond);		\
		return -1;			\
	}					\
} while (0)

/* run_free -- is [pgoff, pgoff + 2^order) entirely free in the model? */
static bool
run_free(const struct model *m, uint64_t pgoff, unsigned order)
{
	return memchr(m->used + (pgoff - m->first), 1,
		      (size_t)1 << order) == NULL;
}

/* model_has_run -- does any aligned free run of this order exist? */
static bool
model_has_run(const struct model *m, uint64_t order)
{
	uint64_t size = (uint64_t)1 << order;
	uint64_t p = (m->first + size - 1) & ~(size - 1);

	for (; p + size <= m->first + m->nr; p += size)
		if (run_free(m, p, (unsigned)order))
			return true;
	return false;
}

/* rand_order -- mostly small (geometric), sometimes any legal order */
static unsigned
rand_order(struct model *m)
{
	uint64_t r = nvfs_test_rand(&m->rng);
	unsigned o = 0;

	if (r % 10 == 0)
		return (unsigned)((r >> 8) % m->max_order);
	r >>= 8;
	while ((r & 1) && o + 1 < m->max_order) {
		o++;
		r >>= 1;
	}
	return o;
}

/* mark -- set the model pages of a block to v */
static void
mark(struct model *m, uint64_t pgoff, unsigned order, uint8_t v)
{
	memset(m->used + (pgoff - m->first), v, (size_t)1 << order);
	if (v)
		m->nfree -= (uint64_t)1 << order;
	else
		m->nfree += (uint64_t)1 << order;
}

/* take -- record a block the allocator handed out or reserved */
static int
take(struct model *m, uint64_t pgoff, unsigned order)
{
	uint64_t size = (uint64_t)1 << order;

	MCHECK((pgoff & (size - 1)) == 0);
	MCHECK(pgoff >= m->first && pgoff - m->first + size <= m->nr);
	MCHECK(run_free(m, pgoff, order));
	mark(m, pgoff, order, 1);
	m->live[m->nlive].pgoff = pgoff;
	m->live[m->nlive].order = order;
	m->nlive++;
	return 0;
}

/* op_alloc -- allocate a random order; -ENOSPC only if the model agrees */
static int
op_alloc(struct model *m)
{
	unsigned o = rand_order(m);
	uint64_t p = UINT64_MAX;
	int ret = nvfs_buddy_alloc(m->b, o, &p);

	if (ret == -ENOSPC) {
		MCHECK(!model_has_run(m, o));
		m->st->enospc++;
		return 0;
	}
	MCHECK(ret == 0);
	m->st->allocs++;
	return take(m, p, o);
}

/* op_free -- free a random live block */
static int
op_free(struct model *m)
{
	size_t i = (size_t)(nvfs_test_rand(&m->rng) % m->nlive);
	struct blk k = m->live[i];

	MCHECK(nvfs_buddy_free(m->b, k.pgoff, k.order) == 0);
	mark(m, k.pgoff, k.order, 0);
	m->live[i] = m->live[--m->nlive];
	m->st->frees++;
	/* freeing it again must be refused: it is now inside a free block */
	if (nvfs_test_rand(&m->rng) % 32 == 0)
		MCHECK(nvfs_buddy_free(m->b, k.pgoff, k.order) == -EEXIST);
	return 0;
}

/*
 * op_reserve -- reserve an aligned block around a random (preferably free)
 * page: 0 if the model says it is wholly free, -EEXIST if not, -EINVAL if it
 * sticks out of the range.
 */
static int
op_reserve(struct model *m)
{
	unsigned o = rand_order(m) % 8;
	uint64_t size = (uint64_t)1 << o, p = 0, base;
	int ret;

	for (int tries = 0; tries < 8; tries++) {
		p = m->first + nvfs_test_rand(&m->rng) % m->nr;
		if (!m->used[p - m->first])
			break;
	}
	base = p & ~(size - 1);
	ret = nvfs_buddy_reserve(m->b, base, o);
	if (base < m->first || base - m->first + size > m->nr) {
		MCHECK(ret == -EINVAL);
		m->st->refused++;
		return 0;
	}
	if (!run_free(m, base, o)) {
		MCHECK(ret == -EEXIST);
		m->st->refused++;
		return 0;
	}
	MCHECK(ret == 0);
	m->st->reserves++;
	return take(m, base, o);
}

/* recount -- foreach callback: blocks per order, and all pages model-free */
static int
recount(void *arg, uint64_t pgoff, unsigned order)
{
	struct model *m = arg;

	if (order >= m->max_order || pgoff < m->first ||
	    pgoff - m->first + ((uint64_t)1 << order) > m->nr ||
	    !run_free(m, pgoff, order))
		return -1;
	m->counts[order]++;
	return 0;
}

/* model_full_check -- check(), per-order counts, free set equals model's */
static int
model_full_check(struct model *m)
{
	uint64_t pages = 0;

	MCHECK(nvfs_buddy_check(m->b) == 0);
	memset(m->counts, 0, sizeof(m->counts));
	MCHECK(nvfs_buddy_foreach_free(m->b, recount, m) == 0);
	for (unsigned o = 0; o < m->max_order; o++) {
		MCHECK(m->counts[o] == nvfs_buddy_free_blocks(m->b, o));
		pages += m->counts[o] << o;
	}
	/* every listed page is model-free and the totals agree: same sets */
	MCHECK(pages == m->nfree);
	return 0;
}

/*
 * model_step -- one random operation.  The mix alternates between filling
 * (until an order-0 request finds the allocator completely full) and
 * draining (until 7/8 of the range is free), so both the nearly empty and
 * the full, fragmented states are exercised.
 */
static int
model_step(struct model *m)
{
	uint64_t r = nvfs_test_rand(&m->rng) % 100;
	int ret;

	if (m->filling && m->nfree == 0) {
		m->filling = false;
		m->st->full++;
	}
	else if (!m->filling && m->nfree >= m->nr / 8 * 7)
		m->filling = true;
	if (r < 5)
		ret = op_reserve(m);
	else if (m->nlive && r >= (m->filling ? 85u : 20u))
		ret = op_free(m);
	else
		ret = op_alloc(m);
	if (ret)
		return ret;
	MCHECK(nvfs_buddy_free_pages(m->b) == m->nfree);
	return 0;
}

/* model_run -- ops random operations over one range, then free everything */
static int
model_run(uint64_t first, uint64_t nr, uint64_t seed, uint64_t ops,
	  struct model *m)
{
	int ret = 0;

	m->first = first;
	m->nr = nr;
	m->nfree = nr;
	m->rng = seed;
	m->filling = true;
	for (uint64_t op = 0; ret == 0 && op < ops; op++) {
		ret = model_step(m);
		if (ret == 0 && (op + 1) % 1000 == 0)
			ret = model_full_check(m);
		if (ret)
			printf("\nbuddy model: failed at op %llu (first %llu, "
			       "seed %llu)\n", (unsigned long long)op,
			       (unsigned long long)first,
			       (unsigned long long)seed);
	}
	if (ret == 0)
		ret = model_full_check(m);
	return ret;
}

/* model_drain -- free every live block; the initial tiling must return */
static int
model_drain(struct model *m, const struct snap *init)
{
	while (m->nlive) {
		if (op_free(m))
			return -1;
	}
	MCHECK(m->nfree == m->nr);
	MCHECK(nvfs_buddy_free_pages(m->b) == m->nr);
	MCHECK(model_full_check(m) == 0);
	MCHECK(same_as(m->b, init));
	return 0;
}

/* model_one -- set up the allocator and model for one range and run it */
static int
model_one(uint64_t first, uint64_t nr, uint64_t seed, uint64_t ops,
	  struct model_stats *st)
{
	struct model m = { .max_order = 20, .st = st };
	struct snap init = { 0 };
	int ret = -1;

	m.used = calloc(nr, 1);
	m.live = calloc(nr, sizeof(*m.live));
	if (m.used && m.live && nvfs_buddy_new(first, nr, m.max_order, &m.b) == 0) {
		snap_take(m.b, &init);
		ret = model_run(first, nr, seed, ops, &m);
		if (ret == 0)
			ret = model_drain(&m, &init);
	} else {
		CU_FAIL("model setup failed");
	}
	snap_fini(&init);
	nvfs_buddy_delete(&m.b);
	free(m.used);
	free(m.live);
	return ret;
}

/* test_buddy_model_random_ops -- random ops against a per-page model */
static void
test_buddy_model_random_ops(void)
{
	static const struct {
		uint64_t first;
		uint64_t nr;
	} ranges[] = {
		{ 4096 + 3, 1 << 16 },
		{ 0, (1 << 16) - 5 },
		{ (1 << 20) + 12345, (1 << 16) + 7 },
		{ 77, 1 << 16 },
	};
	const size_t nranges = sizeof(ranges) / sizeof(ranges[0]);
	uint64_t total = 100000 / nvfs_test_scale_div(), done = 0;
	uint64_t seed = nvfs_test_seed();
	struct model_stats st = { 0 };
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; i < nranges; i++) {
		uint64_t ops = total / nranges;

		if (model_one(ranges[i].first, ranges[i].nr,
			      seed * 0x9e3779b97f4a7c15ULL + i, ops, &st))
			break;
		done += ops;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CU_ASSERT_EQUAL(done, total / nranges * nranges);
	printf("\nbuddy model: %llu ops checked (%llu allocs, %llu -ENOSPC, "
	       "%llu frees, %llu reserves, %llu refused, %llu times full) "
	       "in %.0f ms ",
	       (unsigned long long)done, (unsigned long long)st.allocs,
	       (unsigned long long)st.enospc, (unsigned long long)st.frees,
	       (unsigned long long)st.reserves, (unsigned long long)st.refused,
	       (unsigned long long)st.full,
	       (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
}

NVFS_SUITE(alloc_buddy, "alloc/buddy", NULL, NULL,
	   NVFS_TEST(test_buddy_new_decomposes_unaligned_range),
	   NVFS_TEST(test_buddy_new_caps_blocks_at_max_order),
	   NVFS_TEST(test_buddy_new_rejects_invalid_args),
	   NVFS_TEST(test_buddy_new_handles_range_at_top),
	   NVFS_TEST(test_buddy_alloc_splits_largest_block),
	   NVFS_TEST(test_buddy_free_merges_to_max_order),
	   NVFS_TEST(test_buddy_free_stops_at_range_edge),
	   NVFS_TEST(test_buddy_alloc_rejects_order_too_large),
	   NVFS_TEST(test_buddy_free_rejects_misaligned_and_out_of_range),
	   NVFS_TEST(test_buddy_free_refuses_double_free),
	   NVFS_TEST(test_buddy_alloc_exhausts_then_recovers),
	   NVFS_TEST(test_buddy_reserve_excludes_pages_from_alloc),
	   NVFS_TEST(test_buddy_reserve_refuses_overlap),
	   NVFS_TEST(test_buddy_model_random_ops))
