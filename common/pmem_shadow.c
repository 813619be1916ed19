/* SPDX-License-Identifier: MIT */
/*
 * pmem_shadow.c -- the power-loss test mode of a whole daemon
 * (NVFS_TEST_PMEM_SHADOW, see nvfs_pmem.h).
 *
 * tests/crash_sim.c keeps the image of what is durable in memory, for a
 * process that captures it itself.  A daemon is killed with SIGKILL: it
 * cannot write anything out at the end.  So the durable image lives in a
 * FILE mapped shared, and every drain writes the ranges its thread flushed
 * into it at once: whatever moment the daemon dies, the file holds every
 * range that was made durable (the page cache keeps a killed process's
 * stores) and nothing else.  The test then mounts that file as the pmem
 * "after a power loss" (tests/it/t80-crash.sh, variants p, q, r).
 *
 * A range's bytes are taken when it is flushed (a cache-line flush writes
 * back what the line holds then; at PAGE granularity the msync comes right
 * after), and become durable when the thread that flushed it drains: a
 * fence orders only its own core's flushes.  A store made into the range
 * after its flush is not durable until flushed again -- the strictest
 * reading, so a missing flush shows.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nvfs_err.h"
#include "nvfs_pmem.h"

struct flushed {
	const struct nvfs_pmem *pm;
	size_t off, len;
	char *bytes;              /* the range as it was flushed */
};

static struct {
	char *map;                /* the shadow file, mapped shared */
	size_t size;
	bool warned;              /* a namespace of another size was seen */
} shadow;

/* the ranges this thread flushed and has not drained */
static __thread struct flushed *pending;
static __thread size_t npending, cap;

/* no_memory -- the shadow can no longer be faithful: say so, loudly */
static void
no_memory(void)
{
	fprintf(stderr, "NVFS_TEST_PMEM_SHADOW: out of memory: a flushed range is "
		"missing from the shadow (a power-loss test may fail falsely)\n");
}

static void
shadow_flush(void *arg, const struct nvfs_pmem *pm, size_t off, size_t len)
{
	char *bytes;

	(void)arg;
	if (len == 0 || pm->size != shadow.size || off > shadow.size ||
	    len > shadow.size - off)
		return; /* not the shadowed namespace */
	if (npending == cap) {
		size_t ncap = cap ? 2 * cap : 64;
		struct flushed *p = realloc(pending, ncap * sizeof(*p));
		if (!p) {
			no_memory();
			return;
		}
		pending = p;
		cap = ncap;
	}
	if (!(bytes = malloc(len))) {
		no_memory();
		return;
	}
	memcpy(bytes, pm->base + off, len);
	pending[npending++] = (struct flushed){ pm, off, len, bytes };
}

static void
shadow_drain(void *arg, const struct nvfs_pmem *pm)
{
	size_t kept = 0;

	(void)arg;
	if (pm->size != shadow.size &&
	    !__atomic_exchange_n(&shadow.warned, true, __ATOMIC_RELAXED))
		fprintf(stderr, "NVFS_TEST_PMEM_SHADOW: %s is %zu bytes, the shadow "
			"%zu: not shadowed\n", pm->path, pm->size, shadow.size);
	/* this pmem's ranges become durable; another's wait for its drain */
	for (size_t i = 0; i < npending; i++) {
		struct flushed *f = &pending[i];
		if (f->pm != pm) {
			pending[kept++] = *f;
			continue;
		}
		memcpy(shadow.map + f->off, f->bytes, f->len);
		free(f->bytes);
	}
	npending = kept;
}

/* nvfs_pmem_shadow_from_env -- see nvfs_pmem.h */
int
nvfs_pmem_shadow_from_env(void)
{
	static const struct nvfs_pmem_hook hook = {
		.flush = shadow_flush, .drain = shadow_drain,
	};
	const char *path = getenv("NVFS_TEST_PMEM_SHADOW");
	struct stat st;
	int fd;

	if (!path || !*path)
		return 0;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return nvfs_err_set(errno, "NVFS_TEST_PMEM_SHADOW %s: %s", path,
				    strerror(errno));
	if (fstat(fd, &st) < 0 || st.st_size <= 0) {
		close(fd);
		return nvfs_err_set(EINVAL, "NVFS_TEST_PMEM_SHADOW %s: not a copy of the "
				    "pmem (empty or unreadable)", path);
	}
	shadow.size = (size_t)st.st_size;
	shadow.map = mmap(NULL, shadow.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (shadow.map == MAP_FAILED) {
		shadow.map = NULL;
		return nvfs_err_set(errno, "NVFS_TEST_PMEM_SHADOW %s: mmap: %s", path,
				    strerror(errno));
	}
	nvfs_pmem_set_hook(&hook);
	return 1;
}
