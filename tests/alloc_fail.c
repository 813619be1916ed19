/* SPDX-License-Identifier: MIT */
/*
 * alloc_fail.c -- persist failures in the allocator.
 *
 * Each scenario sets up a namespace (tracked by the crash simulator from
 * the zero file on, so that what is durable is known), saves it, and runs
 * its operation once without failure, counting the flushes it makes and
 * recording the state after it ("new"; the state before is "old").  Then,
 * for each of those flushes, it runs the operation again from the saved
 * namespace with that flush failing (crash_sim_inject: the pmem hook's
 * failure injection, as a failed msync) and checks:
 *   - the operation returns the error (-EIO), with a message;
 *   - the allocator latched it: every later change (owner create or get,
 *     alloc, free) is refused with it and a message;
 *   - and, reopened strictly without injection, every image -- the
 *     namespace as left (kill: the failed range's stores are still in the
 *     mapping), only what was durable (power: they never reached media),
 *     and random mixes of the two (subset) -- opens, passes
 *     nvfs_alloc_check, owns no page twice, takes new changes, and holds
 *     exactly the old or exactly the new state (blocks, owners, labels):
 *     never a mix.  The power image holds the old state: the persist that
 *     commits each operation is its last one, and it failed or never ran.
 * The flushes: owner create 2 (the head, the commit word); alloc 1 (the
 * record word) or 3 when it needs a record page (the page, the link in the
 * owner head, the record word); free 1 (the zeroing of the record word).
 *
 * A separate test checks that a failed operation leaves what the (latched)
 * allocator reports as it was: nvfs_alloc_check passes, the counters of
 * nvfs_alloc_stats are unchanged, and nvfs_alloc_foreach lists the same
 * blocks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_testlib.h"
#include "crash_sim.h"
#include "nvfs_alloc.h"
#include "nvfs_err.h"
#include "nvfs_ns.h"
#include "nvfs_pmem.h"
#include "nvfs_test.h"

#define AF_NS_BYTES  (NVFS_PAGES_OFF + (4u << 20))  /* 1024 pages */
#define AF_SUBSETS   3u

