/* SPDX-License-Identifier: MIT */
/*
 * journal_bench.c -- journal append+commit latency and throughput against a
 * baseline, and replay speed.
 *
 *   journal_bench PMEM SECONDS REPLAY_RUNS
 *
 * PMEM is created (or resized) to a namespace holding a 64-bucket (256 MiB)
 * journal; the file is first written with zeros, so that its blocks are
 * allocated as in a journal that has wrapped once, and then dropped from
 * the page cache (POSIX_FADV_DONTNEED; a no-op on tmpfs), as after a
 * restart.  Set-up and the replay fill use forced CACHE_LINE granularity
 * (fast on any medium; msynced after); everything measured runs at the
 * granularity the environment gives (PMEM2_FORCE_GRANULARITY or native):
 *   - empty: nvfs_alloc_open + nvfs_journal_open + nvfs_journal_replay of
 *     the fresh, empty journal (median of REPLAY_RUNS; 0 skips it);
 *   - append+commit: 128 B and 4 KiB entries, 1 and 4 threads, SECONDS
 *     each; every thread appends and commits its own seq in a loop and
 *     times each pair (CLOCK_MONOTONIC).  A checkpointer thread, woken by
 *     want_checkpoint, checkpoints stats.committed_seq so the ring never
 *     stays full.  Reported: median and p99 latency, entries/s, payload
 *     MB/s (10^6 bytes), appends, commits, persists, checkpoints and waits
 *     for space in the run (appends/persists is what group commit
 *     achieved), and the KiB written to the file's block device per entry
 *     (/proc/diskstats, whole device: other writers count too);
 *   - the baseline, the same loop shape with the same entry size and
 *     threads: at PAGE granularity pwrite+fdatasync into a pre-written,
 *     cached file next to PMEM (what an fsync-based log pays); otherwise
 *     memcpy into a 256 MiB DRAM buffer (each thread its own slice);
 *   - replay: a fresh journal filled with 4 KiB entries up to one bucket
 *     short of full (committed in batches of 64, never checkpointed),
 *     closed, then nvfs_alloc_open + nvfs_journal_open +
 *     nvfs_journal_replay with a callback copying each payload out;
 *     median of up to REPLAY_RUNS (0 skips it; a run over 10 s ends the
 *     series), the open part reported too.  Timed with the file in the
 *     page cache (warm) and, at PAGE granularity, also after
 *     POSIX_FADV_DONTNEED (cold: read from the disk, as after a reboot).
 * Output: one "key value" line per number, for bench/journal_bench.sh.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "nvfs_alloc.h"
#include "nvfs_err.h"
#include "nvfs_journal.h"
#include "nvfs_ns.h"
#include "nvfs_pmem.h"

#define NR_BUCKETS  64u
#define RING_BYTES  ((uint64_t)NR_BUCKETS * NVFS_JOURNAL_BUCKET_BYTES)
/* One bucket more than the ring: the header page and the allocator's slack. */
#define NS_BYTES    (NVFS_PAGES_OFF + RING_BYTES + NVFS_JOURNAL_BUCKET_BYTES)
#define DRAM_BYTES  (256u << 20)     /* memcpy baseline target */
#define WAL_SLICE   (16u << 20)      /* fdatasync baseline: bytes per thread */
#define MAX_THREADS 4u
#define ENTRY_TYPE  7u

/* now_ns -- monotonic nanoseconds */
static uint64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* die -- print the nvfs error and exit */
static void
die(const char *what)
{
	fprintf(stderr, "journal_bench: %s: %s\n", what, nvfs_errmsg());
	exit(1);
}

/* die_errno -- print errno and exit */
static void
die_errno(const char *what)
{
	perror(what);
	exit(1);
}

/* The environment's PMEM2_FORCE_GRANULARITY, saved while set-up forces CACHE_LINE. */
static char *saved_gran;
static bool saved_set;

/* force_cache_line -- map with CACHE_LINE until force_restore */
static void
force_cache_line(void)
{
	const char *v = getenv("PMEM2_FORCE_GRANULARITY");
	saved_set = v != NULL;
	saved_gran = v ? strdup(v) : NULL;
	setenv("PMEM2_FORCE_GRANULARITY", "cache_line", 1);
}

