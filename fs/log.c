/* SPDX-License-Identifier: MIT */
/*
 * log.c -- the journaling of the handlers: identities, append, commit.
 *
 * Every mutating handler applies its change to SOURCE first and logs a
 * record of what happened after (docs/FS-JOURNAL.md section 2): a failed
 * change is never logged, so replay never has to reproduce a failure, and
 * a record can carry what only the change knew (the new object's identity,
 * the offset an O_APPEND write landed at).  With durability=op the record
 * is committed before the reply, so an answered operation is durable; with
 * durability=fsync an fsync commits everything appended before it.
 *
 * A record that cannot be logged (a pmem write error, latched by the
 * journal) turns the operation's reply into EIO: the change is in SOURCE,
 * but the caller must not believe it durable.  The file system keeps
 * serving reads; every later change fails the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "fs_int.h"
#include "nvfs_err.h"
#include "nvfs_journal.h"

/* stamp -- btime of a statx result in ns, 0 if the file system has none */
static uint64_t
stamp(const struct statx *stx)
{
	if (!(stx->stx_mask & STATX_BTIME))
		return 0;
	return (uint64_t)stx->stx_btime.tv_sec * 1000000000u + stx->stx_btime.tv_nsec;
}

/* nvfs_stamp_of -- btime (ns) of name in dirfd, 0 if none */
uint64_t
nvfs_stamp_of(int dirfd, const char *name)
{
	struct statx stx;
	int flags = AT_SYMLINK_NOFOLLOW | (*name ? 0 : AT_EMPTY_PATH);

	if (statx(dirfd, name, flags, STATX_BTIME, &stx) < 0)
		return 0;
	return stamp(&stx);
}

/* nvfs_stat_stamp -- stat and btime in one statx (fs_int.h) */
int
nvfs_stat_stamp(int dirfd, const char *name, struct stat *st, uint64_t *stamp_out)
{
	struct statx stx;
	int flags = AT_SYMLINK_NOFOLLOW | (*name ? 0 : AT_EMPTY_PATH);

	if (statx(dirfd, name, flags, STATX_BASIC_STATS | STATX_BTIME, &stx) < 0)
		return -errno;
	memset(st, 0, sizeof(*st));
	st->st_dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
	st->st_ino = stx.stx_ino;
	st->st_mode = stx.stx_mode;
	st->st_nlink = stx.stx_nlink;
	st->st_uid = stx.stx_uid;
	st->st_gid = stx.stx_gid;
	st->st_rdev = makedev(stx.stx_rdev_major, stx.stx_rdev_minor);
	st->st_size = (off_t)stx.stx_size;
	st->st_blksize = (blksize_t)stx.stx_blksize;
	st->st_blocks = (blkcnt_t)stx.stx_blocks;
	st->st_atim = (struct timespec){ stx.stx_atime.tv_sec, stx.stx_atime.tv_nsec };
	st->st_mtim = (struct timespec){ stx.stx_mtime.tv_sec, stx.stx_mtime.tv_nsec };
	st->st_ctim = (struct timespec){ stx.stx_ctime.tv_sec, stx.stx_ctime.tv_nsec };
	*stamp_out = stamp(&stx);
	return 0;
}

/* nvfs_id_at -- identity and link count of a name */
int
nvfs_id_at(int dirfd, const char *name, struct nvfs_rec_id *id, uint32_t *nlink)
{
	struct statx stx;

	if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW, STATX_INO | STATX_NLINK | STATX_BTIME,
		  &stx) < 0)
		return -errno;
	id->ino = stx.stx_ino;
	id->stamp = stamp(&stx);
	if (nlink)
		*nlink = stx.stx_nlink;
	return 0;
}

/* log_failed -- say once why records cannot be logged; -EIO */
static int
log_failed(struct nvfs_fs *fs, const struct nvfs_rec *r, int err, const char *msg)
{
	char line[512];

	if (__atomic_fetch_add(&fs->log_errors, 1, __ATOMIC_RELAXED) == 0) {
		snprintf(line, sizeof(line), "cannot journal a %s (%s): %s; changes are "
			 "applied to SOURCE but fail with EIO from now on",
			 nvfs_rec_type_name(r->type), strerror(-err), msg);
		fuse_log(FUSE_LOG_ERR, "%s\n", line);
	}
	return -EIO;
}

/*
 * append -- r into the journal, after the MARK of the last checkpoint if
 * it is the first record since (ckpt.c, mark); its seq or -errno
 */
