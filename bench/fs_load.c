/* SPDX-License-Identifier: MIT */
/*
 * fs_load.c -- the small workloads of bench/fs_bench.sh that fio does not
 * measure the way the benchmark needs (latency percentiles of a write+fsync
 * pair, metadata rates, a FUSE round trip).  Every run prints "key value"
 * lines; latencies are of one whole operation as the application sees it
 * (e.g. pwrite + fsync together), in microseconds.
 *
 *   fs_load mkfile PATH MIB
 *       write PATH (MIB MiB of non-zero bytes, 1 MiB writes) and fsync it:
 *       the setup of the read and overwrite workloads, run on the backing
 *       directory before the file system is mounted.
 *   fs_load wsync DIR none|fsync|fdatasync THREADS FILE_MIB SECONDS
 *       THREADS threads, each on its own existing file DIR/wsync.N (made
 *       by mkfile), queue depth 1: pwrite 4 KiB at a random 4 KiB-aligned
 *       offset, then fsync / fdatasync / nothing, for SECONDS.
 *       Prints ops, iops, mean_us, p50_us, p99_us, max_us.
 *   fs_load smallfile DIR SECONDS
 *       in DIR: open(O_CREAT|O_EXCL) a new file, write 4 KiB, fsync,
 *       close, for SECONDS.  Prints files, files_s, mean_us, p99_us.
 *   fs_load meta DIR NFILES CAP_SECONDS SETTLE_SECONDS
 *       in DIR (made here if it does not exist): create NFILES empty files
 *       (open O_CREAT|O_EXCL + close), stop early after CAP_SECONDS; sleep
 *       SETTLE_SECONDS (longer than FUSE's entry/attribute timeout, so that
 *       every configuration stats from the same cache state: FUSE ones ask
 *       their daemon); stat each; rename each to a new name in DIR; unlink
 *       each.  Prints files, create_s, stat_s, rename_s, unlink_s (ops/s).
 *   fs_load rread FILE SECONDS
 *       open FILE, read it whole (so that its pages are in the page cache
 *       this descriptor reads from), then pread 4 KiB at random aligned
 *       offsets for SECONDS.  Prints iops, mean_us, p99_us.
 *   fs_load floor FILE SECONDS
 *       open FILE, then fstat it in a loop for SECONDS.  With a FUSE
 *       attribute timeout of 0 every fstat is one GETATTR round trip to the
 *       daemon, which answers with one fstatat: the cheapest request there
 *       is.  Prints ops, mean_ns, p50_ns, p99_ns.
 *   fs_load rsswatch PID MS
 *       every MS milliseconds, read /proc/PID/status, until PID is gone or
 *       this is sent SIGTERM/SIGINT; then print the peaks seen of VmRSS,
 *       RssAnon, RssFile, RssShmem and the last VmHWM, in KiB (rss_kib,
 *       anon_kib, file_kib, shmem_kib, hwm_kib).  VmHWM is the kernel's
 *       exact peak of the whole RSS, mapped pmem pages included; the peak
 *       of RssAnon (the daemon's own memory) is only known by sampling.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BLK 4096u

static void
die(const char *what, const char *arg)
{
	fprintf(stderr, "fs_load: %s%s%s: %s\n", what, arg ? " " : "", arg ? arg : "",
		strerror(errno));
	exit(1);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t
rnd(uint64_t *s)
{
	/* xorshift64* */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1Dull;
}

/* ---- latency samples -------------------------------------------------------- */

struct lat {
	uint64_t *v;
	size_t n, cap;
};

static void
lat_add(struct lat *l, uint64_t ns)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 65536;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (!l->v)
			die("out of memory", NULL);
	}
	l->v[l->n++] = ns;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* lat_print -- sort and print mean, p50, p99, max in microseconds (or ns) */
