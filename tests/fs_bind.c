/* SPDX-License-Identifier: MIT */
/*
 * fs_bind.c -- the SOURCE binding (fs/bind.c, nvfs_bind.h): first bind,
 * the same SOURCE again, a moved SOURCE, another directory with an empty
 * journal (rebound) and with entries pending (refused), read-only calls,
 * pages left unwritten by a crash or stale, every rule B1..B6 broken, and
 * the writes crashed at every persist point (crash_sim.h, as in
 * crash_alloc.c): each image must open, never hold a binding this module
 * refuses, and the next call must leave it bound to the SOURCE it names.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc_testlib.h"
#include "crash_sim.h"
#include "nvfs_alloc.h"
#include "nvfs_bind.h"
#include "nvfs_csum.h"
#include "nvfs_err.h"
#include "nvfs_ns.h"
#include "nvfs_pmem.h"
#include "nvfs_test.h"

#define NS_BYTES       (NVFS_PAGES_OFF + (4u << 20))  /* 1024 pages */
#define SUBSET_IMAGES  4

static const uint8_t bind_uuid[NVFS_UUID_BYTES] = NVFS_BIND_OWNER_UUID;
static const uint8_t other_uuid[NVFS_UUID_BYTES] = { 0x0b, 0x1d, 0x0e };

/* A SOURCE directory: its realpath and an O_PATH descriptor on it. */
struct src {
	char path[PATH_MAX];
	int fd;
};

static struct src src_a, src_b;
static char note[8192];
/* The crash image open in verify_image: a failed fatal assert leaves it open. */
static struct nvfs_alloc *image_alloc;

/* src_try_open -- make (if needed) and open a directory of the scratch dir */
static int
src_try_open(struct src *s, const char *name)
{
	const char *p = nvfs_test_path(name);

	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		return -1;
	s->fd = open(p, O_PATH | O_DIRECTORY);
	if (s->fd < 0 || !realpath(p, s->path))
		return -1;
	return 0;
}

/* src_open -- the same in a test */
static void
src_open(struct src *s, const char *name)
{
	CU_ASSERT_FATAL(src_try_open(s, name) == 0);
}

static int
suite_init(void)
{
	return src_try_open(&src_a, "source-a") || src_try_open(&src_b, "source-b") ? -1 : 0;
}

static int
suite_cleanup(void)
{
	close(src_a.fd);
	close(src_b.fd);
	if (image_alloc)
		nvfs_alloc_close(&image_alloc);
	crash_sim_release();
	return 0;
}

/* fresh -- a formatted namespace at a per-test path, opened */
static struct nvfs_alloc *
fresh(const char *name)
{
	struct nvfs_alloc *a = NULL;

	test_ns_make(nvfs_test_path(name), NS_BYTES);
	CU_ASSERT_FATAL(nvfs_alloc_open(nvfs_test_path(name), NULL, &a) == 0);
	return a;
}

/* reopen -- close and open again (flags: NVFS_ALLOC_RDONLY or 0) */
static struct nvfs_alloc *
reopen(struct nvfs_alloc **a, const char *name, unsigned flags)
{
	struct nvfs_alloc_opts opts = { .flags = flags };

	nvfs_alloc_close(a);
	CU_ASSERT_FATAL(nvfs_alloc_open(nvfs_test_path(name), &opts, a) == 0);
	return *a;
}

/* check -- nvfs_bind_check of s into the file-wide note */
static int
check(struct nvfs_alloc *a, const struct src *s, bool journal_empty, bool readonly)
{
	return nvfs_bind_check(a, s->path, s->fd, journal_empty, readonly, note,
			       sizeof(note));
}

/* has -- hay holds needle (says which when not) */
static bool
has(const char *hay, const char *needle)
{
	if (strstr(hay, needle))
		return true;
	printf("\n  '%s' lacks '%s'", hay, needle);
	return false;
}

/* one_line -- a message or note: not empty, no newline */
static bool
one_line(const char *s)
{
	return s[0] && !strchr(s, '\n');
}

/* expect_bound -- the binding names path (and has gen, unless 0) */
static void
expect_bound(struct nvfs_alloc *a, const char *path, uint64_t gen)
{
	struct nvfs_bind_info info;

	int rc = nvfs_bind_get(a, &info);
	if (rc)
		printf("\n  not bound: %s", nvfs_errmsg());
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_STRING_EQUAL(info.path, path);
	if (gen)
		CU_ASSERT_EQUAL(info.gen, gen);
}

/* owner_blocks -- blocks the binding owner holds (0: no owner) */
static uint64_t
owner_blocks(struct nvfs_alloc *a)
{
	struct nvfs_alloc_owner_info info;
	int o = nvfs_alloc_owner_find(a, bind_uuid);

	if (o < 0)
		return 0;
	CU_ASSERT_FATAL(nvfs_alloc_owner_info(a, o, &info) == 0);
	return info.nr_allocs;
}

