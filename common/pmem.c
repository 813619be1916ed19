/* SPDX-License-Identifier: MIT */
/*
 * pmem.c -- map a pmem file or device through libpmem2 and persist to it
 * (see nvfs_pmem.h).
 */
#include <fcntl.h>
#include <libpmem2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/sysmacros.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "nvfs_err.h"
#include "nvfs_pmem.h"

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

static struct nvfs_pmem_hook hook;
/* hook.flush or hook.fail is set: the one branch a flush pays without a hook */
static bool hook_flushes;

/* nvfs_pmem_set_hook -- install (or, with NULL, remove) the persist hook */
void
nvfs_pmem_set_hook(const struct nvfs_pmem_hook *h)
{
	if (h)
		hook = *h;
	else
		memset(&hook, 0, sizeof(hook));
	hook_flushes = hook.flush || hook.fail;
}

/* latched -- the error of a flush after an earlier one failed */
static int
latched(const struct nvfs_pmem *pm)
{
	return nvfs_err_set(-pm->failed, "%s: an earlier flush failed (%s): nothing "
			    "written since is known to be durable", pm->path,
			    strerror(-pm->failed));
}

/*
 * hooked_flush -- the hook's part of a flush of [off, off+len), before the
 * flush itself: the latch (below PAGE checked only here, see nvfs_pmem.h),
 * an injected failure (latched), then the report to hook.flush.  0 lets the
 * flush go on; an error means the range is not flushed.
 */
static int
hooked_flush(struct nvfs_pmem *pm, size_t off, size_t len)
{
	if (!pm->readonly && len) {
		if (pm->failed)
			return latched(pm);
		int rc = hook.fail ? hook.fail(hook.arg, pm, off, len) : 0;
		if (rc < 0) {
			pm->failed = rc;
			return nvfs_err_set(-rc, "%s: flush of %zu bytes at offset %zu failed: "
					    "%s (injected by the test hook)", pm->path, len,
					    off, strerror(-rc));
		}
	}
	if (hook.flush)
		hook.flush(hook.arg, pm, off, len);
	return 0;
}

/*
 * pmem2_fail -- turn a libpmem2 error code into -errno with a message.
 * libpmem2 returns -errno for system errors and codes below -100000 for its
 * own; Debian's 1.12 declares pmem2_err_to_errno but does not export it.
 */
static int
pmem2_fail(int rc, const char *what, const char *path)
{
	int err = rc < 0 && rc > -4096 ? -rc : EINVAL;

	const char *msg = pmem2_errormsg();

	return nvfs_err_set(err, "%s: %s: %s", path, what,
			    msg && *msg ? msg : strerror(err));
}

/* lock_file -- take the exclusive (or shared) use lock on fd */
static int
lock_file(int fd, bool shared, const char *path)
{
	if (flock(fd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) == 0)
		return 0;
	if (errno == EWOULDBLOCK)
		return nvfs_err_set(EBUSY, "%s: pmem is in use by another process "
				    "(a mounted nvfs, mkfs or fsck)", path);
	return nvfs_err_set(errno, "%s: cannot lock: %s", path, strerror(errno));
}

/* is_devdax -- the character device st is a device-DAX (subsystem "dax") */
static bool
is_devdax(const struct stat *st)
{
	char link[PATH_MAX], target[PATH_MAX];

	snprintf(link, sizeof(link), "/sys/dev/char/%u:%u/subsystem",
		 major(st->st_rdev), minor(st->st_rdev));
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	const char *base = strrchr(target, '/');
	return strcmp(base ? base + 1 : target, "dax") == 0;
}

/* map_source -- map the whole source with the least strict granularity */
static int
map_source(struct nvfs_pmem *pm, bool rdonly)
{
	struct pmem2_config *cfg = NULL;
	int rc;

	rc = pmem2_source_from_fd(&pm->src, pm->fd);
	if (rc)
		return pmem2_fail(rc, "cannot use as pmem source", pm->path);
	rc = pmem2_source_size(pm->src, &pm->size);
	if (rc)
		return pmem2_fail(rc, "cannot read size", pm->path);
	if (pm->size == 0)
		return nvfs_err_set(EINVAL, "%s: file is empty", pm->path);
	rc = pmem2_config_new(&cfg);
	if (rc)
		return pmem2_fail(rc, "config", pm->path);
	rc = pmem2_config_set_required_store_granularity(cfg, PMEM2_GRANULARITY_PAGE);
	if (!rc && rdonly)
		rc = pmem2_config_set_protection(cfg, PMEM2_PROT_READ);
	if (!rc)
		rc = pmem2_map_new(&pm->map, cfg, pm->src);
	pmem2_config_delete(&cfg);
	if (rc)
		return pmem2_fail(rc, "cannot map", pm->path);

	pm->base = pmem2_map_get_address(pm->map);
	switch (pmem2_map_get_store_granularity(pm->map)) {
	case PMEM2_GRANULARITY_BYTE:
		pm->gran = NVFS_GRAN_BYTE;
		break;
	case PMEM2_GRANULARITY_CACHE_LINE:
		pm->gran = NVFS_GRAN_CACHE_LINE;
		break;
	default:
		pm->gran = NVFS_GRAN_PAGE;
		break;
	}
	/*
	 * At PAGE granularity msync writes back whole page-cache folios; the
	 * large ones readahead creates (up to 2 MiB on ext4) turn a 128-byte
	 * commit into megabytes of writeback (measured by bench/journal_bench).
	 * No readahead keeps folios at page size; a cold replay then reads
	 * page by page, which bench/journal_bench also measures.
	 */
	if (pm->gran == NVFS_GRAN_PAGE && !pm->is_devdax)
		(void)madvise(pm->base, pm->size, MADV_RANDOM);
	struct statfs sfs;
	pm->on_tmpfs = pm->gran == NVFS_GRAN_PAGE && !pm->is_devdax &&
		       fstatfs(pm->fd, &sfs) == 0 && sfs.f_type == TMPFS_MAGIC;
	pm->flush_fn = pmem2_get_flush_fn(pm->map);
	pm->drain_fn = pmem2_get_drain_fn(pm->map);
	pm->memcpy_fn = pmem2_get_memcpy_fn(pm->map);
	return 0;
}

