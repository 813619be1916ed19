/* SPDX-License-Identifier: MIT */
/* alloc_testlib.c -- helpers shared by the allocator suites */
#include <stdlib.h>
#include <string.h>

#include "alloc_testlib.h"
#include "nvfs_ns.h"
#include "nvfs_pmem.h"
#include "nvfs_test.h"

/* test_ns_make -- zero file, formatted */
void
test_ns_make(const char *path, uint64_t bytes)
{
	static const uint8_t ns_uuid[NVFS_UUID_BYTES] = { 0x55, 0xaa, 3, 4 };
	struct nvfs_pmem *pm;

	CU_ASSERT_FATAL(nvfs_test_mkfile(path, bytes) == 0);
	CU_ASSERT_FATAL(nvfs_pmem_open(path, 0, &pm) == 0);
	CU_ASSERT_FATAL(nvfs_ns_format(pm, bytes, ns_uuid, "test") == 0);
	nvfs_pmem_close(&pm);
}

struct collect_ctx {
	struct test_state *st;
	const uint8_t *uuid;
};

/* collect_one -- foreach callback */
static int
collect_one(void *arg, uint64_t off, unsigned order)
{
	struct collect_ctx *c = arg;

	if (c->st->n == TEST_MAX_BLOCKS)
		return -ENOSPC;
	struct test_block *b = &c->st->b[c->st->n++];
	memcpy(b->owner_uuid, c->uuid, NVFS_UUID_BYTES);
	b->off = off;
	b->order = order;
	return 0;
}

/* cmp_block -- by offset */
static int
cmp_block(const void *x, const void *y)
{
	const struct test_block *a = x, *b = y;
	return a->off < b->off ? -1 : a->off > b->off;
}

/* test_state_collect -- owners, blocks and free space of an allocator */
void
test_state_collect(struct nvfs_alloc *a, struct test_state *st)
{
	struct nvfs_alloc_stats stats;

	memset(st, 0, sizeof(*st));
	for (int o = nvfs_alloc_owner_next(a, -1); o >= 0; o = nvfs_alloc_owner_next(a, o)) {
		struct nvfs_alloc_owner_info info;
		CU_ASSERT_FATAL(nvfs_alloc_owner_info(a, o, &info) == 0);
		struct collect_ctx c = { st, info.uuid };
		CU_ASSERT_FATAL(nvfs_alloc_foreach(a, o, collect_one, &c) == 0);
		memcpy(st->labels[st->owners], info.label, NVFS_LABEL_BYTES);
		st->owners++;
	}
	qsort(st->b, st->n, sizeof(st->b[0]), cmp_block);
	nvfs_alloc_stats(a, &stats);
	memcpy(st->free_blocks, stats.free_blocks, sizeof(st->free_blocks));
}

/* test_state_equal -- compare two captured states */
bool
test_state_equal(const struct test_state *x, const struct test_state *y, bool free_too)
{
	if (x->n != y->n || x->owners != y->owners ||
	    memcmp(x->labels, y->labels, sizeof(x->labels)))
		return false;
	for (unsigned i = 0; i < x->n; i++)
		if (x->b[i].off != y->b[i].off || x->b[i].order != y->b[i].order ||
		    memcmp(x->b[i].owner_uuid, y->b[i].owner_uuid, NVFS_UUID_BYTES))
			return false;
	return !free_too || memcmp(x->free_blocks, y->free_blocks,
				   sizeof(x->free_blocks)) == 0;
}

/* test_state_disjoint -- sorted blocks do not overlap and fit the area */
bool
test_state_disjoint(const struct test_state *st, const struct nvfs_pm_sb *sb)
{
	uint64_t end = sb->pages_off + sb->pages_total * NVFS_PAGE_BYTES;
	uint64_t prev_end = sb->pages_off;

	for (unsigned i = 0; i < st->n; i++) {
		uint64_t bytes = (uint64_t)NVFS_PAGE_BYTES << st->b[i].order;
		if (st->b[i].off < prev_end || st->b[i].off + bytes > end)
			return false;
		prev_end = st->b[i].off + bytes;
	}
	return true;
}

/* ---- scenario set-ups shared by the failure and crash suites ------------- */

const uint8_t test_uuid_a[NVFS_UUID_BYTES] = { 0xa1, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
const uint8_t test_uuid_b[NVFS_UUID_BYTES] = { 0xb2, 1, 2, 3, 4, 5, 6, 7, 8, 9 };

void
test_setup_owner(struct nvfs_alloc *a, uint64_t *arg)
{
	(void)arg;
	CU_ASSERT_FATAL(nvfs_alloc_owner_create(a, test_uuid_a, "journal") >= 0);
}

void
test_setup_blocks(struct nvfs_alloc *a, uint64_t *arg)
{
	uint64_t off;
	int o = nvfs_alloc_owner_create(a, test_uuid_a, "journal");
	int p = nvfs_alloc_owner_create(a, test_uuid_b, "data");
	CU_ASSERT_FATAL(o >= 0 && p >= 0);
	for (unsigned i = 0; i < 6; i++) {
		CU_ASSERT_FATAL(nvfs_alloc_pages(a, i % 2 ? p : o, i % 3, &off) == 0);
		if (i == 2)
			*arg = off;
	}
}

void
test_setup_full_page(struct nvfs_alloc *a, uint64_t *arg)
{
	uint64_t off;
	int o = nvfs_alloc_owner_create(a, test_uuid_a, "journal");
	CU_ASSERT_FATAL(o >= 0);
	for (unsigned i = 0; i < NVFS_RECS_PER_PAGE; i++)
		CU_ASSERT_FATAL(nvfs_alloc_pages(a, o, 0, &off) == 0);
	*arg = off;
}