/* bind_page -- the binding page, where it is mapped */
static struct nvfs_pm_bind *
bind_page(struct nvfs_alloc *a)
{
	struct nvfs_bind_info info;

	CU_ASSERT_FATAL(nvfs_bind_get(a, &info) == 0);
	return nvfs_alloc_ptr(a, info.page_off);
}

/* extra_page -- one more block of order for the binding owner */
static struct nvfs_pm_bind *
extra_page(struct nvfs_alloc *a, unsigned order)
{
	int o = nvfs_alloc_owner_find(a, bind_uuid);
	uint64_t off;

	CU_ASSERT_FATAL(o >= 0);
	CU_ASSERT_FATAL(nvfs_alloc_pages(a, o, order, &off) == 0);
	return nvfs_alloc_ptr(a, off);
}

/* reseal -- a valid checksum again after an edit, so a later rule is hit */
static void
reseal(struct nvfs_alloc *a, struct nvfs_pm_bind *p)
{
	p->csum = nvfs_csum((const uint8_t *)p + 16, sizeof(*p) - 16,
			    nvfs_ns_seed(nvfs_alloc_sb(a)));
}

/* persist_page -- make an edit durable */
static void
persist_page(struct nvfs_alloc *a, void *p)
{
	CU_ASSERT_FATAL(nvfs_pmem_persist(nvfs_alloc_pmem(a), p, NVFS_PAGE_BYTES) == 0);
}

/* ---- binding, checking, moving, rebinding ------------------------------- */

static void
test_bind_check_first_bind_records_source(void)
{
	struct nvfs_alloc *a = fresh("first.pmem");
	struct nvfs_bind_info info;
	struct statx stx;

	CU_ASSERT_EQUAL(nvfs_bind_get(a, &info), -ENOENT);
	CU_ASSERT_EQUAL(check(a, &src_a, false, false), 0);
	CU_ASSERT_STRING_EQUAL(note, "");
	CU_ASSERT_EQUAL(owner_blocks(a), 1);
	reopen(&a, "first.pmem", 0); /* durable */
	CU_ASSERT_EQUAL_FATAL(nvfs_bind_get(a, &info), 0);
	CU_ASSERT_STRING_EQUAL(info.path, src_a.path);
	CU_ASSERT_EQUAL(info.gen, 1);
	CU_ASSERT_FATAL(statx(src_a.fd, "", AT_EMPTY_PATH, STATX_INO | STATX_BTIME, &stx) == 0);
	CU_ASSERT_EQUAL(info.ino, stx.stx_ino);
	uint64_t btime = (stx.stx_mask & STATX_BTIME) ?
		(uint64_t)stx.stx_btime.tv_sec * 1000000000u + stx.stx_btime.tv_nsec : 0;
	CU_ASSERT_EQUAL(info.btime_ns, btime);
	const struct nvfs_pm_bind *p = nvfs_alloc_ptr(a, info.page_off);
	CU_ASSERT_EQUAL(p->magic, nvfs_pm_bind_magic(nvfs_ns_seed(nvfs_alloc_sb(a))));
	CU_ASSERT_EQUAL(p->path_bytes, strlen(src_a.path));
	CU_ASSERT(nvfs_alloc_check(a) == 0);
	nvfs_alloc_close(&a);
}

static void
test_bind_check_same_source_again_writes_nothing(void)
{
	struct nvfs_alloc *a = fresh("same.pmem");

	CU_ASSERT_EQUAL(check(a, &src_a, true, false), 0);
	uint8_t *before = malloc(NVFS_PAGE_BYTES);
	CU_ASSERT_FATAL(before != NULL);
	memcpy(before, bind_page(a), NVFS_PAGE_BYTES);
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(check(a, &src_a, i & 1, false), 0);
		CU_ASSERT_STRING_EQUAL(note, "");
	}
	CU_ASSERT(memcmp(before, bind_page(a), NVFS_PAGE_BYTES) == 0);
	expect_bound(a, src_a.path, 1);
	CU_ASSERT_EQUAL(owner_blocks(a), 1);
	free(before);
	nvfs_alloc_close(&a);
}

