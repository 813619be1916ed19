/* SPDX-License-Identifier: MIT */
/*
 * journal_journal.c -- the journal through its public API: create, append,
 * commit, replay after reopen, checkpoint, wraparound.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_testlib.h"
#include "journal_testlib.h"
#include "nvfs_alloc.h"
#include "nvfs_err.h"
#include "nvfs_journal.h"
#include "nvfs_test.h"

static void
test_journal_create_open_empty(void)
{
	struct jt jt;
	struct nvfs_journal_stats st;

	jt_setup(&jt, "jempty.pmem", 8);
	nvfs_journal_stats(jt.j, &st);
	CU_ASSERT_EQUAL(st.ring_bytes, 8u * NVFS_JOURNAL_BUCKET_BYTES);
	CU_ASSERT_EQUAL(st.nr_buckets, 8);
	CU_ASSERT_EQUAL(st.tail_seq, 1);
	CU_ASSERT_EQUAL(st.next_seq, 1);
	CU_ASSERT_EQUAL(st.used_bytes, 0);
	CU_ASSERT_EQUAL(jt.report.entries, 0);
	CU_ASSERT_FALSE(jt.report.damaged);
	/* A second journal in the same namespace is refused. */
	CU_ASSERT_EQUAL(nvfs_journal_create(jt.a, 8u * NVFS_JOURNAL_BUCKET_BYTES), -EEXIST);
	jt_teardown(&jt);
}

static void
test_journal_create_rejects_bad_sizes(void)
{
	struct nvfs_alloc *a;

	test_ns_make(nvfs_test_path("jsize.pmem"), NVFS_PAGES_OFF + (16u << 20));
	CU_ASSERT_FATAL(nvfs_alloc_open(nvfs_test_path("jsize.pmem"), NULL, &a) == 0);
	CU_ASSERT_EQUAL(nvfs_journal_create(a, NVFS_JOURNAL_BUCKET_BYTES), -EINVAL);
	CU_ASSERT_EQUAL(nvfs_journal_create(a, 64u << 20), -ENOSPC);
	CU_ASSERT_PTR_NOT_NULL(strstr(nvfs_errmsg(), "no room"));
	/* The failed attempt gave its buckets back: a fitting one works. */
	CU_ASSERT_EQUAL(nvfs_journal_create(a, 8u << 20), 0);
	nvfs_alloc_close(&a);
}

static void
test_journal_append_replay_every_size_class(void)
{
	static const size_t sizes[] = { 0, 1, 7, 31, 32, 33, 128, 4000, 4096, 65536,
					1u << 20, NVFS_JOURNAL_MAX_PAYLOAD };
	struct jt jt;
	uint64_t rng = nvfs_test_seed();

	jt_setup(&jt, "jsizes.pmem", 8);
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		int64_t seq = jt_append(&jt, &rng, 1 + i, sizes[i]);
		CU_ASSERT_EQUAL(seq, (int64_t)i + 1);
		CU_ASSERT_EQUAL(nvfs_journal_commit(jt.j, (uint64_t)seq), 0);
	}
	CU_ASSERT_EQUAL(nvfs_journal_append(jt.j, 1, jt.buf, NVFS_JOURNAL_MAX_PAYLOAD + 1),
			-EMSGSIZE);
	CU_ASSERT_EQUAL(nvfs_journal_append(jt.j, 0, jt.buf, 1), -EINVAL);
	jt_reopen(&jt);
	CU_ASSERT_FALSE(jt.report.damaged);
	CU_ASSERT_EQUAL(jt.report.entries, sizeof(sizes) / sizeof(sizes[0]));
	CU_ASSERT(jt_replay_matches(&jt));
	jt_teardown(&jt);
}

static void
test_journal_checkpoint_then_replay_returns_only_later(void)
{
	struct jt jt;
	uint64_t rng = nvfs_test_seed() + 5;

	jt_setup(&jt, "jckpt.pmem", 4);
	int64_t last = 0;
	for (unsigned i = 0; i < 100; i++)
		last = jt_append(&jt, &rng, 7, 100 + i);
	CU_ASSERT_EQUAL(nvfs_journal_commit(jt.j, 0), 0);
	CU_ASSERT_EQUAL(nvfs_journal_checkpoint(jt.j, (uint64_t)last), 0);
	jt_forget_upto(&jt, (uint64_t)last);
	for (unsigned i = 0; i < 10; i++)
		jt_append(&jt, &rng, 8, 50);
	CU_ASSERT_EQUAL(nvfs_journal_commit(jt.j, 0), 0);
	/* Beyond the committed log: refused. */
	CU_ASSERT_EQUAL(nvfs_journal_checkpoint(jt.j, jt.next_seq + 5), -EINVAL);
	jt_reopen(&jt);
	CU_ASSERT_EQUAL(jt.report.entries, 10);
	CU_ASSERT_EQUAL(jt.report.first_seq, (uint64_t)last + 1);
	CU_ASSERT(jt_replay_matches(&jt));
	jt_teardown(&jt);
}

static void
test_journal_wraparound_many_times(void)
{
	struct jt jt;
	uint64_t rng = nvfs_test_seed() + 11;
	struct nvfs_journal_stats st;
	unsigned rounds = 40 / nvfs_test_scale_div();

	jt_setup(&jt, "jwrap.pmem", 2); /* 8 MiB ring */
	for (unsigned r = 0; r < rounds; r++) {
		/* ~3 MiB per round: the ring wraps every ~3 rounds. */
		int64_t last = 0;
		for (unsigned i = 0; i < 40; i++) {
			size_t len = (size_t)(nvfs_test_rand(&rng) % (150u << 10));
			last = jt_append(&jt, &rng, 1 + (unsigned)(r % 5), len);
			CU_ASSERT_FATAL(last > 0);
		}
		CU_ASSERT_EQUAL(nvfs_journal_commit(jt.j, 0), 0);
		if (r % 7 == 3) { /* reopen with a non-empty log sometimes */
			jt_reopen(&jt);
			CU_ASSERT_FATAL(jt_replay_matches(&jt));
		}
		CU_ASSERT_EQUAL(nvfs_journal_checkpoint(jt.j, (uint64_t)last), 0);
		jt_forget_upto(&jt, (uint64_t)last);
	}
	nvfs_journal_stats(jt.j, &st);
	printf("\n  %llu bytes through an 8 MiB ring (%.1f wraps)",
	       (unsigned long long)st.head_lsn, (double)st.head_lsn / (double)st.ring_bytes);
	CU_ASSERT(st.head_lsn > 5 * st.ring_bytes || nvfs_test_scale_div() > 1);
	jt_reopen(&jt);
	CU_ASSERT_EQUAL(jt.report.entries, 0);
	jt_teardown(&jt);
}

NVFS_SUITE(journal_journal, "journal/journal", NULL, NULL,
	   NVFS_TEST(test_journal_create_open_empty),
	   NVFS_TEST(test_journal_create_rejects_bad_sizes),
	   NVFS_TEST(test_journal_append_replay_every_size_class),
	   NVFS_TEST(test_journal_checkpoint_then_replay_returns_only_later),
	   NVFS_TEST(test_journal_wraparound_many_times))