static const uint8_t uuid_c[NVFS_UUID_BYTES] = { 0xc3, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
static const uint8_t ns_uuid[NVFS_UUID_BYTES] = { 0x55, 0xaa, 9 };

struct af_scenario {
	const char *name;
	void (*setup)(struct nvfs_alloc *a, uint64_t *arg);  /* not failed */
	int (*op)(struct nvfs_alloc *a, uint64_t arg);       /* 0 or the error */
	unsigned flushes;                                    /* the op makes */
};

/* ---- set-ups and operations ---------------------------------------------- */

static int
op_owner_create(struct nvfs_alloc *a, uint64_t arg)
{
	(void)arg;
	int rc = nvfs_alloc_owner_create(a, uuid_c, "new");
	return rc < 0 ? rc : 0;
}

static int
op_alloc(struct nvfs_alloc *a, uint64_t arg)
{
	uint64_t off;
	(void)arg;
	return nvfs_alloc_pages(a, nvfs_alloc_owner_find(a, test_uuid_a), 2, &off);
}

static int
op_free(struct nvfs_alloc *a, uint64_t arg)
{
	return nvfs_alloc_free(a, nvfs_alloc_owner_find(a, test_uuid_a), arg);
}

static const struct af_scenario scenarios[] = {
	{ "owner create", test_setup_blocks, op_owner_create, 2 },
	{ "alloc with the first record page", test_setup_owner, op_alloc, 3 },
	{ "alloc with a second record page", test_setup_full_page, op_alloc, 3 },
	{ "alloc", test_setup_blocks, op_alloc, 1 },
	{ "free", test_setup_blocks, op_free, 1 },
};
#define NR_SCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

/* ---- running ------------------------------------------------------------- */

struct af_run {
	const struct af_scenario *sc;
	char work[4096], check[4096];
	uint8_t *file_img, *durable_img, *img;   /* after setup; a subset */
	uint64_t arg;
	struct test_state *old, *new, *st;
	struct nvfs_alloc_stats old_stats;
	unsigned images, bad;
};

static struct af_run run;  /* static: the buffers are kept, freed at cleanup */

/* af_prepare -- set the scenario up from the zero file; save it and its durable part */
static void
af_prepare(const struct af_scenario *sc)
{
	struct nvfs_pmem *pm;
	struct nvfs_alloc *a;

	run.sc = sc;
	run.arg = 0;
	snprintf(run.work, sizeof(run.work), "%s", nvfs_test_path("af-work.pmem"));
	snprintf(run.check, sizeof(run.check), "%s", nvfs_test_path("af-check.pmem"));
	if (!run.file_img) {
		run.file_img = malloc(AF_NS_BYTES);
		run.durable_img = malloc(AF_NS_BYTES);
		run.img = malloc(AF_NS_BYTES);
		run.old = malloc(sizeof(*run.old));
		run.new = malloc(sizeof(*run.new));
		run.st = malloc(sizeof(*run.st));
	}
	CU_ASSERT_FATAL(run.file_img && run.durable_img && run.img && run.old && run.new &&
			run.st);
	unsetenv("PMEM2_FORCE_GRANULARITY");
	crash_sim_start(run.work, AF_NS_BYTES, 0);
	CU_ASSERT_FATAL(nvfs_pmem_open(run.work, 0, &pm) == 0);
	CU_ASSERT_FATAL(nvfs_ns_format(pm, AF_NS_BYTES, ns_uuid, "fail") == 0);
	nvfs_pmem_close(&pm);
	CU_ASSERT_FATAL(nvfs_alloc_open(run.work, NULL, &a) == 0);
	sc->setup(a, &run.arg);
	test_state_collect(a, run.old);
	nvfs_alloc_stats(a, &run.old_stats);
	nvfs_alloc_close(&a);
	memcpy(run.durable_img, crash_sim_shadow(), AF_NS_BYTES);
	crash_sim_stop();
	CU_ASSERT_FATAL(crash_sim_read_file(run.work, run.file_img, AF_NS_BYTES) == 0);
}

/*
 * af_open_op -- restore the saved namespace, open it, inject (err 0: only
 * count) at flush nth of the operation, run it; returns its result with
 * the allocator still open in *ap
 */
static int
af_open_op(struct nvfs_alloc **ap, unsigned nth, int err)
{
	crash_sim_start_from(run.work, run.file_img, run.durable_img, AF_NS_BYTES, 0);
	CU_ASSERT_FATAL(nvfs_alloc_open(run.work, NULL, ap) == 0);
	crash_sim_inject(0, SIZE_MAX, nth, err);
	int rc = run.sc->op(*ap, run.arg);
	crash_sim_inject_off();
	return rc;
}

/* af_reference -- the operation without failure: its flushes and the new state */
static void
af_reference(void)
{
	struct nvfs_alloc *a;
	int rc = af_open_op(&a, 0, 0);

	if (rc)
		printf("\n  %s: %s", run.sc->name, nvfs_errmsg());
	CU_ASSERT_FATAL(rc == 0);
	unsigned n = crash_sim_inject_matched();
	if (n != run.sc->flushes)
		printf("\n  %s: %u flushes, expected %u", run.sc->name, n, run.sc->flushes);
	CU_ASSERT(n == run.sc->flushes);
	test_state_collect(a, run.new);
	CU_ASSERT(!test_state_equal(run.old, run.new, false));
	nvfs_alloc_close(&a);
	crash_sim_stop();
}

/* refused -- rc is err and the message says something (printed if not) */
static bool
refused(const char *what, int rc, int err)
{
	if (rc == err && nvfs_errmsg()[0])
		return true;
	printf("\n  %s: %s after the failure returned %d ('%s'), expected %d", run.sc->name,
	       what, rc, nvfs_errmsg(), err);
	return false;
}

/* af_latched -- every later change is refused with err */
static void
af_latched(struct nvfs_alloc *a, int err)
{
	uint64_t off;
	int owner = nvfs_alloc_owner_find(a, test_uuid_a);

	CU_ASSERT_FATAL(owner >= 0);
	nvfs_err_clear();
	CU_ASSERT(refused("owner create", nvfs_alloc_owner_create(a, uuid_c, "late"), err));
	nvfs_err_clear();
	CU_ASSERT(refused("owner get", nvfs_alloc_owner_get(a, uuid_c, "late"), err));
	nvfs_err_clear();
	CU_ASSERT(refused("alloc", nvfs_alloc_pages(a, owner, 0, &off), err));
	if (run.old->n) {
		/* a block that was allocated before (and not by the operation) */
		for (unsigned i = 0; i < run.old->n; i++) {
			if (memcmp(run.old->b[i].owner_uuid, test_uuid_a, NVFS_UUID_BYTES) ||
			    run.old->b[i].off == run.arg)
				continue;
			nvfs_err_clear();
			CU_ASSERT(refused("free", nvfs_alloc_free(a, owner, run.old->b[i].off),
					  err));
			break;
		}
	}
	CU_ASSERT_EQUAL(nvfs_alloc_pmem(a)->failed, err);
}

/*
 * af_verify -- reopen img strictly; it must be sound and hold the old
 * state, or (unless old_only) the new one.  Returns false if not.
 */
static bool
af_verify(const uint8_t *img, const char *kind, unsigned nth, bool old_only)
{
	struct nvfs_alloc *a = NULL;
	struct test_state *st = run.st;
	const char *why = NULL;
	uint64_t off;

	run.images++;
	CU_ASSERT_FATAL(crash_sim_write_file(run.check, img, AF_NS_BYTES) == 0);
	int rc = nvfs_alloc_open(run.check, NULL, &a);
	if (rc) {
		printf("\n  FAIL %s, flush %u failed, %s image: open: %s", run.sc->name, nth,
		       kind, nvfs_errmsg());
		return false;
	}
	test_state_collect(a, st);
	bool is_old = test_state_equal(st, run.old, false);
	bool is_new = test_state_equal(st, run.new, false);
	if (nvfs_alloc_check(a))
		why = nvfs_errmsg();
	else if (!test_state_disjoint(st, nvfs_alloc_sb(a)))
		why = "a page is owned twice";
	else if (!is_old && (old_only || !is_new))
		why = old_only ? "not the state before the operation" :
			"neither the state before the operation nor the one after it";
	else {
		/* It takes changes: an owner, an alloc and its free. */
		int o = nvfs_alloc_owner_get(a, uuid_c, "after");
		if (o < 0 || nvfs_alloc_pages(a, o, 1, &off) || nvfs_alloc_free(a, o, off) ||
		    nvfs_alloc_check(a))
			why = nvfs_errmsg();
	}
	if (why)
		printf("\n  FAIL %s, flush %u failed, %s image: %u blocks/%u owners (before: "
		       "%u/%u, after: %u/%u): %s", run.sc->name, nth, kind, st->n, st->owners,
		       run.old->n, run.old->owners, run.new->n, run.new->owners, why);
	nvfs_alloc_close(&a);
	return !why;
}

/* af_fail_at -- the operation with flush nth failing; every check of the file comment */
static void
af_fail_at(unsigned nth)
{
	struct nvfs_alloc *a;
	uint64_t rng = nvfs_test_seed() * 31337 + nth;

	nvfs_err_clear();
	int rc = af_open_op(&a, nth, -EIO);
	CU_ASSERT(crash_sim_inject_fired());
	if (rc != -EIO || !strstr(nvfs_errmsg(), "injected"))
		printf("\n  %s, flush %u failed: returned %d: '%s'", run.sc->name, nth, rc,
		       nvfs_errmsg());
	CU_ASSERT_EQUAL(rc, -EIO);
	CU_ASSERT(strstr(nvfs_errmsg(), "injected") != NULL);
	af_latched(a, -EIO);
	crash_sim_capture(nvfs_alloc_pmem(a));
	nvfs_alloc_close(&a);
	crash_sim_stop();

	run.bad += !af_verify(crash_sim_kill(), "kill", nth, false);
	run.bad += !af_verify(crash_sim_power(), "power", nth, true);
	for (unsigned i = 0; i < AF_SUBSETS && crash_sim_diff_pages(); i++) {
		crash_sim_subset(run.img, &rng);
		run.bad += !af_verify(run.img, "subset", nth, false);
	}
}

/* af_scenario -- every flush of the operation failed in turn */
static void
af_scenario(const struct af_scenario *sc)
{
	af_prepare(sc);
	af_reference();
	run.bad = 0;
	unsigned images = run.images;
	for (unsigned n = 0; n < sc->flushes; n++)
		af_fail_at(n);
	CU_ASSERT(run.bad == 0);
	printf("\n  %s: %u flushes, each failed in turn, %u images reopened", sc->name,
	       sc->flushes, run.images - images);
}

static void
test_alloc_owner_create_persist_failure_latches_old_or_new(void)
{
	af_scenario(&scenarios[0]);
}

static void
test_alloc_recs_page_and_link_persist_failure_latches_old_or_new(void)
{
	af_scenario(&scenarios[1]);
	af_scenario(&scenarios[2]);
}

static void
test_alloc_record_store_persist_failure_latches_old_or_new(void)
{
	af_scenario(&scenarios[3]);
}

static void
test_alloc_free_zeroing_persist_failure_latches_old_or_new(void)
{
	af_scenario(&scenarios[4]);
}

/*
 * after_failure -- every scenario with each of its flushes failing, the
 * latched allocator left open for check(), which returns false (having
 * printed why) if what it reports changed
 */
static void
after_failure(bool (*check)(struct nvfs_alloc *a, const struct af_scenario *sc, unsigned n))
{
	unsigned bad = 0;

	for (unsigned s = 0; s < NR_SCENARIOS; s++) {
		const struct af_scenario *sc = &scenarios[s];
		af_prepare(sc);
		for (unsigned n = 0; n < sc->flushes; n++) {
			struct nvfs_alloc *a;
			CU_ASSERT(af_open_op(&a, n, -EIO) == -EIO);
			bad += !check(a, sc, n);
			nvfs_alloc_close(&a);
			crash_sim_stop();
		}
	}
	CU_ASSERT(bad == 0);
}

/* same_counters -- nvfs_alloc_check passes; pages, records and owners as before */
static bool
same_counters(struct nvfs_alloc *a, const struct af_scenario *sc, unsigned n)
{
	struct nvfs_alloc_stats st;
	int rc = nvfs_alloc_check(a);

	nvfs_alloc_stats(a, &st);
	/* (a record page linked before the failure stays: it is durable) */
	if (!rc && st.pages_free == run.old_stats.pages_free &&
	    st.records == run.old_stats.records && st.owners == run.old_stats.owners)
		return true;
	printf("\n  %s, flush %u failed: nvfs_alloc_check %d (%s); pages free %llu (before "
	       "%llu), records %llu (%llu), owners %u (%u)", sc->name, n, rc,
	       rc ? nvfs_errmsg() : "ok", (unsigned long long)st.pages_free,
	       (unsigned long long)run.old_stats.pages_free, (unsigned long long)st.records,
	       (unsigned long long)run.old_stats.records, st.owners, run.old_stats.owners);
	return false;
}

/* same_blocks -- nvfs_alloc_foreach lists the blocks from before */
static bool
same_blocks(struct nvfs_alloc *a, const struct af_scenario *sc, unsigned n)
{
	test_state_collect(a, run.st);
	if (test_state_equal(run.st, run.old, false))
		return true;
	printf("\n  %s, flush %u failed: nvfs_alloc_foreach lists %u blocks of %u owners; "
	       "before the operation %u", sc->name, n, run.st->n, run.st->owners, run.old->n);
	return false;
}

/*
 * A failed operation changes nothing the allocator reports ("then nothing
 * was allocated" / "then the block stays allocated", nvfs_alloc.h): the
 * latched allocator still passes nvfs_alloc_check with the counters from
 * before ...
 */
static void
test_alloc_failed_change_leaves_counters_and_check_unchanged(void)
{
	after_failure(same_counters);
}

/* ... and nvfs_alloc_foreach lists the same blocks. */
static void
test_alloc_failed_change_leaves_foreach_unchanged(void)
{
	after_failure(same_blocks);
}

static int
alloc_fail_cleanup(void)
{
	crash_sim_release();
	free(run.file_img);
	free(run.durable_img);
	free(run.img);
	free(run.old);
	free(run.new);
	free(run.st);
	memset(&run, 0, sizeof(run));
	return 0;
}

NVFS_SUITE(alloc_fail, "alloc/fail", NULL, alloc_fail_cleanup,
	   NVFS_TEST(test_alloc_owner_create_persist_failure_latches_old_or_new),
	   NVFS_TEST(test_alloc_recs_page_and_link_persist_failure_latches_old_or_new),
	   NVFS_TEST(test_alloc_record_store_persist_failure_latches_old_or_new),
	   NVFS_TEST(test_alloc_free_zeroing_persist_failure_latches_old_or_new),
	   NVFS_TEST(test_alloc_failed_change_leaves_counters_and_check_unchanged),
	   NVFS_TEST(test_alloc_failed_change_leaves_foreach_unchanged))
