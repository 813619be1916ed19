/* SPDX-License-Identifier: MIT */
/*
 * crash_alloc.c -- crash the allocator at every persist point.
 *
 * A persist point is a drain (nvfs_pmem_drain): the moment a batch of
 * flushed ranges becomes durable.  The simulator (crash_sim.h) keeps a
 * SHADOW image of what is durable, starting from the all-zero file before
 * mkfs, so a store an earlier operation forgot to persist is also caught.
 * For crash point N of an operation (the crash happens just before its
 * N-th drain takes effect; N = P+1 is "after the operation") three kinds
 * of image are checked:
 *   (a) process killed: every store so far (the mapping as it is);
 *   (b) power lost: only drained ranges (the shadow);
 *   (c) power lost with some unflushed stores reaching media anyway: the
 *       shadow plus a random subset of the 8-byte words that differ
 *       (8-byte stores are not torn).
 * Each image is reopened strictly and must: open; pass nvfs_alloc_check;
 * hold exactly the allocations before the operation or exactly those after
 * it (so at most the in-flight allocation leaks, nothing else changes);
 * own no page twice; and hand out every other page when exhausted, none of
 * them already owned (no allocated page is in the free lists).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvfs_alloc.h"
#include "nvfs_err.h"
#include "nvfs_ns.h"
#include "nvfs_pmem.h"
#include "nvfs_test.h"
#include "alloc_testlib.h"
#include "crash_sim.h"

#define CRASH_NS_BYTES   (NVFS_PAGES_OFF + (4u << 20))  /* 1024 pages */
#define SUBSET_IMAGES    4

/* ---- scenarios ----------------------------------------------------------- */

static const uint8_t ns_uuid[NVFS_UUID_BYTES] = { 0x55, 0xaa, 3 };
static const uint8_t old_uuid[NVFS_UUID_BYTES] = { 0x01, 0xd0, 3 };

struct scenario {
	const char *name;
	/* set up (not crashed); returns an op argument */
	void (*setup)(struct nvfs_alloc *a, uint64_t *arg);
	/* the operation crashed at every persist point */
	void (*op)(struct nvfs_alloc *a, uint64_t arg);
	bool format_only; /* the operation is mkfs itself */
	bool format_over; /* ... over an existing namespace (mkfs -f) */
};

static void
setup_none(struct nvfs_alloc *a, uint64_t *arg)
{
	(void)a; (void)arg;
}

static void
setup_freed_slot(struct nvfs_alloc *a, uint64_t *arg)
{
	test_setup_blocks(a, arg);
	CU_ASSERT_FATAL(nvfs_alloc_free(a, nvfs_alloc_owner_find(a, test_uuid_a), *arg) == 0);
}

static void
op_owner_create(struct nvfs_alloc *a, uint64_t arg)
{
	(void)arg;
	CU_ASSERT(nvfs_alloc_owner_create(a, test_uuid_b, "data") >= 0);
}

static void
op_alloc(struct nvfs_alloc *a, uint64_t arg)
{
	uint64_t off;
	(void)arg;
	CU_ASSERT(nvfs_alloc_pages(a, nvfs_alloc_owner_find(a, test_uuid_a), 2, &off) == 0);
}

static void
op_free(struct nvfs_alloc *a, uint64_t arg)
{
	CU_ASSERT(nvfs_alloc_free(a, nvfs_alloc_owner_find(a, test_uuid_a), arg) == 0);
}

/* ---- verification -------------------------------------------------------- */

/* exhaust_check -- every free page can be allocated and none is owned */
static void
exhaust_check(struct nvfs_alloc *a, const struct test_state *st)
{
	const struct nvfs_pm_sb *sb = nvfs_alloc_sb(a);
	uint64_t first = sb->pages_off / NVFS_PAGE_BYTES;
	uint8_t *owned = calloc(sb->pages_total, 1);
	uint64_t pages = 0;
	uint8_t probe_uuid[NVFS_UUID_BYTES] = { 0xee, 0xee };

	CU_ASSERT_FATAL(owned != NULL);
	for (unsigned i = 0; i < st->n; i++)
		for (uint64_t p = 0; p < (1u << st->b[i].order); p++) {
			uint64_t pg = st->b[i].off / NVFS_PAGE_BYTES + p - first;
			CU_ASSERT_FATAL(pg < sb->pages_total);
			CU_ASSERT_FATAL(!owned[pg]); /* no page owned twice */
			owned[pg] = 1;
			pages++;
		}
	int o = nvfs_alloc_owner_create(a, probe_uuid, "probe");
	CU_ASSERT_FATAL(o >= 0);
	for (int order = NVFS_MAX_ORDER - 1; order >= 0; order--) {
		uint64_t off;
		while (nvfs_alloc_pages(a, o, (unsigned)order, &off) == 0) {
			for (uint64_t p = 0; p < (1u << order); p++) {
				uint64_t pg = off / NVFS_PAGE_BYTES + p - first;
				CU_ASSERT_FATAL(pg < sb->pages_total);
				CU_ASSERT_FATAL(!owned[pg]); /* was in the free lists */
				owned[pg] = 1;
				pages++;
			}
		}
	}
	CU_ASSERT(pages == sb->pages_total);
	free(owned);
}