static void
test_bind_check_moved_source_updates_path(void)
{
	struct nvfs_alloc *a = fresh("moved.pmem");
	struct src s, moved;
	char old[PATH_MAX];

	src_open(&s, "moved-src");
	CU_ASSERT_EQUAL(check(a, &s, false, false), 0);
	snprintf(old, sizeof(old), "%s", s.path);
	CU_ASSERT_FATAL(rename(nvfs_test_path("moved-src"), nvfs_test_path("moved-dst")) == 0);
	CU_ASSERT_FATAL(realpath(nvfs_test_path("moved-dst"), moved.path) != NULL);
	moved.fd = s.fd; /* the same directory, under its new name */

	/* The journal is not empty: a move is no reason to refuse. */
	CU_ASSERT_EQUAL(check(a, &moved, false, false), 0);
	CU_ASSERT(one_line(note));
	CU_ASSERT(has(note, "SOURCE moved from"));
	CU_ASSERT(has(note, old));
	CU_ASSERT(has(note, moved.path));
	expect_bound(a, moved.path, 2);
	CU_ASSERT_EQUAL(owner_blocks(a), 1); /* the old page was let go */
	reopen(&a, "moved.pmem", 0);
	expect_bound(a, moved.path, 2);
	CU_ASSERT_EQUAL(check(a, &moved, false, false), 0);
	CU_ASSERT_STRING_EQUAL(note, "");
	CU_ASSERT(nvfs_alloc_check(a) == 0);
	close(s.fd);
	nvfs_alloc_close(&a);
}

static void
test_bind_check_other_source_empty_journal_rebinds(void)
{
	struct nvfs_alloc *a = fresh("rebind.pmem");

	CU_ASSERT_EQUAL(check(a, &src_a, false, false), 0);
	CU_ASSERT_EQUAL(check(a, &src_b, true, false), 0);
	CU_ASSERT(one_line(note));
	CU_ASSERT(has(note, "rebound to"));
	CU_ASSERT(has(note, src_a.path));
	CU_ASSERT(has(note, src_b.path));
	CU_ASSERT(has(note, "journal was empty"));
	expect_bound(a, src_b.path, 2);
	CU_ASSERT_EQUAL(owner_blocks(a), 1);
	reopen(&a, "rebind.pmem", 0);
	expect_bound(a, src_b.path, 2);
	/* Bound to b now: a with entries pending is refused. */
	CU_ASSERT_EQUAL(check(a, &src_a, false, false), -EXDEV);
	nvfs_alloc_close(&a);
}

static void
test_bind_check_other_source_pending_entries_refused(void)
{
	struct nvfs_alloc *a = fresh("refuse.pmem");

	CU_ASSERT_EQUAL(check(a, &src_a, false, false), 0);
	uint8_t *before = malloc(NVFS_PAGE_BYTES);
	CU_ASSERT_FATAL(before != NULL);
	memcpy(before, bind_page(a), NVFS_PAGE_BYTES);
	CU_ASSERT_EQUAL(check(a, &src_b, false, false), -EXDEV);
	CU_ASSERT(one_line(nvfs_errmsg()));
	CU_ASSERT(has(nvfs_errmsg(), src_a.path));
	CU_ASSERT(has(nvfs_errmsg(), src_b.path));
	CU_ASSERT(has(nvfs_errmsg(), "not yet applied"));
	CU_ASSERT_STRING_EQUAL(note, "");
	CU_ASSERT(memcmp(before, bind_page(a), NVFS_PAGE_BYTES) == 0);
	/* The same path string on another directory is another identity too. */
	CU_ASSERT_EQUAL(nvfs_bind_check(a, src_a.path, src_b.fd, false, false, NULL, 0),
			-EXDEV);
	/* ... and the refusal says so, rather than "journals X, not X" */
	CU_ASSERT(one_line(nvfs_errmsg()));
	CU_ASSERT(has(nvfs_errmsg(), "another directory now"));
	expect_bound(a, src_a.path, 1);
	free(before);
	nvfs_alloc_close(&a);
}

/* ---- read-only ----------------------------------------------------------- */

static void
test_bind_check_readonly_unbound_writes_nothing(void)
{
	struct nvfs_alloc *a = fresh("ro-unbound.pmem");

	CU_ASSERT_EQUAL(check(a, &src_a, false, true), 0);
	CU_ASSERT_STRING_EQUAL(note, "");
	CU_ASSERT_EQUAL(nvfs_alloc_owner_find(a, bind_uuid), -ENOENT);
	/* A read-only allocator implies read-only, whatever the caller says. */
	reopen(&a, "ro-unbound.pmem", NVFS_ALLOC_RDONLY);
	CU_ASSERT_EQUAL(check(a, &src_a, false, false), 0);
	CU_ASSERT_EQUAL(nvfs_alloc_owner_find(a, bind_uuid), -ENOENT);
	nvfs_alloc_close(&a);
}

