/* SPDX-License-Identifier: MIT */
/*
 * crash_journal.c -- crash the journal at every persist point.
 *
 * Each scenario sets up a journal (2 buckets: an 8 MiB ring) without
 * crashing, saves the namespace and what of it is durable, and then, for
 * every persist point N of its operation (crash_sim.h: the crash happens
 * just before the operation's N-th drain; N = P+1 is "after it"), runs the
 * operation again from the saved state and checks crash images of three
 * kinds: (a) every store, (b) only drained ranges, (c) (b) plus random
 * subsets of the other stores, 8-byte words at a time.
 *
 * The operation records, in a model, every entry it appends (its sequence
 * number, type, length and payload checksum, as journal_testlib does) with
 * the drain count when its append was called and when a commit covering
 * it returned, and the tail after each checkpoint with the drain counts
 * when the checkpoint was called and when it returned.  Each image must:
 *   - open (allocator and journal) and replay without damage: a legal crash
 *     is never damage (but for the damaged scenario below, and there only
 *     while the tail has not moved past it, and then exactly as before);
 *   - start replay at a legal tail: the last one whose checkpoint had
 *     returned, or the next one if its checkpoint was in flight;
 *   - replay exactly a prefix of the model's entries from that tail, equal
 *     entry by entry (sequence, type, length, payload checksum), holding
 *     every entry whose commit had returned and none whose append had not
 *     been called;
 *   - take new appends: a few entries appended and committed after the
 *     replay are replayed, after that prefix and with consecutive sequence
 *     numbers, by one more reopen.
 * Every scenario runs at the tmpfs file's own PAGE granularity (a persist
 * is an msync; appenders write without flushing) and at forced CACHE_LINE
 * (appenders flush and drain their own entries, which adds persist points;
 * the simulator makes a flush durable only at a drain of the thread that
 * flushed it).
 *
 * Scenarios (the operation crashed; its set-up is not):
 *   small / large      one append + commit of 100 bytes / 300000 bytes (the
 *                      non-temporal copy path);
 *   group commit       six entries, one commit, two sets;
 *   2 threads          A's entry held half-copied (CACHE_LINE) while B
 *                      appends two entries and commits all three;
 *   pad set            a commit of the end of bucket 0, a pad set and the
 *                      start of bucket 1;
 *   bucket end         a commit of a set that fills bucket 0 exactly and of
 *                      the start of bucket 1 (no pad set);
 *   checkpoints        four checkpoints in a row (one a no-op) and an
 *                      append: tail copies B, A, B;
 *   after wraparound   the first commits of the ring's second pass, over
 *                      the first pass's sets;
 *   past damage        a log damaged by media (a flipped checksum byte in
 *                      the middle set of five, in the saved namespace and
 *                      in what is durable): after the replay that reports
 *                      it, the checkpoint that moves the tail past it with
 *                      sequence numbers past everything it holds (the
 *                      "reseq"), then appends and commits over the damaged
 *                      set.  Each image must also never replay an entry of
 *                      the damaged set or of the valid sets after it (the
 *                      old sets are never chained into the new log); one
 *                      that still reports the damage takes appends after
 *                      its replay is checkpointed.
 *   crash in recovery  a first crash of group commit (at its first, middle
 *                      and last persist point and after it; kill, power and
 *                      one subset image), then the recovery -- reopen,
 *                      replay, append and commit more -- crashed again at
 *                      each of its points: the model is what the first
 *                      image replayed plus the new entries, so each image
 *                      must replay a prefix of every entry ever committed.
 * An append blocked on a full journal is not crashed: it waits for another
 * thread's checkpoint, which is not deterministic.
 */
#include <limits.h>
#include <stddef.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

#define CJ_BUCKETS     2u
#define CJ_RING_BYTES  ((uint64_t)CJ_BUCKETS * NVFS_JOURNAL_BUCKET_BYTES)
/* the buckets, the header page, and room for the buddy allocator to split */
#define CJ_NS_BYTES    (NVFS_PAGES_OFF + (uint64_t)(CJ_BUCKETS + 1) * NVFS_JOURNAL_BUCKET_BYTES)
#define CJ_MAX_ENTRIES 256u
#define CJ_MAX_TAILS   8u
#define CJ_NEVER       UINT_MAX
#define CJ_SUBSETS     3u
#define CJ_NEW_ENTRIES 3u

static const uint8_t ns_uuid[NVFS_UUID_BYTES] = { 0x55, 0xaa, 4, 2 };

/* ---- the model ----------------------------------------------------------- */

struct cj_entry {
	struct jt_rec r;          /* seq, type, len, payload checksum */
	unsigned appended_at;     /* drains counted when its append was called */
	unsigned committed_at;    /* drains counted when a commit covering it returned */
};

struct cj_tail {
	uint64_t seq;             /* the durable tail_seq it set */
	unsigned started_at;      /* drains counted when the checkpoint was called */
	unsigned returned_at;     /* ... and when it returned */
};

struct cj {
	const char *name;
	enum nvfs_pmem_gran gran;
	struct nvfs_alloc *a;
	struct nvfs_journal *j;
	pthread_mutex_t lock;     /* the model, for the threaded scenario */
	struct cj_entry e[CJ_MAX_ENTRIES];  /* by sequence number */
	unsigned n;
	struct cj_tail t[CJ_MAX_TAILS];     /* t[0]: the tail the operation started at */
	unsigned nt;
	struct jt_list replayed;
	struct nvfs_journal_report report;
	bool worker_failed;       /* an append or commit failed on a worker thread */
	/* Filled by a set-up that damages the log (setup_damage), else 0. */
	uint64_t dmg_off;         /* namespace offset of the byte it flips */
	uint64_t dmg_stop_seq;    /* replay stops before this entry (its set is damaged) */
	uint64_t dmg_skip_first, dmg_skip_last;  /* the valid sets after it */
};

/* Set on the threads of op_threads: a failure there must not longjmp (CUnit). */
static __thread bool tls_worker;

/* check -- assert on the main thread; on a worker, remember the failure */
static bool
check(struct cj *c, bool ok)
{
	if (ok)
		return true;
	if (tls_worker) {
		c->worker_failed = true;
		return false;
	}
	CU_ASSERT_FATAL(ok);
	return false;
}