/*
 * verify_image -- reopen a crash image and check it (see file comment).
 * At the final point (after the operation returned) the image must hold
 * exactly the state after it: what returned is durable.
 */
static void
verify_image(const char *path, const uint8_t *img, const struct scenario *sc,
	     const struct test_state *before, const struct test_state *after, const char *model,
	     unsigned point, bool final)
{
	struct nvfs_alloc *a = NULL;
	struct test_state *st = calloc(1, sizeof(*st));

	CU_ASSERT_FATAL(st != NULL);
	CU_ASSERT_FATAL(crash_sim_write_file(path, img, crash_sim_size()) == 0);
	int rc = nvfs_alloc_open(path, NULL, &a);
	if (sc->format_only && rc && !final) {
		/* A torn mkfs must never look valid, and must say so. */
		bool refused = rc == -EMEDIUMTYPE || rc == -EUCLEAN || rc == -EBADMSG;
		if (!refused)
			printf("\n  %s point %u (%s): %s\n", sc->name, point, model, nvfs_errmsg());
		CU_ASSERT(refused);
		free(st);
		return;
	}
	if (rc)
		printf("\n  %s point %u (%s): %s\n", sc->name, point, model, nvfs_errmsg());
	CU_ASSERT_FATAL(rc == 0);
	CU_ASSERT(nvfs_alloc_check(a) == 0);
	test_state_collect(a, st);
	bool ok = test_state_equal(st, after, false) ||
		  (!final && test_state_equal(st, before, false));
	if (!ok)
		printf("\n  %s point %u (%s): %u blocks/%u owners, expected %s%u/%u\n",
		       sc->name, point, model, st->n, st->owners,
		       final ? "(durable on return) " : "", after->n, after->owners);
	CU_ASSERT(ok);
	exhaust_check(a, st);
	nvfs_alloc_close(&a);
	free(st);
}

/*
 * run_scenario -- run setup + op with the capture armed at drain `target`;
 * fills before/after; returns the number of drains the op made.
 */
static unsigned
run_scenario(const struct scenario *sc, unsigned target, struct test_state *before,
	     struct test_state *after)
{
	const char *work = nvfs_test_path("crash-work.pmem");
	struct nvfs_pmem *pm;
	struct nvfs_alloc *a;
	uint64_t arg = 0;

	crash_sim_start(work, CRASH_NS_BYTES, target);
	if (sc->format_over) {
		/* An old namespace with owners and blocks, durable, then mkfs -f. */
		CU_ASSERT_FATAL(nvfs_pmem_open(work, 0, &pm) == 0);
		CU_ASSERT_FATAL(nvfs_ns_format(pm, CRASH_NS_BYTES, old_uuid, "old") == 0);
		nvfs_pmem_close(&pm);
		CU_ASSERT_FATAL(nvfs_alloc_open(work, NULL, &a) == 0);
		test_setup_blocks(a, &arg);
		test_state_collect(a, before);
		nvfs_alloc_close(&a);
	}
	if (sc->format_only)
		crash_sim_arm();
	CU_ASSERT_FATAL(nvfs_pmem_open(work, 0, &pm) == 0); /* the hook sees mkfs too */
	CU_ASSERT_FATAL(nvfs_ns_format(pm, CRASH_NS_BYTES, ns_uuid, "crash") == 0);
	nvfs_pmem_close(&pm);
	unsigned drains = crash_sim_drains();
	crash_sim_disarm();
	CU_ASSERT_FATAL(nvfs_alloc_open(work, NULL, &a) == 0);
	if (!sc->format_only) {
		sc->setup(a, &arg);
		test_state_collect(a, before);
		crash_sim_arm();
		sc->op(a, arg);
		crash_sim_disarm();
		drains = crash_sim_drains();
	} else if (!sc->format_over) {
		memset(before, 0, sizeof(*before));
	}
	test_state_collect(a, after);
	crash_sim_capture(nvfs_alloc_pmem(a));
	nvfs_alloc_close(&a);
	crash_sim_stop();
	return drains;
}