static void
test_bind_check_readonly_mismatch_refused_move_not_recorded(void)
{
	struct nvfs_alloc *a = fresh("ro-mismatch.pmem");
	struct src moved = src_a;

	CU_ASSERT_EQUAL(check(a, &src_a, false, false), 0);
	reopen(&a, "ro-mismatch.pmem", NVFS_ALLOC_RDONLY);
	CU_ASSERT_EQUAL(check(a, &src_b, false, true), -EXDEV);
	CU_ASSERT(has(nvfs_errmsg(), src_a.path) && has(nvfs_errmsg(), src_b.path));
	/* Nothing pending: a read-only look at another directory is harmless. */
	CU_ASSERT_EQUAL(check(a, &src_b, true, true), 0);
	CU_ASSERT(one_line(note) && has(note, "not rebound (read-only)"));
	snprintf(moved.path, sizeof(moved.path), "%s-elsewhere", src_a.path);
	CU_ASSERT_EQUAL(check(a, &moved, false, true), 0);
	CU_ASSERT(has(note, "SOURCE moved from") && has(note, "not recorded: read-only"));
	CU_ASSERT_EQUAL(check(a, &src_a, false, true), 0);
	CU_ASSERT_STRING_EQUAL(note, "");
	reopen(&a, "ro-mismatch.pmem", 0);
	expect_bound(a, src_a.path, 1);
	nvfs_alloc_close(&a);
}

/* ---- pages a crash leaves: unwritten, torn before the commit, stale ------ */

/* unwritten_case -- edit the binding page; it must read as "not bound" */
static void
unwritten_case(const char *name, void (*edit)(struct nvfs_pm_bind *p))
{
	struct nvfs_alloc *a = fresh(name);
	struct nvfs_bind_info info;

	CU_ASSERT_EQUAL(check(a, &src_a, false, false), 0);
	struct nvfs_pm_bind *p = bind_page(a);
	edit(p);
	persist_page(a, p);
	reopen(&a, name, 0);
	CU_ASSERT_EQUAL(nvfs_bind_get(a, &info), -ENOENT);
	CU_ASSERT_EQUAL(check(a, &src_b, false, true), 0);     /* read-only: fine */
	CU_ASSERT_EQUAL(owner_blocks(a), 1);                   /* and untouched */
	/* Not bound: even with entries pending, the next call binds. */
	CU_ASSERT_EQUAL(check(a, &src_b, false, false), 0);
	CU_ASSERT_STRING_EQUAL(note, "");
	expect_bound(a, src_b.path, 1);
	CU_ASSERT_EQUAL(owner_blocks(a), 1);                   /* the page reused */
	CU_ASSERT(nvfs_alloc_check(a) == 0);
	nvfs_alloc_close(&a);
}

static void
edit_zero(struct nvfs_pm_bind *p)
{
	memset(p, 0, sizeof(*p));
}

static void
edit_torn_before_commit(struct nvfs_pm_bind *p)
{
	p->magic = 0;                                  /* step 4 not reached */
	memset(p->path + 100, 0xa5, 1000);             /* step 3 half done */
}

static void
edit_stale(struct nvfs_pm_bind *p)
{
	uint64_t rng = 42;
	for (unsigned i = 0; i < sizeof(*p) / 8; i++)
		((uint64_t *)p)[i] = nvfs_test_rand(&rng);
}

static void
test_bind_check_zeroed_page_is_not_bound(void)
{
	unwritten_case("zeroed.pmem", edit_zero);
}

static void
test_bind_check_torn_uncommitted_page_is_not_bound(void)
{
	unwritten_case("torn.pmem", edit_torn_before_commit);
}

static void
test_bind_check_stale_page_is_not_bound(void)
{
	unwritten_case("stale.pmem", edit_stale);
}

static void
test_bind_check_frees_leftover_pages(void)
{
	struct nvfs_alloc *a = fresh("leftover.pmem");
	struct nvfs_bind_info info;

	CU_ASSERT_EQUAL(check(a, &src_a, false, false), 0);
	CU_ASSERT_EQUAL(check(a, &src_b, true, false), 0);           /* gen 2 */
	/* What a crash in step 5 leaves: the older page, still valid ... */
	struct nvfs_pm_bind *old = extra_page(a, 0);
	memcpy(old, bind_page(a), sizeof(*old));
	old->gen = 1;
	old->path_bytes = (uint32_t)strlen(src_a.path);
	memset(old->path, 0, sizeof(old->path));
	memcpy(old->path, src_a.path, old->path_bytes);
	reseal(a, old);
	persist_page(a, old);
	uint64_t old_off = (uint64_t)((char *)old - (char *)nvfs_alloc_ptr(a, 0));
	/* ... and what one in steps 1..3 leaves: an unwritten page. */
	struct nvfs_pm_bind *junk = extra_page(a, 0);
	edit_stale(junk);
	persist_page(a, junk);
	reopen(&a, "leftover.pmem", 0);
	expect_bound(a, src_b.path, 2);                 /* the largest gen wins */
	CU_ASSERT_EQUAL(check(a, &src_b, false, true), 0);
	CU_ASSERT_EQUAL(owner_blocks(a), 3);            /* read-only: untouched */
	CU_ASSERT_EQUAL(check(a, &src_b, false, false), 0);
	CU_ASSERT_STRING_EQUAL(note, "");
	CU_ASSERT_EQUAL(owner_blocks(a), 1);            /* leftovers freed ... */
	CU_ASSERT_EQUAL(*(uint64_t *)nvfs_alloc_ptr(a, old_off), 0); /* ... zeroed */
	CU_ASSERT_EQUAL(nvfs_bind_get(a, &info), 0);
	CU_ASSERT_EQUAL(info.gen, 2);
	CU_ASSERT(nvfs_alloc_check(a) == 0);
	nvfs_alloc_close(&a);
}

