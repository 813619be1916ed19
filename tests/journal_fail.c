/* SPDX-License-Identifier: MIT */
/*
 * journal_fail.c -- persist failures in the journal.
 *
 * A flush is made to fail through the pmem hook (nvfs_pmem.h: fail), as a
 * failed msync would: the crash simulator's crash_sim_inject (crash_sim.h)
 * picks the flush, and its shadow keeps what is durable, so that both ends
 * of "a failed persist may or may not have reached media" are reopened:
 *   kill    the namespace as left (every store: after a writeback error
 *           the page cache still holds the data, and a reopen reads it);
 *   power   only what was drained before (the failed range is not durable);
 *   subset  power plus random 8-byte words of the rest (crash_sim_subset).
 *
 * What must hold, in every scenario:
 *   - the call whose persist failed returns the error (-EIO here), with a
 *     message saying it was injected, and the pmem latches it;
 *   - the journal latches it: every later append, commit (of any entry,
 *     even one committed before) and checkpoint returns it, and so does
 *     close;
 *   - each image, reopened without injection, opens, replays without
 *     damage, and takes new appends (replayed after one more reopen).
 * What is replayed (entries are numbered 1, 2, ... in append order):
 *   (a) commit: every entry whose commit returned 0, and the sets of the
 *       failed commit persisted before the failing persist (they are
 *       durable: sets are persisted one at a time, in order), and maybe
 *       the set whose persist failed -- all of its entries or none; never
 *       a later set.  The power image holds exactly the sets before it.
 *   (b) checkpoint: every committed entry from the old tail, or -- only
 *       where the new tail copy's stores survived, never in the power
 *       image -- from the new tail (the entries before it were applied by
 *       the consumer: checkpointed, not lost).  An appender asleep waiting
 *       for the space that checkpoint would have freed wakes up and returns
 *       the error (bounded: the test fails after JF_TIMEOUT_S, not hangs).
 *   (c) the appender's own flush (forced CACHE_LINE): nvfs_pmem_copy has no
 *       return value, so the append may return its sequence number; the
 *       pmem latches the error and the commit covering the entry returns
 *       it.  Replayed as in (a): the set holding the entry, all or none.
 * Each runs at the tmpfs file's own PAGE granularity and at forced
 * CACHE_LINE ((c) at CACHE_LINE only: at PAGE an appender does not flush).
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crash_sim.h"
#include "journal_testlib.h"
#include "nvfs_alloc.h"
#include "nvfs_csum.h"
#include "nvfs_err.h"
#include "nvfs_journal.h"
#include "nvfs_ns.h"
#include "nvfs_pmem.h"
#include "nvfs_test.h"

#define JF_BUCKETS    2u
#define JF_RING_BYTES ((uint64_t)JF_BUCKETS * NVFS_JOURNAL_BUCKET_BYTES)
#define JF_NS_BYTES   (NVFS_PAGES_OFF + (uint64_t)(JF_BUCKETS + 1) * NVFS_JOURNAL_BUCKET_BYTES)
#define JF_SUBSETS    3u
#define JF_TIMEOUT_S  10
#define JF_BIG        (1u << 20)  /* the appender's entries in (b) */

static const uint8_t ns_uuid[NVFS_UUID_BYTES] = { 0x55, 0xaa, 7, 1 };
static const uint8_t juuid[NVFS_UUID_BYTES] = NVFS_JOURNAL_OWNER_UUID;

/*
 * The scenario's state is static so that a test stopped by a fatal
 * assertion leaves nothing open for the next one (jf_reset closes it),
 * but for a journal a thread still sleeps in (jf_abandon): that one is left
 * open, and later tests use other files.
 */
