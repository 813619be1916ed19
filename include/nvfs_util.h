/* SPDX-License-Identifier: MIT */
/*
 * nvfs_util.h -- small helpers shared by the modules, header-only.
 */
#ifndef NVFS_UTIL_H
#define NVFS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* nvfs_mem_is_zero -- true if the len bytes at p are all zero (or len is 0) */
static inline bool
nvfs_mem_is_zero(const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		if (b[i])
			return false;
	return true;
}

/*
 * nvfs_label_text -- a label read from media (len bytes, NUL-padded or not)
 * as a printable C string in out[len + 1]: bytes outside ' '..'~' become
 * '?', so a crafted label cannot send terminal escape sequences.
 */
static inline void
nvfs_label_text(char *out, const uint8_t *label, size_t len)
{
	size_t i;

	for (i = 0; i < len && label[i]; i++)
		out[i] = label[i] >= ' ' && label[i] <= '~' ? (char)label[i] : '?';
	out[i] = '\0';
}

#endif /* NVFS_UTIL_H */
