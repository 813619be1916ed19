/* SPDX-License-Identifier: MIT */
/*
 * buddy.c -- the in-DRAM buddy allocator (see nvfs_buddy.h).
 *
 * Every free block is a node in a growable array, linked into the doubly
 * linked free list of its order, and found by its first page through a hash
 * map keyed by pgoff + 1 (key 0 is reserved by the map; the range never
 * reaches UINT64_MAX, so pgoff + 1 never wraps).  Unused node slots are
 * chained on a free-index list, so the steady state does not call malloc.
 *
 * Every mutating call first validates, then reserves the node slots and
 * hash entries it may need, and only then changes anything: a failure
 * leaves the allocator as it was.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "nvfs_buddy.h"
#include "nvfs_err.h"
#include "nvfs_hmap.h"

#define MAX_ORDERS 32		/* the largest max_order accepted */
#define NIL SIZE_MAX		/* no node */
#define INITIAL_NODES 64

struct node {
	uint64_t pgoff;		/* first page of the free block */
	size_t prev;		/* free list of its order, or NIL */
	size_t next;		/* ditto; also chains unused slots */
	unsigned order;
};

struct nvfs_buddy {
	uint64_t first;		/* first page of the range */
	uint64_t end;		/* one past its last page (<= UINT64_MAX) */
	unsigned max_order;
	struct nvfs_hmap map;	/* pgoff + 1 -> node index */
	struct node *nodes;
	size_t cap;		/* slots allocated */
	size_t used;		/* slots ever handed out (high water) */
	size_t spare;		/* head of the unused-slot chain */
	size_t nspare;		/* length of that chain */
	size_t head[MAX_ORDERS];	/* free list of each order */
	uint64_t count[MAX_ORDERS];	/* free blocks of each order */
	uint64_t free_pages;
};

/* pages -- the number of pages in a block of this order */
static inline uint64_t
pages(unsigned order)
{
	return (uint64_t)1 << order;
}

/* key -- the hash key of a block starting at pgoff */
static inline uint64_t
key(uint64_t pgoff)
{
	return pgoff + 1;
}

/* lookup -- the index of the free block starting at pgoff, or NIL */
static size_t
lookup(const struct nvfs_buddy *b, uint64_t pgoff)
{
	uint64_t val;

	if (!nvfs_hmap_get(&b->map, key(pgoff), &val))
		return NIL;
	return (size_t)val;
}

/* block_valid -- is (pgoff, order) a legal block of the range? */
static bool
block_valid(const struct nvfs_buddy *b, uint64_t pgoff, unsigned order)
{
	if (order >= b->max_order)
		return false;
	if (pgoff & (pages(order) - 1))
		return false;
	if (pages(order) > b->end - b->first)
		return false;
	return pgoff >= b->first && pgoff <= b->end - pages(order);
}

/* prepare -- make room for n more free blocks so later inserts cannot fail */
static int
prepare(struct nvfs_buddy *b, size_t n)
{
	size_t avail = b->nspare + (b->cap - b->used);

	if (avail < n) {
		size_t need = b->used + (n - b->nspare);
		size_t cap = b->cap ? b->cap : INITIAL_NODES;

		while (cap < need)
			cap *= 2;
		struct node *nodes = realloc(b->nodes, cap * sizeof(*nodes));
		if (!nodes)
			return -ENOMEM;
		b->nodes = nodes;
		b->cap = cap;
	}
	return nvfs_hmap_reserve(&b->map, n);
}

/* node_get -- take an unused node slot (prepare() made sure there is one) */
static size_t
node_get(struct nvfs_buddy *b)
{
	size_t i;

	if (b->nspare) {
		i = b->spare;
		b->spare = b->nodes[i].next;
		b->nspare--;
	} else {
		i = b->used++;
	}
	return i;
}

/* insert -- add the free block (pgoff, order); room was prepared */
static void
insert(struct nvfs_buddy *b, uint64_t pgoff, unsigned order)
{
	size_t i = node_get(b);
	struct node *n = &b->nodes[i];

	n->pgoff = pgoff;
	n->order = order;
	n->prev = NIL;
	n->next = b->head[order];
	if (n->next != NIL)
		b->nodes[n->next].prev = i;
	b->head[order] = i;
	b->count[order]++;
	b->free_pages += pages(order);
	/* cannot fail: prepare() reserved the entry */
	(void)nvfs_hmap_put(&b->map, key(pgoff), i);
}