/* ---- corruption: every rule ---------------------------------------------- */

/*
 * corrupt_case -- break a rule in the binding page (edit) and check every
 * outcome: refused while entries are pending (even for the same SOURCE),
 * read-only with an empty journal passes with a note, writable with an
 * empty journal rewrites for the SOURCE given, with a note naming the rule.
 */
static void
corrupt_case(const char *name, void (*edit)(struct nvfs_alloc *a, struct nvfs_pm_bind *p),
	     const char *rule)
{
	struct nvfs_alloc *a = fresh(name);
	struct nvfs_bind_info info;

	CU_ASSERT_EQUAL(check(a, &src_a, false, false), 0);
	struct nvfs_pm_bind *p = bind_page(a);
	edit(a, p);
	persist_page(a, p);
	reopen(&a, name, 0);
	CU_ASSERT_EQUAL(nvfs_bind_get(a, &info), -EUCLEAN);
	CU_ASSERT(has(nvfs_errmsg(), rule));
	CU_ASSERT_EQUAL(check(a, &src_a, false, false), -EUCLEAN);
	CU_ASSERT(one_line(nvfs_errmsg()) && has(nvfs_errmsg(), rule));
	CU_ASSERT(has(nvfs_errmsg(), "mkfs.nvfs -f"));
	CU_ASSERT_EQUAL(check(a, &src_a, false, true), -EUCLEAN);
	CU_ASSERT_EQUAL(check(a, &src_b, true, true), 0);
	CU_ASSERT(one_line(note) && has(note, rule) && has(note, "read-only"));
	CU_ASSERT_EQUAL(nvfs_bind_get(a, &info), -EUCLEAN);   /* nothing written */

	CU_ASSERT_EQUAL(check(a, &src_b, true, false), 0);
	CU_ASSERT(one_line(note) && has(note, rule) && has(note, src_b.path));
	expect_bound(a, src_b.path, 0);
	CU_ASSERT_EQUAL(owner_blocks(a), 1);
	reopen(&a, name, 0);
	expect_bound(a, src_b.path, 0);
	CU_ASSERT_EQUAL(check(a, &src_b, false, false), 0);
	CU_ASSERT_STRING_EQUAL(note, "");
	CU_ASSERT(nvfs_alloc_check(a) == 0);
	nvfs_alloc_close(&a);
}

static void
break_b1_magic(struct nvfs_alloc *a, struct nvfs_pm_bind *p)
{
	(void)a;
	p->magic ^= 1;  /* the rest (and its checksum) intact */
}

static void
break_b2_csum(struct nvfs_alloc *a, struct nvfs_pm_bind *p)
{
	(void)a;
	p->path[1] ^= 0x20;
}

static void
break_b3_version(struct nvfs_alloc *a, struct nvfs_pm_bind *p)
{
	p->version = NVFS_BIND_VERSION + 1;
	reseal(a, p);
}

static void
break_b4_len_zero(struct nvfs_alloc *a, struct nvfs_pm_bind *p)
{
	p->path_bytes = 0;
	reseal(a, p);
}

static void
break_b4_len_too_long(struct nvfs_alloc *a, struct nvfs_pm_bind *p)
{
	p->path_bytes = NVFS_BIND_PATH_BYTES;
	reseal(a, p);
}

static void
break_b4_nul_inside(struct nvfs_alloc *a, struct nvfs_pm_bind *p)
{
	p->path_bytes += 1;
	reseal(a, p);
}

static void
break_b4_not_padded(struct nvfs_alloc *a, struct nvfs_pm_bind *p)
{
	p->path[NVFS_BIND_PATH_BYTES - 1] = 'x';
	reseal(a, p);
}

static void
break_b4_relative(struct nvfs_alloc *a, struct nvfs_pm_bind *p)
{
	p->path[0] = 'x';
	reseal(a, p);
}

