/* SPDX-License-Identifier: MIT */
/*
 * nvfs_parse.h -- parsing of user-supplied values (command-line arguments,
 * mount options).  Functions return 0 or -EINVAL with a one-line message
 * (nvfs_err.h) that quotes the rejected string.
 */
#ifndef NVFS_PARSE_H
#define NVFS_PARSE_H

#include <stdint.h>

/*
 * nvfs_parse_size -- a size in bytes: decimal digits, optionally followed by
 * one binary-multiple suffix, K/M/G/T (any case) or KiB/MiB/GiB/TiB:
 * "4096", "64M", "64m", "64MiB", "1G".  No sign, no spaces, no fraction.
 * Returns 0 and *out, or -EINVAL (empty, junk, overflow of 64 bits).
 */
int nvfs_parse_size(const char *s, uint64_t *out);

#endif /* NVFS_PARSE_H */