/* remove_node -- take the free block at index i out of every structure */
static void
remove_node(struct nvfs_buddy *b, size_t i)
{
	struct node *n = &b->nodes[i];

	if (n->prev != NIL)
		b->nodes[n->prev].next = n->next;
	else
		b->head[n->order] = n->next;
	if (n->next != NIL)
		b->nodes[n->next].prev = n->prev;
	b->count[n->order]--;
	b->free_pages -= pages(n->order);
	nvfs_hmap_del(&b->map, key(n->pgoff));
	n->next = b->spare;
	n->prev = NIL;
	b->spare = i;
	b->nspare++;
}

/* greedy_order -- the largest block order that fits at p before end */
static unsigned
greedy_order(const struct nvfs_buddy *b, uint64_t p)
{
	unsigned o = b->max_order - 1;

	while (o > 0 && ((p & (pages(o) - 1)) || b->end - p < pages(o)))
		o--;
	return o;
}

/* populate -- cover the whole range with the greedy aligned decomposition */
static int
populate(struct nvfs_buddy *b)
{
	uint64_t p = b->first;

	while (p < b->end) {
		unsigned o = greedy_order(b, p);
		int ret = prepare(b, 1);

		if (ret)
			return ret;
		insert(b, p, o);
		p += pages(o);
	}
	return 0;
}

/* nvfs_buddy_new -- a buddy allocator with the whole range free */
int
nvfs_buddy_new(uint64_t first_pgoff, uint64_t nr_pages, unsigned max_order,
	       struct nvfs_buddy **out)
{
	struct nvfs_buddy *b;
	int ret;

	if (!out || nr_pages == 0 || max_order == 0 || max_order > MAX_ORDERS)
		return -EINVAL;
	if (first_pgoff > UINT64_MAX - nr_pages)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->first = first_pgoff;
	b->end = first_pgoff + nr_pages;
	b->max_order = max_order;
	b->spare = NIL;
	for (unsigned o = 0; o < MAX_ORDERS; o++)
		b->head[o] = NIL;
	ret = nvfs_hmap_init(&b->map, 0);
	if (ret == 0)
		ret = populate(b);
	if (ret) {
		nvfs_buddy_delete(&b);
		return ret;
	}
	*out = b;
	return 0;
}

/* nvfs_buddy_delete -- free it; sets *b to NULL */
void
nvfs_buddy_delete(struct nvfs_buddy **b)
{
	if (!b || !*b)
		return;
	nvfs_hmap_fini(&(*b)->map);
	free((*b)->nodes);
	free(*b);
	*b = NULL;
}

/* nvfs_buddy_alloc -- take a free block of 2^order pages */
int
nvfs_buddy_alloc(struct nvfs_buddy *b, unsigned order, uint64_t *pgoff)
{
	unsigned o = order;
	uint64_t p;
	size_t i;
	int ret;

	if (!b || !pgoff || order >= b->max_order)
		return -EINVAL;
	while (o < b->max_order && b->head[o] == NIL)
		o++;
	if (o == b->max_order)
		return -ENOSPC;
	ret = prepare(b, o - order);
	if (ret)
		return ret;
	i = b->head[o];
	p = b->nodes[i].pgoff;
	remove_node(b, i);
	while (o > order) {
		o--;
		insert(b, p + pages(o), o);
	}
	*pgoff = p;
	return 0;
}

/*
 * overlapping_free -- is a free block overlapping (pgoff, order) found
 * among the blocks that could contain it (and the one starting at pgoff)?
 */
static bool
overlapping_free(const struct nvfs_buddy *b, uint64_t pgoff, unsigned order)
{
	for (unsigned o = order; o < b->max_order; o++) {
		uint64_t base = pgoff & ~(pages(o) - 1);
		size_t i = lookup(b, base);

		if (i != NIL && base + pages(b->nodes[i].order) > pgoff)
			return true;
	}
	return false;
}