/* cj_append -- append an entry (from any thread) and record it */
static uint64_t
cj_append(struct cj *c, uint32_t type, size_t len)
{
	uint8_t *buf = malloc(len + 1);
	if (!check(c, buf != NULL))
		return 0;
	jt_payload(buf, type, len);
	unsigned at = crash_sim_drains();
	int64_t seq = nvfs_journal_append(c->j, type, buf, len);
	if (seq <= 0) {
		printf("\n  %s: append of %zu bytes: %s", c->name, len, nvfs_errmsg());
		free(buf);
		check(c, false);
		return 0;
	}
	struct cj_entry ent = { { (uint64_t)seq, type, (uint32_t)len, nvfs_csum(buf, len, 0) },
				at, CJ_NEVER };
	free(buf);
	pthread_mutex_lock(&c->lock);
	if (c->n == CJ_MAX_ENTRIES) {
		pthread_mutex_unlock(&c->lock);
		check(c, false);
		return 0;
	}
	unsigned i = c->n++;
	while (i > 0 && c->e[i - 1].r.seq > ent.r.seq) {
		c->e[i] = c->e[i - 1];
		i--;
	}
	c->e[i] = ent;
	pthread_mutex_unlock(&c->lock);
	return (uint64_t)seq;
}

/* cj_commit -- commit up to seq (0: all appended so far) and record when it returned */
static void
cj_commit(struct cj *c, uint64_t seq)
{
	if (seq == 0) {
		pthread_mutex_lock(&c->lock);
		seq = c->n ? c->e[c->n - 1].r.seq : 0;
		pthread_mutex_unlock(&c->lock);
	}
	int rc = nvfs_journal_commit(c->j, seq);
	if (rc) {
		printf("\n  %s: commit: %s", c->name, nvfs_errmsg());
		check(c, false);
		return;
	}
	unsigned at = crash_sim_drains();
	pthread_mutex_lock(&c->lock);
	for (unsigned i = 0; i < c->n; i++)
		if (c->e[i].r.seq <= seq && c->e[i].committed_at == CJ_NEVER)
			c->e[i].committed_at = at;
	pthread_mutex_unlock(&c->lock);
}

/* cj_head -- the journal's head lsn */
static uint64_t
cj_head(struct cj *c)
{
	struct nvfs_journal_stats st;
	nvfs_journal_stats(c->j, &st);
	return st.head_lsn;
}

/* cj_checkpoint -- checkpoint up to seq, record the new tail if it moved */
static void
cj_checkpoint(struct cj *c, uint64_t seq)
{
	struct nvfs_journal_stats st;
	unsigned started = crash_sim_drains();
	int rc = nvfs_journal_checkpoint(c->j, seq);
	if (rc)
		printf("\n  %s: checkpoint: %s", c->name, nvfs_errmsg());
	CU_ASSERT_FATAL(rc == 0);
	unsigned returned = crash_sim_drains();
	nvfs_journal_stats(c->j, &st);
	CU_ASSERT_FATAL(c->nt > 0 && c->nt < CJ_MAX_TAILS);
	if (st.tail_seq != c->t[c->nt - 1].seq)
		c->t[c->nt++] = (struct cj_tail){ st.tail_seq, started, returned };
}

/* collect -- replay callback */
static int
collect(void *arg, const struct nvfs_journal_entry *e)
{
	struct jt_list *l = arg;
	jt_list_push(l, (struct jt_rec){ e->seq, e->type, e->payload_bytes,
					 nvfs_csum(e->payload, e->payload_bytes, 0) });
	return 0;
}

/*
 * want_checkpoint -- no scenario fills the journal: an append that would
 * wait for space (for ever: nothing checkpoints) means the journal lost
 * track of its space.  Stop the run rather than hang it.
 */
static void
want_checkpoint(void *arg, unsigned fill_pct, bool blocked)
{
	const struct cj *c = arg;
	if (!blocked)
		return;
	fprintf(stderr, "\n  %s (%s): an append waits for space with the journal %u%% "
		"full, which no scenario does: aborting instead of waiting for ever\n",
		c->name, nvfs_pmem_gran_name(c->gran), fill_pct);
	abort();
}

/* cj_open -- allocator, journal, replay into c->replayed; 0 or the failing step's error */
static int
cj_open(struct cj *c, const char *path)
{
	const struct nvfs_journal_ops ops = { want_checkpoint, c };
	int rc = nvfs_alloc_open(path, NULL, &c->a);
	if (rc)
		return rc;
	if ((rc = nvfs_journal_open(c->a, &ops, 0, &c->j))) {
		nvfs_alloc_close(&c->a);
		return rc;
	}
	c->replayed.n = 0;
	return nvfs_journal_replay(c->j, collect, &c->replayed, &c->report);
}

/* cj_close -- close journal and allocator */
static void
cj_close(struct cj *c)
{
	if (c->j)
		CU_ASSERT_EQUAL(nvfs_journal_close(&c->j), 0);
	nvfs_alloc_close(&c->a);
}

/* cj_tail_seq -- the durable tail the open journal started from */
static uint64_t
cj_tail_seq(struct cj *c)
{
	struct nvfs_journal_stats st;
	nvfs_journal_stats(c->j, &st);
	return st.tail_seq;
}

/*
 * The scenario's state is static so that a scenario stopped half way by a
 * fatal assertion leaves nothing open (and locked) for the next one:
 * cj_reset closes what is left, and clears the rest.
 */
static struct cj cj_state = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void
cj_reset(void)
{
	struct cj *c = &cj_state;
	if (c->j)
		nvfs_journal_close(&c->j);
	nvfs_alloc_close(&c->a);
	crash_sim_set_observer(NULL, NULL);
	crash_sim_stop();
	c->n = c->nt = 0;
	c->worker_failed = false;
	c->dmg_off = c->dmg_stop_seq = c->dmg_skip_first = c->dmg_skip_last = 0;
	c->replayed.n = 0;
	memset(&c->report, 0, sizeof(c->report));
}

/* ---- scenarios ----------------------------------------------------------- */

struct cj_scenario {
	const char *name;
	void (*setup)(struct cj *c);  /* not crashed */
	void (*op)(struct cj *c);     /* crashed at each of its persist points */
	bool damage;                  /* flip the byte setup names (c->dmg_off) after it */
};

/* setup_base -- three committed entries, the first checkpointed */
static void
setup_base(struct cj *c)
{
	static const size_t len[] = { 100, 2000, 40 };
	for (unsigned i = 0; i < 3; i++)
		cj_commit(c, cj_append(c, 1 + i, len[i]));
	cj_checkpoint(c, 1);
}

/* (i) one small entry */
static void
op_small(struct cj *c)
{
	cj_commit(c, cj_append(c, 10, 100));
}

/* (ii) one large entry: the non-temporal copy path */
static void
op_large(struct cj *c)
{
	cj_commit(c, cj_append(c, 11, 300000));
}

