/* SPDX-License-Identifier: MIT */
/*
 * mount_opts.c -- tests of mount.nvfs's -o parser (mount/opts.c): it refuses
 * with a message instead of exiting, and what it keeps outlives the list.
 * The messages and exit status of the helper itself are t30's.
 */
#include <stdlib.h>
#include <string.h>

#include "nvfs_test.h"
#include "../mount/opts.h"

static void
mnt_init(struct mnt *m)
{
	memset(m, 0, sizeof(*m));
	m->pmem_size = DEFAULT_PMEM_SIZE;
	m->timeout = -1;
}

/* parse -- mnt_parse_opts of a heap copy of list, freed before returning */
static int
parse(struct mnt *m, const char *list, char **err)
{
	char *copy = strdup(list);
	CU_ASSERT_FATAL(copy != NULL);
	int rc = mnt_parse_opts(m, copy, err);
	memset(copy, 'X', strlen(copy));
	free(copy);
	return rc;
}

/*
 * fsname= and subtype= are used at mount time, long after the -o list was
 * parsed: they were pointers into the parser's temporary copy of the list,
 * freed at the end of parsing (found by tests/fuzz/mount_opts.c: a
 * heap-use-after-free under ASan)
 */
static void
test_parse_opts_fsname_outlives_list(void)
{
	struct mnt m;
	char *err;

	mnt_init(&m);
	CU_ASSERT_EQUAL(parse(&m, "fsname=myfs,subtype=nvfs2,noatime", &err), 0);
	CU_ASSERT_PTR_NULL(err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m.fsname);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m.subtype);
	CU_ASSERT_STRING_EQUAL(m.fsname, "myfs");
	CU_ASSERT_STRING_EQUAL(m.subtype, "nvfs2");
	/* a later fsname= replaces the earlier one */
	CU_ASSERT_EQUAL(parse(&m, "fsname=other", &err), 0);
	CU_ASSERT_STRING_EQUAL(m.fsname, "other");
	CU_ASSERT_EQUAL(mnt_fuse_opts_finish(&m, "/src", &err), 0);
	CU_ASSERT_STRING_EQUAL(m.fuse_opts, "noatime,subtype=nvfs2,fsname=other");
	mnt_opts_free(&m);
}

/* a bad option is refused with the helper's message, and nothing exits */
static void
test_parse_opts_refuses_with_message(void)
{
	static const struct { const char *list, *msg; } cases[] = {
		{ "bogus", "unknown option 'bogus'" },
		{ "pmem=", "option 'pmem=' needs a path" },
		{ "durability=always", "option 'durability=always': want durability=op, "
		  "durability=fsync or durability=auto" },
		{ "checkpoint_secs=0", "option 'checkpoint_secs=0': want a whole number "
		  "from 1 to 3600" },
		{ "threads=257", "option 'threads=257': want a whole number from 1 to 256" },
		{ "timeout=-1", "option 'timeout=-1': want a number of seconds from 0 to 3600" },
		{ "fsname=", "option 'fsname=' needs a value" },
		{ "pmem_size=16M", "option 'pmem_size=16M': 16777216 bytes is too small: nvfs "
		  "needs at least 25174016 bytes (24 MiB and two pages) for the namespace, "
		  "its journal and its SOURCE binding" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mnt m;
		char *err = NULL;
		mnt_init(&m);
		CU_ASSERT_EQUAL(parse(&m, cases[i].list, &err), -EINVAL);
		CU_ASSERT_PTR_NOT_NULL_FATAL(err);
		CU_ASSERT_STRING_EQUAL(err, cases[i].msg);
		free(err);
		mnt_opts_free(&m);
	}
}

/*
 * fuse_opts is a fixed buffer: a list that would overflow it is refused
 * ("too many options"), and what is in it stays a NUL-terminated list
 */
static void
test_parse_opts_fuse_opts_never_overflow(void)
{
	struct mnt m;
	char *err = NULL;
	size_t n = 0;
	char *big = malloc(3 * FUSE_OPTS_BYTES);

	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	while (n + 12 < 3 * FUSE_OPTS_BYTES) {
		memcpy(big + n, "allow_other,", 12);
		n += 12;
	}
	big[n] = '\0';
	mnt_init(&m);
	CU_ASSERT_EQUAL(parse(&m, big, &err), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(err);
	CU_ASSERT_STRING_EQUAL(err, "too many options");
	CU_ASSERT(strlen(m.fuse_opts) < FUSE_OPTS_BYTES);
	free(err);
	free(big);
	mnt_opts_free(&m);
}

NVFS_SUITE(mount_opts, "mount/opts", NULL, NULL,
	   NVFS_TEST(test_parse_opts_fsname_outlives_list),
	   NVFS_TEST(test_parse_opts_refuses_with_message),
	   NVFS_TEST(test_parse_opts_fuse_opts_never_overflow));