static void
lat_print(struct lat *l, int in_ns)
{
	double div = in_ns ? 1.0 : 1000.0, sum = 0;
	const char *u = in_ns ? "ns" : "us";

	if (!l->n) {
		printf("mean_%s 0\np50_%s 0\np99_%s 0\nmax_%s 0\n", u, u, u, u);
		return;
	}
	qsort(l->v, l->n, sizeof(*l->v), cmp_u64);
	for (size_t i = 0; i < l->n; i++)
		sum += (double)l->v[i];
	printf("mean_%s %.3f\n", u, sum / (double)l->n / div);
	printf("p50_%s %.3f\n", u, (double)l->v[(l->n - 1) / 2] / div);
	printf("p99_%s %.3f\n", u, (double)l->v[(size_t)((double)(l->n - 1) * 0.99)] / div);
	printf("max_%s %.3f\n", u, (double)l->v[l->n - 1] / div);
}

/* ---- mkfile ----------------------------------------------------------------- */

static void
fill(char *buf, size_t len, uint64_t seed)
{
	uint64_t s = seed | 1;

	for (size_t i = 0; i + 8 <= len; i += 8) {
		uint64_t r = rnd(&s);
		memcpy(buf + i, &r, 8);
	}
}

static int
cmd_mkfile(const char *path, long mib)
{
	size_t sz = 1u << 20;
	char *buf = malloc(sz);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (!buf)
		die("out of memory", NULL);
	if (fd < 0)
		die("open", path);
	for (long i = 0; i < mib; i++) {
		fill(buf, sz, (uint64_t)i + 1);
		if (write(fd, buf, sz) != (ssize_t)sz)
			die("write", path);
	}
	if (fsync(fd) || close(fd))
		die("fsync", path);
	free(buf);
	return 0;
}

/* ---- wsync ------------------------------------------------------------------- */

enum sync_mode { SYNC_NONE, SYNC_FSYNC, SYNC_FDATASYNC };

static uint64_t wsync_end_ns; /* set before the start barrier */

struct wthread {
	pthread_t t;
	int idx, fd;
	uint64_t blocks;
	enum sync_mode mode;
	pthread_barrier_t *bar;
	struct lat lat;
	uint64_t done_ns;
};

static void *
wsync_main(void *arg)
{
	struct wthread *w = arg;
	uint64_t s = 0x9E3779B97F4A7C15ull * (uint64_t)(w->idx + 1);
	char *buf = aligned_alloc(BLK, BLK);

	if (!buf)
		die("out of memory", NULL);
	fill(buf, BLK, (uint64_t)w->idx + 7);
	pthread_barrier_wait(w->bar);
	for (;;) {
		uint64_t t0 = now_ns(), t1;
		off_t off = (off_t)(rnd(&s) % w->blocks) * BLK;

		buf[0]++;
		if (pwrite(w->fd, buf, BLK, off) != BLK)
			die("pwrite", NULL);
		if (w->mode == SYNC_FSYNC && fsync(w->fd))
			die("fsync", NULL);
		if (w->mode == SYNC_FDATASYNC && fdatasync(w->fd))
			die("fdatasync", NULL);
		t1 = now_ns();
		lat_add(&w->lat, t1 - t0);
		if (t1 >= wsync_end_ns) {
			w->done_ns = t1;
			break;
		}
	}
	free(buf);
	return NULL;
}

static int
cmd_wsync(const char *dir, const char *mode, int threads, long file_mib, double secs)
{
	struct wthread *w = calloc((size_t)threads, sizeof(*w));
	pthread_barrier_t bar;
	struct lat all = { 0 };
	uint64_t start, last = 0;
	char path[4096];

	if (!w || threads < 1)
		die("bad thread count or out of memory", NULL);
	pthread_barrier_init(&bar, NULL, (unsigned)threads + 1);
	for (int i = 0; i < threads; i++) {
		snprintf(path, sizeof(path), "%s/wsync.%d", dir, i);
		w[i].fd = open(path, O_WRONLY);
		if (w[i].fd < 0)
			die("open", path);
		w[i].idx = i;
		w[i].blocks = (uint64_t)file_mib * (1u << 20) / BLK;
		w[i].mode = !strcmp(mode, "fsync") ? SYNC_FSYNC :
			    !strcmp(mode, "fdatasync") ? SYNC_FDATASYNC : SYNC_NONE;
		w[i].bar = &bar;
	}
	for (int i = 0; i < threads; i++)
		if (pthread_create(&w[i].t, NULL, wsync_main, &w[i]))
			die("pthread_create", NULL);
	start = now_ns();
	wsync_end_ns = start + (uint64_t)(secs * 1e9);
	pthread_barrier_wait(&bar);
	for (int i = 0; i < threads; i++) {
		pthread_join(w[i].t, NULL);
		if (w[i].done_ns > last)
			last = w[i].done_ns;
		for (size_t j = 0; j < w[i].lat.n; j++)
			lat_add(&all, w[i].lat.v[j]);
		close(w[i].fd);
	}
	printf("ops %zu\nsecs %.3f\niops %.1f\n", all.n, (double)(last - start) / 1e9,
	       (double)all.n / ((double)(last - start) / 1e9));
	lat_print(&all, 0);
	return 0;
}

