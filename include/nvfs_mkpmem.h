/* SPDX-License-Identifier: MIT */
/*
 * nvfs_mkpmem.h -- create (if need be), size and format a pmem file or
 * device-DAX: the one code path mkfs.nvfs and mount.nvfs share.
 *
 * What happens to path:
 *   missing            created (O_EXCL, mode 0600) with opts->size bytes,
 *                      reserved with posix_fallocate (a sparse ftruncate if
 *                      the file system cannot, with a warning);
 *   regular file       its content is probed (nvfs_ns_probe) first; only if
 *                      it is all zero, or opts->force is set, is it resized
 *                      to opts->size (when non-zero) and formatted;
 *   character device   the same probe; the namespace is opts->size bytes
 *                      (which must fit the device) or the whole device.
 * Then, unless opts->no_journal, the journal is created in it (its size is
 * checked against the namespace before anything is written).
 * The pmem is opened with nvfs_pmem_open, so one in use gets -EBUSY, and
 * stays locked until the journal is made.
 * A file this call created is removed again if anything after its creation
 * fails; a file it did not create is never removed.
 */
#ifndef NVFS_MKPMEM_H
#define NVFS_MKPMEM_H

#include <stdbool.h>
#include <stdint.h>

#include "nvfs_format.h"
#include "nvfs_pmem.h"

struct nvfs_mkpmem_opts {
	uint64_t size;          /* bytes; 0 = the whole existing file/device */
	const char *label;      /* at most 31 bytes; may be NULL */
	bool force;             /* overwrite an nvfs namespace or other data */
	bool no_journal;        /* an allocator-only namespace (tests, tools) */
	uint64_t journal_bytes; /* 0: the default (nvfs_journal_fit) */
	/* one-line warnings (e.g. a sparse file was made); may be NULL */
	void (*warn)(void *arg, const char *msg);
	void *arg;
};

struct nvfs_mkpmem_info {
	uint8_t uuid[NVFS_UUID_BYTES];  /* the new namespace's uuid */
	uint64_t ns_bytes;              /* namespace size (whole pages) */
	uint64_t pages_total;           /* allocatable 4 KiB pages */
	enum nvfs_pmem_gran gran;       /* store granularity of the mapping */
	bool created;                   /* path did not exist before */
	uint64_t journal_bytes;         /* 0 if no journal was made */
};

/*
 * nvfs_mkpmem -- make path an empty nvfs namespace.  info may be NULL.
 * Returns 0, or a negative errno with a message that starts with path:
 *   -ENOENT      path does not exist and opts->size is 0
 *   -ENOSPC      the journal does not fit (the message says what fits)
 *   -EINVAL      too small (the message names NVFS_MIN_NS_BYTES), larger
 *                than the device, label too long, wrong file type
 *   -EBUSY       in use by another process
 *   -EEXIST      holds an nvfs namespace and !force (the message names its
 *                uuid and label)
 *   -ENOTEMPTY   holds other non-zero data and !force
 *   other        creating, sizing, mapping or formatting failed
 * The boundary adds its own hint (e.g. "use -f") to -ENOENT/-EEXIST/-ENOTEMPTY.
 */
int nvfs_mkpmem(const char *path, const struct nvfs_mkpmem_opts *opts,
		struct nvfs_mkpmem_info *info);

#endif /* NVFS_MKPMEM_H */
