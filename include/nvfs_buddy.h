/* SPDX-License-Identifier: MIT */
/*
 * nvfs_buddy.h -- the in-DRAM buddy allocator over a range of pages.
 *
 * Pure DRAM bookkeeping: it never touches pmem, so it is unit-tested on its
 * own.  The persistent allocator (nvfs_alloc.h) rebuilds one at open from
 * the owner records and keeps it in step with them.
 *
 * Blocks are 2^order pages, 0 <= order < max_order, and aligned to their
 * size in ABSOLUTE page offsets (pgoff % 2^order == 0), which matches the
 * on-pmem record rule (A3) and keeps large blocks huge-page aligned on real
 * pmem.  The managed range [first_pgoff, first_pgoff + nr_pages) need not be
 * aligned: its ends are covered by smaller blocks.
 *
 * Invariants kept after every call (nvfs_buddy_check verifies them):
 *   (B1) free blocks are aligned, inside the range and pairwise disjoint;
 *   (B2) no free block's buddy is free at the same order (fully coalesced);
 *   (B3) the per-order counts and the free-page total match the lists.
 *
 * Costs: alloc, free and reserve are O(max_order) hash operations; memory
 * is O(number of free blocks), independent of the range size.  Never scans
 * the range.  Not thread-safe: the caller locks.
 */
#ifndef NVFS_BUDDY_H
#define NVFS_BUDDY_H

#include <stddef.h>
#include <stdint.h>

struct nvfs_buddy;

/*
 * nvfs_buddy_new -- a buddy allocator with the whole range free.
 * 0, -EINVAL (nr_pages == 0, max_order == 0 or > 32, range overflows), or
 * -ENOMEM.
 */
int nvfs_buddy_new(uint64_t first_pgoff, uint64_t nr_pages, unsigned max_order,
		   struct nvfs_buddy **out);

/* nvfs_buddy_delete -- free it; sets *b to NULL */
void nvfs_buddy_delete(struct nvfs_buddy **b);

/*
 * nvfs_buddy_alloc -- take a free block of 2^order pages (splitting a
 * larger one if needed) and return its first page in *pgoff.
 * 0, -EINVAL (order >= max_order), -ENOSPC (no free block of that order or
 * larger), -ENOMEM (bookkeeping; the allocator is unchanged).
 */
int nvfs_buddy_alloc(struct nvfs_buddy *b, unsigned order, uint64_t *pgoff);

/*
 * nvfs_buddy_free -- return the block (pgoff, order), merging with free
 * buddies.  0, -EINVAL (misaligned, out of range, order too large), -EEXIST
 * (the block or a block containing it is already free: a double free is
 * refused, nothing changes), -ENOMEM.
 */
int nvfs_buddy_free(struct nvfs_buddy *b, uint64_t pgoff, unsigned order);

/*
 * nvfs_buddy_reserve -- mark the specific block (pgoff, order) as in use,
 * splitting the free block that contains it.  Used at open to carve out
 * every recorded allocation.  0, -EINVAL (misaligned, out of range, order
 * too large), -EEXIST (some page of it is not free: it overlaps a block
 * already reserved or allocated; nothing changes), -ENOMEM.
 */
int nvfs_buddy_reserve(struct nvfs_buddy *b, uint64_t pgoff, unsigned order);

/* nvfs_buddy_free_blocks -- number of free blocks of exactly this order */
uint64_t nvfs_buddy_free_blocks(const struct nvfs_buddy *b, unsigned order);

/* nvfs_buddy_free_pages -- total free pages */
uint64_t nvfs_buddy_free_pages(const struct nvfs_buddy *b);

/* nvfs_buddy_max_order -- the max_order it was created with */
unsigned nvfs_buddy_max_order(const struct nvfs_buddy *b);

/*
 * nvfs_buddy_foreach_free -- call fn for every free block, in no particular
 * order, until fn returns non-zero (which is then returned).  fn must not
 * modify the allocator.
 */
int nvfs_buddy_foreach_free(const struct nvfs_buddy *b,
			    int (*fn)(void *arg, uint64_t pgoff, unsigned order),
			    void *arg);

/*
 * nvfs_buddy_check -- verify (B1)..(B3) by walking every free block;
 * O(free blocks), for tests and fsck.  0 or -EUCLEAN with a message
 * (nvfs_err.h) naming the broken invariant.
 */
int nvfs_buddy_check(const struct nvfs_buddy *b);

#endif /* NVFS_BUDDY_H */