/* force_restore -- back to the environment's granularity */
static void
force_restore(void)
{
	if (saved_set)
		setenv("PMEM2_FORCE_GRANULARITY", saved_gran, 1);
	else
		unsetenv("PMEM2_FORCE_GRANULARITY");
	free(saved_gran);
	saved_gran = NULL;
}

/* write_zeros -- (re)create path as bytes of written zeros, synced */
static void
write_zeros(const char *path, uint64_t bytes)
{
	static char zero[1 << 20];
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

	if (fd < 0)
		die_errno(path);
	for (uint64_t off = 0; off < bytes; off += sizeof(zero)) {
		size_t n = bytes - off < sizeof(zero) ? (size_t)(bytes - off) : sizeof(zero);
		if (pwrite(fd, zero, n, (off_t)off) != (ssize_t)n)
			die_errno(path);
	}
	if (fsync(fd) < 0)
		die_errno(path);
	close(fd);
}

/*
 * evict -- write back and drop the file from the page cache (a no-op on
 * tmpfs).  The set-up writes the file with write(2), which leaves large
 * folios in the page cache; an msync writes back every dirty folio whole,
 * so a commit would write up to a folio (1 MiB seen on ext4) instead of
 * its pages.  Evicted, the mapping faults pages back in as nvfs would
 * after a restart.
 */
static void
evict(const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		die_errno(path);
	if (fdatasync(fd) < 0 || posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED))
		die_errno("fadvise");
	close(fd);
}

/* disk_sectors -- sectors written to the device holding path (-1: none, e.g. tmpfs) */
static long long
disk_sectors(const char *path)
{
	struct stat st;
	char line[512];
	long long v = -1;

	if (stat(path, &st) < 0 || major(st.st_dev) == 0)
		return -1;
	FILE *f = fopen("/proc/diskstats", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned maj, min;
		long long w;
		if (sscanf(line, " %u %u %*s %*s %*s %*s %*s %*s %*s %lld", &maj, &min, &w) == 3 &&
		    maj == major(st.st_dev) && min == minor(st.st_dev)) {
			v = w;
			break;
		}
	}
	fclose(f);
	return v;
}

/* msync_all -- make what forced CACHE_LINE wrote durable */
static void
msync_all(struct nvfs_alloc *a)
{
	struct nvfs_pmem *pm = nvfs_alloc_pmem(a);
	if (msync(pm->base, pm->size, MS_SYNC) < 0)
		die_errno("msync");
}

/* make_ns -- zeroed file, formatted, with an empty journal (forced CACHE_LINE) */
static void
make_ns(const char *path)
{
	static const uint8_t ns_uuid[NVFS_UUID_BYTES] = { 0xbe, 0x0c, 0x10 };
	struct nvfs_pmem *pm;
	struct nvfs_alloc *a;

	write_zeros(path, NS_BYTES);
	force_cache_line();
	if (nvfs_pmem_open(path, 0, &pm) || nvfs_ns_format(pm, NS_BYTES, ns_uuid, "bench"))
		die("format");
	nvfs_pmem_close(&pm);
	if (nvfs_alloc_open(path, NULL, &a))
		die("alloc open");
	if (nvfs_journal_create(a, RING_BYTES))
		die("journal create");
	msync_all(a);
	nvfs_alloc_close(&a);
	force_restore();
	evict(path);
}

/* open_journal -- allocator, journal, (empty) replay */
static void
open_journal(const char *path, const struct nvfs_journal_ops *ops, struct nvfs_alloc **a,
	     struct nvfs_journal **j)
{
	struct nvfs_journal_report rep;

	if (nvfs_alloc_open(path, NULL, a))
		die("alloc open");
	if (nvfs_journal_open(*a, ops, 0, j))
		die("journal open");
	if (nvfs_journal_replay(*j, NULL, NULL, &rep))
		die("replay");
	if (rep.damaged)
		fprintf(stderr, "journal_bench: replay found damage: %s\n", rep.reason);
	if (rep.entries && nvfs_journal_checkpoint(*j, rep.last_seq))
		die("checkpoint");
}

/* ---- the checkpointer ----------------------------------------------------- */

struct ckpt {
	struct nvfs_journal *j;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool wanted, stop;
};