/*
 * check_type -- st is a regular file or a device-DAX.  Checked on the path
 * before opening it, so that opening a FIFO (blocks) or another device
 * (side effects) never happens.
 */
static int
check_type(const char *path, const struct stat *st)
{
	if (S_ISREG(st->st_mode))
		return 0;
	if (!S_ISCHR(st->st_mode))
		return nvfs_err_set(EINVAL, "%s: not a regular file or a device-DAX "
				    "character device", path);
	if (!is_devdax(st))
		return nvfs_err_set(ENODEV, "%s: a character device, but not a device-DAX "
				    "(no /sys/dev/char/%u:%u/subsystem -> dax)", path,
				    major(st->st_rdev), minor(st->st_rdev));
	return 0;
}

/* pmem_new -- an empty handle */
static struct nvfs_pmem *
pmem_new(const char *path, bool rdonly)
{
	struct nvfs_pmem *pm = calloc(1, sizeof(*pm));

	if (!pm)
		return NULL;
	pm->fd = -1;
	pm->readonly = rdonly;
	snprintf(pm->path, sizeof(pm->path), "%s", path);
	return pm;
}

/* nvfs_pmem_open -- check, open, lock and map the pmem at path */
int
nvfs_pmem_open(const char *path, unsigned flags, struct nvfs_pmem **out)
{
	bool rdonly = flags & NVFS_PMEM_RDONLY;
	struct stat before, st;
	int rc;

	if (stat(path, &before) < 0)
		return nvfs_err_set(errno, "%s: cannot open: %s", path, strerror(errno));
	if ((rc = check_type(path, &before)))
		return rc;
	int fd = open(path, (rdonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return nvfs_err_set(errno, "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || st.st_dev != before.st_dev || st.st_ino != before.st_ino) {
		close(fd);
		return nvfs_err_set(EAGAIN, "%s: changed while being opened", path);
	}
	if ((rc = lock_file(fd, rdonly, path))) {
		close(fd);
		return rc;
	}
	return nvfs_pmem_open_fd(fd, path, flags, out);
}

/* nvfs_pmem_open_fd -- map an open, already locked fd (taken over) */
int
nvfs_pmem_open_fd(int fd, const char *path, unsigned flags, struct nvfs_pmem **out)
{
	bool rdonly = flags & NVFS_PMEM_RDONLY;
	struct nvfs_pmem *pm = pmem_new(path, rdonly);
	struct stat st;
	int rc;

	if (!pm) {
		close(fd);
		return nvfs_err_set(ENOMEM, "%s: out of memory", path);
	}
	pm->fd = fd;
	if (fstat(fd, &st) < 0) {
		rc = nvfs_err_set(errno, "%s: cannot stat: %s", path, strerror(errno));
		goto fail;
	}
	if ((rc = check_type(path, &st)))
		goto fail;
	pm->is_devdax = S_ISCHR(st.st_mode);
	rc = map_source(pm, rdonly);
	if (rc)
		goto fail;
	*out = pm;
	return 0;
fail:
	nvfs_pmem_close(&pm);
	return rc;
}

/* nvfs_pmem_close -- unmap, unlock and close */
void
nvfs_pmem_close(struct nvfs_pmem **pmp)
{
	struct nvfs_pmem *pm = *pmp;
	int saved_errno = errno;

	if (!pm)
		return;
	if (pm->map)
		pmem2_map_delete(&pm->map);
	if (pm->src)
		pmem2_source_delete(&pm->src);
	if (pm->fd >= 0)
		close(pm->fd); /* drops the flock */
	free(pm);
	*pmp = NULL;
	errno = saved_errno;
}

/* nvfs_pmem_flush -- start making a range durable */
int
nvfs_pmem_flush(struct nvfs_pmem *pm, const void *addr, size_t len)
{
	size_t off = (size_t)((const char *)addr - pm->base);

	if (hook_flushes) {
		int rc = hooked_flush(pm, off, len);
		if (rc)
			return rc;
	}
	if (pm->readonly || len == 0)
		return 0;
	if (pm->gran != NVFS_GRAN_PAGE) {
		pm->flush_fn(addr, len);
		return 0;
	}
	if (pm->on_tmpfs)
		return 0; /* msync of shmem writes nothing back: see on_tmpfs */
	/* msync ourselves: libpmem2's PAGE flush aborts when msync fails. */
	uintptr_t page_mask = (uintptr_t)sysconf(_SC_PAGESIZE) - 1;
	uintptr_t start = (uintptr_t)addr & ~page_mask;
	uintptr_t end = (uintptr_t)addr + len;
	if (pm->failed)
		return latched(pm);
	if (msync((void *)start, end - start, MS_SYNC) < 0) {
		/* The kernel reports a writeback error once: remember it. */
		pm->failed = -EIO;
		return nvfs_err_set(EIO, "%s: msync of %zu bytes at offset %zu failed: %s",
				    pm->path, len, off, strerror(errno));
	}
	return 0;
}

/* nvfs_pmem_copy -- copy to pmem, flushed (below PAGE), not drained */
void
nvfs_pmem_copy(struct nvfs_pmem *pm, void *dst, const void *src, size_t len,
	       bool nontemporal)
{
	if (len == 0)
		return;
	if (pm->gran == NVFS_GRAN_PAGE || pm->readonly) {
		memcpy(dst, src, len);
		return;
	}
	pm->memcpy_fn(dst, src, len, PMEM2_F_MEM_NODRAIN |
		      (nontemporal ? PMEM2_F_MEM_NONTEMPORAL : PMEM2_F_MEM_TEMPORAL));
	/* An injected failure only latches: the next flush reports it. */
	if (hook_flushes)
		(void)hooked_flush(pm, (size_t)((char *)dst - pm->base), len);
}

/* nvfs_pmem_drain -- wait for every flushed range */
void
nvfs_pmem_drain(struct nvfs_pmem *pm)
{
	if (hook.drain)
		hook.drain(hook.arg, pm);
	if (pm->gran != NVFS_GRAN_PAGE && !pm->readonly)
		pm->drain_fn();
}

/* nvfs_pmem_persist -- flush and drain one range */
int
nvfs_pmem_persist(struct nvfs_pmem *pm, const void *addr, size_t len)
{
	int rc = nvfs_pmem_flush(pm, addr, len);

	nvfs_pmem_drain(pm);
	return rc;
}

/* nvfs_pmem_store64 -- the single aligned 8-byte commit store, persisted */
int
nvfs_pmem_store64(struct nvfs_pmem *pm, uint64_t *addr, uint64_t v)
{
	__atomic_store_n(addr, v, __ATOMIC_RELEASE);
	return nvfs_pmem_persist(pm, addr, sizeof(*addr));
}

/* nvfs_pmem_gran_name -- the granularity's name as libpmem2's env spells it */
const char *
nvfs_pmem_gran_name(enum nvfs_pmem_gran gran)
{
	switch (gran) {
	case NVFS_GRAN_BYTE:
		return "byte";
	case NVFS_GRAN_CACHE_LINE:
		return "cache_line";
	default:
		return "page";
	}
}

/* nvfs_pmem_persist_is_cheap -- a persist costs no disk flush */
bool
nvfs_pmem_persist_is_cheap(const struct nvfs_pmem *pm)
{
	return pm->gran != NVFS_GRAN_PAGE || pm->on_tmpfs;
}

/* nvfs_pmem_describe -- the granularity and what it means for durability */
void
nvfs_pmem_describe(const struct nvfs_pmem *pm, char *buf, size_t len)
{
	const char *forced = getenv("PMEM2_FORCE_GRANULARITY");
	const char *meaning;

	if (pm->on_tmpfs)
		meaning = "a file on tmpfs: persists survive a daemon crash, not a "
			  "reboot or power loss";
	else if (pm->gran == NVFS_GRAN_PAGE)
		meaning = "an ordinary file: each persist is an msync (a disk flush); "
			  "durable across power loss";
	else if (forced && *forced)
		meaning = "forced by PMEM2_FORCE_GRANULARITY: for tests and benchmarks, "
			  "NOT durable across power loss";
	else if (pm->gran == NVFS_GRAN_CACHE_LINE)
		meaning = "persistent memory (ADR): persists are cache-line flushes; "
			  "durable across power loss";
	else
		meaning = "persistent memory (eADR): persists are fences; durable "
			  "across power loss";
	snprintf(buf, len, "%s: %zu bytes, store granularity %s (%s)", pm->path,
		 pm->size, nvfs_pmem_gran_name(pm->gran), meaning);
}