struct jf {
	const char *name;
	enum nvfs_pmem_gran gran;
	char work[4096], check[4096];
	struct nvfs_alloc *a;
	struct nvfs_journal *j;
	pthread_mutex_t lock;         /* the model, appended to from a thread in (b) */
	struct jt_list model;         /* every entry whose append returned a seq: seq i at i - 1 */
	uint64_t hdr_off;             /* the journal's header page */
	struct jt_list replayed;
	struct nvfs_journal_report report;
	uint8_t *img;                 /* a subset image */
	sem_t blocked;                /* want_checkpoint(blocked) was called */
	unsigned abandoned;           /* journals left to a thread that never returned */
	unsigned images;
};

static struct jf jf = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* what a reopened image must hold */
struct jf_expect {
	uint64_t tail[2];     /* allowed tail_seq (first entry not checkpointed) */
	unsigned nr_tails;
	uint64_t end[2];      /* allowed sequence number after the last replayed entry */
	unsigned nr_ends;
	bool ckpt_first;      /* the journal is full: checkpoint the replay before appending */
};

/* ---- helpers ------------------------------------------------------------- */

/* jf_append -- append to jf.j (any thread) and record it; the seq or the error */
static int64_t
jf_append(uint32_t type, size_t len)
{
	uint8_t *buf = malloc(len + 1);
	if (!buf)
		return -ENOMEM;
	jt_payload(buf, type, len);
	int64_t seq = nvfs_journal_append(jf.j, type, buf, len);
	if (seq > 0) {
		pthread_mutex_lock(&jf.lock);
		jt_list_push(&jf.model, (struct jt_rec){ (uint64_t)seq, type, (uint32_t)len,
							 nvfs_csum(buf, len, 0) });
		pthread_mutex_unlock(&jf.lock);
	}
	free(buf);
	return seq;
}

/* jf_commit_ok -- append entries of these lengths (types from type) and commit them */
static void
jf_commit_ok(uint32_t type, const size_t *len, unsigned n)
{
	int64_t seq = 0;
	for (unsigned i = 0; i < n; i++) {
		seq = jf_append(type + i, len[i]);
		if (seq <= 0)
			printf("\n  %s: append: %s", jf.name, nvfs_errmsg());
		CU_ASSERT_FATAL(seq > 0);
	}
	CU_ASSERT_FATAL(nvfs_journal_commit(jf.j, (uint64_t)seq) == 0);
}

/* want_checkpoint -- (b): the appender is about to sleep for space */
static void
want_checkpoint(void *arg, unsigned fill_pct, bool blocked)
{
	(void)arg; (void)fill_pct;
	if (blocked)
		sem_post(&jf.blocked);
}

/* no_wait -- a verification never fills the journal: stop rather than hang */
static void
no_wait(void *arg, unsigned fill_pct, bool blocked)
{
	(void)arg;
	if (!blocked)
		return;
	fprintf(stderr, "\n  %s: an append of the verification waits for space (%u%% "
		"full): aborting instead of waiting for ever\n", jf.name, fill_pct);
	abort();
}

/* find_hdr -- foreach callback: the journal owner's order-0 block */
static int
find_hdr(void *arg, uint64_t off, unsigned order)
{
	if (order == 0)
		*(uint64_t *)arg = off;
	return 0;
}

/* collect -- replay callback */
static int
collect(void *arg, const struct nvfs_journal_entry *e)
{
	jt_list_push(arg, (struct jt_rec){ e->seq, e->type, e->payload_bytes,
					   nvfs_csum(e->payload, e->payload_bytes, 0) });
	return 0;
}

/*
 * jf_abandon -- a thread never returned from the journal: leave it (and the
 * allocator, whose lock keeps the file busy) open for ever, so that the
 * next tests can still run, on other files
 */
static void
jf_abandon(void)
{
	jf.j = NULL;
	jf.a = NULL;
	jf.abandoned++;
	crash_sim_stop();
	unsetenv("PMEM2_FORCE_GRANULARITY");
}