/* want_checkpoint -- the journal's callback: wake the checkpointer */
static void
want_checkpoint(void *arg, unsigned fill_pct, bool blocked)
{
	struct ckpt *c = arg;
	(void)fill_pct; (void)blocked;
	pthread_mutex_lock(&c->lock);
	c->wanted = true;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

/* checkpoint_all -- checkpoint everything committed */
static void
checkpoint_all(struct nvfs_journal *j)
{
	struct nvfs_journal_stats st;
	nvfs_journal_stats(j, &st);
	if (st.committed_seq >= st.tail_seq && nvfs_journal_checkpoint(j, st.committed_seq))
		die("checkpoint");
}

/* ckpt_main -- sleep until wanted, checkpoint the committed seq */
static void *
ckpt_main(void *arg)
{
	struct ckpt *c = arg;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		while (!c->wanted && !c->stop)
			pthread_cond_wait(&c->cond, &c->lock);
		if (c->stop)
			break;
		c->wanted = false;
		pthread_mutex_unlock(&c->lock);
		checkpoint_all(c->j);
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* ---- the timed loops ------------------------------------------------------ */

enum kind { K_JOURNAL, K_MEMCPY, K_FSYNC };

struct run {
	enum kind kind;
	size_t size;
	unsigned threads;
	uint64_t deadline;            /* ns, set before the start barrier */
	struct nvfs_journal *j;
	char *dram;                   /* K_MEMCPY: DRAM_BYTES */
	int fd;                       /* K_FSYNC: threads * WAL_SLICE bytes */
	const char *disk_path;        /* count the writes to its device */
	pthread_barrier_t start;
};

/*
 * Latency histogram: exact below 256 ns, then 128 buckets per power of two
 * (under 0.8% error) up to 2^32 ns.
 */
#define HIST_BUCKETS (256 + 24 * 128)

/* hist_index -- the bucket of v ns */
static unsigned
hist_index(uint64_t v)
{
	if (v > UINT32_MAX)
		v = UINT32_MAX;
	if (v < 256)
		return (unsigned)v;
	unsigned e = 63 - (unsigned)__builtin_clzll(v);           /* 8..31 */
	return 256 + (e - 8) * 128 + (unsigned)((v >> (e - 7)) - 128);
}

/* hist_value -- the middle of bucket i, in ns */
static double
hist_value(unsigned i)
{
	if (i < 256)
		return i;
	unsigned e = (i - 256) / 128 + 8, m = (i - 256) % 128 + 128;
	return ((double)m + 0.5) * (double)(1ull << (e - 7));
}

struct worker {
	struct run *r;
	unsigned id;
	pthread_t thread;
	uint64_t hist[HIST_BUCKETS];  /* ns per operation */
	uint64_t n;
	uint64_t end;
};

/* worker_main -- one thread: timed operations until the deadline */
static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct run *r = w->r;
	char *buf = malloc(r->size);
	uint64_t off = 0, slice = r->kind == K_MEMCPY ? DRAM_BYTES / r->threads : WAL_SLICE;
	uint64_t base = (uint64_t)w->id * slice;

	if (!buf)
		die_errno("malloc");
	for (size_t i = 0; i < r->size; i++)
		buf[i] = (char)(i * 131 + w->id * 7 + 1);
	pthread_barrier_wait(&r->start);
	uint64_t t0 = now_ns(), t1;
	do {
		switch (r->kind) {
		case K_JOURNAL: {
			int64_t seq = nvfs_journal_append(r->j, ENTRY_TYPE, buf, r->size);
			if (seq < 0)
				die("append");
			if (nvfs_journal_commit(r->j, (uint64_t)seq))
				die("commit");
			break;
		}
		case K_MEMCPY:
			memcpy(r->dram + base + off, buf, r->size);
			break;
		case K_FSYNC:
			if (pwrite(r->fd, buf, r->size, (off_t)(base + off)) != (ssize_t)r->size ||
			    fdatasync(r->fd) < 0)
				die_errno("pwrite+fdatasync");
			break;
		}
		off += r->size;
		if (off + r->size > slice)
			off = 0;
		t1 = now_ns();
		w->hist[hist_index(t1 - t0)]++;
		w->n++;
		t0 = t1;
	} while (t1 < r->deadline);
	w->end = t1;
	free(buf);
	return NULL;
}

struct result {
	double med_us, p99_us, ops_s, mb_s;
	double disk_kib_op;           /* device writes per operation, < 0: unknown */
	double fair;                  /* fewest / most operations of one thread */
	uint64_t ops;
};

/* run_loop -- threads running r->kind for seconds; latencies and rate */
static struct result
run_loop(struct run *r, double seconds)
{
	static struct worker w[MAX_THREADS];
	static uint64_t hist[HIST_BUCKETS];
	struct result res = { 0 };

	memset(w, 0, sizeof(w));
	memset(hist, 0, sizeof(hist));
	pthread_barrier_init(&r->start, NULL, r->threads + 1);
	for (unsigned i = 0; i < r->threads; i++) {
		w[i].r = r;
		w[i].id = i;
		if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]))
			die_errno("pthread_create");
	}
	long long sect0 = r->disk_path ? disk_sectors(r->disk_path) : -1;
	uint64_t start = now_ns();
	r->deadline = start + (uint64_t)(seconds * 1e9);
	pthread_barrier_wait(&r->start);
	uint64_t end = start;
	uint64_t n = 0;
	for (unsigned i = 0; i < r->threads; i++) {
		pthread_join(w[i].thread, NULL);
		n += w[i].n;
		if (w[i].end > end)
			end = w[i].end;
	}
	pthread_barrier_destroy(&r->start);
	long long sect1 = sect0 >= 0 ? disk_sectors(r->disk_path) : -1;

	uint64_t lo = UINT64_MAX, hi = 0;
	for (unsigned i = 0; i < r->threads; i++) {
		for (unsigned b = 0; b < HIST_BUCKETS; b++)
			hist[b] += w[i].hist[b];
		lo = w[i].n < lo ? w[i].n : lo;
		hi = w[i].n > hi ? w[i].n : hi;
	}
	res.fair = hi ? (double)lo / (double)hi : 0;
	uint64_t rank50 = n / 2, rank99 = (uint64_t)((double)n * 0.99), cum = 0;
	for (unsigned b = 0; b < HIST_BUCKETS; b++) {
		if (cum <= rank50 && rank50 < cum + hist[b])
			res.med_us = hist_value(b) / 1e3;
		if (cum <= rank99 && rank99 < cum + hist[b])
			res.p99_us = hist_value(b) / 1e3;
		cum += hist[b];
	}
	double secs = (double)(end - start) / 1e9;
	res.ops = n;
	res.ops_s = (double)n / secs;
	res.mb_s = res.ops_s * (double)r->size / 1e6;
	res.disk_kib_op = sect1 >= sect0 && sect0 >= 0 ? (double)(sect1 - sect0) / 2 / (double)n : -1;
	return res;
}