/* (iii) six entries, one commit: two sets (SET_SOFT_MAX_BYTES is 256 KiB) */
static void
op_group(struct cj *c)
{
	static const size_t len[] = { 100, 3000, 120000, 90000, 70000, 40 };
	uint64_t last = 0;
	for (unsigned i = 0; i < 6; i++)
		last = cj_append(c, 20 + i, len[i]);
	cj_commit(c, last);
}

/*
 * (iii) two threads, one commit.  Below PAGE granularity thread A is held
 * inside its copy (in the flush of its payload, its entry header not yet
 * written) while thread B appends two entries and commits: the commit must
 * wait for A's entry, which is in the same set.  At PAGE an appender makes
 * no persist call to stop in: A appends, then B appends and commits.
 */
struct thr {
	struct cj *c;
	bool hold;
	sem_t a_held, a_go, b_appended;
};

static __thread bool tls_hold;

/* hold_observer -- stop thread A at its first flush */
static void
hold_observer(void *arg, bool drain)
{
	struct thr *t = arg;
	if (drain || !tls_hold)
		return;
	tls_hold = false;
	sem_post(&t->a_held);
	while (sem_wait(&t->a_go) != 0)
		;
}

static void *
thread_a(void *arg)
{
	struct thr *t = arg;
	tls_worker = true;
	tls_hold = t->hold;
	cj_append(t->c, 30, 5000);
	if (tls_hold) {
		/* never held (no flush): do not leave the main thread waiting */
		tls_hold = false;
		t->c->worker_failed = true;
		sem_post(&t->a_held);
	}
	return NULL;
}

static void *
thread_b(void *arg)
{
	struct thr *t = arg;
	tls_worker = true;
	cj_append(t->c, 31, 3000);
	uint64_t z = cj_append(t->c, 32, 200);
	sem_post(&t->b_appended);
	if (z)
		cj_commit(t->c, z);
	return NULL;
}

static void
sem_wait_all(sem_t *s)
{
	while (sem_wait(s) != 0)
		;
}

static void
op_threads(struct cj *c)
{
	struct thr t = { .c = c, .hold = c->gran != NVFS_GRAN_PAGE };
	pthread_t a, b;

	sem_init(&t.a_held, 0, 0);
	sem_init(&t.a_go, 0, 0);
	sem_init(&t.b_appended, 0, 0);
	crash_sim_set_observer(hold_observer, &t);
	CU_ASSERT_FATAL(pthread_create(&a, NULL, thread_a, &t) == 0);
	if (t.hold)
		sem_wait_all(&t.a_held);
	else
		pthread_join(a, NULL);
	CU_ASSERT_FATAL(pthread_create(&b, NULL, thread_b, &t) == 0);
	if (t.hold) {
		sem_wait_all(&t.b_appended);
		usleep(1000); /* let B reach its commit: it must wait for A */
		sem_post(&t.a_go);
		pthread_join(a, NULL);
	}
	pthread_join(b, NULL);
	crash_sim_set_observer(NULL, NULL);
	CU_ASSERT(!c->worker_failed);
	c->worker_failed = false;
	sem_destroy(&t.a_held);
	sem_destroy(&t.a_go);
	sem_destroy(&t.b_appended);
}

/*
 * fill_bucket_to -- append one committed entry that leaves exactly left
 * bytes in the head's bucket (0: fill it to its end)
 */
static void
fill_bucket_to(struct cj *c, uint32_t type, uint64_t left)
{
	uint64_t have = NVFS_JOURNAL_BUCKET_BYTES - cj_head(c) % NVFS_JOURNAL_BUCKET_BYTES;
	CU_ASSERT_FATAL(have >= left + NVFS_JOURNAL_SET_HDR_BYTES + NVFS_JOURNAL_ENTRY_HDR_BYTES);
	/* one set of one entry: 64 + align64(32 + len) bytes */
	cj_commit(c, cj_append(c, type, have - left - NVFS_JOURNAL_SET_HDR_BYTES -
			       NVFS_JOURNAL_ENTRY_HDR_BYTES));
	uint64_t now = NVFS_JOURNAL_BUCKET_BYTES - cj_head(c) % NVFS_JOURNAL_BUCKET_BYTES;
	CU_ASSERT_FATAL(now == (left ? left : NVFS_JOURNAL_BUCKET_BYTES));
}

#define PAD_LEFT 6016u /* bytes left in bucket 0 before the pad operation */

/* setup_pad -- the base, then bucket 0 filled with large entries to PAD_LEFT */
static void
setup_pad(struct cj *c)
{
	setup_base(c);
	for (unsigned i = 0; i < 3; i++)
		cj_commit(c, cj_append(c, 40 + i, 1u << 20));
	fill_bucket_to(c, 43, PAD_LEFT);
}

/*
 * (iv) a commit of three sets: the end of bucket 0, a pad set (the second
 * entry does not fit), and the start of bucket 1
 */
static void
op_pad(struct cj *c)
{
	cj_append(c, 44, 1000);
	cj_append(c, 45, 20000);
	cj_append(c, 46, 300);
	cj_commit(c, 0);
	CU_ASSERT(cj_head(c) > NVFS_JOURNAL_BUCKET_BYTES);
}

/*
 * (iv) a commit of a set that ends exactly at the end of bucket 0 (its
 * entry fills the PAD_LEFT bytes) and of one at the start of bucket 1:
 * the second entry must not join the first set, which is still open
 */
static void
op_bucket_end(struct cj *c)
{
	cj_append(c, 47, PAD_LEFT - NVFS_JOURNAL_SET_HDR_BYTES - NVFS_JOURNAL_ENTRY_HDR_BYTES);
	CU_ASSERT(cj_head(c) == NVFS_JOURNAL_BUCKET_BYTES);
	cj_append(c, 48, 3000);
	cj_append(c, 49, 100);
	cj_commit(c, 0);
}

/* setup_ckpt -- sets {1,2,3}, {4}, {5}, {6} committed, none checkpointed */
static void
setup_ckpt(struct cj *c)
{
	cj_append(c, 50, 100);
	cj_append(c, 51, 200);
	cj_commit(c, cj_append(c, 52, 300));
	for (unsigned i = 0; i < 3; i++)
		cj_commit(c, cj_append(c, 53 + i, 400 + 100 * i));
}

/*
 * (v) checkpoints in a row, so that the tail copies alternate (B, A, B),
 * with an append between; the first one cannot move the tail (entry 2
 * shares a set with entry 3) and writes nothing
 */
static void
op_ckpt(struct cj *c)
{
	CU_ASSERT_FATAL(c->t[0].seq == 1);
	cj_checkpoint(c, 2);
	CU_ASSERT(c->nt == 1);
	cj_checkpoint(c, 3);
	cj_commit(c, cj_append(c, 56, 700));
	cj_checkpoint(c, 5);
	cj_checkpoint(c, 7);
	CU_ASSERT(c->nt == 4 && c->t[3].seq == 8);
}