/* jf_reset -- close what a stopped test left open, forget the model */
static void
jf_reset(void)
{
	if (jf.j)
		nvfs_journal_close(&jf.j);
	nvfs_alloc_close(&jf.a);
	crash_sim_stop();
	unsetenv("PMEM2_FORCE_GRANULARITY");
	jf.model.n = 0;
	jf.replayed.n = 0;
	memset(&jf.report, 0, sizeof(jf.report));
	jf.hdr_off = 0;
}

/*
 * jf_start -- a fresh namespace with a journal, tracked by the crash
 * simulator from the zero file on, opened and replayed (empty) at gran
 */
static void
jf_start(const char *name, enum nvfs_pmem_gran gran)
{
	const struct nvfs_journal_ops ops = { want_checkpoint, NULL };
	struct nvfs_pmem *pm;

	char file[64];

	jf_reset();
	jf.name = name;
	jf.gran = gran;
	snprintf(file, sizeof(file), "jf-work-%u.pmem", jf.abandoned);
	snprintf(jf.work, sizeof(jf.work), "%s", nvfs_test_path(file));
	snprintf(file, sizeof(file), "jf-check-%u.pmem", jf.abandoned);
	snprintf(jf.check, sizeof(jf.check), "%s", nvfs_test_path(file));
	if (!jf.img)
		jf.img = malloc(JF_NS_BYTES);
	CU_ASSERT_FATAL(jf.img != NULL);
	jt_gran_set(gran);
	crash_sim_start(jf.work, JF_NS_BYTES, 0);
	CU_ASSERT_FATAL(nvfs_pmem_open(jf.work, 0, &pm) == 0);
	bool gran_ok = pm->gran == gran;
	int rc = nvfs_ns_format(pm, JF_NS_BYTES, ns_uuid, "fail");
	nvfs_pmem_close(&pm);
	CU_ASSERT_FATAL(gran_ok && rc == 0);
	CU_ASSERT_FATAL(nvfs_alloc_open(jf.work, NULL, &jf.a) == 0);
	CU_ASSERT_FATAL(nvfs_journal_create(jf.a, JF_RING_BYTES) == 0);
	int owner = nvfs_alloc_owner_find(jf.a, juuid);
	CU_ASSERT_FATAL(owner >= 0);
	CU_ASSERT_FATAL(nvfs_alloc_foreach(jf.a, owner, find_hdr, &jf.hdr_off) == 0);
	CU_ASSERT_FATAL(jf.hdr_off != 0);
	CU_ASSERT_FATAL(nvfs_journal_open(jf.a, &ops, 0, &jf.j) == 0);
	CU_ASSERT_FATAL(nvfs_journal_replay(jf.j, NULL, NULL, NULL) == 0);
}

/*
 * jf_latched -- after the failure: every later append, commit and
 * checkpoint returns err, and so does close; the pmem latched it.  Then
 * the images are captured and everything is closed.
 */
static void
jf_latched(int err, uint64_t committed_seq)
{
	CU_ASSERT_EQUAL(nvfs_journal_append(jf.j, 77, "late", 4), err);
	CU_ASSERT_EQUAL(nvfs_journal_commit(jf.j, 0), err);
	CU_ASSERT_EQUAL(nvfs_journal_commit(jf.j, committed_seq), err);
	CU_ASSERT_EQUAL(nvfs_journal_checkpoint(jf.j, committed_seq), err);
	CU_ASSERT_EQUAL(nvfs_journal_checkpoint(jf.j, 0), err);
	CU_ASSERT_EQUAL(nvfs_journal_append(jf.j, 78, "later", 5), err);
	CU_ASSERT_EQUAL(nvfs_alloc_pmem(jf.a)->failed, err);
	crash_sim_capture(nvfs_alloc_pmem(jf.a));
	CU_ASSERT_EQUAL(nvfs_journal_close(&jf.j), err);
	nvfs_alloc_close(&jf.a);
	crash_sim_stop();
	unsetenv("PMEM2_FORCE_GRANULARITY");
}