static void
break_b5_gen(struct nvfs_alloc *a, struct nvfs_pm_bind *p)
{
	p->gen = 0;
	reseal(a, p);
}

static void
break_b5_reserved(struct nvfs_alloc *a, struct nvfs_pm_bind *p)
{
	p->reserved[7] = 1;
	reseal(a, p);
}

static void
break_b6_order(struct nvfs_alloc *a, struct nvfs_pm_bind *p)
{
	(void)p;
	extra_page(a, 1);
}

static void
break_b6_same_gen(struct nvfs_alloc *a, struct nvfs_pm_bind *p)
{
	struct nvfs_pm_bind *twin = extra_page(a, 0);
	memcpy(twin, p, sizeof(*twin));
	persist_page(a, twin);
}

static void
test_bind_check_b1_damaged_magic(void)
{
	corrupt_case("b1.pmem", break_b1_magic, "(B1)");
}

static void
test_bind_check_b2_bad_checksum(void)
{
	corrupt_case("b2.pmem", break_b2_csum, "(B2)");
}

static void
test_bind_check_b3_version(void)
{
	corrupt_case("b3.pmem", break_b3_version, "(B3)");
}

static void
test_bind_check_b4_path(void)
{
	corrupt_case("b4-zero.pmem", break_b4_len_zero, "(B4)");
	corrupt_case("b4-long.pmem", break_b4_len_too_long, "(B4)");
	corrupt_case("b4-nul.pmem", break_b4_nul_inside, "(B4)");
	corrupt_case("b4-pad.pmem", break_b4_not_padded, "(B4)");
	corrupt_case("b4-rel.pmem", break_b4_relative, "(B4)");
}

static void
test_bind_check_b5_gen_reserved(void)
{
	corrupt_case("b5-gen.pmem", break_b5_gen, "(B5)");
	corrupt_case("b5-res.pmem", break_b5_reserved, "(B5)");
}

static void
test_bind_check_b6_owner_blocks(void)
{
	corrupt_case("b6-order.pmem", break_b6_order, "(B6)");
	corrupt_case("b6-gen.pmem", break_b6_same_gen, "(B6)");
}

/* ---- arguments ----------------------------------------------------------- */

static void
test_bind_check_argument_errors(void)
{
	struct nvfs_alloc *a = fresh("args.pmem");
	char *longp = malloc(NVFS_BIND_PATH_MAX + 2);
	int fd = open(nvfs_test_path("args.pmem"), O_RDONLY);

	CU_ASSERT_FATAL(longp != NULL && fd >= 0);
	CU_ASSERT_EQUAL(nvfs_bind_check(a, "relative/path", src_a.fd, true, false, note,
					sizeof(note)), -EINVAL);
	CU_ASSERT_EQUAL(nvfs_bind_check(a, NULL, src_a.fd, true, false, NULL, 0), -EINVAL);
	memset(longp, 'x', NVFS_BIND_PATH_MAX + 1);
	longp[0] = '/';
	longp[NVFS_BIND_PATH_MAX + 1] = '\0';
	CU_ASSERT_EQUAL(nvfs_bind_check(a, longp, src_a.fd, true, false, NULL, 0),
			-ENAMETOOLONG);
	CU_ASSERT(one_line(nvfs_errmsg()) && strlen(nvfs_errmsg()) < 400);
	CU_ASSERT_EQUAL(nvfs_bind_check(a, src_a.path, fd, true, false, NULL, 0), -ENOTDIR);
	CU_ASSERT_EQUAL(nvfs_bind_check(a, src_a.path, -1, true, false, NULL, 0), -EBADF);
	CU_ASSERT_EQUAL(nvfs_alloc_owner_find(a, bind_uuid), -ENOENT);
	/* The longest path that fits, in a control-character-free message. */
	longp[NVFS_BIND_PATH_MAX] = '\0';
	CU_ASSERT_EQUAL(nvfs_bind_check(a, longp, src_a.fd, true, false, NULL, 0), 0);
	expect_bound(a, longp, 1);
	CU_ASSERT_EQUAL(nvfs_bind_check(a, "/x\ny", src_b.fd, false, false, NULL, 0), -EXDEV);
	CU_ASSERT(one_line(nvfs_errmsg()) && has(nvfs_errmsg(), "/x?y"));
	close(fd);
	free(longp);
	nvfs_alloc_close(&a);
}

/* ---- crash at every persist point ----------------------------------------- */

struct scenario {
	const char *name;
	void (*setup)(struct nvfs_alloc *a);          /* not crashed */
	void (*op)(struct nvfs_alloc *a);             /* crashed */
	/* check a crash image: before the op's commit or after it */
	void (*verify)(struct nvfs_alloc *a, bool final);
};

static char moved_path[PATH_MAX + 16];

