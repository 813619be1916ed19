/* SPDX-License-Identifier: MIT */
/*
 * fs_testlib.h -- a SOURCE directory and a journal, driven without FUSE,
 * for the replay suites.
 *
 * THE MOUNT, IMITATED
 *   Each ft_<op> applies one operation to SOURCE with real system calls
 *   and appends the record the mounted file system would log for it
 *   (fs/ops_entry.c, ops_file.c, ops_attr.c: the same fields, identities
 *   from statx as (st_ino, btime ns)), unless the operation is "in flight"
 *   (t->nolog_from): applied, never logged -- or, for a change that
 *   destroys data (an intent, logged before it is made: nvfs_rec.h),
 *   logged, never made.  Every operation also pushes what undoes it while
 *   keeping identities (rename back, re-link a removed name from a stash
 *   directory outside SOURCE, rewrite the old bytes...), so that
 *   ft_undo_last(t, k) leaves SOURCE as a crash that lost the last k
 *   operations would, and a capture of SOURCE is taken after each
 *   operation (t->snap[i]: after i operations, the operation in flight
 *   made; snap[0] before the first).
 *
 *   A removed name goes to the stash (so that it can come back with its
 *   identity); ft_clear_stash forgets it for good before a replay.
 *
 * THE JOURNAL
 *   A namespace with a 2-bucket journal at t->pmem, created once; its
 *   blank image and the image after ft_log_end are kept in memory
 *   (sparse) so that a replay can be repeated on the same journal.
 *
 * A CAPTURE of SOURCE is one line per name, in walk order (sorted):
 *   path, type and mode, owner, size and checksum of the bytes, symlink
 *   target, rdev, extended attributes, the number of names of the object
 *   in SOURCE and the first of them (hard links), and with t->cap_times
 *   the atime and mtime of regular files.  Inode numbers are not in it
 *   (an object made again by replay is a new inode).
 */
#ifndef NVFS_FS_TESTLIB_H
#define NVFS_FS_TESTLIB_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "nvfs_fs.h"

#define FT_MAX_OPS 64

struct ft_ext {
	off_t off;
	size_t len;
	unsigned char *p;
};

/* a file's bytes, kept sparse */
struct ft_img {
	off_t size;
	struct ft_ext *ext;
	size_t n;
};

struct ft_undo;

struct ft {
	char src[PATH_MAX];          /* SOURCE */
	char stash[PATH_MAX];        /* removed names, outside SOURCE, same fs */
	char pmem[PATH_MAX];         /* namespace with a journal */
	int srcfd, stashfd;
	struct nvfs_alloc *a;        /* open between ft_reset and ft_log_end */
	struct nvfs_journal *j;
	struct ft_img blank;         /* the namespace with an empty journal */
	struct ft_img logged;        /* as ft_log_end left it */
	unsigned nops;               /* operations since ft_reset */
	unsigned nolog_from;         /* operations from this index on are not logged */
	unsigned logged_ops;         /* records appended since ft_reset */
	unsigned nstash;
	bool cap_times;              /* captures include atime/mtime of files */
	bool quiet;                  /* ft_replay: a failure is expected, say nothing */
	bool xattr_ok;               /* SOURCE takes user.* xattrs (else ft_*xattr do nothing) */
	struct ft_undo *undo;
	size_t nundo, capundo;
	char *snap[FT_MAX_OPS + 1];  /* capture after i operations */
};

/* ft_init -- scratch directories and the blank namespace under name */
void ft_init(struct ft *t, const char *name);

/* ft_fini -- close and free everything (the scratch directory stays) */
void ft_fini(struct ft *t);

/*
 * ft_reset -- an empty SOURCE and stash, the blank journal open for
 * appends, no operations; every operation is logged.  What is made now
 * and before ft_begin (with t->nolog_from 0) is older than the journal.
 */
void ft_reset(struct ft *t);

/*
 * ft_begin -- the last checkpoint: forget the operations done so far,
 * append the MARK the mount appends after a checkpoint (SOURCE's identity
 * and the time), take snap[0]; the operations from now on are the log's
 */
void ft_begin(struct ft *t);

/* ft_log_end -- commit, close the journal and keep its image (t->logged) */
void ft_log_end(struct ft *t);

/* ft_journal_restore -- put t->logged back in the pmem file */
void ft_journal_restore(struct ft *t);

/*
 * ft_replay -- what mount.nvfs does: open the namespace and the journal,
 * replay it without applying anything, then nvfs_fs_replay on SOURCE; close.
 * 0, or the negative errno of the step that failed (message printed).
 */
int ft_replay(struct ft *t, struct nvfs_fs_replay_report *rep);

/* ft_undo_last -- undo the last k operations (a crash lost them) */
void ft_undo_last(struct ft *t, unsigned k);

/* ft_wipe_source -- remove everything in SOURCE (not SOURCE itself) */
void ft_wipe_source(struct ft *t);

/* ft_clear_stash -- the removed names are gone for good */
void ft_clear_stash(struct ft *t);

/* ft_capture -- SOURCE as text (malloc'ed) */
char *ft_capture(const struct ft *t);

/* ft_same -- capture got equals expect; prints the lines that differ */
bool ft_same(const char *what, const char *expect, const char *got);

/* ft_nlink_ok -- every non-directory's st_nlink is its number of names in SOURCE */
bool ft_nlink_ok(const struct ft *t);

/* ---- operations (paths relative to SOURCE; each asserts it succeeded) ---- */

void ft_create(struct ft *t, const char *path, mode_t mode);
void ft_mkdir(struct ft *t, const char *path, mode_t mode);
void ft_symlink(struct ft *t, const char *target, const char *path);
void ft_mknod(struct ft *t, const char *path, mode_t mode, dev_t dev);
void ft_link(struct ft *t, const char *from, const char *to);
void ft_unlink(struct ft *t, const char *path);
void ft_rmdir(struct ft *t, const char *path);
void ft_rename(struct ft *t, const char *from, const char *to, unsigned flags);
void ft_write(struct ft *t, const char *path, off_t off, const void *buf, size_t len);
void ft_write_str(struct ft *t, const char *path, off_t off, const char *s);
void ft_truncate(struct ft *t, const char *path, off_t size);
void ft_fallocate(struct ft *t, const char *path, int mode, off_t off, off_t len);
/*
 * ft_truncate_fails -- a truncate whose intent is logged, then cancelled
 * (in flight: the intent logged, the truncate not made, no cancel yet)
 */
void ft_truncate_fails(struct ft *t, const char *path, off_t size);
void ft_chmod(struct ft *t, const char *path, mode_t mode);
void ft_chown(struct ft *t, const char *path, uid_t uid, gid_t gid);
void ft_utimens(struct ft *t, const char *path, int64_t atime_ns, int64_t mtime_ns);
/* without user.* xattrs on SOURCE's file system these count as operations that do nothing */
void ft_setxattr(struct ft *t, const char *path, const char *name, const char *value,
		 int flags);
void ft_removexattr(struct ft *t, const char *path, const char *name);

#endif /* NVFS_FS_TESTLIB_H */
