/* SPDX-License-Identifier: MIT */
/* hmap.c -- open-addressing u64 -> u64 hash map (see nvfs_hmap.h) */
#include <errno.h>
#include <stdlib.h>

#include "nvfs_hmap.h"

/* hash -- spread a key over the table (a 64-bit finaliser) */
static inline size_t
hash(uint64_t k)
{
	k ^= k >> 33;
	k *= UINT64_C(0xff51afd7ed558ccd);
	k ^= k >> 33;
	k *= UINT64_C(0xc4ceb9fe1a85ec53);
	k ^= k >> 33;
	return (size_t)k;
}

/* nvfs_hmap_init -- allocate an empty table of at least initial_cap slots */
int
nvfs_hmap_init(struct nvfs_hmap *m, size_t initial_cap)
{
	size_t cap = 16;

	while (cap < initial_cap)
		cap <<= 1;
	m->slots = calloc(cap, sizeof(*m->slots));
	if (!m->slots)
		return -ENOMEM;
	m->cap = cap;
	m->count = 0;
	return 0;
}

/* nvfs_hmap_fini -- free the table */
void
nvfs_hmap_fini(struct nvfs_hmap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->cap = m->count = 0;
}

/* find -- the slot holding key, or the empty slot where it would go */
static size_t
find(const struct nvfs_hmap *m, uint64_t key)
{
	size_t mask = m->cap - 1;
	size_t i = hash(key) & mask;

	while (m->slots[i].key != 0 && m->slots[i].key != key)
		i = (i + 1) & mask;
	return i;
}

/* nvfs_hmap_get -- look a key up */
bool
nvfs_hmap_get(const struct nvfs_hmap *m, uint64_t key, uint64_t *val)
{
	if (key == 0)
		return false;
	size_t i = find(m, key);
	if (m->slots[i].key != key)
		return false;
	if (val)
		*val = m->slots[i].val;
	return true;
}

/* grow -- rehash into a table of new_cap slots */
static int
grow(struct nvfs_hmap *m, size_t new_cap)
{
	struct nvfs_hmap old = *m;

	m->slots = calloc(new_cap, sizeof(*m->slots));
	if (!m->slots) {
		*m = old;
		return -ENOMEM;
	}
	m->cap = new_cap;
	for (size_t i = 0; i < old.cap; i++) {
		if (old.slots[i].key)
			m->slots[find(m, old.slots[i].key)] = old.slots[i];
	}
	free(old.slots);
	return 0;
}

/* nvfs_hmap_reserve -- grow so that n more entries stay under 50% load */
int
nvfs_hmap_reserve(struct nvfs_hmap *m, size_t n)
{
	size_t cap = m->cap;

	while ((m->count + n) * 2 > cap)
		cap <<= 1;
	return cap == m->cap ? 0 : grow(m, cap);
}

/* nvfs_hmap_put -- insert or replace */
int
nvfs_hmap_put(struct nvfs_hmap *m, uint64_t key, uint64_t val)
{
	if (key == 0)
		return -EINVAL;
	size_t i = find(m, key);
	if (m->slots[i].key == key) {
		m->slots[i].val = val;
		return 0;
	}
	if ((m->count + 1) * 2 > m->cap) {
		if (grow(m, m->cap * 2))
			return -ENOMEM;
		i = find(m, key);
	}
	m->slots[i].key = key;
	m->slots[i].val = val;
	m->count++;
	return 0;
}

/* nvfs_hmap_del -- remove a key, shifting later probes back into the hole */
bool
nvfs_hmap_del(struct nvfs_hmap *m, uint64_t key)
{
	size_t mask = m->cap - 1;
	size_t hole, j;

	if (key == 0)
		return false;
	hole = find(m, key);
	if (m->slots[hole].key != key)
		return false;
	j = hole;
	for (;;) {
		j = (j + 1) & mask;
		if (m->slots[j].key == 0)
			break;
		size_t home = hash(m->slots[j].key) & mask;
		/* Move j into the hole unless its home lies cyclically in (hole, j]. */
		bool home_between = hole <= j ? (hole < home && home <= j)
					      : (hole < home || home <= j);
		if (!home_between) {
			m->slots[hole] = m->slots[j];
			hole = j;
		}
	}
	m->slots[hole].key = 0;
	m->slots[hole].val = 0;
	m->count--;
	return true;
}