static void
setup_none(struct nvfs_alloc *a)
{
	(void)a;
}

static void
setup_bound_a(struct nvfs_alloc *a)
{
	CU_ASSERT_FATAL(check(a, &src_a, false, false) == 0);
}

/* setup_stale_free_page -- leave junk in the pages the bind will get */
static void
setup_stale_free_page(struct nvfs_alloc *a)
{
	int o = nvfs_alloc_owner_create(a, other_uuid, "other");
	uint64_t off[4];

	CU_ASSERT_FATAL(o >= 0);
	for (int i = 0; i < 4; i++) {
		CU_ASSERT_FATAL(nvfs_alloc_pages(a, o, 0, &off[i]) == 0);
		edit_stale(nvfs_alloc_ptr(a, off[i]));
		persist_page(a, nvfs_alloc_ptr(a, off[i]));
	}
	for (int i = 0; i < 4; i++)
		CU_ASSERT_FATAL(nvfs_alloc_free(a, o, off[i]) == 0);
}

static void
op_bind_a(struct nvfs_alloc *a)
{
	CU_ASSERT(check(a, &src_a, false, false) == 0);
}

static void
op_move_a(struct nvfs_alloc *a)
{
	CU_ASSERT(nvfs_bind_check(a, moved_path, src_a.fd, false, false, NULL, 0) == 0);
}

static void
op_rebind_b(struct nvfs_alloc *a)
{
	CU_ASSERT(check(a, &src_b, true, false) == 0);
}

/* bound_path -- the binding's path, or NULL if not bound; never corrupt */
static const char *
bound_path(struct nvfs_alloc *a, struct nvfs_bind_info *info)
{
	int rc = nvfs_bind_get(a, info);
	if (rc && rc != -ENOENT)
		printf("\n  crash image: %s", nvfs_errmsg());
	CU_ASSERT_FATAL(rc == 0 || rc == -ENOENT);
	return rc ? NULL : info->path;
}

static void
verify_first_bind(struct nvfs_alloc *a, bool final)
{
	struct nvfs_bind_info info;
	const char *p = bound_path(a, &info);

	CU_ASSERT(p ? !strcmp(p, src_a.path) : !final);
	CU_ASSERT_EQUAL(check(a, &src_a, false, false), 0);
	expect_bound(a, src_a.path, 1);
	CU_ASSERT_EQUAL(owner_blocks(a), 1);
	CU_ASSERT_EQUAL(check(a, &src_b, false, false), -EXDEV);   /* bound indeed */
}

static void
verify_move(struct nvfs_alloc *a, bool final)
{
	struct nvfs_bind_info info;
	const char *p = bound_path(a, &info);

	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT(!strcmp(p, moved_path) || (!final && !strcmp(p, src_a.path)));
	CU_ASSERT_EQUAL(nvfs_bind_check(a, moved_path, src_a.fd, false, false, NULL, 0), 0);
	expect_bound(a, moved_path, 0);
	CU_ASSERT_EQUAL(owner_blocks(a), 1);
}

static void
verify_rebind(struct nvfs_alloc *a, bool final)
{
	struct nvfs_bind_info info;
	const char *p = bound_path(a, &info);

	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT(!strcmp(p, src_b.path) || (!final && !strcmp(p, src_a.path)));
	CU_ASSERT_EQUAL(check(a, &src_b, true, false), 0);
	expect_bound(a, src_b.path, 0);
	CU_ASSERT_EQUAL(owner_blocks(a), 1);
	CU_ASSERT_EQUAL(check(a, &src_a, false, false), -EXDEV);
}

/* run_scenario -- format, setup, op armed at drain target; the op's drains */
static unsigned
run_scenario(const struct scenario *sc, unsigned target)
{
	static const uint8_t ns_uuid[NVFS_UUID_BYTES] = { 0xb1, 0xd0, 7 };
	const char *work = nvfs_test_path("bind-crash-work.pmem");
	struct nvfs_pmem *pm;
	struct nvfs_alloc *a;

	crash_sim_start(work, NS_BYTES, target);
	CU_ASSERT_FATAL(nvfs_pmem_open(work, 0, &pm) == 0);  /* the hook sees mkfs */
	CU_ASSERT_FATAL(nvfs_ns_format(pm, NS_BYTES, ns_uuid, "bind") == 0);
	nvfs_pmem_close(&pm);
	CU_ASSERT_FATAL(nvfs_alloc_open(work, NULL, &a) == 0);
	sc->setup(a);
	crash_sim_arm();
	sc->op(a);
	crash_sim_disarm();
	unsigned drains = crash_sim_drains();
	crash_sim_capture(nvfs_alloc_pmem(a));
	nvfs_alloc_close(&a);
	crash_sim_stop();
	return drains;
}