/*
 * setup_wrap -- pass 1 over the ring: small sets at the start of bucket 0
 * (what pass 2 will find ahead of it), 1 MiB entries checkpointed as they
 * go, and two sets ending exactly at the ring's end that are left for
 * replay.  The small sets are all WRAP_SMALL_SET bytes long, so that the
 * first set of pass 2 ends exactly where one of them starts: replay then
 * stops at a well-formed set of the earlier pass (lsn and first_seq wrong).
 */
#define WRAP_SMALL_SETS 48u
#define WRAP_SMALL_LEN  992u  /* 64 + align64(32 + 992): 1088-byte sets */
#define WRAP_SMALL_SET  (NVFS_JOURNAL_SET_HDR_BYTES + NVFS_JOURNAL_ENTRY_HDR_BYTES + WRAP_SMALL_LEN)

static void
setup_wrap(struct cj *c)
{
	uint64_t last = 0;

	for (unsigned i = 0; i < WRAP_SMALL_SETS; i++)
		cj_commit(c, cj_append(c, 100 + i, WRAP_SMALL_LEN));
	for (uint32_t type = 200;; type++) {
		uint64_t head = cj_head(c);
		if (head >= NVFS_JOURNAL_BUCKET_BYTES && CJ_RING_BYTES - head < (3u << 19))
			break;
		last = cj_append(c, type, 1u << 20);
		cj_commit(c, last);
		cj_checkpoint(c, last);
	}
	uint64_t left = CJ_RING_BYTES - cj_head(c);
	fill_bucket_to(c, 300, left / 2 / 64 * 64);
	fill_bucket_to(c, 301, 0);
	CU_ASSERT_FATAL(cj_head(c) == CJ_RING_BYTES);
}

/*
 * (vii) the first commits of pass 2, over pass 1's stale sets: one set of
 * four entries ending on a stale set's header (64 + 768 + 2560 + 8448 +
 * 128 = 11 small sets), then one set ending inside a stale set
 */
static void
op_wrap(struct cj *c)
{
	static const size_t len[] = { 700, 2500, 8400, 96 };
	for (unsigned i = 0; i < 4; i++)
		cj_append(c, 400 + i, len[i]);
	cj_commit(c, 0);
	CU_ASSERT(cj_head(c) == CJ_RING_BYTES + 11 * WRAP_SMALL_SET);
	cj_commit(c, cj_append(c, 404, 33000));
	CU_ASSERT(cj_head(c) < CJ_RING_BYTES + WRAP_SMALL_SETS * WRAP_SMALL_SET);
	CU_ASSERT((cj_head(c) - CJ_RING_BYTES) % WRAP_SMALL_SET != 0);
}

/* ---- damage, and the checkpoint that restarts the log past it ----------- */

static const uint8_t journal_uuid[NVFS_UUID_BYTES] = NVFS_JOURNAL_OWNER_UUID;

struct buckets {
	uint64_t off[CJ_BUCKETS];
	unsigned n;
};

static int
collect_bucket(void *arg, uint64_t off, unsigned order)
{
	struct buckets *b = arg;
	if (order == NVFS_JOURNAL_BUCKET_ORDER && b->n < CJ_BUCKETS)
		b->off[b->n++] = off;
	return 0;
}

/* cj_ns_off -- the namespace offset of lsn (the buckets in ring order) */
static uint64_t
cj_ns_off(struct cj *c, uint64_t lsn)
{
	struct buckets b = { { 0 }, 0 };
	int owner = nvfs_alloc_owner_find(c->a, journal_uuid);

	CU_ASSERT_FATAL(owner >= 0);
	CU_ASSERT_FATAL(nvfs_alloc_foreach(c->a, owner, collect_bucket, &b) == 0);
	CU_ASSERT_FATAL(b.n == CJ_BUCKETS);
	if (b.off[0] > b.off[1]) {
		uint64_t t = b.off[0];
		b.off[0] = b.off[1];
		b.off[1] = t;
	}
	uint64_t pos = lsn % CJ_RING_BYTES;
	return b.off[pos / NVFS_JOURNAL_BUCKET_BYTES] + pos % NVFS_JOURNAL_BUCKET_BYTES;
}

/*
 * setup_damage -- sets {1,2} {3} {4,5} {6} {7,8}, the tail at 3; the
 * byte named for damage is in the checksum of set {4,5}: replay then
 * returns 3, stops at 4 and reports 6..8 as skipped
 */
static void
setup_damage(struct cj *c)
{
	cj_append(c, 70, 300);
	cj_commit(c, cj_append(c, 71, 2000));
	cj_commit(c, cj_append(c, 72, 40));
	cj_checkpoint(c, 2);
	uint64_t lsn = cj_head(c);
	cj_append(c, 73, 5000);
	cj_commit(c, cj_append(c, 74, 100));
	cj_commit(c, cj_append(c, 75, 70000));
	cj_append(c, 76, 800);
	cj_commit(c, cj_append(c, 77, 64));
	CU_ASSERT_FATAL(c->n == 8);
	c->dmg_off = cj_ns_off(c, lsn) + 8;  /* the set header's csum */
	c->dmg_stop_seq = 4;
	c->dmg_skip_first = 6;
	c->dmg_skip_last = 8;
}

/*
 * (viii) the checkpoint after a replay that found damage: it moves the tail
 * to the end of the replayed log with a sequence number past everything the
 * damage holds (the "reseq"), then the log restarts there with appends and
 * commits over the damaged set
 */
static void
op_reseq(struct cj *c)
{
	CU_ASSERT_FATAL(c->report.damaged && c->report.last_seq == 3);
	cj_checkpoint(c, c->report.last_seq);
	CU_ASSERT(c->nt == 2 && c->t[1].seq > c->dmg_skip_last);
	cj_append(c, 78, 100);
	cj_commit(c, cj_append(c, 79, 5000));
	cj_commit(c, cj_append(c, 80, 70000));
}

/* (ix) recovery's own work after a first crash: append and commit more */
static void
op_more(struct cj *c)
{
	cj_append(c, 90, 500);
	cj_commit(c, cj_append(c, 91, 90000));
	cj_commit(c, cj_append(c, 92, 2000));
}

/* ---- running and verifying ----------------------------------------------- */

