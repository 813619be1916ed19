/* SPDX-License-Identifier: MIT */
/*
 * nvfs_hmap.h -- a DRAM hash map from non-zero u64 keys to u64 values.
 *
 * Open addressing with linear probing and backward-shift deletion, so
 * lookups, inserts and removals are O(1) expected with no tombstones, and
 * memory is proportional to the number of entries (the table doubles at
 * 50% load and never shrinks below its initial size).  Key 0 is reserved
 * as the empty marker.  Not thread-safe: the owner of the map locks.
 */
#ifndef NVFS_HMAP_H
#define NVFS_HMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nvfs_hmap_slot {
	uint64_t key;   /* 0 = empty */
	uint64_t val;
};

struct nvfs_hmap {
	struct nvfs_hmap_slot *slots;
	size_t cap;     /* power of two */
	size_t count;
};

/* nvfs_hmap_init -- an empty map; 0 or -ENOMEM */
int nvfs_hmap_init(struct nvfs_hmap *m, size_t initial_cap);

/* nvfs_hmap_fini -- free the table */
void nvfs_hmap_fini(struct nvfs_hmap *m);

/* nvfs_hmap_get -- true and *val if key is present */
bool nvfs_hmap_get(const struct nvfs_hmap *m, uint64_t key, uint64_t *val);

/*
 * nvfs_hmap_put -- insert key or replace its value.  0, -EINVAL for key 0,
 * or -ENOMEM (the map is unchanged).
 */
int nvfs_hmap_put(struct nvfs_hmap *m, uint64_t key, uint64_t val);

/* nvfs_hmap_del -- remove key; true if it was present */
bool nvfs_hmap_del(struct nvfs_hmap *m, uint64_t key);

/*
 * nvfs_hmap_reserve -- make room for n more entries, so that the next n
 * puts of new keys cannot fail.  0 or -ENOMEM.
 */
int nvfs_hmap_reserve(struct nvfs_hmap *m, size_t n);

#endif /* NVFS_HMAP_H */