/* in -- x is one of v[0..n) */
static bool
in(const uint64_t *v, unsigned n, uint64_t x)
{
	for (unsigned i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

/*
 * jf_verify -- reopen img (as the check file) without injection and check
 * it against x and the model; then append, commit, reopen and check that
 * the log goes on.  Returns false (having printed why) if a check failed.
 */
static bool
jf_verify(const char *kind, const uint8_t *img, const struct jf_expect *x)
{
	const struct nvfs_journal_ops ops = { no_wait, NULL };
	struct nvfs_alloc *a = NULL;
	struct nvfs_journal *j = NULL;
	struct nvfs_journal_stats st;
	struct jt_rec fresh[2];
	static const size_t fresh_len[2] = { 60, 9000 };
	char msg[512] = "";
	bool ok = false;

	jf.images++;
	CU_ASSERT_FATAL(crash_sim_write_file(jf.check, img, JF_NS_BYTES) == 0);
	jf.replayed.n = 0;
	int rc = nvfs_alloc_open(jf.check, NULL, &a);
	if (!rc)
		rc = nvfs_journal_open(a, &ops, 0, &j);
	if (!rc)
		rc = nvfs_journal_replay(j, collect, &jf.replayed, &jf.report);
	if (rc) {
		snprintf(msg, sizeof(msg), "open/replay: %s", nvfs_errmsg());
		goto out;
	}
	if (jf.report.damaged) {
		snprintf(msg, sizeof(msg), "replay reports damage at seq %llu: %s",
			 (unsigned long long)jf.report.stop_seq, jf.report.reason);
		goto out;
	}
	nvfs_journal_stats(j, &st);
	uint64_t tail = st.tail_seq, end = tail + jf.replayed.n;
	if (!in(x->tail, x->nr_tails, tail) || !in(x->end, x->nr_ends, end)) {
		snprintf(msg, sizeof(msg), "replayed entries %llu..%llu (none if the second is "
			 "lower); allowed: from %llu%s, up to %llu%s",
			 (unsigned long long)tail, (unsigned long long)end - 1,
			 (unsigned long long)x->tail[0], x->nr_tails > 1 ? " or the new tail" : "",
			 (unsigned long long)x->end[0] - 1,
			 x->nr_ends > 1 ? " or the end of the set whose persist failed" : "");
		goto out;
	}
	for (size_t i = 0; i < jf.replayed.n; i++) {
		const struct jt_rec *g = &jf.replayed.r[i];
		const struct jt_rec *w = &jf.model.r[tail - 1 + i];
		if (g->seq != w->seq || g->type != w->type || g->len != w->len ||
		    g->csum != w->csum) {
			snprintf(msg, sizeof(msg), "replayed entry seq %llu (type %u, %u bytes) "
				 "differs from the appended one (type %u, %u bytes)",
				 (unsigned long long)g->seq, g->type, g->len, w->type, w->len);
			goto out;
		}
	}

	/* The log goes on after the replayed entries. */
	uint64_t tail2 = tail;
	size_t keep = jf.replayed.n;
	if (x->ckpt_first && jf.replayed.n) {
		if ((rc = nvfs_journal_checkpoint(j, jf.report.last_seq))) {
			snprintf(msg, sizeof(msg), "checkpoint of the replay: %s", nvfs_errmsg());
			goto out;
		}
		tail2 = end;
		keep = 0;
	}
	uint8_t buf[9000];
	for (unsigned i = 0; i < 2; i++) {
		uint32_t type = 0x7100 + i;
		jt_payload(buf, type, fresh_len[i]);
		int64_t seq = nvfs_journal_append(j, type, buf, fresh_len[i]);
		fresh[i] = (struct jt_rec){ end + i, type, (uint32_t)fresh_len[i],
					    nvfs_csum(buf, fresh_len[i], 0) };
		if (seq != (int64_t)(end + i)) {
			snprintf(msg, sizeof(msg), "new append got %lld, expected %llu: %s",
				 (long long)seq, (unsigned long long)(end + i), nvfs_errmsg());
			goto out;
		}
	}
	if ((rc = nvfs_journal_commit(j, 0))) {
		snprintf(msg, sizeof(msg), "commit of new entries: %s", nvfs_errmsg());
		goto out;
	}
	struct jt_list before = { 0 };
	for (size_t i = jf.replayed.n - keep; i < jf.replayed.n; i++)
		jt_list_push(&before, jf.replayed.r[i]);
	rc = nvfs_journal_close(&j);
	nvfs_alloc_close(&a);
	jf.replayed.n = 0;
	if (!rc)
		rc = nvfs_alloc_open(jf.check, NULL, &a);
	if (!rc)
		rc = nvfs_journal_open(a, &ops, 0, &j);
	if (!rc)
		rc = nvfs_journal_replay(j, collect, &jf.replayed, &jf.report);
	if (!rc)
		nvfs_journal_stats(j, &st);
	if (rc || jf.report.damaged || st.tail_seq != tail2 || jf.replayed.n != keep + 2) {
		snprintf(msg, sizeof(msg), "after new appends: %s, damaged %d, tail %llu "
			 "(expected %llu), %zu entries replayed, expected %zu + 2",
			 rc ? nvfs_errmsg() : "open", jf.report.damaged,
			 rc ? 0ULL : (unsigned long long)st.tail_seq, (unsigned long long)tail2,
			 jf.replayed.n, keep);
		free(before.r);
		goto out;
	}
	ok = true;
	for (size_t i = 0; i < keep + 2 && ok; i++) {
		const struct jt_rec *w = i < keep ? &before.r[i] : &fresh[i - keep];
		const struct jt_rec *g = &jf.replayed.r[i];
		ok = g->seq == w->seq && g->type == w->type && g->len == w->len &&
		     g->csum == w->csum;
		if (!ok)
			snprintf(msg, sizeof(msg), "after new appends: entry %zu is seq %llu, "
				 "expected %llu", i, (unsigned long long)g->seq,
				 (unsigned long long)w->seq);
	}
	free(before.r);
out:
	if (!ok)
		printf("\n  FAIL %s (%s), %s image: %s", jf.name, nvfs_pmem_gran_name(jf.gran),
		       kind, msg);
	if (j)
		nvfs_journal_close(&j);
	nvfs_alloc_close(&a);
	return ok;
}

/* jf_verify_images -- the kill and power images and subsets in between */
static void
jf_verify_images(const struct jf_expect *kill, const struct jf_expect *power)
{
	uint64_t rng = nvfs_test_seed() * 7741 + jf.images;
	unsigned bad = 0;

	bad += !jf_verify("kill", crash_sim_kill(), kill);
	bad += !jf_verify("power", crash_sim_power(), power);
	for (unsigned i = 0; i < JF_SUBSETS && crash_sim_diff_pages(); i++) {
		crash_sim_subset(jf.img, &rng);
		bad += !jf_verify("subset", jf.img, kill);
	}
	CU_ASSERT(bad == 0);
}

/* ---- (a) a commit's persist fails ---------------------------------------- */

/*
 * commit_fails -- entries 1..5 committed in three commits (entry 2
 * checkpointed: the tail is at 3), then 6, 7, 8 appended, one 200000-byte
 * entry per set (a set stops taking entries at 256 KiB), and the commit
 * of all three fails at the persist of set k (0, 1 or 2)
 */
static void
commit_fails(enum nvfs_pmem_gran gran, unsigned k)
{
	static const size_t l1[] = { 100, 3000 }, l2[] = { 40000 }, l3[] = { 500, 70 };
	struct nvfs_journal_stats st;

	jf_start("commit fails", gran);
	jf_commit_ok(1, l1, 2);
	jf_commit_ok(3, l2, 1);
	CU_ASSERT_FATAL(nvfs_journal_checkpoint(jf.j, 2) == 0);
	jf_commit_ok(4, l3, 2);
	for (unsigned i = 0; i < 3; i++)
		CU_ASSERT_FATAL(jf_append(6 + i, 200000) == 6 + i);

	struct nvfs_journal_stats st0;
	nvfs_journal_stats(jf.j, &st0);
	crash_sim_inject(0, SIZE_MAX, k, -EIO);
	nvfs_err_clear();
	int rc = nvfs_journal_commit(jf.j, 0);
	CU_ASSERT_EQUAL(rc, -EIO);
	CU_ASSERT(crash_sim_inject_fired());
	CU_ASSERT(jt_has(nvfs_errmsg(), "injected"));
	nvfs_journal_stats(jf.j, &st);
	CU_ASSERT_EQUAL(st.persists - st0.persists, k + 1);  /* none after the failed one */
	CU_ASSERT_EQUAL(st.committed_seq, 5);
	CU_ASSERT_EQUAL(st.tail_seq, 3);
	jf_latched(-EIO, 5);

	const struct jf_expect kill = { { 3 }, 1, { 6 + k, 6 + k + 1 }, 2, false };
	const struct jf_expect power = { { 3 }, 1, { 6 + k }, 1, false };
	jf_verify_images(&kill, &power);
}

static void
test_journal_commit_persist_failure_latches_and_replays_committed(void)
{
	for (unsigned g = 0; g < 2; g++)
		for (unsigned k = 0; k < 3; k++)
			commit_fails(g ? NVFS_GRAN_CACHE_LINE : NVFS_GRAN_PAGE, k);
	printf("\n  %u images reopened", jf.images);
}

/* ---- (b) a checkpoint's tail-copy persist fails -------------------------- */

struct appender {
	pthread_t th;
	int rc;                /* the append or commit that failed */
	char msg[256];
	uint64_t committed;    /* last entry whose commit returned 0 */
	bool done;
};

/* appender_main -- append and commit 1 MiB entries until one fails */
static void *
appender_main(void *arg)
{
	struct appender *ap = arg;

	for (uint32_t i = 0; i < 64 && !ap->rc; i++) {
		int64_t seq = jf_append(100 + i, JF_BIG);
		int rc = seq < 0 ? (int)seq : nvfs_journal_commit(jf.j, (uint64_t)seq);
		if (rc) {
			ap->rc = rc;
			snprintf(ap->msg, sizeof(ap->msg), "%s", nvfs_errmsg());
		} else {
			ap->committed = (uint64_t)seq;
		}
	}
	__atomic_store_n(&ap->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/* deadline -- CLOCK_REALTIME s seconds from now (for the timed waits) */
static struct timespec
deadline(unsigned s)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += s;
	return ts;
}

static double
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
checkpoint_fails(enum nvfs_pmem_gran gran)
{
	static struct appender ap;  /* not on the stack: the thread may outlive the test */
	struct nvfs_journal_stats before, after;

	memset(&ap, 0, sizeof(ap));
	jf_start("checkpoint fails", gran);
	sem_init(&jf.blocked, 0, 0);
	CU_ASSERT_FATAL(pthread_create(&ap.th, NULL, appender_main, &ap) == 0);

	/* The appender fills the journal and falls asleep waiting for space. */
	struct timespec dl = deadline(JF_TIMEOUT_S);
	int w;
	while ((w = sem_timedwait(&jf.blocked, &dl)) != 0 && errno == EINTR)
		;
	if (w != 0) {
		bool running = !__atomic_load_n(&ap.done, __ATOMIC_ACQUIRE);
		printf("\n  %s: the appender never waited for space (%s)", jf.name,
		       running ? "still running" : ap.msg);
		if (running)
			jf_abandon();
		else
			pthread_join(ap.th, NULL);
		CU_FAIL_FATAL("the appender did not block on the full journal");
	}
	usleep(50000); /* from want_checkpoint into its condition wait */
	nvfs_journal_stats(jf.j, &before);
	CU_ASSERT(before.waits_for_space >= 1);
	CU_ASSERT(!__atomic_load_n(&ap.done, __ATOMIC_ACQUIRE));
	CU_ASSERT_EQUAL(before.tail_seq, 1);
	CU_ASSERT(before.committed_seq >= 3);
	uint64_t committed = before.committed_seq;

	/* The checkpoint's only persist, of the tail copy, fails. */
	crash_sim_inject(jf.hdr_off, jf.hdr_off + NVFS_PAGE_BYTES, 0, -EIO);
	nvfs_err_clear();
	double t0 = now_ms();
	int rc = nvfs_journal_checkpoint(jf.j, 2);
	CU_ASSERT_EQUAL(rc, -EIO);
	CU_ASSERT(crash_sim_inject_fired());
	CU_ASSERT(jt_has(nvfs_errmsg(), "injected"));
	nvfs_journal_stats(jf.j, &after);
	CU_ASSERT_EQUAL(after.tail_lsn, before.tail_lsn);
	CU_ASSERT_EQUAL(after.tail_seq, before.tail_seq);
	CU_ASSERT_EQUAL(after.checkpoints, before.checkpoints);

	/* The sleeping appender wakes up with the error, in bounded time. */
	dl = deadline(JF_TIMEOUT_S);
	int jr = pthread_timedjoin_np(ap.th, NULL, &dl);
	if (jr == ETIMEDOUT) {
		/* Leave the journal (and the thread asleep in it) alone. */
		jf_abandon();
		printf("\n  %s (%s): the appender blocked for space still sleeps %d s after "
		       "the checkpoint failed", jf.name, nvfs_pmem_gran_name(gran), JF_TIMEOUT_S);
		CU_FAIL_FATAL("an appender waiting for space was not woken by the failure");
	}
	CU_ASSERT_EQUAL(jr, 0);
	printf("\n  %s (%s): %llu MiB committed, the blocked appender returned %d %.1f ms "
	       "after the failed checkpoint (%s)", jf.name, nvfs_pmem_gran_name(gran),
	       (unsigned long long)ap.committed, ap.rc, now_ms() - t0, ap.msg);
	CU_ASSERT_EQUAL(ap.rc, -EIO);
	CU_ASSERT_EQUAL(ap.committed, committed);
	CU_ASSERT_EQUAL(jf.model.n, committed);  /* the blocked entry got no number */
	sem_destroy(&jf.blocked);
	jf_latched(-EIO, committed);

	/* The old tail, or the new one where its stores survived; all committed. */
	const struct jf_expect kill = { { 1, 3 }, 2, { committed + 1 }, 1, true };
	const struct jf_expect power = { { 1 }, 1, { committed + 1 }, 1, true };
	jf_verify_images(&kill, &power);
}

static void
test_journal_checkpoint_persist_failure_wakes_blocked_appender(void)
{
	checkpoint_fails(NVFS_GRAN_PAGE);
	checkpoint_fails(NVFS_GRAN_CACHE_LINE);
}

/* ---- (c) the appender's own flush fails ---------------------------------- */

static void
test_journal_appender_flush_failure_fails_its_commit(void)
{
	static const size_t l1[] = { 100, 2000 }, l2[] = { 50000 };
	struct nvfs_journal_stats st;

	jf_start("appender's flush fails", NVFS_GRAN_CACHE_LINE);
	jf_commit_ok(1, l1, 2);
	jf_commit_ok(3, l2, 1);
	CU_ASSERT_FATAL(jf_append(4, 300) == 4);  /* flushed by its appender: durable */
	crash_sim_inject(0, SIZE_MAX, 0, -EIO);
	nvfs_err_clear();
	int64_t seq = jf_append(5, 5000);         /* its payload's flush fails */
	CU_ASSERT(crash_sim_inject_fired());
	CU_ASSERT(seq == 5 || seq == -EIO);
	int rc = nvfs_journal_commit(jf.j, 0);
	CU_ASSERT_EQUAL(rc, -EIO);
	CU_ASSERT(jt_has(nvfs_errmsg(), "flush failed"));
	nvfs_journal_stats(jf.j, &st);
	CU_ASSERT_EQUAL(st.committed_seq, 3);
	jf_latched(-EIO, 3);

	/* 4 and 5 share a set: both or neither; never in the power image. */
	uint64_t end = seq == 5 ? 6 : 5;
	const struct jf_expect kill = { { 1 }, 1, { 4, end }, 2, false };
	const struct jf_expect power = { { 1 }, 1, { 4 }, 1, false };
	jf_verify_images(&kill, &power);
}

/* ---- the latched error's message ---------------------------------------- */

/* late_append -- a thread that did not see the failure appends after it */
static void *
late_append(void *arg)
{
	char *msg = arg;
	nvfs_err_clear();
	int64_t rc = nvfs_journal_append(jf.j, 90, "late", 4);
	snprintf(msg, 256, "%lld: %s", (long long)rc, nvfs_errmsg());
	return NULL;
}

/* message -- rc is err and the calling thread's message says something */
static bool
message(const char *call, int64_t rc, int err)
{
	const char *m = nvfs_errmsg();
	if (rc == err && m[0])
		return true;
	printf("\n  %s after the failure returned %lld with message '%s': every error "
	       "comes with a message (nvfs_err.h)", call, (long long)rc, m);
	return false;
}

/*
 * Every error comes with a message (nvfs_err.h), the latched one too: in
 * the thread whose call failed after its message was cleared (or replaced
 * by another call's), and in a thread that never saw the failure.
 */
static void
test_journal_latched_error_comes_with_a_message(void)
{
	static const size_t l1[] = { 100 };
	char msg[256] = "";
	pthread_t th;

	jf_start("latched error's message", NVFS_GRAN_PAGE);
	jf_commit_ok(1, l1, 1);
	CU_ASSERT_FATAL(jf_append(2, 100) == 2);
	crash_sim_inject(0, SIZE_MAX, 0, -EIO);
	CU_ASSERT_EQUAL(nvfs_journal_commit(jf.j, 0), -EIO);
	nvfs_err_clear();
	CU_ASSERT(message("append", nvfs_journal_append(jf.j, 3, "x", 1), -EIO));
	nvfs_err_clear();
	CU_ASSERT(message("commit", nvfs_journal_commit(jf.j, 1), -EIO));
	nvfs_err_clear();
	CU_ASSERT(message("checkpoint", nvfs_journal_checkpoint(jf.j, 1), -EIO));
	CU_ASSERT_FATAL(pthread_create(&th, NULL, late_append, msg) == 0);
	pthread_join(th, NULL);
	if (strncmp(msg, "-5: ", 4) != 0 || !msg[4])
		printf("\n  append from another thread after the failure: %s (no message)", msg);
	CU_ASSERT(strncmp(msg, "-5: ", 4) == 0 && msg[4]);
	nvfs_err_clear();
	CU_ASSERT(message("close", nvfs_journal_close(&jf.j), -EIO));
	nvfs_alloc_close(&jf.a);
	crash_sim_stop();
}

/* cleanup -- also after a fatal assertion left a scenario half way */
static int
journal_fail_cleanup(void)
{
	jf_reset();
	if (jf.abandoned)
		return 0; /* a thread may still use the model: leave it */
	free(jf.model.r);
	free(jf.replayed.r);
	free(jf.img);
	memset(&jf.model, 0, sizeof(jf.model));
	memset(&jf.replayed, 0, sizeof(jf.replayed));
	jf.img = NULL;
	crash_sim_release();
	return 0;
}

NVFS_SUITE(journal_fail, "journal/fail", NULL, journal_fail_cleanup,
	   NVFS_TEST(test_journal_commit_persist_failure_latches_and_replays_committed),
	   NVFS_TEST(test_journal_checkpoint_persist_failure_wakes_blocked_appender),
	   NVFS_TEST(test_journal_appender_flush_failure_fails_its_commit),
	   NVFS_TEST(test_journal_latched_error_comes_with_a_message))