/* print_result -- "prefix.key value" lines */
static void
print_result(const char *prefix, const struct result *res)
{
	printf("%s.med_us %.3f\n%s.p99_us %.3f\n%s.ops_s %.0f\n%s.mb_s %.2f\n", prefix,
	       res->med_us, prefix, res->p99_us, prefix, res->ops_s, prefix, res->mb_s);
	printf("%s.fair %.3f\n", prefix, res->fair);
	if (res->disk_kib_op >= 0)
		printf("%s.disk_kib_op %.2f\n", prefix, res->disk_kib_op);
}

/* bench_commits -- journal and baseline for every size and thread count */
static void
bench_commits(const char *path, double seconds, bool page)
{
	static const size_t sizes[] = { 128, 4096 };
	static const unsigned threads[] = { 1, 4 };
	struct ckpt c = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
	struct nvfs_journal_ops ops = { want_checkpoint, &c };
	struct nvfs_alloc *a;
	struct run base = { .kind = page ? K_FSYNC : K_MEMCPY, .fd = -1, .disk_path = path };
	char wal[4200];

	/* The same start whether or not the replays ran: nothing cached. */
	evict(path);
	/* The baseline's target, ready before the journal runs. */
	if (page) {
		snprintf(wal, sizeof(wal), "%s.wal", path);
		write_zeros(wal, (uint64_t)MAX_THREADS * WAL_SLICE);
		base.fd = open(wal, O_RDWR);
		if (base.fd < 0)
			die_errno(wal);
	} else {
		base.dram = malloc(DRAM_BYTES);
		if (!base.dram)
			die_errno("malloc");
		memset(base.dram, 0x5a, DRAM_BYTES);
	}

	open_journal(path, &ops, &a, &c.j);
	printf("granularity %s\n", nvfs_pmem_gran_name(nvfs_alloc_pmem(a)->gran));
	if (pthread_create(&c.thread, NULL, ckpt_main, &c))
		die_errno("pthread_create");
	for (unsigned s = 0; s < 2; s++) {
		for (unsigned t = 0; t < 2; t++) {
			struct run r = { .kind = K_JOURNAL, .size = sizes[s],
					 .threads = threads[t], .j = c.j, .disk_path = path };
			struct nvfs_journal_stats s0, s1;
			char prefix[64];

			checkpoint_all(c.j);
			nvfs_journal_stats(c.j, &s0);
			struct result res = run_loop(&r, seconds);
			nvfs_journal_stats(c.j, &s1);
			snprintf(prefix, sizeof(prefix), "j.%zu.%u", sizes[s], threads[t]);
			print_result(prefix, &res);
			printf("%s.appends %llu\n%s.commits %llu\n%s.persists %llu\n"
			       "%s.checkpoints %llu\n%s.waits %llu\n",
			       prefix, (unsigned long long)(s1.appends - s0.appends),
			       prefix, (unsigned long long)(s1.commits - s0.commits),
			       prefix, (unsigned long long)(s1.persists - s0.persists),
			       prefix, (unsigned long long)(s1.checkpoints - s0.checkpoints),
			       prefix, (unsigned long long)(s1.waits_for_space -
							    s0.waits_for_space));

			base.size = sizes[s];
			base.threads = threads[t];
			res = run_loop(&base, seconds);
			snprintf(prefix, sizeof(prefix), "b.%zu.%u", sizes[s], threads[t]);
			print_result(prefix, &res);
			fflush(stdout);
		}
	}
	pthread_mutex_lock(&c.lock);
	c.stop = true;
	pthread_cond_signal(&c.cond);
	pthread_mutex_unlock(&c.lock);
	pthread_join(c.thread, NULL);
	if (nvfs_journal_close(&c.j))
		die("close");
	nvfs_alloc_close(&a);
	if (page) {
		close(base.fd);
		unlink(wal);
	}
	free(base.dram);
}

