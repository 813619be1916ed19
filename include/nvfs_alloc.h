/* SPDX-License-Identifier: MIT */
/*
 * nvfs_alloc.h -- the nvm-pages allocator: a buddy allocator over the pages
 * of a pmem namespace whose allocations are recorded, per owner (uuid), in
 * owner lists on the pmem itself.
 *
 * THE MODEL
 *   The owner records are the only persistent allocation state: a page is
 *   in use iff a record of a live owner covers it.  nvfs_alloc_open
 *   validates every structure (nvfs_format.h rules) and rebuilds the DRAM
 *   buddy free lists from the records; nothing derived is stored.
 *
 * CALLING SEQUENCE
 *     nvfs_alloc_open(path, &opts, &a);
 *     owner = nvfs_alloc_owner_get(a, uuid, "journal");
 *     nvfs_alloc_pages(a, owner, order, &off);   -- durable on return
 *     ... write the block at nvfs_alloc_ptr(a, off), persist it, then
 *         persist the caller's own reference to off ...
 *     (to free: make the removal of the reference durable first, then)
 *     nvfs_alloc_free(a, owner, off);             -- durable on return
 *     nvfs_alloc_close(&a);
 *
 * CRASH CONSISTENCY (docs/ALLOCATOR.md has the protocols step by step)
 *   Every change commits with one aligned 8-byte store and a persist.  A
 *   crash at any point leaves an image that opens, where no page is owned
 *   twice and no recorded page is free; at most the allocation in flight
 *   leaks (recorded, but the caller never stored its reference).  Callers
 *   reclaim such leaks by cross-checking their references against
 *   nvfs_alloc_foreach at mount.
 *
 * ERRORS are negative errno with a message in nvfs_errmsg().  Nothing
 * aborts on media content.
 *
 * THREADS: every function is thread-safe (one mutex).  A foreach callback
 * runs under that mutex and must not call back into the allocator.
 */
#ifndef NVFS_ALLOC_H
#define NVFS_ALLOC_H

#include <stdbool.h>
#include <stdint.h>

#include "nvfs_format.h"

struct nvfs_alloc;
struct nvfs_pmem;

/* open flags */
#define NVFS_ALLOC_RDONLY  (1u << 0) /* map read-only; mutations get -EROFS */
#define NVFS_ALLOC_CHECK   (1u << 1) /* report every problem, do not stop */
#define NVFS_ALLOC_REPAIR  (1u << 2) /* with CHECK: fix each problem found */

struct nvfs_alloc_opts {
	unsigned flags;
	/*
	 * CHECK mode: called once per problem with a one-line message and
	 * whether it was repaired.  May be NULL.
	 */
	void (*problem)(void *arg, const char *msg, bool repaired);
	void *arg;
	/* OUT (CHECK mode): problems found and problems repaired */
	unsigned nr_problems;
	unsigned nr_repaired;
};

/*
 * nvfs_alloc_open -- open the namespace at path (regular file, file on a
 * DAX file system, or device-DAX), validate it and rebuild the allocator.
 * opts may be NULL (strict, read-write).
 *
 * Strict mode fails at the first problem.  CHECK mode records every
 * problem, drops what is invalid from the DRAM state (as if repaired) and
 * still succeeds if the superblock is usable; with REPAIR the fixes are
 * also written to pmem (each with the usual commit protocol).
 *
 * Returns 0 and *out, or:
 *   -ENOENT/-EACCES...  cannot open the file
 *   -EBUSY              another process has it open
 *   -EMEDIUMTYPE        no nvfs superblock (not an nvfs namespace)
 *   -EPROTONOSUPPORT    newer format version
 *   -EOPNOTSUPP         unknown incompatible feature
 *   -EUCLEAN/-EBADMSG   corrupt structure (message names it)
 *   -ENOMEM
 * An unknown ro_compat feature opens read-only (nvfs_alloc_readonly).
 */
int nvfs_alloc_open(const char *path, struct nvfs_alloc_opts *opts,
		    struct nvfs_alloc **out);

/*
 * nvfs_alloc_open_pmem -- the same on a pmem already opened (and locked)
 * with nvfs_pmem_open, which the allocator takes over: closed with it, or
 * on failure.  Lets a caller format and then allocate without ever
 * releasing the lock in between.
 */
int nvfs_alloc_open_pmem(struct nvfs_pmem *pm, struct nvfs_alloc_opts *opts,
			 struct nvfs_alloc **out);

/* nvfs_alloc_close -- free DRAM state and unmap; sets *a to NULL */
void nvfs_alloc_close(struct nvfs_alloc **a);

/* nvfs_alloc_sb -- the validated superblock (a DRAM copy) */
const struct nvfs_pm_sb *nvfs_alloc_sb(const struct nvfs_alloc *a);