/*
 * mergeable_buddy -- the index of the buddy of (p, o) if it lies inside the
 * range and is free at exactly order o and o + 1 is a legal order; else NIL.
 */
static size_t
mergeable_buddy(const struct nvfs_buddy *b, uint64_t p, unsigned o)
{
	uint64_t bud = p ^ pages(o);
	size_t i;

	if (o + 1 >= b->max_order)
		return NIL;
	if (bud < b->first || bud > b->end - pages(o))
		return NIL;
	i = lookup(b, bud);
	if (i == NIL || b->nodes[i].order != o)
		return NIL;
	return i;
}

/* nvfs_buddy_free -- return the block (pgoff, order), merging buddies */
int
nvfs_buddy_free(struct nvfs_buddy *b, uint64_t pgoff, unsigned order)
{
	size_t i;
	int ret;

	if (!b || !block_valid(b, pgoff, order))
		return -EINVAL;
	if (overlapping_free(b, pgoff, order))
		return -EEXIST;
	ret = prepare(b, 1);
	if (ret)
		return ret;
	while ((i = mergeable_buddy(b, pgoff, order)) != NIL) {
		remove_node(b, i);
		pgoff &= ~pages(order);
		order++;
	}
	insert(b, pgoff, order);
	return 0;
}

/* containing_free -- the index of the free block containing (pgoff, order) */
static size_t
containing_free(const struct nvfs_buddy *b, uint64_t pgoff, unsigned order)
{
	for (unsigned o = order; o < b->max_order; o++) {
		uint64_t base = pgoff & ~(pages(o) - 1);
		size_t i = lookup(b, base);

		if (i != NIL && b->nodes[i].order >= o)
			return i;
	}
	return NIL;
}

/* nvfs_buddy_reserve -- mark the block (pgoff, order) as in use */
int
nvfs_buddy_reserve(struct nvfs_buddy *b, uint64_t pgoff, unsigned order)
{
	unsigned o;
	uint64_t p;
	size_t i;
	int ret;

	if (!b || !block_valid(b, pgoff, order))
		return -EINVAL;
	i = containing_free(b, pgoff, order);
	if (i == NIL)
		return -EEXIST;
	o = b->nodes[i].order;
	p = b->nodes[i].pgoff;
	ret = prepare(b, o - order);
	if (ret)
		return ret;
	remove_node(b, i);
	while (o > order) {
		o--;
		if (pgoff >= p + pages(o)) {
			insert(b, p, o);
			p += pages(o);
		} else {
			insert(b, p + pages(o), o);
		}
	}
	return 0;
}

/* nvfs_buddy_free_blocks -- number of free blocks of exactly this order */
uint64_t
nvfs_buddy_free_blocks(const struct nvfs_buddy *b, unsigned order)
{
	if (!b || order >= b->max_order)
		return 0;
	return b->count[order];
}

/* nvfs_buddy_free_pages -- total free pages */
uint64_t
nvfs_buddy_free_pages(const struct nvfs_buddy *b)
{
	return b ? b->free_pages : 0;
}

/* nvfs_buddy_max_order -- the max_order it was created with */
unsigned
nvfs_buddy_max_order(const struct nvfs_buddy *b)
{
	return b ? b->max_order : 0;
}

/* nvfs_buddy_foreach_free -- call fn for every free block until non-zero */
int
nvfs_buddy_foreach_free(const struct nvfs_buddy *b,
			int (*fn)(void *arg, uint64_t pgoff, unsigned order),
			void *arg)
{
	if (!b || !fn)
		return -EINVAL;
	for (unsigned o = 0; o < b->max_order; o++) {
		for (size_t i = b->head[o]; i != NIL; i = b->nodes[i].next) {
			int ret = fn(arg, b->nodes[i].pgoff, o);

			if (ret)
				return ret;
		}
	}
	return 0;
}

