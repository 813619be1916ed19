/* SPDX-License-Identifier: MIT */
/*
 * ckpt.c -- the checkpointer, and the statistics a user can read while
 * mounted.
 *
 * CHECKPOINT (docs/FS-JOURNAL.md section 6)
 *   A thread wakes every period (checkpoint_ms), when the journal asks for
 *   space (its watermark, or an appender waiting), and at unmount.  A pass:
 *     1. S = the last record appended.  Every record is appended after its
 *        change was applied to SOURCE (log.c), so every change up to S is
 *        in SOURCE, if not yet durable there;
 *     2. commit the journal up to S (a checkpoint may only cover committed
 *        records);
 *     3. syncfs(SOURCE): now every change up to S is durable in SOURCE --
 *        the only whole-file-system sync nvfs makes, never on a request;
 *     4. nvfs_journal_checkpoint(S): the journal forgets them.
 *   A crash between any two steps leaves records that replay applies again,
 *   which is harmless (records are idempotent).  A failed syncfs keeps the
 *   journal as it is (nothing is released) and is retried next period.
 *   The last pass, at unmount, leaves the journal empty.
 *
 * STATISTICS: "key: value" lines (nvfs_stats_text), read as the root's
 * extended attribute NVFS_FS_STATS_XATTR.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fs_int.h"
#include "nvfs_alloc.h"
#include "nvfs_err.h"
#include "nvfs_journal.h"
#include "nvfs_pmem.h"

/* the file system this process serves, for the journal's callback */
static struct nvfs_fs *ckpt_fs;

/* now -- monotonic seconds */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* want_checkpoint -- the journal's callback: wake the thread, never block long */
static void
want_checkpoint(void *arg, unsigned fill_pct, bool blocked)
{
	struct nvfs_fs *fs = __atomic_load_n(&ckpt_fs, __ATOMIC_ACQUIRE);

	(void)arg;
	(void)fill_pct;
	(void)blocked;
	if (!fs)
		return; /* replay, before the file system runs: it checkpoints itself */
	pthread_mutex_lock(&fs->ckpt.lock);
	fs->ckpt.kick = true;
	pthread_cond_signal(&fs->ckpt.cond);
	pthread_mutex_unlock(&fs->ckpt.lock);
}

/* nvfs_fs_journal_ops -- the callbacks to open the journal with */
void
nvfs_fs_journal_ops(struct nvfs_journal_ops *ops)
{
	ops->want_checkpoint = want_checkpoint;
	ops->arg = NULL;
}

/*
 * mark -- a checkpoint finished now: what is born from now on and never
 * journaled was never durable.  The MARK record saying so is appended
 * before the next record (log.c), so that an idle file system writes
 * nothing.
 */
static void
mark(struct nvfs_fs *fs)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	__atomic_store_n(&fs->mark_ns, (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&fs->need_mark, true, __ATOMIC_RELEASE);
}

/* test_syncfs_fails -- NVFS_TEST_FAIL_SYNCFS: this syncfs fails (EIO) */
static bool
test_syncfs_fails(struct nvfs_fs *fs)
{
	if (__builtin_expect(fs->ckpt.test_fail_syncfs == 0, 1))
		return false;
	fs->ckpt.test_fail_syncfs--; /* only the thread, or unmount after it */
	errno = EIO;
	return true;
}

/*
 * pass -- one checkpoint (steps 1-4 above), then the time for the next
 * MARK (nvfs_rec.h).  0 or -errno (logged).
 */