struct cj_run {
	const struct cj_scenario *sc;
	const char *name;                 /* printed: the scenario's, or longer */
	struct cj *c;
	enum nvfs_pmem_gran gran;
	const char *work, *check;
	uint8_t *file_img, *durable_img;  /* after setup */
	struct cj_entry base[CJ_MAX_ENTRIES];  /* the model after setup */
	unsigned base_n;
	unsigned points;                  /* drains of the operation */
	unsigned subsets;                 /* subset images per crash point */
	/* A damaged log (sc->damage): what replay must report while the tail
	 * has not moved, and the entries that must never come back. */
	uint64_t dmg_stop_seq, dmg_skip_first, dmg_skip_last;
	uint64_t lost_first, lost_last;
};

static unsigned points_checked, images_checked;

/* Namespace-sized buffers, kept from one scenario to the next. */
static uint8_t *buf_img, *buf_file, *buf_durable, *buf_second;

/* The runs: a scenario's, and the second one started from its crash images. */
static struct cj_run run1, run2;

/* entry_eq -- same seq, type, length and payload checksum */
static bool
entry_eq(const struct jt_rec *x, const struct jt_rec *y)
{
	return x->seq == y->seq && x->type == y->type && x->len == y->len && x->csum == y->csum;
}

/*
 * run_op -- restore the saved state, open, run the operation armed to
 * capture before drain target, close; returns the operation's drains
 */
static unsigned
run_op(struct cj_run *r, unsigned target)
{
	struct cj *c = r->c;

	crash_sim_start_from(r->work, r->file_img, r->durable_img, CJ_NS_BYTES, target);
	c->name = r->name;
	c->gran = r->gran;
	memcpy(c->e, r->base, r->base_n * sizeof(*c->e));
	c->n = r->base_n;
	int rc = cj_open(c, r->work);
	if (rc)
		printf("\n  %s: open: %s", c->name, nvfs_errmsg());
	CU_ASSERT_FATAL(rc == 0);
	CU_ASSERT_FATAL(nvfs_alloc_pmem(c->a)->gran == c->gran);
	c->t[0] = (struct cj_tail){ cj_tail_seq(c), 0, 0 };
	c->nt = 1;
	/* The saved state replays the set-up's entries from its tail. */
	CU_ASSERT(c->report.damaged == r->sc->damage);
	unsigned k = 0;
	while (k < c->n && c->e[k].r.seq < c->t[0].seq)
		k++;
	bool same = c->replayed.n == c->n - k;
	for (size_t i = 0; same && i < c->replayed.n; i++)
		same = entry_eq(&c->replayed.r[i], &c->e[k + i].r);
	CU_ASSERT(same);
	crash_sim_arm();
	r->sc->op(c);
	crash_sim_disarm();
	unsigned drains = crash_sim_drains();
	crash_sim_capture(nvfs_alloc_pmem(c->a));
	cj_close(c);
	crash_sim_stop();
	return drains;
}

/* fail -- print where a check failed */
static void
fail(const struct cj *c, unsigned point, const char *model, const char *what)
{
	printf("\n  FAIL %s (%s) point %u (%s): %s", c->name, nvfs_pmem_gran_name(c->gran),
	       point, model, what);
}

/* lost -- the first replayed entry among those the damage took, or NULL */
static const struct jt_rec *
lost(const struct cj_run *r, const struct jt_list *l)
{
	for (size_t i = 0; r->lost_last && i < l->n; i++)
		if (l->r[i].seq >= r->lost_first && l->r[i].seq <= r->lost_last)
			return &l->r[i];
	return NULL;
}

/*
 * verify_image -- reopen a crash image at point and check it (see the file
 * comment); returns false (having printed why) if a check failed
 */