/* check_node -- (B1) alignment and range, (B2) coalescing of one block */
static int
check_node(const struct nvfs_buddy *b, size_t i, unsigned o)
{
	const struct node *n = &b->nodes[i];

	if (n->order != o)
		return nvfs_err_set(EUCLEAN, "buddy: (B3) block %#llx of order "
				    "%u on the order-%u list",
				    (unsigned long long)n->pgoff, n->order, o);
	if (!block_valid(b, n->pgoff, o))
		return nvfs_err_set(EUCLEAN, "buddy: (B1) free block %#llx "
				    "order %u misaligned or out of range",
				    (unsigned long long)n->pgoff, o);
	if (lookup(b, n->pgoff) != i)
		return nvfs_err_set(EUCLEAN, "buddy: (B1) free block %#llx "
				    "order %u not indexed by its first page",
				    (unsigned long long)n->pgoff, o);
	if (mergeable_buddy(b, n->pgoff, o) != NIL)
		return nvfs_err_set(EUCLEAN, "buddy: (B2) free block %#llx "
				    "order %u has its buddy free",
				    (unsigned long long)n->pgoff, o);
	return 0;
}

/*
 * check_disjoint -- (B1) no free block overlaps (pgoff, order).  Aligned
 * blocks overlap only by nesting; equal starts are excluded because the
 * map is a bijection, so only the containing candidates need a look.
 */
static int
check_disjoint(const struct nvfs_buddy *b, uint64_t pgoff, unsigned order)
{
	for (unsigned o = order + 1; o < b->max_order; o++) {
		uint64_t base = pgoff & ~(pages(o) - 1);
		size_t i;

		if (base == pgoff)
			continue;
		i = lookup(b, base);
		if (i != NIL && base + pages(b->nodes[i].order) > pgoff)
			return nvfs_err_set(EUCLEAN, "buddy: (B1) free blocks "
					    "%#llx order %u and %#llx order %u "
					    "overlap",
					    (unsigned long long)base,
					    b->nodes[i].order,
					    (unsigned long long)pgoff, order);
	}
	return 0;
}

/* check_list -- walk the order-o list: links, nodes and its count */
static int
check_list(const struct nvfs_buddy *b, unsigned o, uint64_t *nodes_seen,
	   uint64_t *pages_seen)
{
	uint64_t n = 0;
	size_t prev = NIL;
	int ret;

	for (size_t i = b->head[o]; i != NIL; prev = i, i = b->nodes[i].next) {
		if (i >= b->used || *nodes_seen + n >= b->map.count)
			return nvfs_err_set(EUCLEAN, "buddy: (B3) order-%u list "
					    "is corrupt or longer than the "
					    "index", o);
		if (b->nodes[i].prev != prev)
			return nvfs_err_set(EUCLEAN, "buddy: (B3) order-%u list "
					    "has a bad back link", o);
		ret = check_node(b, i, o);
		if (ret == 0)
			ret = check_disjoint(b, b->nodes[i].pgoff, o);
		if (ret)
			return ret;
		n++;
	}
	if (n != b->count[o])
		return nvfs_err_set(EUCLEAN, "buddy: (B3) order %u counts %llu "
				    "free blocks, its list holds %llu", o,
				    (unsigned long long)b->count[o],
				    (unsigned long long)n);
	*nodes_seen += n;
	*pages_seen += n * pages(o);
	return 0;
}

/* nvfs_buddy_check -- verify (B1)..(B3) by walking every free block */
int
nvfs_buddy_check(const struct nvfs_buddy *b)
{
	uint64_t nodes_seen = 0, pages_seen = 0;
	int ret;

	if (!b)
		return -EINVAL;
	for (unsigned o = 0; o < b->max_order; o++) {
		ret = check_list(b, o, &nodes_seen, &pages_seen);
		if (ret)
			return ret;
	}
	for (unsigned o = b->max_order; o < MAX_ORDERS; o++)
		if (b->head[o] != NIL || b->count[o])
			return nvfs_err_set(EUCLEAN, "buddy: (B3) free blocks "
					    "of order %u >= max_order", o);
	if (nodes_seen != b->map.count)
		return nvfs_err_set(EUCLEAN, "buddy: (B3) %llu listed free "
				    "blocks but %zu indexed",
				    (unsigned long long)nodes_seen, b->map.count);
	if (pages_seen != b->free_pages)
		return nvfs_err_set(EUCLEAN, "buddy: (B3) free-page total %llu, "
				    "lists hold %llu",
				    (unsigned long long)b->free_pages,
				    (unsigned long long)pages_seen);
	return 0;
}