/* nvfs_alloc_pmem -- the mapping, for callers that persist their blocks */
struct nvfs_pmem *nvfs_alloc_pmem(struct nvfs_alloc *a);

/* nvfs_alloc_ptr -- address of byte offset off of the namespace */
void *nvfs_alloc_ptr(struct nvfs_alloc *a, uint64_t off);

/* nvfs_alloc_readonly -- true if mutations are refused (-EROFS) */
bool nvfs_alloc_readonly(const struct nvfs_alloc *a);

/* ---- owners ---------------------------------------------------------------
 * An owner is named by its uuid; the handle returned (>= 0) is its slot and
 * stays valid until close.
 */

/* nvfs_alloc_owner_find -- handle of the live owner with uuid, or -ENOENT */
int nvfs_alloc_owner_find(struct nvfs_alloc *a, const uint8_t uuid[NVFS_UUID_BYTES]);

/*
 * nvfs_alloc_owner_create -- add an owner (durable on return).  label may be
 * NULL, at most 31 bytes.  Returns the handle, -EEXIST (uuid already
 * present), -ENOSPC (all 63 slots live), -EINVAL (zero uuid, long label),
 * -EROFS, or a persist error.
 */
int nvfs_alloc_owner_create(struct nvfs_alloc *a, const uint8_t uuid[NVFS_UUID_BYTES],
			    const char *label);

/* nvfs_alloc_owner_get -- find, or create if absent */
int nvfs_alloc_owner_get(struct nvfs_alloc *a, const uint8_t uuid[NVFS_UUID_BYTES],
			 const char *label);

struct nvfs_alloc_owner_info {
	uint8_t uuid[NVFS_UUID_BYTES];
	char label[NVFS_LABEL_BYTES];   /* NUL-terminated */
	uint64_t nr_allocs;             /* live records */
	uint64_t nr_pages;              /* pages they cover */
	unsigned nr_recs_pages;         /* record pages in its chain */
};

/* nvfs_alloc_owner_info -- describe a live owner; 0 or -ENOENT */
int nvfs_alloc_owner_info(struct nvfs_alloc *a, int owner,
			  struct nvfs_alloc_owner_info *info);

/*
 * nvfs_alloc_owner_next -- iterate live owners: the first handle > prev
 * (start with -1), or -ENOENT at the end.
 */
int nvfs_alloc_owner_next(struct nvfs_alloc *a, int prev);

/* ---- pages --------------------------------------------------------------- */

/*
 * nvfs_alloc_pages -- allocate 2^order pages (order < NVFS_MAX_ORDER) for
 * owner; *off is the byte offset of the block in the namespace.  The record
 * is durable on return; the block's contents are undefined.
 * 0, -EINVAL (order, owner), -ENOSPC (no free block of that size, or no
 * record slot left), -EROFS, -ENOMEM, or a persist error: then nothing is
 * allocated in this open (DRAM and the mapping are as before the call), the
 * allocator refuses further changes, and the record may or may not have
 * reached the media -- at worst the block is leaked to owner after a
 * reopen, never given out twice.
 */
int nvfs_alloc_pages(struct nvfs_alloc *a, int owner, unsigned order, uint64_t *off);

/*
 * nvfs_alloc_free -- free the block at byte offset off, which owner must
 * hold.  Durable on return.  0, -ENOENT (no such block), -EPERM (another
 * owner's block), -EROFS, or a persist error (then the block stays
 * allocated).
 */
int nvfs_alloc_free(struct nvfs_alloc *a, int owner, uint64_t off);

/*
 * nvfs_alloc_foreach -- call fn(arg, off, order) for every block owner holds,
 * in record order, until fn returns non-zero (which is returned).
 */
int nvfs_alloc_foreach(struct nvfs_alloc *a, int owner,
		       int (*fn)(void *arg, uint64_t off, unsigned order), void *arg);

struct nvfs_alloc_stats {
	uint64_t pages_total;                    /* allocatable pages */
	uint64_t pages_free;
	uint64_t free_blocks[NVFS_MAX_ORDER];    /* free blocks per order */
	unsigned owners;                         /* live owners */
	unsigned recs_pages_used;                /* record pages in chains */
	uint64_t records;                        /* live records */
};

/* nvfs_alloc_stats -- a consistent snapshot of the counters */
void nvfs_alloc_stats(struct nvfs_alloc *a, struct nvfs_alloc_stats *st);

/*
 * nvfs_alloc_check -- re-verify the DRAM state against itself (buddy
 * invariants, free + used == total); for tests and fsck.  0 or -EUCLEAN.
 */
int nvfs_alloc_check(struct nvfs_alloc *a);

#endif /* NVFS_ALLOC_H */