static unsigned points_checked, images_checked;

/* crash_every_point -- the scenario crashed at each of its persist points */
static void
crash_every_point(const struct scenario *sc)
{
	struct test_state *before = calloc(1, sizeof(*before));
	struct test_state *after = calloc(1, sizeof(*after));
	uint8_t *img = malloc(CRASH_NS_BYTES);
	const char *check = nvfs_test_path("crash-image.pmem");
	uint64_t rng = nvfs_test_seed() * 7919;

	CU_ASSERT_FATAL(before && after && img);
	unsigned points = run_scenario(sc, 0, before, after);
	CU_ASSERT(points >= 1);
	for (unsigned n = 1; n <= points + 1; n++) {
		run_scenario(sc, n, before, after);
		bool final = n == points + 1;
		verify_image(check, crash_sim_kill(), sc, before, after, "kill", n, final);
		verify_image(check, crash_sim_power(), sc, before, after, "power", n, final);
		for (unsigned k = 0; k < SUBSET_IMAGES; k++) {
			crash_sim_subset(img, &rng);
			verify_image(check, img, sc, before, after, "subset", n, final);
		}
		points_checked++;
		images_checked += 2 + SUBSET_IMAGES;
	}
	printf("\n  %s: %u persist points, each crashed 3 ways (%u images)", sc->name,
	       points + 1, (points + 1) * (2 + SUBSET_IMAGES));
	free(before);
	free(after);
	free(img);
}

static void
test_crash_format_every_point_never_looks_valid(void)
{
	static const struct scenario sc = { "mkfs", setup_none, NULL, true };
	crash_every_point(&sc);
}

static void
test_crash_format_over_namespace_every_point_old_or_new(void)
{
	static const struct scenario sc = { "mkfs over a namespace", setup_none, NULL,
					    true, true };
	crash_every_point(&sc);
}

static void
test_crash_owner_create_every_point_old_or_new(void)
{
	static const struct scenario sc = { "owner create", test_setup_owner, op_owner_create,
					    false };
	crash_every_point(&sc);
}

static void
test_crash_first_recs_page_alloc_every_point_old_or_new(void)
{
	static const struct scenario sc = { "first record page + alloc", test_setup_owner,
					    op_alloc, false };
	crash_every_point(&sc);
}

static void
test_crash_alloc_every_point_old_or_new(void)
{
	static const struct scenario sc = { "alloc", test_setup_blocks, op_alloc, false };
	crash_every_point(&sc);
}

static void
test_crash_second_recs_page_alloc_every_point_old_or_new(void)
{
	static const struct scenario sc = { "second record page + alloc", test_setup_full_page,
					    op_alloc, false };
	crash_every_point(&sc);
}

static void
test_crash_free_every_point_old_or_new(void)
{
	static const struct scenario sc = { "free", test_setup_blocks, op_free, false };
	crash_every_point(&sc);
}

static void
test_crash_alloc_reusing_freed_slot_every_point_old_or_new(void)
{
	static const struct scenario sc = { "alloc into a freed slot", setup_freed_slot,
					    op_alloc, false };
	crash_every_point(&sc);
}

static void
test_crash_summary(void)
{
	printf("\n  crash points checked: %u (%u crash images reopened and verified)",
	       points_checked, images_checked);
	CU_ASSERT(points_checked >= 15);
	crash_sim_release();
}

NVFS_SUITE(crash_alloc, "crash/alloc", NULL, NULL,
	   NVFS_TEST(test_crash_format_every_point_never_looks_valid),
	   NVFS_TEST(test_crash_format_over_namespace_every_point_old_or_new),
	   NVFS_TEST(test_crash_owner_create_every_point_old_or_new),
	   NVFS_TEST(test_crash_first_recs_page_alloc_every_point_old_or_new),
	   NVFS_TEST(test_crash_alloc_every_point_old_or_new),
	   NVFS_TEST(test_crash_second_recs_page_alloc_every_point_old_or_new),
	   NVFS_TEST(test_crash_free_every_point_old_or_new),
	   NVFS_TEST(test_crash_alloc_reusing_freed_slot_every_point_old_or_new),
	   NVFS_TEST(test_crash_summary))
