/* SPDX-License-Identifier: MIT */
/*
 * alloc_bench.c -- allocator throughput and open (rebuild) time.
 *
 *   alloc_bench PMEM NS_BYTES NR_ALLOCS SECONDS
 *
 * Formats PMEM (created/resized to NS_BYTES), fills it with NR_ALLOCS
 * order-0..2 allocations over 4 owners (populated with forced CACHE_LINE
 * granularity so that the set-up is fast on any medium; it is msynced
 * before measuring), then measures in the granularity the environment
 * gives (PMEM2_FORCE_GRANULARITY or native):
 *   - open: close + open (validation + rebuild of the buddy), median of 5;
 *   - alloc+free pairs per second for SECONDS (order 0, one owner);
 *   - the same pairs on the DRAM buddy alone: the baseline.
 * Output: one "key value" line per number, for bench/alloc_bench.sh.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "nvfs_alloc.h"
#include "nvfs_buddy.h"
#include "nvfs_err.h"
#include "nvfs_ns.h"
#include "nvfs_parse.h"
#include "nvfs_pmem.h"

/* now_s -- monotonic seconds */
static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* die -- print the nvfs error and exit */
static void
die(const char *what)
{
	fprintf(stderr, "alloc_bench: %s: %s\n", what, nvfs_errmsg());
	exit(1);
}

/* populate -- format and fill with nr allocations, forced CACHE_LINE */
static void
populate(const char *path, uint64_t ns_bytes, unsigned nr)
{
	static const uint8_t ns_uuid[NVFS_UUID_BYTES] = { 0xbe, 0x0c };
	const char *saved = getenv("PMEM2_FORCE_GRANULARITY");
	char *keep = saved ? strdup(saved) : NULL;
	struct nvfs_pmem *pm;
	struct nvfs_alloc *a;
	int fd = open(path, O_RDWR | O_CREAT, 0600);

	if (fd < 0 || ftruncate(fd, (off_t)ns_bytes) < 0) {
		perror(path);
		exit(1);
	}
	close(fd);
	setenv("PMEM2_FORCE_GRANULARITY", "cache_line", 1);
	if (nvfs_pmem_open(path, 0, &pm) || nvfs_ns_format(pm, ns_bytes, ns_uuid, "bench"))
		die("format");
	nvfs_pmem_close(&pm);
	if (nvfs_alloc_open(path, NULL, &a))
		die("open");
	int owners[4];
	for (unsigned i = 0; i < 4; i++) {
		uint8_t u[NVFS_UUID_BYTES] = { 0x42, (uint8_t)(i + 1) };
		owners[i] = nvfs_alloc_owner_create(a, u, "bench");
		if (owners[i] < 0)
			die("owner");
	}
	for (unsigned i = 0; i < nr; i++) {
		uint64_t off;
		if (nvfs_alloc_pages(a, owners[i % 4], i % 3, &off))
			die("populate");
	}
	struct nvfs_pmem *apm = nvfs_alloc_pmem(a);
	msync(apm->base, apm->size, MS_SYNC);
	nvfs_alloc_close(&a);
	if (keep)
		setenv("PMEM2_FORCE_GRANULARITY", keep, 1);
	else
		unsetenv("PMEM2_FORCE_GRANULARITY");
	free(keep);
}

/* cmp_double -- for qsort */
static int
cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b;
}

/* bench_open -- median of 5 open (validate + rebuild) times */
static double
bench_open(const char *path)
{
	double t[5];

	for (unsigned i = 0; i < 5; i++) {
		struct nvfs_alloc *a;
		double t0 = now_s();
		if (nvfs_alloc_open(path, NULL, &a))
			die("open");
		t[i] = now_s() - t0;
		nvfs_alloc_close(&a);
	}
	qsort(t, 5, sizeof(t[0]), cmp_double);
	return t[2];
}

/* bench_pairs -- alloc+free pairs per second through the allocator */
static double
bench_pairs(const char *path, double seconds, const char **gran)
{
	struct nvfs_alloc *a;
	uint8_t u[NVFS_UUID_BYTES] = { 0x42, 0x99 };
	uint64_t pairs = 0;

	if (nvfs_alloc_open(path, NULL, &a))
		die("open");
	*gran = nvfs_pmem_gran_name(nvfs_alloc_pmem(a)->gran);
	int o = nvfs_alloc_owner_get(a, u, "pairs");
	if (o < 0)
		die("owner");
	double t0 = now_s(), t;
	do {
		for (unsigned i = 0; i < 64; i++) {
			uint64_t off;
			if (nvfs_alloc_pages(a, o, 0, &off) || nvfs_alloc_free(a, o, off))
				die("pair");
		}
		pairs += 64;
	} while ((t = now_s() - t0) < seconds);
	nvfs_alloc_close(&a);
	return (double)pairs / t;
}

/* bench_buddy_pairs -- the same pairs on the DRAM buddy alone */
static double
bench_buddy_pairs(uint64_t pages, double seconds)
{
	struct nvfs_buddy *b;
	uint64_t pairs = 0, pg;

	if (nvfs_buddy_new(4096, pages, NVFS_MAX_ORDER, &b))
		die("buddy");
	/* Fragment it like the populated namespace: every other page taken. */
	for (uint64_t i = 0; i < pages / 2; i++)
		nvfs_buddy_reserve(b, 4096 + 2 * i, 0);
	double t0 = now_s(), t;
	do {
		for (unsigned i = 0; i < 64; i++)
			if (nvfs_buddy_alloc(b, 0, &pg) || nvfs_buddy_free(b, pg, 0))
				die("buddy pair");
		pairs += 64;
	} while ((t = now_s() - t0) < seconds);
	nvfs_buddy_delete(&b);
	return (double)pairs / t;
}

int
main(int argc, char **argv)
{
	uint64_t ns_bytes;
	const char *gran;

	if (argc != 5 || nvfs_parse_size(argv[2], &ns_bytes)) {
		fprintf(stderr, "usage: alloc_bench PMEM NS_BYTES NR_ALLOCS SECONDS\n");
		return 2;
	}
	unsigned nr = (unsigned)strtoul(argv[3], NULL, 10);
	double seconds = strtod(argv[4], NULL);
	populate(argv[1], ns_bytes, nr);
	double open_s = bench_open(argv[1]);
	double pairs = bench_pairs(argv[1], seconds, &gran);
	double base = bench_buddy_pairs((ns_bytes - NVFS_PAGES_OFF) / NVFS_PAGE_BYTES, seconds);
	printf("granularity %s\nallocations %u\nopen_ms %.2f\npairs_per_s %.0f\n"
	       "dram_pairs_per_s %.0f\n", gran, nr, open_s * 1e3, pairs, base);
	return 0;
}