/* ---- smallfile ----------------------------------------------------------------- */

static int
cmd_smallfile(const char *dir, double secs)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	char *buf = aligned_alloc(BLK, BLK), name[64];
	struct lat l = { 0 };
	uint64_t start, end, t;
	long n = 0;

	if (dfd < 0)
		die("open", dir);
	if (!buf)
		die("out of memory", NULL);
	fill(buf, BLK, 3);
	start = now_ns();
	end = start + (uint64_t)(secs * 1e9);
	do {
		uint64_t t0 = now_ns();
		int fd;

		snprintf(name, sizeof(name), "sf.%ld", n);
		fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0)
			die("create", name);
		if (write(fd, buf, BLK) != BLK)
			die("write", name);
		if (fsync(fd))
			die("fsync", name);
		if (close(fd))
			die("close", name);
		t = now_ns();
		lat_add(&l, t - t0);
		n++;
	} while (t < end);
	printf("files %ld\nsecs %.3f\nfiles_s %.1f\n", n, (double)(t - start) / 1e9,
	       (double)n / ((double)(t - start) / 1e9));
	lat_print(&l, 0);
	return 0;
}

/* ---- meta ------------------------------------------------------------------------ */

static double
rate(long n, uint64_t t0)
{
	double s = (double)(now_ns() - t0) / 1e9;

	return s > 0 ? (double)n / s : 0;
}

static int
cmd_meta(const char *dir, long nfiles, double cap, double settle)
{
	char name[64], to[64];
	struct stat st;
	uint64_t t0, end;
	long n = 0;
	int dfd;

	if (mkdir(dir, 0755) && errno != EEXIST)
		die("mkdir", dir);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY)) < 0)
		die("open", dir);

	t0 = now_ns();
	end = t0 + (uint64_t)(cap * 1e9);
	for (n = 0; n < nfiles; n++) {
		int fd;

		snprintf(name, sizeof(name), "m.%ld", n);
		if ((fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL, 0644)) < 0)
			die("create", name);
		close(fd);
		if ((n & 63) == 63 && now_ns() >= end) {
			n++;
			break;
		}
	}
	printf("files %ld\ncreate_s %.1f\n", n, rate(n, t0));
	fflush(stdout);
	if (settle > 0) {
		struct timespec ts = { (time_t)settle, (long)((settle - (double)(time_t)settle) * 1e9) };
		nanosleep(&ts, NULL);
	}

	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "m.%ld", i);
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
			die("stat", name);
	}
	printf("stat_s %.1f\n", rate(n, t0));

	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "m.%ld", i);
		snprintf(to, sizeof(to), "r.%ld", i);
		if (renameat(dfd, name, dfd, to))
			die("rename", name);
	}
	printf("rename_s %.1f\n", rate(n, t0));

	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		snprintf(to, sizeof(to), "r.%ld", i);
		if (unlinkat(dfd, to, 0))
			die("unlink", to);
	}
	printf("unlink_s %.1f\n", rate(n, t0));
	close(dfd);
	return 0;
}

/* ---- rread ------------------------------------------------------------------------ */