static bool
verify_image(struct cj_run *r, const uint8_t *img, unsigned point, const char *model)
{
	struct cj *c = r->c;
	char msg[512];
	bool ok = false;

	CU_ASSERT_FATAL(crash_sim_write_file(r->check, img, CJ_NS_BYTES) == 0);
	int rc = cj_open(c, r->check);
	if (rc) {
		snprintf(msg, sizeof(msg), "open/replay: %s", nvfs_errmsg());
		fail(c, point, model, msg);
		cj_close(c);
		return false;
	}
	uint64_t tail = cj_tail_seq(c);
	const struct jt_rec *back = lost(r, &c->replayed);
	if (back) {
		snprintf(msg, sizeof(msg), "replayed entry %llu, which the damage took: the "
			 "sets after the damage came back", (unsigned long long)back->seq);
		fail(c, point, model, msg);
		goto out;
	}
	/*
	 * Damage is reported only for a damaged log whose tail has not moved
	 * yet (the reseq checkpoint was not durable), and then as it was.
	 */
	bool damaged = c->report.damaged;
	if (damaged && (!r->sc->damage || tail != c->t[0].seq ||
			c->report.stop_seq != r->dmg_stop_seq ||
			c->report.skipped_first_seq != r->dmg_skip_first ||
			c->report.skipped_last_seq != r->dmg_skip_last)) {
		snprintf(msg, sizeof(msg), "replay from %llu reports damage at lsn %llu (seq "
			 "%llu): %s; valid sets from lsn %llu (entries %llu..%llu)",
			 (unsigned long long)tail, (unsigned long long)c->report.stop_lsn,
			 (unsigned long long)c->report.stop_seq, c->report.reason,
			 (unsigned long long)c->report.skipped_from_lsn,
			 (unsigned long long)c->report.skipped_first_seq,
			 (unsigned long long)c->report.skipped_last_seq);
		fail(c, point, model, msg);
		goto out;
	}
	if (!damaged && r->sc->damage && tail == c->t[0].seq) {
		snprintf(msg, sizeof(msg), "replay from the old tail %llu finds no damage",
			 (unsigned long long)tail);
		fail(c, point, model, msg);
		goto out;
	}

	/* The tail: the last returned checkpoint's, or the one in flight. */
	unsigned last = 0;
	for (unsigned i = 1; i < c->nt; i++)
		if (c->t[i].returned_at < point)
			last = i;
	bool tail_ok = tail == c->t[last].seq ||
		       (last + 1 < c->nt && c->t[last + 1].started_at < point &&
			tail == c->t[last + 1].seq);
	if (!tail_ok) {
		snprintf(msg, sizeof(msg), "replay starts at entry %llu; allowed: %llu%s",
			 (unsigned long long)tail, (unsigned long long)c->t[last].seq,
			 last + 1 < c->nt ? " or the next checkpoint's" : "");
		fail(c, point, model, msg);
		goto out;
	}

	/* A prefix of the model from the tail ... */
	unsigned k = 0;
	while (k < c->n && c->e[k].r.seq < tail)
		k++;
	if (k < c->n && c->e[k].r.seq != tail) {
		snprintf(msg, sizeof(msg), "tail %llu is no entry's", (unsigned long long)tail);
		fail(c, point, model, msg);
		goto out;
	}
	const struct jt_list *got = &c->replayed;
	if (got->n > c->n - k) {
		snprintf(msg, sizeof(msg), "replayed %zu entries from %llu, only %u appended",
			 got->n, (unsigned long long)tail, c->n - k);
		fail(c, point, model, msg);
		goto out;
	}
	for (size_t i = 0; i < got->n; i++) {
		const struct cj_entry *want = &c->e[k + i];
		if (!entry_eq(&got->r[i], &want->r) || want->appended_at >= point) {
			snprintf(msg, sizeof(msg), "replayed entry %zu: seq %llu type %u len %u "
				 "csum %016llx; expected seq %llu type %u len %u csum %016llx%s",
				 i, (unsigned long long)got->r[i].seq, got->r[i].type,
				 got->r[i].len, (unsigned long long)got->r[i].csum,
				 (unsigned long long)want->r.seq, want->r.type, want->r.len,
				 (unsigned long long)want->r.csum,
				 want->appended_at >= point ? ", appended after the crash" : "");
			fail(c, point, model, msg);
			goto out;
		}
	}
	/* ... holding every entry whose commit had returned. */
	for (unsigned i = k + (unsigned)got->n; i < c->n; i++)
		if (c->e[i].committed_at < point) {
			snprintf(msg, sizeof(msg), "replayed %zu entries from %llu: committed "
				 "entry %llu is lost", got->n, (unsigned long long)tail,
				 (unsigned long long)c->e[i].r.seq);
			fail(c, point, model, msg);
			goto out;
		}

	/*
	 * New appends continue the log: right after the replayed entries, or,
	 * when damage was reported, once the replay is checkpointed, past every
	 * sequence number the damage holds.
	 */
	uint64_t next = got->n ? got->r[got->n - 1].seq + 1 : tail;
	uint64_t tail_after = tail;
	size_t prefix = got->n;
	if (damaged) {
		struct nvfs_journal_stats st;
		if ((rc = nvfs_journal_checkpoint(c->j, c->report.last_seq))) {
			snprintf(msg, sizeof(msg), "checkpoint of the damaged log's replay: %s",
				 nvfs_errmsg());
			fail(c, point, model, msg);
			goto out;
		}
		nvfs_journal_stats(c->j, &st);
		next = tail_after = st.tail_seq;
		prefix = 0;
		if (st.next_seq != next || next <= r->lost_last) {
			snprintf(msg, sizeof(msg), "after the checkpoint past the damage: tail "
				 "%llu, next %llu, damage up to %llu", (unsigned long long)next,
				 (unsigned long long)st.next_seq,
				 (unsigned long long)r->lost_last);
			fail(c, point, model, msg);
			goto out;
		}
	}
	struct jt_rec fresh[CJ_NEW_ENTRIES];
	static const size_t fresh_len[CJ_NEW_ENTRIES] = { 40, 5000, 70000 };
	uint8_t *buf = malloc(70000);
	CU_ASSERT_FATAL(buf != NULL);
	for (unsigned i = 0; i < CJ_NEW_ENTRIES; i++) {
		uint32_t type = 0x7000 + i;
		jt_payload(buf, type, fresh_len[i]);
		int64_t seq = nvfs_journal_append(c->j, type, buf, fresh_len[i]);
		fresh[i] = (struct jt_rec){ next + i, type, (uint32_t)fresh_len[i],
					    nvfs_csum(buf, fresh_len[i], 0) };
		if (seq != (int64_t)(next + i)) {
			snprintf(msg, sizeof(msg), "new append got %lld, expected %llu: %s",
				 (long long)seq, (unsigned long long)(next + i), nvfs_errmsg());
			fail(c, point, model, msg);
			free(buf);
			goto out;
		}
	}
	free(buf);
	if ((rc = nvfs_journal_commit(c->j, 0))) {
		snprintf(msg, sizeof(msg), "commit of new entries: %s", nvfs_errmsg());
		fail(c, point, model, msg);
		goto out;
	}
	struct jt_list before = { 0 };
	before.n = before.cap = prefix;
	before.r = malloc((prefix ? prefix : 1) * sizeof(*before.r));
	CU_ASSERT_FATAL(before.r != NULL);
	memcpy(before.r, got->r, prefix * sizeof(*before.r));
	cj_close(c);
	rc = cj_open(c, r->check);
	if (rc || c->report.damaged || cj_tail_seq(c) != tail_after ||
	    c->replayed.n != prefix + CJ_NEW_ENTRIES) {
		snprintf(msg, sizeof(msg), "after new appends: open %d (%s), damaged %d, tail "
			 "%llu (was %llu), %zu entries replayed, expected %zu + %u", rc,
			 rc ? nvfs_errmsg() : "ok", c->report.damaged,
			 c->j ? (unsigned long long)cj_tail_seq(c) : 0ULL,
			 (unsigned long long)tail_after, c->replayed.n, prefix, CJ_NEW_ENTRIES);
		fail(c, point, model, msg);
		free(before.r);
		goto out;
	}
	ok = true;
	for (size_t i = 0; i < prefix + CJ_NEW_ENTRIES && ok; i++) {
		const struct jt_rec *want = i < prefix ? &before.r[i] : &fresh[i - prefix];
		if (!entry_eq(&c->replayed.r[i], want)) {
			snprintf(msg, sizeof(msg), "after new appends: entry %zu is seq %llu type "
				 "%u, expected seq %llu type %u", i,
				 (unsigned long long)c->replayed.r[i].seq, c->replayed.r[i].type,
				 (unsigned long long)want->seq, want->type);
			fail(c, point, model, msg);
			ok = false;
		}
	}
	free(before.r);
out:
	cj_close(c);
	return ok;
}

/* buffers -- allocate the namespace-sized buffers once */
static void
buffers(void)
{
	if (!buf_img) {
		buf_img = malloc(CJ_NS_BYTES);
		buf_file = malloc(CJ_NS_BYTES);
		buf_durable = malloc(CJ_NS_BYTES);
		buf_second = malloc(CJ_NS_BYTES);
	}
	CU_ASSERT_FATAL(buf_img && buf_file && buf_durable && buf_second);
}

/* run_init -- a run of sc at gran, its paths and names */
static void
run_init(struct cj_run *r, const struct cj_scenario *sc, const char *name,
	 enum nvfs_pmem_gran gran)
{
	static char work[4096], check[4096];

