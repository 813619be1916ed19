/* SPDX-License-Identifier: MIT */
/*
 * nvfs_bind.h -- bind a pmem to the SOURCE directory it journals, so that a
 * journal is never replayed into, or a pmem mounted over, another directory.
 *
 * THE MODEL
 *   The binding is one page of the owner NVFS_BIND_OWNER_UUID (label
 *   "bind"): the SOURCE's realpath and the identity of its root directory,
 *   (st_ino, birth time in ns) -- not st_dev, which is not stable across
 *   reboots.  nvfs_format.h (SOURCE BINDING) has the layout, the validity
 *   rules B1..B6 and the commit protocol; docs/FORMAT.md the same as prose.
 *
 * CALLING SEQUENCE (the mount path, after nvfs_alloc_open and before the
 * journal is replayed into SOURCE or anything is written to it)
 *     fd = open(source, O_PATH | O_DIRECTORY);
 *     realpath(source, real);
 *     rc = nvfs_bind_check(a, real, fd, journal_empty, readonly,
 *                          note, sizeof(note));
 *     if (rc < 0) -> print nvfs_errmsg() (one line) and refuse the mount
 *     if (note[0]) -> print the note (one line): something was changed
 *
 * CRASH CONSISTENCY
 *   Every write follows the protocol of nvfs_format.h: a page is committed
 *   by one 8-byte store of its magic after the rest of it is durable, and
 *   an older page is let go only after the newer one is committed.  A crash
 *   at any point leaves the old binding, the new one, or -- when it cuts the
 *   first bind -- "not bound yet", which the next call binds; it never
 *   leaves a binding that this module refuses as corrupt.  Leftover pages of
 *   an interrupted write are freed by the next writable call.
 *
 * THREADS: not thread-safe: no other nvfs_bind_* call may run on the same
 * allocator at the same time (the allocator calls themselves are).
 */
#ifndef NVFS_BIND_H
#define NVFS_BIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvfs_format.h"

struct nvfs_alloc;

/*
 * nvfs_bind_check -- check (and, unless read-only, record) that the pmem
 * behind a journals the SOURCE directory at source_realpath, whose root
 * directory is open as source_fd (any open mode, O_PATH is enough).
 *
 *   source_realpath  absolute path without symlinks, at most
 *                    NVFS_BIND_PATH_MAX (4031) bytes; stored and shown in
 *                    messages, not resolved again
 *   source_fd        the identity (st_ino, btime) is taken from it
 *   journal_empty    the journal holds no entry not yet applied to SOURCE:
 *                    then binding it to another directory loses nothing
 *   readonly         never write (read-only mount, fsck -n); also implied
 *                    by a read-only allocator
 *   note, note_len   OUT: "" or one line saying what changed (or would have
 *                    changed, read-only).  May be NULL / 0.
 *
 * Outcomes, by the state found:
 *   not bound (no owner, no valid page, or only pages a crash left
 *   unwritten):    bind it; 0, no note.  Read-only: 0, nothing written.
 *   same identity, same path:  0, no note.
 *   same identity, other path (SOURCE was moved or renamed):  record the
 *                  new path; 0, note "SOURCE moved from X to Y".  Read-only:
 *                  0, the same note with "(not recorded: read-only)".
 *   other identity, journal_empty:  rebind; 0, note "pmem was bound to X
 *                  (another directory); rebound to Y: its journal was
 *                  empty".  Read-only: 0, the note says it was not rebound.
 *   other identity, entries pending:  -EXDEV, "pmem P journals SOURCE X,
 *                  not Y, and holds entries not yet applied to it; ...".
 *   corrupt binding (a rule B1..B6 broken):  journal_empty and writable:
 *                  rewrite it for this SOURCE; 0, the note names the rule.
 *                  Read-only with journal_empty: 0, the note says so.
 *                  Otherwise -EUCLEAN naming the rule.
 * Identities: equal st_ino and equal btime, a btime of 0 (the file system
 * has none) matching any.
 *
 * Other errors: -EINVAL (path not absolute), -ENAMETOOLONG (path longer
 * than NVFS_BIND_PATH_MAX), -errno of statx on source_fd, -ENOMEM, and the
 * allocator's and persist errors of a write (-ENOSPC: no page, no owner
 * slot; -EROFS; -EIO ...): then the pmem is in one of the crash states
 * above.  Every error has a one-line message (nvfs_errmsg()).
 *
 * Persistence: what the call wrote is durable when it returns 0.
 */
int nvfs_bind_check(struct nvfs_alloc *a, const char *source_realpath, int source_fd,
		    bool journal_empty, bool readonly, char *note, size_t note_len);

struct nvfs_bind_info {
	char path[NVFS_BIND_PATH_BYTES];  /* the bound realpath, NUL-terminated */
	uint64_t ino;                     /* st_ino of the SOURCE directory */
	uint64_t btime_ns;                /* its birth time, 0 = unknown */
	uint64_t gen;                     /* writes of the binding so far */
	uint64_t page_off;                /* byte offset of the binding page */
};

/*
 * nvfs_bind_get -- read the binding without changing anything (fsck,
 * tests).  0 and *info; -ENOENT (not bound: no valid page); -EUCLEAN (a
 * rule broken, named in the message); -ENOMEM.
 */
int nvfs_bind_get(struct nvfs_alloc *a, struct nvfs_bind_info *info);

#endif /* NVFS_BIND_H */
