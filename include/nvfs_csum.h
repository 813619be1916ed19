/* SPDX-License-Identifier: MIT */
/* nvfs_csum.h -- the one checksum nvfs uses on media: XXH3-64 */
#ifndef NVFS_CSUM_H
#define NVFS_CSUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

/* nvfs_csum -- XXH3-64 of len bytes at p with the given seed */
static inline uint64_t
nvfs_csum(const void *p, size_t len, uint64_t seed)
{
	return XXH3_64bits_withSeed(p, len, seed);
}

/*
 * nvfs_csum_begin -- start a streaming XXH3-64 with seed.  The state is
 * zeroed first: XXH3_64bits_reset_withSeed leaves fields that GCC 12 then
 * reports as maybe-uninitialised when the implementation is inlined.
 */
static inline void
nvfs_csum_begin(XXH3_state_t *st, uint64_t seed)
{
	memset(st, 0, sizeof(*st));
	XXH3_64bits_reset_withSeed(st, seed);
}

#endif /* NVFS_CSUM_H */
