/* SPDX-License-Identifier: MIT */
/*
 * alloc_int.h -- the allocator's DRAM state, shared by alloc.c (runtime
 * operations) and recover.c (open-time validation and rebuild).
 */
#ifndef NVFS_ALLOC_INT_H
#define NVFS_ALLOC_INT_H

#include <pthread.h>

#include "nvfs_alloc.h"
#include "nvfs_buddy.h"
#include "nvfs_hmap.h"
#include "nvfs_ns.h"
#include "nvfs_pmem.h"

/*
 * A record slot is named by its global index: record page number times
 * NVFS_RECS_PER_PAGE plus the slot within the page.
 */
#define RECS_TOTAL ((uint32_t)NVFS_RECS_PAGES * NVFS_RECS_PER_PAGE)

/*
 * Value stored in the "used" map (key: first page of an allocated block):
 * bits 0..31 record index, 32..39 owner slot, 40..47 order.
 */
static inline uint64_t
used_val(uint32_t rec_idx, unsigned owner, unsigned order)
{
	return rec_idx | (uint64_t)owner << 32 | (uint64_t)order << 40;
}
static inline uint32_t used_rec(uint64_t v) { return (uint32_t)v; }
static inline unsigned used_owner(uint64_t v) { return (unsigned)(v >> 32) & 0xff; }
static inline unsigned used_order(uint64_t v) { return (unsigned)(v >> 40) & 0xff; }

struct alloc_owner {
	bool live;
	uint32_t *free_recs;    /* stack of empty record slots in its chain */
	uint32_t nr_free_recs;
	uint32_t cap_free_recs;
	uint64_t nr_allocs;     /* live records */
	uint64_t nr_pages;      /* pages they cover */
	unsigned nr_recs_pages; /* record pages in its chain */
};

struct nvfs_alloc {
	pthread_mutex_t lock;       /* protects everything below but pm, sb, seed */
	struct nvfs_pmem *pm;
	struct nvfs_pm_sb sb;       /* validated DRAM copy, immutable */
	uint64_t seed;              /* nvfs_pm_seed(sb.ns_uuid) */
	bool readonly;
	bool check_only;            /* CHECK without REPAIR: DRAM may differ */
	int failed;                 /* latched persist error (-errno), 0 if none */
	struct nvfs_buddy *buddy;
	struct nvfs_hmap used;      /* allocated block -> used_val() */
	uint64_t recs_in_use[(NVFS_RECS_PAGES + 63) / 64]; /* record page bitmap */
	struct alloc_owner owners[NVFS_OWNER_SLOTS];
};

/* head -- the owner head of slot on pmem */
static inline struct nvfs_pm_owner_head *
head_of(struct nvfs_alloc *a, unsigned slot)
{
	return (struct nvfs_pm_owner_head *)(a->pm->base + nvfs_ns_owner_head_off(slot));
}

/* recs_page -- record page number i on pmem */
static inline struct nvfs_pm_recs_page *
recs_page(struct nvfs_alloc *a, unsigned i)
{
	return (struct nvfs_pm_recs_page *)(a->pm->base + nvfs_ns_recs_off(i));
}

/* rec_word -- the record word of global index r on pmem */
static inline uint64_t *
rec_word(struct nvfs_alloc *a, uint32_t r)
{
	return &recs_page(a, r / NVFS_RECS_PER_PAGE)->recs[r % NVFS_RECS_PER_PAGE];
}

static inline bool
recs_page_used(const struct nvfs_alloc *a, unsigned i)
{
	return a->recs_in_use[i / 64] >> (i % 64) & 1;
}

static inline void
recs_page_mark(struct nvfs_alloc *a, unsigned i, bool used)
{
	if (used)
		a->recs_in_use[i / 64] |= UINT64_C(1) << (i % 64);
	else
		a->recs_in_use[i / 64] &= ~(UINT64_C(1) << (i % 64));
}

/* owner_reserve_free_recs -- room for n more free record slots; 0 or -ENOMEM */
int alloc_owner_reserve_free_recs(struct alloc_owner *o, uint32_t n);

/* alloc_rebuild -- validate the owner lists and build the DRAM state */
int alloc_rebuild(struct nvfs_alloc *a, struct nvfs_alloc_opts *opts);

/* alloc_sb_load -- choose a valid superblock copy into a->sb */
int alloc_sb_load(struct nvfs_alloc *a, struct nvfs_alloc_opts *opts);

#endif /* NVFS_ALLOC_INT_H */
