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
 * durability=fsync fsync commits up to the inode's last record.
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

/* seq_note -- remember seq as in's last record */
static void
seq_note(struct nvfs_inode *in, uint64_t seq)
{
	uint64_t cur;

	if (!in)
		return;
	cur = __atomic_load_n(&in->last_seq, __ATOMIC_RELAXED);
	while (cur < seq && !__atomic_compare_exchange_n(&in->last_seq, &cur, seq, true,
							  __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
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

/* nvfs_log -- append (and, durability=op, commit) one record */
int
nvfs_log(struct nvfs_fs *fs, const struct nvfs_rec *r, struct nvfs_inode *in1,
	 struct nvfs_inode *in2, struct nvfs_inode *in3)
{
	unsigned char hdr[NVFS_REC_HDR_BYTES];
	struct iovec iov[4];
	int iovcnt, rc;
	int64_t seq;

	if (!fs->journal)
		return 0;
	if ((rc = nvfs_rec_encode(r, hdr, iov, &iovcnt)) < 0)
		return log_failed(fs, r, rc, "record too large");
	seq = nvfs_journal_appendv(fs->journal, r->type, iov, iovcnt);
	if (seq < 0)
		return log_failed(fs, r, (int)seq, nvfs_errmsg());
	if (fs->op_durable && (rc = nvfs_journal_commit(fs->journal, (uint64_t)seq)) < 0)
		return log_failed(fs, r, rc, nvfs_errmsg());
	seq_note(in1, (uint64_t)seq);
	seq_note(in2, (uint64_t)seq);
	seq_note(in3, (uint64_t)seq);
	__atomic_fetch_add(&fs->records, 1, __ATOMIC_RELAXED);
	return 0;
}

/* nvfs_log_sync -- commit up to in's last record */
int
nvfs_log_sync(struct nvfs_fs *fs, struct nvfs_inode *in)
{
	uint64_t seq = __atomic_load_n(&in->last_seq, __ATOMIC_RELAXED);
	struct nvfs_rec r = { .type = NVFS_REC_WRITE };
	int rc;

	if (!fs->journal)
		return 0;
	/*
	 * seq 0: no record of in since it entered the inode table (its
	 * records, if any, were made under an earlier struct); commit all.
	 */
	rc = nvfs_journal_commit(fs->journal, seq);
	return rc < 0 ? log_failed(fs, &r, rc, nvfs_errmsg()) : 0;
}
