/* SPDX-License-Identifier: MIT */
/* nvfs_csum.h -- the one checksum nvfs uses on media: XXH3-64 */
#ifndef NVFS_CSUM_H
#define NVFS_CSUM_H

#include <stddef.h>
#include <stdint.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

/* nvfs_csum -- XXH3-64 of len bytes at p with the given seed */
static inline uint64_t
nvfs_csum(const void *p, size_t len, uint64_t seed)
{
	return XXH3_64bits_withSeed(p, len, seed);
}

#endif /* NVFS_CSUM_H */
