/* SPDX-License-Identifier: MIT */
/*
 * journal_threads.c -- the journal under concurrency: four appenders and a
 * checkpointer woken through want_checkpoint on a ring that wraps, a full
 * journal that puts an appender to sleep until a checkpoint, the high
 * watermark, and group commit sharing persists.
 *
 * CUnit is not thread-safe: worker threads only record what they saw
 * (counters, the first error message) and the main thread asserts.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "journal_testlib.h"
#include "nvfs_alloc.h"
#include "nvfs_csum.h"
#include "nvfs_err.h"
#include "nvfs_journal.h"
#include "nvfs_pmem.h"
#include "nvfs_test.h"

#define NT 4                       /* appender threads */
#define MAX_LEN (64u << 10)        /* largest payload of the stress test */

/* ---- what want_checkpoint reports, and a checkpointer waiting on it ------ */

struct ckreq {
	pthread_mutex_t m;
	pthread_cond_t c;
	bool pending, stop;
	unsigned calls, calls_blocked, calls_early;
	unsigned min_early_pct, last_pct;
	/* the checkpointer thread */
	struct nvfs_journal *j;
	unsigned apply_us;             /* pretend to apply for this long */
	bool only_blocked;             /* wake only when an appender is blocked */
	uint64_t last_ckpt_seq;
	unsigned checkpoints;
	int err;
	char msg[256];
};

static void
ckreq_init(struct ckreq *r)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->m, NULL);
	pthread_cond_init(&r->c, NULL);
	r->min_early_pct = 1000;
}

static void
ckreq_destroy(struct ckreq *r)
{
	pthread_cond_destroy(&r->c);
	pthread_mutex_destroy(&r->m);
}

/* want_checkpoint -- record the call and wake the checkpointer; never blocks on the journal */
static void
want_checkpoint(void *arg, unsigned pct, bool blocked)
{
	struct ckreq *r = arg;

	pthread_mutex_lock(&r->m);
	r->calls++;
	if (blocked) {
		r->calls_blocked++;
	} else {
		r->calls_early++;
		if (pct < r->min_early_pct)
			r->min_early_pct = pct;
	}
	r->last_pct = pct;
	if (blocked || !r->only_blocked)
		r->pending = true;
	pthread_cond_broadcast(&r->c);
	pthread_mutex_unlock(&r->m);
}

/* ckreq_snapshot -- (calls, blocked, early) under the lock */
static void
ckreq_snapshot(struct ckreq *r, unsigned *calls, unsigned *blocked, unsigned *early)
{
	pthread_mutex_lock(&r->m);
	*calls = r->calls;
	*blocked = r->calls_blocked;
	*early = r->calls_early;
	pthread_mutex_unlock(&r->m);
}

/*
 * checkpointer -- sleep until want_checkpoint asks, "apply" for a while,
 * then checkpoint everything committed so far
 */
static void *
checkpointer(void *arg)
{
	struct ckreq *r = arg;

	pthread_mutex_lock(&r->m);
	for (;;) {
		while (!r->pending && !r->stop)
			pthread_cond_wait(&r->c, &r->m);
		if (r->stop)
			break;
		r->pending = false;
		pthread_mutex_unlock(&r->m);
		if (r->apply_us)
			usleep(r->apply_us);
		struct nvfs_journal_stats st;
		nvfs_journal_stats(r->j, &st);
		int rc = 0;
		if (st.committed_seq > r->last_ckpt_seq)
			rc = nvfs_journal_checkpoint(r->j, st.committed_seq);
		pthread_mutex_lock(&r->m);
		if (rc && !r->err) {
			r->err = rc;
			snprintf(r->msg, sizeof(r->msg), "checkpoint(%llu): %s",
				 (unsigned long long)st.committed_seq, nvfs_errmsg());
		}
		if (!rc && st.committed_seq > r->last_ckpt_seq) {
			r->last_ckpt_seq = st.committed_seq;
			r->checkpoints++;
		}
	}
	pthread_mutex_unlock(&r->m);
	return NULL;
}