static int
pass(struct nvfs_fs *fs, bool last_pass)
{
	struct nvfs_journal_stats st;
	uint64_t last;
	int rc;

	nvfs_journal_stats(fs->journal, &st);
	if (st.next_seq <= st.tail_seq)
		return 0; /* nothing since the last checkpoint */
	last = st.next_seq - 1;
	if ((rc = nvfs_journal_commit(fs->journal, last)) < 0)
		goto fail;
	if (test_syncfs_fails(fs) || syncfs(fs->source_fd) < 0) {
		rc = -errno;
		__atomic_fetch_add(&fs->ckpt.syncfs_errors, 1, __ATOMIC_RELAXED);
		fuse_log(FUSE_LOG_ERR, "checkpoint: syncfs of SOURCE: %s; the journal "
			 "keeps every record and the checkpoint is retried\n", strerror(-rc));
		return rc;
	}
	if (fs->ckpt.test_delay_us) {
		/* tests: widen the window between steps 3 and 4 and say when
		 * it opens and closes, so a kill can be aimed into it */
		fprintf(stderr, "NVFS_TEST: checkpoint through %llu: SOURCE synced\n",
			(unsigned long long)last);
		usleep(fs->ckpt.test_delay_us);
	}
	if ((rc = nvfs_journal_checkpoint(fs->journal, last)) < 0)
		goto fail;
	if (fs->ckpt.test_delay_us)
		fprintf(stderr, "NVFS_TEST: checkpoint through %llu: done\n",
			(unsigned long long)last);
	__atomic_fetch_add(&fs->ckpt.passes, 1, __ATOMIC_RELAXED);
	if (!last_pass)
		mark(fs);
	return 0;
fail:
	fuse_log(FUSE_LOG_ERR, "checkpoint: %s\n", nvfs_errmsg());
	return rc;
}

/* rate_update -- commits per second since the last update (ckpt.lock held) */
static void
rate_update(struct nvfs_fs *fs)
{
	struct nvfs_journal_stats st;
	double t = now();

	nvfs_journal_stats(fs->journal, &st);
	if (t - fs->ckpt.rate_at >= 0.5) {
		fs->ckpt.rate = (double)(st.commits - fs->ckpt.commits_prev) /
				(t - fs->ckpt.rate_at);
		fs->ckpt.commits_prev = st.commits;
		fs->ckpt.rate_at = t;
	}
}

/* ckpt_main -- the thread */
static void *
ckpt_main(void *arg)
{
	struct nvfs_fs *fs = arg;
	struct nvfs_ckpt *c = &fs->ckpt;

	pthread_mutex_lock(&c->lock);
	while (!c->stop) {
		if (!c->kick) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += c->period_ms / 1000;
			ts.tv_nsec += (long)(c->period_ms % 1000) * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&c->cond, &c->lock, &ts);
		}
		rate_update(fs);
		if (c->stop)
			break;
		c->kick = false;
		pthread_mutex_unlock(&c->lock);
		if (!c->disabled)
			pass(fs, false);
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* nvfs_ckpt_start -- in the daemon, at init */
int
nvfs_ckpt_start(struct nvfs_fs *fs)
{
	struct nvfs_ckpt *c = &fs->ckpt;
	const char *off = getenv("NVFS_TEST_NO_CHECKPOINT");
	int rc;

	if (!fs->journal || c->running)
		return 0;
	c->period_ms = fs->cfg->checkpoint_ms ? fs->cfg->checkpoint_ms :
		       NVFS_FS_DEFAULT_CHECKPOINT_MS;
	/* tests only: keep everything in the journal, so that a test can take
	 * SOURCE back to the mount's state and replay the whole run */
	c->disabled = off && strcmp(off, "1") == 0;
	if (c->disabled)
		fuse_log(FUSE_LOG_WARNING, "NVFS_TEST_NO_CHECKPOINT=1: the journal is "
			 "never checkpointed (a test setting)\n");
	const char *delay = getenv("NVFS_TEST_CKPT_DELAY_US");
	if (delay)
		c->test_delay_us = (unsigned)strtoul(delay, NULL, 10);
	const char *nfail = getenv("NVFS_TEST_FAIL_SYNCFS");
	if (nfail && (c->test_fail_syncfs = (unsigned)strtoul(nfail, NULL, 10)))
		fuse_log(FUSE_LOG_WARNING, "NVFS_TEST_FAIL_SYNCFS=%u: the checkpointer's "
			 "next %u syncfs calls fail with EIO (a test setting)\n",
			 c->test_fail_syncfs, c->test_fail_syncfs);
	c->rate_at = now();
	fs->started = c->rate_at;
	mark(fs); /* replay at mount has just checkpointed */
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	if ((rc = pthread_create(&c->thread, NULL, ckpt_main, fs)) != 0) {
		pthread_cond_destroy(&c->cond);
		pthread_mutex_destroy(&c->lock);
		return -rc;
	}
	c->running = true;
	__atomic_store_n(&ckpt_fs, fs, __ATOMIC_RELEASE);
	return 0;
}

