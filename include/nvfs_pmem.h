/* SPDX-License-Identifier: MIT */
/*
 * nvfs_pmem.h -- a mapped pmem file or device, and how to make stores to it
 * durable.  The only module that calls libpmem2.
 *
 * What "persist" means depends on the store granularity libpmem2 reports
 * for the mapping, which nvfs_pmem_open logs through nvfs_pmem_describe():
 *   BYTE        eADR platform: stores are durable once they reach the cache;
 *               a fence orders them.
 *   CACHE_LINE  ADR platform (real pmem, device DAX or a DAX file system):
 *               cache lines must be flushed (clwb) and fenced.
 *   PAGE        an ordinary file on an ordinary file system (tmpfs, ext4):
 *               a store is durable only after msync(2).  nvfs issues that
 *               msync itself, because libpmem2 abort()s when msync fails and
 *               nvfs must report EIO instead.
 * PMEM2_FORCE_GRANULARITY=byte|cache_line|page in the environment overrides
 * what libpmem2 detects.  Forcing CACHE_LINE or BYTE on a non-DAX file is
 * for tests and benchmarks only: it is NOT durable across power loss.
 *
 * Calling sequence:
 *     nvfs_pmem_open(path, flags, &pm);
 *     ... stores to pm->base ...;  nvfs_pmem_flush(pm, addr, len) per range;
 *     nvfs_pmem_drain(pm);            -- the persist point
 *     nvfs_pmem_close(&pm);
 * nvfs_pmem_persist(pm, addr, len) is flush + drain.  One drain per commit,
 * not per range.
 *
 * Exclusive use: open takes flock(LOCK_EX|LOCK_NB) on the file (LOCK_SH for
 * NVFS_PMEM_RDONLY) and holds it until close, so a second opener in any
 * process gets -EBUSY with a message naming the file.
 *
 * Thread safety: flush/drain/persist may be called concurrently.
 */
#ifndef NVFS_PMEM_H
#define NVFS_PMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum nvfs_pmem_gran {
	NVFS_GRAN_BYTE,
	NVFS_GRAN_CACHE_LINE,
	NVFS_GRAN_PAGE,
};

struct pmem2_map;
struct pmem2_source;

struct nvfs_pmem {
	char *base;                   /* start of the mapping */
	size_t size;                  /* bytes mapped: the file/device size */
	enum nvfs_pmem_gran gran;     /* effective store granularity */
	bool readonly;                /* mapped read-only (fsck -n) */
	bool is_devdax;               /* a device-DAX character device */
	/*
	 * A file on tmpfs (PAGE granularity): its page cache is the medium,
	 * msync of it does nothing (shmem's fsync is a no-op), so a persist
	 * is only the ordering of the stores: no system call.  Such a file
	 * survives the daemon, not the machine.
	 */
	bool on_tmpfs;
	int fd;                       /* open, flock()ed */
	int failed;                   /* first flush error (-EIO), latched */
	struct pmem2_source *src;
	struct pmem2_map *map;
	void (*flush_fn)(const void *, size_t);
	void (*drain_fn)(void);
	void *(*memcpy_fn)(void *, const void *, size_t, unsigned);
	char path[4096];
};

#define NVFS_PMEM_RDONLY   (1u << 0)  /* map read-only, take a shared lock */

/*
 * nvfs_pmem_open -- open and map the pmem at path.
 * Returns 0 and sets *out, or a negative errno with a message:
 *   -ENOENT/-EACCES/...  the file cannot be opened
 *   -EBUSY               another opener holds the lock
 *   -EINVAL              not a regular file or a character device
 *   -ENODEV              a character device that is not a device-DAX
 *   other                libpmem2 refused the mapping
 */
int nvfs_pmem_open(const char *path, unsigned flags, struct nvfs_pmem **out);

/*
 * nvfs_pmem_open_fd -- map fd, which the caller opened and flock()ed (or
 * shares, through dup, with a description that holds the lock); the handle
 * takes fd over and closes it, which releases the lock only when no other
 * descriptor shares it.  For callers that must keep the lock across
 * resizing and remapping (mkfs).  Errors as nvfs_pmem_open, but -EBUSY.
 */
int nvfs_pmem_open_fd(int fd, const char *path, unsigned flags, struct nvfs_pmem **out);

/* nvfs_pmem_close -- unmap, unlock, close; sets *pm to NULL.  No flush. */
void nvfs_pmem_close(struct nvfs_pmem **pm);

/*
 * nvfs_pmem_flush -- start making [addr, addr+len) durable.  At PAGE
 * granularity this is msync(MS_SYNC) of the covering pages and may fail
 * with -EIO; the first failure is latched, and every later flush of this
 * mapping fails too (the kernel reports a writeback error only once, so a
 * later msync could succeed without the earlier data being durable).
 * Below PAGE it cannot fail (but for a failure injected by the test hook,
 * see PERSIST HOOK).  Ordered only by the next drain.
 */