static int
cmd_rread(const char *path, double secs)
{
	int fd = open(path, O_RDONLY);
	size_t big = 1u << 20;
	char *buf = aligned_alloc(BLK, big);
	struct lat l = { 0 };
	uint64_t s = 12345, blocks, start, end, t;
	struct stat st;
	ssize_t r;

	if (fd < 0)
		die("open", path);
	if (!buf)
		die("out of memory", NULL);
	if (fstat(fd, &st))
		die("fstat", path);
	blocks = (uint64_t)st.st_size / BLK;
	if (!blocks) {
		errno = EINVAL;
		die("empty file", path);
	}
	while ((r = read(fd, buf, big)) > 0)
		;
	if (r < 0)
		die("read", path);
	start = now_ns();
	end = start + (uint64_t)(secs * 1e9);
	do {
		uint64_t t0 = now_ns();

		if (pread(fd, buf, BLK, (off_t)(rnd(&s) % blocks) * BLK) != BLK)
			die("pread", path);
		t = now_ns();
		lat_add(&l, t - t0);
	} while (t < end);
	printf("ops %zu\nsecs %.3f\niops %.1f\n", l.n, (double)(t - start) / 1e9,
	       (double)l.n / ((double)(t - start) / 1e9));
	lat_print(&l, 0);
	close(fd);
	return 0;
}

/* ---- floor ------------------------------------------------------------------------- */

static int
cmd_floor(const char *path, double secs)
{
	int fd = open(path, O_RDONLY);
	struct lat l = { 0 };
	struct stat st;
	uint64_t start, end, t;

	if (fd < 0)
		die("open", path);
	start = now_ns();
	end = start + (uint64_t)(secs * 1e9);
	do {
		uint64_t t0 = now_ns();

		if (fstat(fd, &st))
			die("fstat", path);
		t = now_ns();
		lat_add(&l, t - t0);
	} while (t < end);
	printf("ops %zu\nsecs %.3f\n", l.n, (double)(t - start) / 1e9);
	lat_print(&l, 1);
	close(fd);
	return 0;
}

/* ---- rsswatch ---------------------------------------------------------------------- */

static volatile sig_atomic_t stop_watch;

static void
on_stop(int sig)
{
	(void)sig;
	stop_watch = 1;
}

static int
cmd_rsswatch(const char *pid, long ms)
{
	static const char *keys[] = { "VmRSS:", "RssAnon:", "RssFile:", "RssShmem:", "VmHWM:" };
	static const char *names[] = { "rss_kib", "anon_kib", "file_kib", "shmem_kib", "hwm_kib" };
	long peak[5] = { 0 };
	struct sigaction sa = { .sa_handler = on_stop };
	char path[64], line[256];

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	snprintf(path, sizeof(path), "/proc/%s/status", pid);
	while (!stop_watch) {
		FILE *f = fopen(path, "r");
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

		if (!f)
			break;
		while (fgets(line, sizeof(line), f))
			for (int k = 0; k < 5; k++) {
				size_t n = strlen(keys[k]);
				long v;

				if (!strncmp(line, keys[k], n)) {
					v = atol(line + n);
					if (k == 4 || v > peak[k])
						peak[k] = v;
				}
			}
		fclose(f);
		nanosleep(&ts, NULL);
	}
	for (int k = 0; k < 5; k++)
		printf("%s %ld\n", names[k], peak[k]);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: fs_load mkfile PATH MIB\n"
		"       fs_load wsync DIR none|fsync|fdatasync THREADS FILE_MIB SECONDS\n"
		"       fs_load smallfile DIR SECONDS\n"
		"       fs_load meta DIR NFILES CAP_SECONDS SETTLE_SECONDS\n"
		"       fs_load rread FILE SECONDS\n"
		"       fs_load floor FILE SECONDS\n"
		"       fs_load rsswatch PID MS\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(c, "mkfile") && argc == 4)
		return cmd_mkfile(argv[2], atol(argv[3]));
	if (!strcmp(c, "wsync") && argc == 7)
		return cmd_wsync(argv[2], argv[3], atoi(argv[4]), atol(argv[5]), atof(argv[6]));
	if (!strcmp(c, "smallfile") && argc == 4)
		return cmd_smallfile(argv[2], atof(argv[3]));
	if (!strcmp(c, "meta") && argc == 6)
		return cmd_meta(argv[2], atol(argv[3]), atof(argv[4]), atof(argv[5]));
	if (!strcmp(c, "rread") && argc == 4)
		return cmd_rread(argv[2], atof(argv[3]));
	if (!strcmp(c, "floor") && argc == 4)
		return cmd_floor(argv[2], atof(argv[3]));
	if (!strcmp(c, "rsswatch") && argc == 4)
		return cmd_rsswatch(argv[2], atol(argv[3]));
	usage();
	return 2;
}
