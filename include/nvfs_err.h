/* SPDX-License-Identifier: MIT */
/*
 * nvfs_err.h -- error codes and per-thread error messages.
 *
 * Calling convention of every nvfs module: a function returns 0 (or a
 * non-negative count) on success and a negative errno on failure.  The site
 * that detects a failure describes it once with nvfs_err_set(); the
 * boundary (a tool's main, the mount path, a FUSE handler) prints
 * nvfs_errmsg() once.  Messages are one line, name the object and, for
 * media content, the structure, field and byte offset.
 *
 * Two errnos carry nvfs meanings:
 *   -EUCLEAN  structure on media is inconsistent (corruption)
 *   -EBADMSG  a checksum does not match
 */
#ifndef NVFS_ERR_H
#define NVFS_ERR_H

#include <errno.h>

#ifndef EUCLEAN
#define EUCLEAN 117
#endif

/*
 * nvfs_err_set -- record the message of the current thread's last error.
 * Always returns -err (err > 0) so a site can write
 *     return nvfs_err_set(EUCLEAN, "sb: bad magic at offset %u", off);
 * errno is preserved.
 */
int nvfs_err_set(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * nvfs_err_prefix -- prepend "what: " to the current message, for a caller
 * that adds context (e.g. the pmem path).  Returns -err like nvfs_err_set.
 */
int nvfs_err_prefix(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* nvfs_errmsg -- the current thread's last message, "" if none */
const char *nvfs_errmsg(void);

/* nvfs_err_clear -- forget the current thread's message */
void nvfs_err_clear(void);

#endif /* NVFS_ERR_H */