/* ---- replay --------------------------------------------------------------- */

#define REPLAY_SIZE 4096u

/* fill -- a fresh journal, full up to a bucket, never checkpointed */
static uint64_t
fill(const char *path, uint64_t *log_bytes)
{
	const uint64_t ebytes = (NVFS_JOURNAL_ENTRY_HDR_BYTES + REPLAY_SIZE +
				 NVFS_JOURNAL_ALIGN - 1) & ~(uint64_t)(NVFS_JOURNAL_ALIGN - 1);
	struct nvfs_journal_stats st;
	struct nvfs_alloc *a;
	struct nvfs_journal *j;
	char buf[REPLAY_SIZE];
	uint64_t n = 0;

	make_ns(path);
	force_cache_line();
	open_journal(path, NULL, &a, &j);
	for (;;) {
		nvfs_journal_stats(j, &st);
		/* + a set header; a bucket of slack for the pads at bucket ends */
		if (st.used_bytes + NVFS_JOURNAL_SET_HDR_BYTES + ebytes >
		    st.ring_bytes - NVFS_JOURNAL_BUCKET_BYTES)
			break;
		memset(buf, (int)(n & 0xff), sizeof(buf));
		memcpy(buf, &n, sizeof(n));
		if (nvfs_journal_append(j, ENTRY_TYPE, buf, sizeof(buf)) < 0)
			die("fill append");
		if (++n % 64 == 0 && nvfs_journal_commit(j, 0))
			die("fill commit");
	}
	if (nvfs_journal_commit(j, 0))
		die("fill commit");
	nvfs_journal_stats(j, &st);
	*log_bytes = st.used_bytes;
	if (nvfs_journal_close(&j))
		die("fill close");
	msync_all(a);
	nvfs_alloc_close(&a);
	force_restore();
	return n;
}