static int64_t
append(struct nvfs_fs *fs, const struct nvfs_rec *r)
{
	unsigned char hdr[NVFS_REC_HDR_BYTES];
	struct iovec iov[4];
	int iovcnt, rc;

	if (__atomic_exchange_n(&fs->need_mark, false, __ATOMIC_ACQ_REL)) {
		struct nvfs_rec m = {
			.type = NVFS_REC_MARK, .id = nvfs_id_of(fs->root),
			.a = __atomic_load_n(&fs->mark_ns, __ATOMIC_RELAXED),
		};
		if ((rc = nvfs_rec_encode(&m, hdr, iov, &iovcnt)) < 0)
			return rc;
		int64_t s = nvfs_journal_appendv(fs->journal, m.type, iov, iovcnt);
		if (s < 0)
			return s;
	}
	if ((rc = nvfs_rec_encode(r, hdr, iov, &iovcnt)) < 0)
		return rc;
	return nvfs_journal_appendv(fs->journal, r->type, iov, iovcnt);
}

/* log_commit -- append r, and commit it if commit; its seq or -EIO */
static int64_t
log_commit(struct nvfs_fs *fs, const struct nvfs_rec *r, bool commit)
{
	int64_t seq = append(fs, r);
	int rc;

	if (seq < 0)
		return log_failed(fs, r, (int)seq, seq == -EINVAL ? "record too large" :
				  nvfs_errmsg());
	if (commit && (rc = nvfs_journal_commit(fs->journal, (uint64_t)seq)) < 0)
		return log_failed(fs, r, rc, nvfs_errmsg());
	__atomic_fetch_add(&fs->records, 1, __ATOMIC_RELAXED);
	return seq;
}

/* nvfs_log -- append (and, durability=op, commit) one record */
int
nvfs_log(struct nvfs_fs *fs, const struct nvfs_rec *r)
{
	if (!fs->journal)
		return 0;
	int64_t seq = log_commit(fs, r, fs->op_durable);
	return seq < 0 ? (int)seq : 0;
}

/* log_intent -- append and commit r before the change it describes */
static int
log_intent(struct nvfs_fs *fs, const struct nvfs_rec *r, uint64_t *seq)
{
	*seq = 0;
	if (!fs->journal)
		return 0;
	int64_t s = log_commit(fs, r, true);
	if (s < 0)
		return (int)s;
	*seq = (uint64_t)s;
	return 0;
}

/* log_cancel -- the change of intent seq failed: replay must skip it */
static int
log_cancel(struct nvfs_fs *fs, struct nvfs_rec_id id, uint64_t seq)
{
	struct nvfs_rec r = { .type = NVFS_REC_CANCEL, .id = id, .a = seq };
	uint64_t s;

	if (!fs->journal || !seq)
		return 0;
	return log_intent(fs, &r, &s); /* committed in every mode */
}

/* nvfs_log_destroy -- intent, change, then the record again (or CANCEL) */
int
nvfs_log_destroy(struct nvfs_fs *fs, struct nvfs_inode *in, const struct nvfs_rec *r,
		 int (*change)(void *arg), void *arg)
{
	return nvfs_log_destroy_id(fs, nvfs_id_of(in), r, change, arg);
}

/* nvfs_log_destroy_id -- nvfs_log_destroy, the CANCEL naming id */
int
nvfs_log_destroy_id(struct nvfs_fs *fs, struct nvfs_rec_id id, const struct nvfs_rec *r,
		    int (*change)(void *arg), void *arg)
{
	uint64_t intent;
	int rc;

	if ((rc = log_intent(fs, r, &intent)) < 0)
		return rc;
	if ((rc = change(arg)) < 0) {
		log_cancel(fs, id, intent); /* its failure is logged; rc is the news */
		return rc;
	}
	/*
	 * Again, now that the change is made: a checkpoint between the intent
	 * and the change may have released the intent (its syncfs came too
	 * early to make the change durable); this one comes after.
	 */
	return nvfs_log(fs, r);
}


/*
 * nvfs_log_sync -- commit everything appended: one persist however much is
 * pending (group commit), and it covers what the inode's fsync must cover
 * whatever record it is in -- its data, its own rename or link, its
 * directory's entries
 */
int
nvfs_log_sync(struct nvfs_fs *fs)
{
	struct nvfs_rec r = { .type = NVFS_REC_WRITE };
	int rc;

	if (!fs->journal)
		return 0;
	rc = nvfs_journal_commit(fs->journal, 0);
	return rc < 0 ? log_failed(fs, &r, rc, nvfs_errmsg()) : 0;
}