int nvfs_pmem_flush(struct nvfs_pmem *pm, const void *addr, size_t len);

/*
 * nvfs_pmem_copy -- copy len bytes to pmem at dst and start making them
 * durable, like memcpy + nvfs_pmem_flush but cheaper: below PAGE
 * granularity libpmem2's copy (non-temporal when nontemporal is set, for
 * large copies), no drain; at PAGE granularity a plain memcpy, with no
 * msync -- the caller's later nvfs_pmem_flush of the enclosing range does
 * that once.  Ordered only by the next drain.
 */
void nvfs_pmem_copy(struct nvfs_pmem *pm, void *dst, const void *src, size_t len,
		    bool nontemporal);

/* nvfs_pmem_drain -- wait until every flushed range is durable */
void nvfs_pmem_drain(struct nvfs_pmem *pm);

/* nvfs_pmem_persist -- flush + drain of one range */
int nvfs_pmem_persist(struct nvfs_pmem *pm, const void *addr, size_t len);

/*
 * nvfs_pmem_store64 -- the commit store: one aligned 8-byte store of v at
 * addr (which must be 8-byte aligned), then persist.
 */
int nvfs_pmem_store64(struct nvfs_pmem *pm, uint64_t *addr, uint64_t v);

/* nvfs_pmem_gran_name -- "byte", "cache_line" or "page" */
const char *nvfs_pmem_gran_name(enum nvfs_pmem_gran gran);

/*
 * nvfs_pmem_persist_is_cheap -- true when a persist is a flush of CPU
 * caches (BYTE, CACHE_LINE) or an msync of a tmpfs file, false when it is
 * an msync to a disk (what durability=auto decides by)
 */
bool nvfs_pmem_persist_is_cheap(const struct nvfs_pmem *pm);

/*
 * nvfs_pmem_describe -- one line saying the effective granularity and what
 * it means for durability (e.g. that a tmpfs file survives a daemon crash
 * but not a reboot).  Writes at most len bytes to buf.
 */
void nvfs_pmem_describe(const struct nvfs_pmem *pm, char *buf, size_t len);

/*
 * PERSIST HOOK (tests).  When set, the hook sees every flushed range and
 * every drain, before the drain takes effect, so a crash simulator can
 * keep a shadow image of what is durable and stop at persist point N.
 * Set it before opening and clear it after closing; it is process-global
 * and not for concurrent use.  Every callback is optional (NULL).
 *
 * FAILURE INJECTION: fail, when set, is consulted for every range
 * nvfs_pmem_flush is asked to make durable (and for the flush that
 * nvfs_pmem_copy starts below PAGE granularity), at any granularity,
 * before the range is flushed.  Returning a negative errno makes that
 * flush fail as a failed msync does: pm->failed latches the error, the
 * range is not flushed (nor reported to the flush callback, so a crash
 * simulator does not count it as durable -- though the stores stay in the
 * mapping, as after a real writeback error), and nvfs_pmem_flush returns
 * it with a message saying it was injected; nvfs_pmem_copy, which returns
 * nothing, only latches it.  Every later flush of that mapping then fails
 * with the latched error, at any granularity, without consulting fail
 * again and without reporting the range to the flush callback (below
 * PAGE only while a hook is set: the latch is checked on the hook's path,
 * so that a normal run pays no extra branch).  Returning 0 lets the flush
 * go on.  fail may be called from several threads at once.
 */
struct nvfs_pmem_hook {
	void (*flush)(void *arg, const struct nvfs_pmem *pm, size_t off, size_t len);
	void (*drain)(void *arg, const struct nvfs_pmem *pm);
	void *arg;
	int (*fail)(void *arg, const struct nvfs_pmem *pm, size_t off, size_t len);
};

void nvfs_pmem_set_hook(const struct nvfs_pmem_hook *hook);

/*
 * nvfs_pmem_shadow_from_env -- the power-loss test mode of a daemon.  With
 * NVFS_TEST_PMEM_SHADOW=FILE in the environment (FILE: a copy of the pmem
 * as it is before it is opened, the same size), installs a persist hook
 * that copies every range into FILE when the thread that flushed it drains,
 * so that FILE always holds what a power loss would have left (and what
 * other threads had stored into those ranges by then, as an eviction may).
 * Call before the pmem is opened.  1 installed, 0 not asked for, or
 * -errno with a message.  Tests only (tests/it/t80-crash.sh).
 */
int nvfs_pmem_shadow_from_env(void);

#endif /* NVFS_PMEM_H */