	snprintf(work, sizeof(work), "%s", nvfs_test_path("cj-work.pmem"));
	snprintf(check, sizeof(check), "%s", nvfs_test_path("cj-check.pmem"));
	memset(r, 0, offsetof(struct cj_run, base));
	r->sc = sc;
	r->name = name;
	r->c = &cj_state;
	r->gran = gran;
	r->work = work;
	r->check = check;
	r->base_n = 0;
	r->subsets = CJ_SUBSETS / nvfs_test_scale_div();
	if (r->subsets < 2)
		r->subsets = 2;
	r->dmg_stop_seq = r->dmg_skip_first = r->dmg_skip_last = 0;
	r->lost_first = r->lost_last = 0;
}

/*
 * prepare -- set the scenario up once, not crashed but tracked from the
 * zero file on; save the namespace, what of it is durable, and the model;
 * with sc->damage, flip the byte the set-up named in both (media damage)
 * and drop the entries it takes from the model
 */
static void
prepare(struct cj_run *r)
{
	struct cj *c = r->c;
	struct nvfs_pmem *pm;

	buffers();
	cj_reset();
	c->name = r->name;
	c->gran = r->gran;
	jt_gran_set(r->gran);
	crash_sim_start(r->work, CJ_NS_BYTES, 0);
	CU_ASSERT_FATAL(nvfs_pmem_open(r->work, 0, &pm) == 0);
	bool gran_ok = pm->gran == r->gran;
	int rc = nvfs_ns_format(pm, CJ_NS_BYTES, ns_uuid, "crash");
	nvfs_pmem_close(&pm);
	CU_ASSERT_FATAL(gran_ok && rc == 0);
	CU_ASSERT_FATAL(nvfs_alloc_open(r->work, NULL, &c->a) == 0);
	CU_ASSERT_FATAL(nvfs_journal_create(c->a, CJ_RING_BYTES) == 0);
	nvfs_alloc_close(&c->a);
	CU_ASSERT_FATAL(cj_open(c, r->work) == 0);
	c->t[0] = (struct cj_tail){ cj_tail_seq(c), 0, 0 };
	c->nt = 1;
	if (r->sc->setup)
		r->sc->setup(c);
	cj_close(c);
	crash_sim_stop();
	r->file_img = buf_file;
	r->durable_img = buf_durable;
	CU_ASSERT_FATAL(crash_sim_read_file(r->work, r->file_img, CJ_NS_BYTES) == 0);
	memcpy(r->durable_img, crash_sim_shadow(), CJ_NS_BYTES);
	if (r->sc->damage) {
		CU_ASSERT_FATAL(c->dmg_off > 0 && c->dmg_off < CJ_NS_BYTES);
		r->file_img[c->dmg_off] ^= 0x10;
		r->durable_img[c->dmg_off] ^= 0x10;
		r->dmg_stop_seq = c->dmg_stop_seq;
		r->dmg_skip_first = c->dmg_skip_first;
		r->dmg_skip_last = c->dmg_skip_last;
		r->lost_first = c->dmg_stop_seq;
		r->lost_last = c->dmg_skip_last;
		unsigned k = 0;
		for (unsigned i = 0; i < c->n; i++)
			if (c->e[i].r.seq < r->lost_first)
				c->e[k++] = c->e[i];
		c->n = k;
	}
	for (unsigned i = 0; i < c->n; i++)
		c->e[i].committed_at = 0; /* durable before the operation */
	memcpy(r->base, c->e, c->n * sizeof(*c->e));
	r->base_n = c->n;
}

/*
 * prepare_from -- the saved state is a crash image (img, in a buffer the
 * run keeps): on media, so durable as it is; the model is what it replays
 */
static void
prepare_from(struct cj_run *r, uint8_t *img)
{
	struct cj *c = r->c;

	cj_reset();
	c->name = r->name;
	c->gran = r->gran;
	r->file_img = r->durable_img = img;
	CU_ASSERT_FATAL(crash_sim_write_file(r->work, img, CJ_NS_BYTES) == 0);
	int rc = cj_open(c, r->work);
	if (rc)
		printf("\n  %s: open of the first crash's image: %s", r->name, nvfs_errmsg());
	CU_ASSERT_FATAL(rc == 0);
	CU_ASSERT_FATAL(!c->report.damaged);
	CU_ASSERT_FATAL(c->replayed.n <= CJ_MAX_ENTRIES);
	for (size_t i = 0; i < c->replayed.n; i++)
		r->base[i] = (struct cj_entry){ c->replayed.r[i], 0, 0 };
	r->base_n = (unsigned)c->replayed.n;
	cj_close(c);
}

/*
 * crash_points -- the run's operation from its saved state, crashed at each
 * of its persist points, every image kind verified; returns the images
 * that failed
 */
static unsigned
crash_points(struct cj_run *r, uint64_t *rng, bool quiet)
{
	unsigned images = 0, bad = 0;

	jt_gran_set(r->gran);
	r->points = run_op(r, 0);
	CU_ASSERT(r->points >= 1);
	for (unsigned n = 1; n <= r->points + 1; n++) {
		unsigned d = run_op(r, n);
		if (d != r->points)
			printf("\n  %s (%s): %u persist points this time, %u before: not "
			       "deterministic", r->name, nvfs_pmem_gran_name(r->gran), d, r->points);
		CU_ASSERT(d == r->points);
		points_checked++;
		if (crash_sim_diff_pages() == 0) {
			/* Nothing in flight: the three kinds are one image. */
			bad += !verify_image(r, crash_sim_kill(), n, "kill = power");
			images++;
			continue;
		}
		bad += !verify_image(r, crash_sim_kill(), n, "kill");
		bad += !verify_image(r, crash_sim_power(), n, "power");
		images += 2;
		for (unsigned k = 0; k < r->subsets; k++) {
			crash_sim_subset(buf_img, rng);
			bad += !verify_image(r, buf_img, n, "subset");
			images++;
		}
	}
	images_checked += images;
	if (!quiet)
		printf("\n  %s (%s): %u persist points, %u crash points, %u images", r->name,
		       nvfs_pmem_gran_name(r->gran), r->points, r->points + 1, images);
	return bad;
}

/* crash_scenario_gran -- the scenario at one granularity, crashed at every point */
static void
crash_scenario_gran(const struct cj_scenario *sc, enum nvfs_pmem_gran gran)
{
	uint64_t rng = nvfs_test_seed() * 104729 + gran;

	run_init(&run1, sc, sc->name, gran);
	prepare(&run1);
	CU_ASSERT(crash_points(&run1, &rng, false) == 0);
	unsetenv("PMEM2_FORCE_GRANULARITY");
}

/* crash_scenario -- at the file's own PAGE granularity and at forced CACHE_LINE */
static void
crash_scenario(const struct cj_scenario *sc)
{
	crash_scenario_gran(sc, NVFS_GRAN_PAGE);
	crash_scenario_gran(sc, NVFS_GRAN_CACHE_LINE);
}