/* verify_image -- reopen a crash image strictly and run the scenario's checks */
static void
verify_image(const struct scenario *sc, const uint8_t *img, const char *model,
	     unsigned point, bool final)
{
	const char *path = nvfs_test_path("bind-crash-image.pmem");

	if (image_alloc)
		nvfs_alloc_close(&image_alloc);
	CU_ASSERT_FATAL(crash_sim_write_file(path, img, crash_sim_size()) == 0);
	int rc = nvfs_alloc_open(path, NULL, &image_alloc);
	if (rc)
		printf("\n  %s point %u (%s): %s", sc->name, point, model, nvfs_errmsg());
	CU_ASSERT_FATAL(rc == 0);
	sc->verify(image_alloc, final);
	CU_ASSERT(nvfs_alloc_check(image_alloc) == 0);
	nvfs_alloc_close(&image_alloc);
}

/* crash_every_point -- the op cut before each of its persists, and after */
static void
crash_every_point(const struct scenario *sc)
{
	uint8_t *img = malloc(NS_BYTES);
	uint64_t rng = nvfs_test_seed() * 104729;

	CU_ASSERT_FATAL(img != NULL);
	snprintf(moved_path, sizeof(moved_path), "%s-moved", src_a.path);
	unsigned points = run_scenario(sc, 0);
	CU_ASSERT(points >= 3);
	for (unsigned n = 1; n <= points + 1; n++) {
		bool final = n == points + 1;
		CU_ASSERT_EQUAL(run_scenario(sc, n), points);
		verify_image(sc, crash_sim_kill(), "kill", n, final);
		verify_image(sc, crash_sim_power(), "power", n, final);
		for (unsigned k = 0; k < SUBSET_IMAGES; k++) {
			crash_sim_subset(img, &rng);
			verify_image(sc, img, "subset", n, final);
		}
	}
	printf("\n  %s: %u persist points, each crashed 3 ways (%u images)", sc->name,
	       points + 1, (points + 1) * (2 + SUBSET_IMAGES));
	free(img);
}

static void
test_bind_check_first_bind_crash_every_point(void)
{
	static const struct scenario sc = { "first bind", setup_none, op_bind_a,
					    verify_first_bind };
	crash_every_point(&sc);
}

static void
test_bind_check_first_bind_over_stale_pages_crash_every_point(void)
{
	static const struct scenario sc = { "first bind over stale pages",
					    setup_stale_free_page, op_bind_a,
					    verify_first_bind };
	crash_every_point(&sc);
}

static void
test_bind_check_move_crash_every_point(void)
{
	static const struct scenario sc = { "moved SOURCE", setup_bound_a, op_move_a,
					    verify_move };
	crash_every_point(&sc);
}

static void
test_bind_check_rebind_crash_every_point(void)
{
	static const struct scenario sc = { "rebind", setup_bound_a, op_rebind_b,
					    verify_rebind };
	crash_every_point(&sc);
}

NVFS_SUITE(fs_bind, "fs/bind", suite_init, suite_cleanup,
	   NVFS_TEST(test_bind_check_first_bind_records_source),
	   NVFS_TEST(test_bind_check_same_source_again_writes_nothing),
	   NVFS_TEST(test_bind_check_moved_source_updates_path),
	   NVFS_TEST(test_bind_check_other_source_empty_journal_rebinds),
	   NVFS_TEST(test_bind_check_other_source_pending_entries_refused),
	   NVFS_TEST(test_bind_check_readonly_unbound_writes_nothing),
	   NVFS_TEST(test_bind_check_readonly_mismatch_refused_move_not_recorded),
	   NVFS_TEST(test_bind_check_zeroed_page_is_not_bound),
	   NVFS_TEST(test_bind_check_torn_uncommitted_page_is_not_bound),
	   NVFS_TEST(test_bind_check_stale_page_is_not_bound),
	   NVFS_TEST(test_bind_check_frees_leftover_pages),
	   NVFS_TEST(test_bind_check_b1_damaged_magic),
	   NVFS_TEST(test_bind_check_b2_bad_checksum),
	   NVFS_TEST(test_bind_check_b3_version),
	   NVFS_TEST(test_bind_check_b4_path),
	   NVFS_TEST(test_bind_check_b5_gen_reserved),
	   NVFS_TEST(test_bind_check_b6_owner_blocks),
	   NVFS_TEST(test_bind_check_argument_errors),
	   NVFS_TEST(test_bind_check_first_bind_crash_every_point),
	   NVFS_TEST(test_bind_check_first_bind_over_stale_pages_crash_every_point),
	   NVFS_TEST(test_bind_check_move_crash_every_point),
	   NVFS_TEST(test_bind_check_rebind_crash_every_point))