struct apply {
	char out[REPLAY_SIZE];
	uint64_t sum;
};

/* apply_entry -- the replay callback: copy the payload out, as a consumer would */
static int
apply_entry(void *arg, const struct nvfs_journal_entry *e)
{
	struct apply *ap = arg;
	size_t n = e->payload_bytes < sizeof(ap->out) ? e->payload_bytes : sizeof(ap->out);

	memcpy(ap->out, e->payload, n);
	ap->sum += (unsigned char)ap->out[n - 1] + (unsigned char)ap->out[0];
	return 0;
}

/* replay_once -- open + replay, timed; *open_s is the open part */
static double
replay_once(const char *path, uint64_t n, bool cold, double *open_s)
{
	struct nvfs_journal_report rep;
	struct nvfs_alloc *a;
	struct nvfs_journal *j;
	struct apply ap = { .sum = 0 };

	if (cold)
		evict(path);
	uint64_t t0 = now_ns();
	if (nvfs_alloc_open(path, NULL, &a))
		die("replay: alloc open");
	if (nvfs_journal_open(a, NULL, 0, &j))
		die("replay: journal open");
	uint64_t t1 = now_ns();
	if (nvfs_journal_replay(j, apply_entry, &ap, &rep))
		die("replay");
	uint64_t t2 = now_ns();
	if (rep.entries != n || rep.payload_bytes != n * REPLAY_SIZE || rep.damaged) {
		fprintf(stderr, "journal_bench: replayed %llu entries (%llu bytes, damaged %d: "
			"%s), expected %llu\n", (unsigned long long)rep.entries,
			(unsigned long long)rep.payload_bytes, rep.damaged, rep.reason,
			(unsigned long long)n);
		exit(1);
	}
	nvfs_journal_close(&j);
	nvfs_alloc_close(&a);
	*open_s = (double)(t1 - t0) / 1e9;
	return (double)(t2 - t0) / 1e9;
}

/* cmp_double -- for qsort */
static int
cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b;
}

/* bench_replay -- median of up to runs timed replays (a run over 10 s ends it) */
static void
bench_replay(const char *path, uint64_t n, unsigned runs, bool cold, const char *key)
{
	double t[16], o[16];
	unsigned k = 0;

	if (runs > 16)
		runs = 16;
	while (k < runs) {
		t[k] = replay_once(path, n, cold, &o[k]);
		if (t[k++] > 10.0)
			break;
	}
	qsort(t, k, sizeof(t[0]), cmp_double);
	qsort(o, k, sizeof(o[0]), cmp_double);
	printf("%s.s %.4f\n%s.open_s %.4f\n%s.runs %u\n", key, t[k / 2], key, o[k / 2],
	       key, k);
}

int
main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: journal_bench PMEM SECONDS REPLAY_RUNS\n");
		return 2;
	}
	const char *path = argv[1];
	double seconds = strtod(argv[2], NULL);
	unsigned runs = (unsigned)strtoul(argv[3], NULL, 10);

	/* What the environment gives, from the set-up's first open. */
	make_ns(path);
	struct nvfs_alloc *a;
	if (nvfs_alloc_open(path, NULL, &a))
		die("alloc open");
	bool page = nvfs_alloc_pmem(a)->gran == NVFS_GRAN_PAGE;
	nvfs_alloc_close(&a);

	if (runs) {
		/* An empty journal: open + replay find nothing, but still scan. */
		double o;
		replay_once(path, 0, false, &o);
		bench_replay(path, 0, runs, false, "empty.warm");
		if (page)
			bench_replay(path, 0, runs, true, "empty.cold");
	}
	bench_commits(path, seconds, page);
	if (runs) {
		uint64_t log_bytes, n = fill(path, &log_bytes);
		printf("replay.entries %llu\nreplay.log_bytes %llu\nreplay.payload_bytes %llu\n",
		       (unsigned long long)n, (unsigned long long)log_bytes,
		       (unsigned long long)(n * REPLAY_SIZE));
		double o;
		replay_once(path, n, false, &o); /* warm the page cache */
		bench_replay(path, n, runs, false, "replay.warm");
		if (page)
			bench_replay(path, n, runs, true, "replay.cold");
	}
	return 0;
}