/* reopen_with_ops -- reopen t's journal with want_checkpoint wired to r */
static void
reopen_with_ops(struct jt *t, struct ckreq *r)
{
	struct nvfs_journal_ops ops = { want_checkpoint, r };
	struct nvfs_journal_report rep;

	CU_ASSERT_FATAL(nvfs_journal_close(&t->j) == 0);
	CU_ASSERT_FATAL(nvfs_journal_open(t->a, &ops, 0, &t->j) == 0);
	CU_ASSERT_FATAL(nvfs_journal_replay(t->j, NULL, NULL, &rep) == 0);
	CU_ASSERT_EQUAL(rep.entries, t->model.n);
	r->j = t->j;
}

static double
now_s(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- payloads derived from (thread, counter) ---------------------------- */

static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* entry_type -- thread in the top byte, counter below: never 0 */
static uint32_t
entry_type(unsigned t, uint32_t c)
{
	return ((uint32_t)(t + 1) << 24) | (c & 0xffffffu);
}

/* entry_len -- mixed sizes: half tiny, most small, a tenth up to 64 KiB */
static size_t
entry_len(unsigned t, uint32_t c)
{
	uint64_t h = mix(((uint64_t)t << 32) | c);
	unsigned k = (unsigned)(h % 100);
	h >>= 8;
	if (k < 50)
		return (size_t)(h % 257);
	if (k < 90)
		return (size_t)(h % 4097);
	return (size_t)(h % (MAX_LEN + 1));
}

/* entry_fill -- the payload of (t, c) */
static void
entry_fill(uint8_t *buf, unsigned t, uint32_t c, size_t len)
{
	uint64_t s = mix(((uint64_t)c << 8) ^ t ^ 0x5bd1e995ull);
	for (size_t i = 0; i < len; i += 8) {
		uint64_t r = mix(s + i);
		memcpy(buf + i, &r, len - i < 8 ? len - i : 8);
	}
}

/* ---- the stress test ---------------------------------------------------- */

struct stress;

struct appender {
	pthread_t th;
	unsigned id;
	struct stress *s;
	uint64_t rng;
	uint32_t counter;              /* entries appended */
	uint32_t acked;                /* entries [0, acked) acknowledged */
	uint64_t *seqs;                /* seqs[c]: sequence number of counter c */
	uint32_t phase2_from;          /* first counter of phase 2 */
	int err;
	char msg[256];
};

struct stress {
	struct nvfs_journal *j;
	pthread_barrier_t bar;
	uint32_t n1, cap;              /* phase 1 entries per thread; seqs capacity */
	uint64_t budget2;              /* phase 2 bytes per thread */
	struct appender ap[NT];
};

static uint64_t
cost_of(size_t len)
{
	/* own set header + 64-aligned entry: the most one entry can take */
	return NVFS_JOURNAL_SET_HDR_BYTES +
	       ((NVFS_JOURNAL_ENTRY_HDR_BYTES + len + 63) & ~(uint64_t)63);
}

/* ap_fail -- record the first error of a thread */
static void
ap_fail(struct appender *ap, int rc, const char *what)
{
	if (ap->err)
		return;
	ap->err = rc ? rc : -1;
	snprintf(ap->msg, sizeof(ap->msg), "thread %u: %s: %d %s", ap->id, what, rc,
		 nvfs_errmsg());
}

/*
 * append_run -- append n entries (or until budget bytes, if budget), commit
 * each alone or in batches of 2..16; an entry is acknowledged once the
 * commit of its own or a later seq of this thread returned
 */
static void
append_run(struct appender *ap, uint32_t n, uint64_t budget, uint8_t *buf)
{
	struct nvfs_journal *j = ap->s->j;
	unsigned batch = 0;
	uint64_t used = 0, last = 0;

	for (uint32_t i = 0; i < n && !ap->err && ap->counter < ap->s->cap; i++) {
		uint32_t c = ap->counter;
		size_t len = entry_len(ap->id, c);
		if (budget) {
			if (used + cost_of(len) > budget)
				break;
			used += cost_of(len);
		}
		entry_fill(buf, ap->id, c, len);
		int64_t seq = nvfs_journal_append(j, entry_type(ap->id, c), buf, len);
		if (seq <= 0) {
			ap_fail(ap, (int)seq, "append");
			return;
		}
		if ((uint64_t)seq <= last)
			ap_fail(ap, 0, "sequence numbers of one thread not increasing");
		last = (uint64_t)seq;
		ap->seqs[c] = (uint64_t)seq;
		ap->counter++;
		if (batch == 0)
			batch = nvfs_test_rand(&ap->rng) % 2 ? 1 : 2 + (unsigned)(nvfs_test_rand(&ap->rng) % 15);
		if (--batch == 0) {
			int rc = nvfs_journal_commit(j, (uint64_t)seq);
			if (rc) {
				ap_fail(ap, rc, "commit");
				return;
			}
			struct nvfs_journal_stats st;
			nvfs_journal_stats(j, &st);
			if (st.committed_seq < (uint64_t)seq)
				ap_fail(ap, 0, "commit returned before its seq was committed");
			ap->acked = ap->counter;
		}
	}
	if (last) {
		int rc = nvfs_journal_commit(j, last);
		if (rc)
			ap_fail(ap, rc, "final commit");
		else
			ap->acked = ap->counter;
	}
}

static void *
appender(void *arg)
{
	struct appender *ap = arg;
	struct stress *s = ap->s;
	uint8_t *buf = malloc(MAX_LEN + 8);

	if (!buf)
		ap_fail(ap, -ENOMEM, "malloc");
	else
		append_run(ap, s->n1, 0, buf);
	pthread_barrier_wait(&s->bar);  /* phase 1 done: main stops the checkpointer */
	pthread_barrier_wait(&s->bar);  /* main has set budget2 */
	ap->phase2_from = ap->counter;
	if (buf && !ap->err)
		append_run(ap, UINT32_MAX, s->budget2, buf);
	free(buf);
	return NULL;
}

struct owner {
	uint8_t t;                     /* thread + 1; 0: not handed out */
	uint32_t c;
};

struct verify {
	const struct owner *map;
	uint64_t nr_seqs;
	uint64_t first, prev, n;
	unsigned bad;
	uint8_t *buf;
};

/* verify_entry -- replay callback: consecutive, owned by who appended it, right content */
static int
verify_entry(void *arg, const struct nvfs_journal_entry *e)
{
	struct verify *v = arg;
	const char *why = NULL;

	if (!v->n)
		v->first = e->seq;
	else if (e->seq != v->prev + 1)
		why = "not consecutive";
	v->prev = e->seq;
	v->n++;
	unsigned t = (e->type >> 24) - 1;
	uint32_t c = e->type & 0xffffffu;
	if (!why && (e->seq == 0 || e->seq > v->nr_seqs))
		why = "a sequence number never handed out";
	else if (!why && (t >= NT || v->map[e->seq].t != t + 1 || v->map[e->seq].c != c))
		why = "type names another (thread, counter) than the append of this seq";
	else if (!why && e->payload_bytes != entry_len(t, c))
		why = "wrong length";
	if (!why) {
		entry_fill(v->buf, t, c, e->payload_bytes);
		if (memcmp(v->buf, e->payload, e->payload_bytes))
			why = "wrong payload";
	}
	if (why && v->bad++ < 5)
		printf("\n  replayed seq %llu (type %#x, %u bytes): %s",
		       (unsigned long long)e->seq, e->type, e->payload_bytes, why);
	return 0;
}

static void
test_journal_append_four_threads_every_acked_seq_replayed_once_in_order(void)
{
	struct jt jt;
	struct ckreq ck;
	struct stress s;
	pthread_t ckth;
	double t0 = now_s(CLOCK_MONOTONIC);

	jt_setup(&jt, "jthreads.pmem", 2); /* an 8 MiB ring: phase 1 wraps it ~5 times */
	ckreq_init(&ck);
	reopen_with_ops(&jt, &ck);
	/* Checkpoint only for blocked appenders, and slowly: the ring fills and
	 * appenders sleep on space whatever the speed of this machine. */
	ck.only_blocked = true;
	ck.apply_us = 5000;

	memset(&s, 0, sizeof(s));
	s.j = jt.j;
	s.n1 = 2500; /* not scaled down: wrapping the ring several times is the claim */
	s.cap = s.n1 + 4096;
	pthread_barrier_init(&s.bar, NULL, NT + 1);
	CU_ASSERT_FATAL(pthread_create(&ckth, NULL, checkpointer, &ck) == 0);
	for (unsigned t = 0; t < NT; t++) {
		struct appender *ap = &s.ap[t];
		ap->id = t;
		ap->s = &s;
		ap->rng = nvfs_test_seed() * 31 + t + 1;
		ap->seqs = calloc(s.cap, sizeof(uint64_t));
		CU_ASSERT_FATAL(ap->seqs != NULL);
		CU_ASSERT_FATAL(pthread_create(&ap->th, NULL, appender, ap) == 0);
	}

	/* Phase 1 done: every thread committed all it appended.  Stop the checkpointer. */
	pthread_barrier_wait(&s.bar);
	pthread_mutex_lock(&ck.m);
	ck.stop = true;
	pthread_cond_broadcast(&ck.c);
	pthread_mutex_unlock(&ck.m);
	pthread_join(ckth, NULL);
	struct nvfs_journal_stats st;
	nvfs_journal_stats(jt.j, &st);
	uint64_t last_ckpt = ck.last_ckpt_seq;
	unsigned ckpts = ck.checkpoints;
	uint64_t waits1 = st.waits_for_space;
	/* Leave room for phase 2 while keeping some phase-1 entries un-checkpointed. */
	if (st.used_bytes > st.ring_bytes / 2 && st.committed_seq > 32) {
		CU_ASSERT_EQUAL(nvfs_journal_checkpoint(jt.j, st.committed_seq - 32), 0);
		last_ckpt = st.committed_seq - 32;
		nvfs_journal_stats(jt.j, &st);
	}
	uint64_t phase1_last = st.committed_seq;
	uint64_t slack = (uint64_t)(st.nr_buckets + 2) * cost_of(MAX_LEN) * 2;
	uint64_t room = st.ring_bytes - st.used_bytes;
	s.budget2 = room > slack ? (room - slack) / NT : 0;
	pthread_barrier_wait(&s.bar);

	uint64_t total = 0;
	for (unsigned t = 0; t < NT; t++) {
		pthread_join(s.ap[t].th, NULL);
		if (s.ap[t].err)
			printf("\n  %s", s.ap[t].msg);
		CU_ASSERT_EQUAL(s.ap[t].err, 0);
		CU_ASSERT_EQUAL(s.ap[t].acked, s.ap[t].counter);
		total += s.ap[t].counter;
	}
	if (ck.err)
		printf("\n  checkpointer: %s", ck.msg);
	CU_ASSERT_EQUAL(ck.err, 0);

	/* No sequence number handed out twice, none skipped. */
	nvfs_journal_stats(jt.j, &st);
	CU_ASSERT_EQUAL(st.appends, total);
	CU_ASSERT_EQUAL(st.next_seq, total + 1);
	CU_ASSERT_EQUAL(st.committed_seq, total);
	struct owner *map = calloc(total + 1, sizeof(*map));
	CU_ASSERT_FATAL(map != NULL);
	uint64_t dup = 0, out = 0, distinct = 0;
	for (unsigned t = 0; t < NT; t++)
		for (uint32_t c = 0; c < s.ap[t].counter; c++) {
			uint64_t q = s.ap[t].seqs[c];
			if (q == 0 || q > total) {
				out++;
				continue;
			}
			if (map[q].t) {
				dup++;
				continue;
			}
			map[q] = (struct owner){ (uint8_t)(t + 1), c };
			distinct++;
		}
	CU_ASSERT_EQUAL(dup, 0);
	CU_ASSERT_EQUAL(out, 0);
	CU_ASSERT_EQUAL(distinct, total);
	uint64_t tail_seq = st.tail_seq;

	/* Reopen: everything after the tail, once, in order, as appended. */
	struct verify v = { map, total, 0, 0, 0, 0, malloc(MAX_LEN + 8) };
	struct nvfs_journal_report rep;
	CU_ASSERT_FATAL(v.buf != NULL);
	CU_ASSERT_EQUAL(nvfs_journal_close(&jt.j), 0);
	nvfs_alloc_close(&jt.a);
	CU_ASSERT_FATAL(nvfs_alloc_open(jt.path, NULL, &jt.a) == 0);
	CU_ASSERT_FATAL(nvfs_journal_open(jt.a, NULL, 0, &jt.j) == 0);
	CU_ASSERT_EQUAL(nvfs_journal_replay(jt.j, verify_entry, &v, &rep), 0);
	CU_ASSERT_EQUAL(v.bad, 0);
	CU_ASSERT_FALSE(rep.damaged);
	CU_ASSERT_EQUAL(rep.entries, v.n);
	CU_ASSERT_EQUAL(v.first, tail_seq);
	CU_ASSERT(v.first <= last_ckpt + 1);    /* every acked seq > last checkpoint ... */
	CU_ASSERT_EQUAL(v.prev, total);         /* ... up to the last one, consecutively */
	CU_ASSERT_EQUAL(v.n, total - tail_seq + 1);
	CU_ASSERT(phase1_last < total);         /* phase 2 appended something */

	unsigned calls, blocked, early;
	ckreq_snapshot(&ck, &calls, &blocked, &early);
	printf("\n  %llu appends by %u threads (%llu after the checkpointer stopped), "
	       "%u checkpoints up to seq %llu, %llu waits for space, want_checkpoint "
	       "%u blocked + %u early, %llu commits, %llu persists, %.2f s",
	       (unsigned long long)total, NT, (unsigned long long)(total - phase1_last),
	       ckpts, (unsigned long long)last_ckpt, (unsigned long long)waits1, blocked,
	       early, (unsigned long long)st.commits, (unsigned long long)st.persists,
	       now_s(CLOCK_MONOTONIC) - t0);
	CU_ASSERT(st.head_lsn > 2 * st.ring_bytes);  /* it wrapped */
	CU_ASSERT(waits1 > 0);                       /* appenders blocked on space */
	CU_ASSERT(blocked > 0);
	CU_ASSERT(ckpts > 0);

	free(v.buf);
	free(map);
	for (unsigned t = 0; t < NT; t++)
		free(s.ap[t].seqs);
	pthread_barrier_destroy(&s.bar);
	jt.model.n = 0;
	jt_teardown(&jt);
	ckreq_destroy(&ck);
}

/* ---- a full journal ----------------------------------------------------- */

struct blocked_append {
	struct nvfs_journal *j;
	const uint8_t *buf;
	size_t len;
	int64_t seq;
	double cpu_s, wall_s;
	pthread_mutex_t m;
	pthread_cond_t c;
	bool done;
};

static void *
blocked_appender(void *arg)
{
	struct blocked_append *b = arg;
	double c0 = now_s(CLOCK_THREAD_CPUTIME_ID), w0 = now_s(CLOCK_MONOTONIC);

	int64_t seq = nvfs_journal_append(b->j, 9, b->buf, b->len);
	double cpu = now_s(CLOCK_THREAD_CPUTIME_ID) - c0, wall = now_s(CLOCK_MONOTONIC) - w0;
	pthread_mutex_lock(&b->m);
	b->seq = seq;
	b->cpu_s = cpu;
	b->wall_s = wall;
	b->done = true;
	pthread_cond_broadcast(&b->c);
	pthread_mutex_unlock(&b->m);
	return NULL;
}

static void
test_journal_full_blocks_appenders_until_checkpoint(void)
{
	struct jt jt;
	struct ckreq ck;
	struct nvfs_journal_stats st;
	uint64_t rng = nvfs_test_seed() + 77;
	const size_t len = 1u << 20;

	jt_setup(&jt, "jfull.pmem", 2);
	ckreq_init(&ck);
	reopen_with_ops(&jt, &ck);
	/* 1 MiB entries, one set each: three fit a 4 MiB bucket, six the ring. */
	int64_t last = 0;
	for (unsigned i = 0; i < 6; i++)
		last = jt_append(&jt, &rng, 1, len);
	CU_ASSERT_EQUAL(nvfs_journal_commit(jt.j, 0), 0);
	nvfs_journal_stats(jt.j, &st);
	CU_ASSERT(st.used_bytes + cost_of(len) > st.ring_bytes); /* the next one does not fit */
	uint64_t waits0 = st.waits_for_space;
	unsigned calls0, blocked0, early0;
	ckreq_snapshot(&ck, &calls0, &blocked0, &early0);

	struct blocked_append b = { .j = jt.j, .buf = jt.buf, .len = len };
	pthread_mutex_init(&b.m, NULL);
	pthread_cond_init(&b.c, NULL);
	for (size_t i = 0; i < len; i++)
		jt.buf[i] = (uint8_t)(i * 7 + 3);
	pthread_t th;
	CU_ASSERT_FATAL(pthread_create(&th, NULL, blocked_appender, &b) == 0);
	usleep(250 * 1000);
	pthread_mutex_lock(&b.m);
	bool returned_early = b.done;
	pthread_mutex_unlock(&b.m);
	CU_ASSERT_FALSE(returned_early);
	nvfs_journal_stats(jt.j, &st);
	CU_ASSERT(st.waits_for_space > waits0);
	unsigned calls, blocked, early;
	ckreq_snapshot(&ck, &calls, &blocked, &early);
	CU_ASSERT(blocked > blocked0);

	/* Free the space: the appender must return promptly with the next seq. */
	double w0 = now_s(CLOCK_MONOTONIC);
	CU_ASSERT_EQUAL(nvfs_journal_checkpoint(jt.j, (uint64_t)last), 0);
	jt_forget_upto(&jt, (uint64_t)last);
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 5;
	pthread_mutex_lock(&b.m);
	while (!b.done && pthread_cond_timedwait(&b.c, &b.m, &dl) == 0)
		;
	bool done = b.done;
	pthread_mutex_unlock(&b.m);
	CU_ASSERT_FATAL(done); /* (if not, the thread is stuck: do not join it) */
	double woke = now_s(CLOCK_MONOTONIC) - w0;
	pthread_join(th, NULL);
	CU_ASSERT_EQUAL(b.seq, last + 1);
	printf("\n  appender blocked %.0f ms wall, %.2f ms CPU; returned %.1f ms after the "
	       "checkpoint; want_checkpoint(blocked) x%u", b.wall_s * 1e3, b.cpu_s * 1e3,
	       woke * 1e3, blocked - blocked0);
	CU_ASSERT(b.wall_s >= 0.2);
	CU_ASSERT(b.cpu_s < 0.020);  /* slept, did not spin */
	CU_ASSERT(woke < 2.0);

	jt_list_push(&jt.model, (struct jt_rec){ (uint64_t)b.seq, 9, (uint32_t)len,
						 nvfs_csum(jt.buf, len, 0) });
	jt.next_seq = (uint64_t)b.seq + 1;
	CU_ASSERT_EQUAL(nvfs_journal_commit(jt.j, 0), 0);
	jt_reopen(&jt);
	CU_ASSERT(jt_replay_matches(&jt));
	pthread_cond_destroy(&b.c);
	pthread_mutex_destroy(&b.m);
	jt_teardown(&jt);
	ckreq_destroy(&ck);
}

/* ---- the high watermark ------------------------------------------------- */

static void
test_journal_high_watermark_requests_checkpoint_early(void)
{
	struct jt jt;
	struct ckreq ck;
	struct nvfs_journal_stats st;
	uint64_t rng = nvfs_test_seed() + 91;
	unsigned calls, blocked, early;

	jt_setup(&jt, "jwater.pmem", 4); /* 16 MiB ring */
	ckreq_init(&ck);
	reopen_with_ops(&jt, &ck);
	int64_t last = 0;
	for (unsigned round = 0; round < 2; round++) {
		/* Below 50%: no call. */
		unsigned crossed_at = 0, n = 0;
		for (;;) {
			nvfs_journal_stats(jt.j, &st);
			unsigned before = (unsigned)(st.used_bytes * 100 / st.ring_bytes);
			if (before >= 80)
				break;
			last = jt_append(&jt, &rng, 2, 48u << 10);
			n++;
			nvfs_journal_stats(jt.j, &st);
			unsigned after = (unsigned)(st.used_bytes * 100 / st.ring_bytes);
			ckreq_snapshot(&ck, &calls, &blocked, &early);
			CU_ASSERT_EQUAL(blocked, 0);
			if (after < NVFS_JOURNAL_HIGH_WATERMARK_PCT) {
				CU_ASSERT_EQUAL(early, round);
			} else {
				if (!crossed_at)
					crossed_at = after;
				/* once when crossing, not on every append above it */
				CU_ASSERT_EQUAL(early, round + 1);
			}
		}
		CU_ASSERT(crossed_at >= NVFS_JOURNAL_HIGH_WATERMARK_PCT);
		pthread_mutex_lock(&ck.m);
		CU_ASSERT(ck.min_early_pct >= NVFS_JOURNAL_HIGH_WATERMARK_PCT);
		CU_ASSERT(ck.last_pct >= NVFS_JOURNAL_HIGH_WATERMARK_PCT && ck.last_pct < 80);
		pthread_mutex_unlock(&ck.m);
		printf("\n  round %u: %u appends to 80%%, watermark call at %u%%", round, n,
		       crossed_at);
		/* A checkpoint below the watermark re-arms it. */
		CU_ASSERT_EQUAL(nvfs_journal_commit(jt.j, 0), 0);
		CU_ASSERT_EQUAL(nvfs_journal_checkpoint(jt.j, (uint64_t)last), 0);
		jt_forget_upto(&jt, (uint64_t)last);
		nvfs_journal_stats(jt.j, &st);
		CU_ASSERT_EQUAL(st.used_bytes, 0);
	}
	jt_teardown(&jt);
	ckreq_destroy(&ck);
}

/* ---- group commit ------------------------------------------------------- */

struct gc_thread {
	pthread_t th;
	struct nvfs_journal *j;
	unsigned id, n;
	uint64_t rng;
	int err;
	char msg[200];
	pthread_barrier_t *bar;
};

static void *
gc_appender(void *arg)
{
	struct gc_thread *g = arg;
	uint8_t buf[256];

	memset(buf, (int)g->id, sizeof(buf));
	pthread_barrier_wait(g->bar);
	for (unsigned i = 0; i < g->n && !g->err; i++) {
		size_t len = (size_t)(nvfs_test_rand(&g->rng) % sizeof(buf));
		int64_t seq = nvfs_journal_append(g->j, 3 + g->id, buf, len);
		int rc = seq > 0 ? nvfs_journal_commit(g->j, (uint64_t)seq) : (int)seq;
		if (rc) {
			g->err = rc;
			snprintf(g->msg, sizeof(g->msg), "%s", nvfs_errmsg());
		}
	}
	return NULL;
}

/* slow_flush -- persist hook: every flush takes 300 us, like a real write-back */
static void
slow_flush(void *arg, const struct nvfs_pmem *pm, size_t off, size_t len)
{
	(void)arg; (void)pm; (void)off; (void)len;
	usleep(300);
}

/* group_run -- NT threads doing n append+commit each; the journal's stats after */
static void
group_run(const char *name, unsigned n, bool slow, struct nvfs_journal_stats *st)
{
	struct jt jt;
	struct gc_thread g[NT];
	pthread_barrier_t bar;
	struct nvfs_pmem_hook hook = { slow_flush, NULL, NULL };

	jt_setup(&jt, name, 4);
	if (slow)
		nvfs_pmem_set_hook(&hook);
	pthread_barrier_init(&bar, NULL, NT);
	for (unsigned t = 0; t < NT; t++) {
		g[t] = (struct gc_thread){ .j = jt.j, .id = t, .n = n,
					   .rng = nvfs_test_seed() + t * 7 + 1, .bar = &bar };
		CU_ASSERT_FATAL(pthread_create(&g[t].th, NULL, gc_appender, &g[t]) == 0);
	}
	for (unsigned t = 0; t < NT; t++) {
		pthread_join(g[t].th, NULL);
		if (g[t].err)
			printf("\n  thread %u: %d %s", t, g[t].err, g[t].msg);
		CU_ASSERT_EQUAL(g[t].err, 0);
	}
	pthread_barrier_destroy(&bar);
	nvfs_journal_stats(jt.j, st);
	if (slow)
		nvfs_pmem_set_hook(NULL);
	CU_ASSERT_EQUAL(st->appends, (uint64_t)NT * n);
	CU_ASSERT_EQUAL(st->committed_seq, (uint64_t)NT * n);
	printf("\n  %s persists: %llu append+commit by %u threads: %llu commits, %llu "
	       "persists (%.2f appends per persist)", slow ? "slow" : "fast",
	       (unsigned long long)st->appends, NT, (unsigned long long)st->commits,
	       (unsigned long long)st->persists,
	       (double)st->appends / (double)(st->persists ? st->persists : 1));
	jt_reopen(&jt);
	CU_ASSERT_EQUAL(jt.report.entries, (uint64_t)NT * n);
	CU_ASSERT_FALSE(jt.report.damaged);
	jt.model.n = 0;
	jt_teardown(&jt);
}

/*
 * Appenders that commit while a commit runs are covered by the next one.
 * With this machine's persists (tmpfs msync, or a forced CACHE_LINE flush:
 * microseconds) a commit is usually over before another thread asks, so
 * sharing is only printed.  With persists slowed to 300 us by the pmem
 * hook, four threads must share them.
 */
static void
test_journal_group_commit_shares_persists(void)
{
	struct nvfs_journal_stats st;

	group_run("jgroup.pmem", 2000 / nvfs_test_scale_div(), false, &st);
	group_run("jgroup_slow.pmem", 200, true, &st);
	CU_ASSERT(st.persists * 4 < st.appends * 3);
	CU_ASSERT(st.commits < st.appends);
}

/* ---- a set that ends exactly at a bucket end ---------------------------- */

/*
 * The deterministic form of an intermittent failure of the stress test
 * above ("commit: -5 journal: set at lsn 4168000 is malformed: entry 19
 * payload of 825247818 bytes does not fit the set (J3)"): an open set whose
 * entries ended exactly at a bucket end took the next entry, which then lay
 * in the next bucket (reserve() checked bucket_left(head_lsn), a whole
 * bucket at a bucket boundary), so the set crossed the bucket end and its
 * commit read past the bucket.  Fixed in f97e88c; kept as a regression test.
 */
static void
test_journal_set_ending_at_bucket_end_takes_no_more_entries(void)
{
	struct jt jt;
	struct nvfs_journal_stats st;
	uint64_t rng = nvfs_test_seed() + 123;
	const uint64_t B = NVFS_JOURNAL_BUCKET_BYTES;

	jt_setup(&jt, "jbucketend.pmem", 2);
	/* Sets of one entry each (first entries ignore the soft maximum):
	 * 3 x 1 MiB + 896 KiB, so that the next set starts 128 KiB before the end. */
	for (unsigned i = 0; i < 3; i++)
		jt_append(&jt, &rng, 1, (1u << 20) - 96);
	jt_append(&jt, &rng, 1, (896u << 10) - 96);
	nvfs_journal_stats(jt.j, &st);
	CU_ASSERT_EQUAL_FATAL(st.head_lsn, B - (128u << 10));
	/* A set of one 128 KiB entry ends exactly at the bucket end ... */
	jt_append(&jt, &rng, 2, (128u << 10) - 96);
	nvfs_journal_stats(jt.j, &st);
	CU_ASSERT_EQUAL(st.head_lsn, B);
	/* ... and a small entry must start a new set in the next bucket. */
	jt_append(&jt, &rng, 3, 0);
	jt_append(&jt, &rng, 3, 100);
	int rc = nvfs_journal_commit(jt.j, 0);
	if (rc)
		printf("\n  commit: %d %s", rc, nvfs_errmsg());
	CU_ASSERT_EQUAL(rc, 0);
	if (rc) {
		/* the error latched: the journal is unusable; do not commit at close */
		jt.model.n = 0;
	} else {
		jt_reopen(&jt);
		if (!jt_replay_matches(&jt))
			printf("\n  replay stopped at lsn %llu: %s",
			       (unsigned long long)jt.report.stop_lsn, jt.report.reason);
		CU_ASSERT(jt_replay_matches(&jt));
	}
	struct nvfs_journal *j = jt.j;
	jt.j = NULL;
	nvfs_journal_close(&j);  /* its commit error, if any, was reported above */
	jt_teardown(&jt);
}

NVFS_SUITE(journal_threads, "journal/threads", NULL, NULL,
	   NVFS_TEST(test_journal_append_four_threads_every_acked_seq_replayed_once_in_order),
	   NVFS_TEST(test_journal_full_blocks_appenders_until_checkpoint),
	   NVFS_TEST(test_journal_high_watermark_requests_checkpoint_early),
	   NVFS_TEST(test_journal_group_commit_shares_persists),
	   NVFS_TEST(test_journal_set_ending_at_bucket_end_takes_no_more_entries))