/* nvfs_ckpt_stop -- at unmount: stop the thread, then a last checkpoint */
void
nvfs_ckpt_stop(struct nvfs_fs *fs)
{
	struct nvfs_ckpt *c = &fs->ckpt;

	if (!fs->journal || c->stopped)
		return;
	c->stopped = true;
	if (c->running) {
		pthread_mutex_lock(&c->lock);
		c->stop = true;
		pthread_cond_signal(&c->cond);
		pthread_mutex_unlock(&c->lock);
		pthread_join(c->thread, NULL);
		__atomic_store_n(&ckpt_fs, NULL, __ATOMIC_RELEASE);
		c->running = false;
		pthread_cond_destroy(&c->cond);
		pthread_mutex_destroy(&c->lock);
	}
	/* also when the thread never ran: a clean unmount empties the journal */
	if (!c->disabled && pass(fs, true) == 0)
		fuse_log(FUSE_LOG_INFO, "unmount: SOURCE synced, journal empty\n");
}

/* nvfs_stats_text -- "key: value" lines */
size_t
nvfs_stats_text(struct nvfs_fs *fs, char *buf, size_t len)
{
	const struct nvfs_fs_config *cfg = fs->cfg;
	const struct nvfs_fs_replay_report *rp = cfg->replayed;
	struct nvfs_journal_stats st = { 0 };
	struct nvfs_alloc_stats as = { 0 };
	char pm[1024] = "";
	double rate = 0;
	int n;

	if (fs->journal) {
		nvfs_journal_stats(fs->journal, &st);
		if (fs->ckpt.running) {
			pthread_mutex_lock(&fs->ckpt.lock);
			rate_update(fs);
			rate = fs->ckpt.rate;
			pthread_mutex_unlock(&fs->ckpt.lock);
		}
	}
	if (cfg->alloc) {
		nvfs_alloc_stats(cfg->alloc, &as);
		nvfs_pmem_describe(nvfs_alloc_pmem(cfg->alloc), pm, sizeof(pm));
	}
	n = snprintf(buf, len,
		     "durability: %s%s%s\n"
		     "journal_bytes: %llu\n"
		     "journal_used_bytes: %llu\n"
		     "journal_fill_pct: %.1f\n"
		     "entries_not_checkpointed: %llu\n"
		     "records_logged: %llu\n"
		     "commits: %llu\n"
		     "commits_per_sec: %.1f\n"
		     "persists: %llu\n"
		     "checkpoints: %llu\n"
		     "checkpoint_period_ms: %u\n"
		     "waits_for_space: %llu\n"
		     "log_errors: %llu\n"
		     "syncfs_errors: %llu\n"
		     "replayed_entries: %llu\n"
		     "replay_seconds: %.3f\n"
		     "replay_recreated: %llu\n"
		     "pmem: %s\n"
		     "pmem_pages_free: %llu\n"
		     "pmem_pages_total: %llu\n",
		     !fs->journal ? "none (read-only)" : fs->op_durable ? "op" : "fsync",
		     cfg->durability_why ? " -- " : "",
		     cfg->durability_why ? cfg->durability_why : "",
		     (unsigned long long)st.ring_bytes, (unsigned long long)st.used_bytes,
		     st.ring_bytes ? 100.0 * (double)st.used_bytes / (double)st.ring_bytes : 0.0,
		     (unsigned long long)(st.next_seq > st.tail_seq ? st.next_seq - st.tail_seq : 0),
		     (unsigned long long)__atomic_load_n(&fs->records, __ATOMIC_RELAXED),
		     (unsigned long long)st.commits, rate, (unsigned long long)st.persists,
		     (unsigned long long)st.checkpoints, fs->ckpt.period_ms,
		     (unsigned long long)st.waits_for_space,
		     (unsigned long long)__atomic_load_n(&fs->log_errors, __ATOMIC_RELAXED),
		     (unsigned long long)__atomic_load_n(&fs->ckpt.syncfs_errors,
							 __ATOMIC_RELAXED),
		     (unsigned long long)(rp ? rp->entries : 0), rp ? rp->seconds : 0.0,
		     (unsigned long long)(rp ? rp->recreated : 0), pm,
		     (unsigned long long)as.pages_free, (unsigned long long)as.pages_total);
	if (n < 0)
		return 0;
	return (size_t)n < len ? (size_t)n : len - 1;
}