/*
 * crash_twice_gran -- sc's operation crashed at some of its persist points
 * (the first, the middle, the last, and after it), and from each crash
 * image (kill, power, one subset) the recovery -- open, replay, second's
 * operation -- crashed again at every persist point of its own
 */
static void
crash_twice_gran(const struct cj_scenario *sc, const struct cj_scenario *second,
		 enum nvfs_pmem_gran gran)
{
	static char name[256];
	uint64_t rng = nvfs_test_seed() * 15485863 + gran;
	unsigned bad = 0, starts = 0, images = images_checked;

	run_init(&run1, sc, sc->name, gran);
	prepare(&run1);
	jt_gran_set(gran);
	run1.points = run_op(&run1, 0);
	unsigned pts[4] = { 1, (run1.points + 1) / 2, run1.points, run1.points + 1 };
	for (unsigned i = 0; i < 4; i++) {
		unsigned n1 = pts[i];
		if (i && n1 == pts[i - 1])
			continue;
		static const char *const kinds[] = { "kill", "power", "subset" };
		for (unsigned kind = 0; kind < 3; kind++) {
			/* The first crash (again: the second run overwrites the images). */
			jt_gran_set(gran);
			run_op(&run1, n1);
			if (kind && crash_sim_diff_pages() == 0)
				break; /* kill = power: one image */
			if (kind == 0)
				memcpy(buf_second, crash_sim_kill(), CJ_NS_BYTES);
			else if (kind == 1)
				memcpy(buf_second, crash_sim_power(), CJ_NS_BYTES);
			else
				crash_sim_subset(buf_second, &rng);
			snprintf(name, sizeof(name), "%s after a crash at point %u (%s) of %s",
				 second->name, n1, kinds[kind], sc->name);
			run_init(&run2, second, name, gran);
			prepare_from(&run2, buf_second);
			unsigned b = crash_points(&run2, &rng, true);
			if (b)
				printf("\n  %s (%s): %u images failed", name,
				       nvfs_pmem_gran_name(gran), b);
			bad += b;
			starts++;
		}
	}
	CU_ASSERT(bad == 0);
	printf("\n  %s (%s): %u first crashes, then %s crashed at each point: %u images",
	       sc->name, nvfs_pmem_gran_name(gran), starts, second->name,
	       images_checked - images);
	unsetenv("PMEM2_FORCE_GRANULARITY");
}

static void
test_crash_journal_small_commit_every_point_prefix(void)
{
	static const struct cj_scenario sc = { "small append+commit", setup_base, op_small };
	crash_scenario(&sc);
}

static void
test_crash_journal_large_commit_every_point_prefix(void)
{
	static const struct cj_scenario sc = { "large append+commit", setup_base, op_large };
	crash_scenario(&sc);
}

static void
test_crash_journal_group_commit_every_point_prefix(void)
{
	static const struct cj_scenario sc = { "group commit, 2 sets", setup_base, op_group };
	crash_scenario(&sc);
}

static void
test_crash_journal_two_threads_commit_every_point_prefix(void)
{
	static const struct cj_scenario sc = { "group commit, 2 threads", setup_base,
					       op_threads };
	crash_scenario(&sc);
}

static void
test_crash_journal_pad_set_commit_every_point_prefix(void)
{
	static const struct cj_scenario sc = { "commit with a pad set", setup_pad, op_pad };
	crash_scenario(&sc);
}

static void
test_crash_journal_set_ending_at_bucket_end_every_point_prefix(void)
{
	static const struct cj_scenario sc = { "commit of a set ending at a bucket end",
					       setup_pad, op_bucket_end };
	crash_scenario(&sc);
}

static void
test_crash_journal_checkpoints_every_point_old_or_new_tail(void)
{
	static const struct cj_scenario sc = { "checkpoints", setup_ckpt, op_ckpt };
	crash_scenario(&sc);
}

static void
test_crash_journal_first_commit_after_wrap_every_point_prefix(void)
{
	static const struct cj_scenario sc = { "first commit after wraparound", setup_wrap,
					       op_wrap };
	crash_scenario(&sc);
}

static void
test_crash_journal_checkpoint_past_damage_every_point_never_chains_old_sets(void)
{
	static const struct cj_scenario sc = { "checkpoint past damage, appends", setup_damage,
					       op_reseq, true };
	crash_scenario(&sc);
}

static void
test_crash_journal_crash_during_recovery_every_point_prefix(void)
{
	static const struct cj_scenario first = { "group commit, 2 sets", setup_base,
						  op_group };
	static const struct cj_scenario second = { "append+commit", NULL, op_more };
	crash_twice_gran(&first, &second, NVFS_GRAN_PAGE);
	crash_twice_gran(&first, &second, NVFS_GRAN_CACHE_LINE);
}

static void
test_crash_journal_summary(void)
{
	printf("\n  crash points checked: %u (%u crash images reopened and verified)",
	       points_checked, images_checked);
	CU_ASSERT(points_checked >= 40);
}

/* cleanup -- also after a fatal assertion left a scenario half way */
static int
crash_journal_cleanup(void)
{
	unsetenv("PMEM2_FORCE_GRANULARITY");
	cj_reset();
	free(cj_state.replayed.r);
	memset(&cj_state.replayed, 0, sizeof(cj_state.replayed));
	crash_sim_release();
	free(buf_img);
	free(buf_file);
	free(buf_durable);
	free(buf_second);
	buf_img = buf_file = buf_durable = buf_second = NULL;
	return 0;
}

NVFS_SUITE(crash_journal, "crash/journal", NULL, crash_journal_cleanup,
	   NVFS_TEST(test_crash_journal_small_commit_every_point_prefix),
	   NVFS_TEST(test_crash_journal_large_commit_every_point_prefix),
	   NVFS_TEST(test_crash_journal_group_commit_every_point_prefix),
	   NVFS_TEST(test_crash_journal_two_threads_commit_every_point_prefix),
	   NVFS_TEST(test_crash_journal_pad_set_commit_every_point_prefix),
	   NVFS_TEST(test_crash_journal_set_ending_at_bucket_end_every_point_prefix),
	   NVFS_TEST(test_crash_journal_checkpoints_every_point_old_or_new_tail),
	   NVFS_TEST(test_crash_journal_first_commit_after_wrap_every_point_prefix),
	   NVFS_TEST(test_crash_journal_checkpoint_past_damage_every_point_never_chains_old_sets),
	   NVFS_TEST(test_crash_journal_crash_during_recovery_every_point_prefix),
	   NVFS_TEST(test_crash_journal_summary))
