/* SPDX-License-Identifier: MIT */
/*
 * ops_file.c -- open files: create, open, read, write, flush, release,
 * fsync, fallocate, copy_file_range, lseek, flock and POSIX locks.
 *
 * OPEN FLAGS
 *   The backing file is opened with the caller's flags (O_TRUNC, O_EXCL,
 *   O_DIRECT, O_SYNC...) except O_APPEND: the kernel's write-back of mmap'd
 *   pages (fi->writepage) must land at its offset even in a file opened
 *   O_APPEND, so the backing descriptor never has O_APPEND and each
 *   ordinary write of an O_APPEND file is written at SOURCE's end of file,
 *   read under the inode's data_lock, which every write takes: concurrent
 *   appenders lose nothing, and the journal records the offset each one
 *   landed at.  With the writeback cache the
 *   kernel computes append offsets itself and write-only files are opened
 *   read-write (it reads pages back to fill them).
 *   O_DIRECT data goes through page-aligned bounce buffers, since FUSE's
 *   request buffers are not aligned; the offsets and sizes are the
 *   caller's, so an aligned caller stays aligned.
 *
 * LOCKS (-o shared_locks only; else the kernel keeps them for the mount)
 *   flock: on the open file's own backing descriptor, which has exactly
 *   flock's per-open-file semantics.  POSIX (fcntl) locks: one descriptor
 *   per (inode, lock owner) holding open-file-description locks
 *   (F_OFD_SETLK), so owners conflict with each other and with processes
 *   using SOURCE directly; FLUSH (any close by the owner) closes it, which
 *   drops all of the owner's locks, as POSIX wants.  Differences from a
 *   local file system: no deadlock detection (EDEADLK), and F_GETLK names
 *   the holder's pid only when it can tell which owner holds the lock (else
 *   0).  A blocking request (LOCK_EX without LOCK_NB, F_SETLKW) that cannot
 *   be granted at once is handed to a waiter thread of its own, which
 *   retries with a growing delay (1..50 ms) until it gets the lock, the
 *   request is interrupted (EINTR) or the file system stops: worker threads
 *   never block on a lock, so waiters cannot starve the thread pool.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fs_int.h"

#define DIRECT_ALIGN 4096

/* ---- open files -------------------------------------------------------------- */

/*
 * backing_flags -- the flags to open SOURCE's file with, and whether writes
 * append (RWF_APPEND) and I/O is direct
 */
static int
backing_flags(const struct nvfs_fs *fs, int flags, bool *append, bool *direct)
{
	flags &= ~(O_CREAT | O_EXCL | O_NOCTTY);
	*append = (flags & O_APPEND) && !fs->writeback;
	*direct = (flags & O_DIRECT) != 0;
	flags &= ~O_APPEND;
	if (fs->writeback && (flags & O_ACCMODE) == O_WRONLY)
		flags = (flags & ~O_ACCMODE) | O_RDWR;
	return flags;
}

/* file_new -- an open file for fd (taken over; closed on failure) */
static struct nvfs_file *
file_new(struct nvfs_fs *fs, struct nvfs_inode *in, int fd, int flags, bool append,
	 bool direct)
{
	struct nvfs_file *f = calloc(1, sizeof(*f));

	if (!f) {
		close(fd);
		return NULL;
	}
	f->fd = fd;
	f->accmode = flags & O_ACCMODE;
	f->append = append;
	f->direct = direct;
	f->inode = in;
	nvfs_itab_pin(&fs->itab, in);
	return f;
}

/* file_free -- close an open file and unpin its inode */
static void
file_free(struct nvfs_fs *fs, struct nvfs_file *f)
{
	close(f->fd);
	nvfs_itab_unpin(&fs->itab, f->inode);
	free(f);
}

/* file_info_set -- fi for a new open file */
static void
file_info_set(const struct nvfs_fs *fs, struct fuse_file_info *fi, struct nvfs_file *f)
{
	fi->fh = (uint64_t)(uintptr_t)f;
	fi->keep_cache = fs->keep_cache;
	fi->direct_io = 0;
}

/* log_create -- the record of a create (made: not an existing file opened) */
static int
log_create(struct nvfs_fs *fs, struct nvfs_inode *dir, struct nvfs_inode *in,
	   const char *name, const struct stat *st, bool made)
{
	struct nvfs_rec r = {
		.type = NVFS_REC_CREATE, .id = nvfs_id_of(in), .parent = nvfs_id_of(dir),
		.mode = st->st_mode, .uid = st->st_uid, .gid = st->st_gid,
	};

	if (!made)
		return 0;
	snprintf(r.name, sizeof(r.name), "%s", name);
	return nvfs_log(fs, &r);
}

/*
 * truncate_opened -- the O_TRUNC of an open: the file was opened without it
 * (so that a caller who may not open it fails before anything is logged),
 * and is emptied now, journaled first (nvfs_set_size).  fd: the open file,
 * used if it is open for writing.  Caller's credentials.  0 or -errno.
 */
static int
truncate_opened(struct nvfs_fs *fs, struct nvfs_inode *in, int fd, int flags)
{
	int rc;

	pthread_mutex_lock(&in->data_lock);
	rc = nvfs_set_size(fs, in, (flags & O_ACCMODE) != O_RDONLY ? fd : -1, 0);
	pthread_mutex_unlock(&in->data_lock);
	return rc;
}

/*
 * do_create -- open name in dir with O_CREAT: made by this call (O_EXCL
 * underneath) it is given to the caller; an existing file (created behind
 * the kernel's back) is opened unless the caller asked for O_EXCL.  *e
 * holds the entry (one lookup), fi the open file.
 */
static int
do_create(fuse_req_t req, struct nvfs_inode *dir, const char *name, mode_t mode,
	  struct fuse_file_info *fi, struct fuse_entry_param *e)
{
	struct nvfs_fs *fs = nvfs_fs_of(req);
	bool append, direct, made = true;
	int flags = backing_flags(fs, fi->flags, &append, &direct);
	struct nvfs_inode *in;
	struct nvfs_file *f;
	struct stat st;
	uint64_t stamp;
	char name_fd[16];
	int fd, opath, rc;

	if (nvfs_reserved(fs, dir, name))
		return -EPERM;
	fd = openat(dir->fd, name, flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0 && errno == EEXIST && !(fi->flags & O_EXCL)) {
		made = false; /* O_TRUNC comes after, journaled (truncate_opened) */
		fd = openat(dir->fd, name, (flags & ~O_TRUNC) | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	snprintf(name_fd, sizeof(name_fd), "%d", fd);
	opath = openat(fs->proc_fd, name_fd, O_PATH | O_CLOEXEC); /* the same inode */
	if (opath < 0) {
		rc = -errno;
		goto fail_fd;
	}
	if ((rc = nvfs_stat_stamp(fd, "", &st, &stamp)) < 0)
		goto fail_fd;
	if ((rc = nvfs_itab_get(&fs->itab, opath, &st, &in)) < 0) {
		opath = -1; /* closed by nvfs_itab_get */
		goto fail_fd;
	}
	nvfs_stamp_set(in, stamp);
	if (made && (rc = nvfs_give_to_caller(req, dir, in, &st)) < 0) {
		nvfs_itab_forget(&fs->itab, in, 1);
		close(fd);
		unlinkat(dir->fd, name, 0);
		return rc;
	}
	if ((rc = made ? log_create(fs, dir, in, name, &st, made) :
		  flags & O_TRUNC ? truncate_opened(fs, in, fd, flags) : 0) < 0) {
		nvfs_itab_forget(&fs->itab, in, 1);
		close(fd);
		return rc;
	}
	if (!made && (flags & O_TRUNC) && fstat(fd, &st) < 0) {
		rc = -errno;
		nvfs_itab_forget(&fs->itab, in, 1);
		close(fd);
		return rc;
	}
	if (!(f = file_new(fs, in, fd, flags, append, direct))) {
		nvfs_itab_forget(&fs->itab, in, 1);
		return -ENOMEM;
	}
	file_info_set(fs, fi, f);
	nvfs_entry_init(fs, in, &st, e);
	return 0;

fail_fd:
	if (opath >= 0)
		close(opath);
	close(fd);
	if (made)
		unlinkat(dir->fd, name, 0);
	return rc;
}

/* nvfs_ll_create -- create and open */
void
nvfs_ll_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	       struct fuse_file_info *fi)
{
	struct nvfs_fs *fs = nvfs_fs_of(req);
	struct fuse_entry_param e;
	struct nvfs_cred c;
	int rc;

	if ((rc = nvfs_cred_enter(req, &c)) == 0) {
		rc = do_create(req, nvfs_inode_of(req, parent), name, mode, fi, &e);
		nvfs_cred_leave(&c);
	}
	if (rc < 0) {
		fuse_reply_err(req, -rc);
	} else if (fuse_reply_create(req, &e, fi) == -ENOENT) {
		/* interrupted: the kernel will neither release nor forget */
		struct nvfs_file *f = nvfs_file_of(fi);
		struct nvfs_inode *in = f->inode;
		file_free(fs, f);
		nvfs_itab_forget(&fs->itab, in, 1);
	}
}

/* nvfs_ll_open -- open an existing file */
void
nvfs_ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct nvfs_fs *fs = nvfs_fs_of(req);
	struct nvfs_inode *in = nvfs_inode_of(req, ino);
	bool append, direct;
	int flags = backing_flags(fs, fi->flags, &append, &direct);
	struct nvfs_file *f;
	struct nvfs_cred c;
	int fd, rc;

	/* O_TRUNC comes after the open, journaled first (truncate_opened) */
	if ((fd = nvfs_cred_enter(req, &c)) == 0) {
		fd = nvfs_reopen(fs, in, flags & ~O_TRUNC);
		if (fd >= 0 && (flags & O_TRUNC) && (rc = truncate_opened(fs, in, fd, flags)) < 0) {
			close(fd);
			fd = rc;
		}
		nvfs_cred_leave(&c);
	}
	if (fd < 0) {
		fuse_reply_err(req, -fd);
		return;
	}
	if (!(f = file_new(fs, in, fd, flags, append, direct))) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	file_info_set(fs, fi, f);
	if (fuse_reply_open(req, fi) == -ENOENT)
		file_free(fs, f); /* interrupted: no release will come */
}

/* nvfs_ll_release -- the last close of an open file */
void
nvfs_ll_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	file_free(nvfs_fs_of(req), nvfs_file_of(fi)); /* drops its flock too */
	fuse_reply_err(req, 0);
}

/* ---- data -------------------------------------------------------------------- */

/* read_direct -- an O_DIRECT read through an aligned buffer */
static void
read_direct(fuse_req_t req, int fd, size_t size, off_t off)
{
	void *buf;
	ssize_t n;

	if (posix_memalign(&buf, DIRECT_ALIGN, size ? size : 1) != 0) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	n = pread(fd, buf, size, off);
	if (n < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
}

/* nvfs_ll_read -- read; the data may be spliced from SOURCE's file */
void
nvfs_ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	     struct fuse_file_info *fi)
{
	struct nvfs_file *f = nvfs_file_of(fi);
	struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);

	(void)ino;
	if (f->direct) {
		read_direct(req, f->fd, size, off);
		return;
	}
	buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	buf.buf[0].fd = f->fd;
	buf.buf[0].pos = off;
	fuse_reply_data(req, &buf, 0); /* replies the error itself, if any */
}

/*
 * write_data -- the bytes of a write request as one contiguous buffer:
 * FUSE's own (no copy) unless they are spread out, come from a pipe, or
 * must be aligned for O_DIRECT; *tmp is what to free.  0 or -errno.
 */
static int
write_data(struct fuse_bufvec *bufv, bool direct, const void **data, void **tmp)
{
	size_t len = fuse_buf_size(bufv);
	const struct fuse_buf *b = &bufv->buf[bufv->idx];
	struct fuse_bufvec dst = FUSE_BUFVEC_INIT(len);
	ssize_t n;

	*tmp = NULL;
	if (bufv->count - bufv->idx == 1 && !(b->flags & FUSE_BUF_IS_FD) &&
	    (!direct || ((uintptr_t)b->mem + bufv->off) % DIRECT_ALIGN == 0)) {
		*data = (const char *)b->mem + bufv->off;
		return 0;
	}
	if (posix_memalign(tmp, DIRECT_ALIGN, len ? len : 1) != 0) {
		*tmp = NULL;
		return -ENOMEM;
	}
	dst.buf[0].mem = *tmp;
	n = fuse_buf_copy(&dst, bufv, 0);
	if (n < 0 || (size_t)n != len) {
		free(*tmp);
		*tmp = NULL;
		return n < 0 ? (int)n : -EIO;
	}
	*data = *tmp;
	return 0;
}

/*
 * do_write -- write len bytes at off, or at the end of SOURCE's file for an
 * O_APPEND file (but not for the kernel's write-back of mmap'd pages), and
 * log what was written where; bytes written or -errno.  Under the inode's
 * data_lock, so that the end of file an append reads is where it lands,
 * and the journal's order is SOURCE's.
 */
static ssize_t
do_write(struct nvfs_fs *fs, struct nvfs_file *f, const void *data, size_t len,
	 off_t off, bool writepage)
{
	struct nvfs_inode *in = f->inode;
	struct stat st;
	ssize_t n;
	int rc;

	pthread_mutex_lock(&in->data_lock);
	if (f->append && !writepage) {
		if (fstat(f->fd, &st) < 0) {
			n = -errno;
			goto out;
		}
		off = st.st_size;
	}
	/* tests only (NVFS_TEST_FAIL_SOURCE_WRITE): SOURCE fails the write */
	if (__builtin_expect(fs->test_fail_write != 0, 0) &&
	    (__atomic_add_fetch(&fs->test_writes, 1, __ATOMIC_RELAXED) %
	     fs->test_fail_write) == 0) {
		n = -EIO;
		goto out;
	}
	n = pwrite(f->fd, data, len, off);
	if (n < 0) {
		n = -errno;
		goto out;
	}
	/*
	 * The kernel takes a write-back of mmap'd pages (writepage) as all or
	 * nothing: it ignores a short count, and msync would report success
	 * for pages that never reached SOURCE (a full file system).  So the
	 * rest is tried again, and what still fails is an error, which msync
	 * and fsync report; what did land is logged all the same.
	 */
	int err = 0;
	while (writepage && (size_t)n < len) {
		ssize_t m = pwrite(f->fd, (const char *)data + n, len - (size_t)n, off + n);
		if (m <= 0) {
			err = m < 0 ? errno : ENOSPC;
			break;
		}
		n += m;
	}
	struct nvfs_rec r = {
		.type = NVFS_REC_WRITE, .id = nvfs_id_of(in), .a = (uint64_t)off,
		.data = data, .data_len = (size_t)n,
	};
	if (n > 0 && (rc = nvfs_log(fs, &r)) < 0)
		n = rc;
	else if (err)
		n = -err;
out:
	pthread_mutex_unlock(&in->data_lock);
	return n;
}

/* nvfs_ll_write_buf -- write */
void
nvfs_ll_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *bufv, off_t off,
		  struct fuse_file_info *fi)
{
	struct nvfs_file *f = nvfs_file_of(fi);
	const void *data = NULL;
	void *tmp;
	ssize_t n;

	(void)ino;
	n = write_data(bufv, f->direct, &data, &tmp);
	if (n == 0)
		n = do_write(nvfs_fs_of(req), f, data, fuse_buf_size(bufv), off,
			     fi->writepage);
	free(tmp);
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_write(req, (size_t)n);
}

/* ---- flush, fsync, and the rest ----------------------------------------------- */

static void plock_owner_drop(struct nvfs_inode *in, uint64_t owner);

/*
 * nvfs_ll_flush -- a close(2) of the file by some process: its POSIX locks
 * on the inode go, and SOURCE reports deferred write errors (close(dup)).
 * With the kernel's own locks there is nothing to do (writes reach SOURCE
 * synchronously, so no error is deferred): ENOSYS, and the kernel sends no
 * more FLUSH requests (a round trip less per close).
 */
void
nvfs_ll_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct nvfs_file *f = nvfs_file_of(fi);
	int fd, rc = 0;

	if (!nvfs_fs_of(req)->cfg->shared_locks) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	plock_owner_drop(nvfs_inode_of(req, ino), fi->lock_owner);
	fd = dup(f->fd);
	if (fd >= 0 && close(fd) < 0)
		rc = errno;
	fuse_reply_err(req, rc);
}

/*
 * nvfs_reply_sync -- fsync(2)/fdatasync(2)/fsyncdir (fd: the open
 * file, or -1): durability=op has nothing left to do, and says ENOSYS so
 * that the kernel stops asking (fsync returns 0 without a round trip from
 * then on); durability=fsync commits everything journaled before it.
 * Never a sync of SOURCE: the journal is what makes the data durable.
 * Without a journal (read-only mount) the backing file is synced.
 */
void
nvfs_reply_sync(fuse_req_t req, int fd, int datasync)
{
	struct nvfs_fs *fs = nvfs_fs_of(req);

	if (!fs->journal) {
		fuse_reply_err(req, fd >= 0 && (datasync ? fdatasync(fd) : fsync(fd)) < 0 ?
			       errno : 0);
		return;
	}
	if (fs->op_durable) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	fuse_reply_err(req, -nvfs_log_sync(fs));
}

/* nvfs_ll_fsync -- fsync(2)/fdatasync(2) of this file */
void
nvfs_ll_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)ino;
	nvfs_reply_sync(req, nvfs_file_of(fi)->fd, datasync);
}

/* do_fallocate -- the change of a fallocate (nvfs_log_destroy's form) */
struct fallocate_arg {
	int fd, mode;
	off_t offset, length;
};

static int
do_fallocate(void *arg)
{
	const struct fallocate_arg *a = arg;

	return fallocate(a->fd, a->mode, a->offset, a->length) < 0 ? -errno : 0;
}

/* nvfs_ll_fallocate -- fallocate(2) with its mode (punch hole, zero range...) */
void
nvfs_ll_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
		  struct fuse_file_info *fi)
{
	struct nvfs_file *f = nvfs_file_of(fi);
	struct nvfs_inode *in = f->inode;
	struct fallocate_arg a = { .fd = f->fd, .mode = mode, .offset = offset,
				   .length = length };
	struct nvfs_rec r = {
		.type = NVFS_REC_FALLOCATE, .id = nvfs_id_of(in), .flags = (uint32_t)mode,
		.a = (uint64_t)offset, .b = (uint64_t)length,
	};
	struct nvfs_fs *fs = nvfs_fs_of(req);
	int rc;

	(void)ino;
	/* collapse/insert range shift data: replaying them twice is not harmless */
	if (!nvfs_rec_falloc_mode_ok((uint32_t)mode)) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	pthread_mutex_lock(&in->data_lock);
	/* punching or zeroing destroys data: journaled before (nvfs_rec.h) */
	if (nvfs_rec_falloc_destroys((uint32_t)mode))
		rc = nvfs_log_destroy(fs, in, &r, do_fallocate, &a);
	else if ((rc = do_fallocate(&a)) == 0)
		rc = nvfs_log(fs, &r);
	pthread_mutex_unlock(&in->data_lock);
	fuse_reply_err(req, -rc);
}

/*
 * log_copied -- the n bytes a copy put at off in f, read back and logged as
 * writes: the journal holds the data, since the source may change later
 */
static int
log_copied(struct nvfs_fs *fs, struct nvfs_file *f, off_t off, size_t n)
{
	size_t chunk = n < NVFS_REC_MAX_DATA ? n : NVFS_REC_MAX_DATA;
	char *buf;
	int rc = 0, fd = f->fd;

	if (!fs->journal || n == 0)
		return 0;
	/* a write-only or O_DIRECT file is read back through a descriptor of
	 * its own (O_DIRECT would want an aligned buffer) */
	if ((f->accmode == O_WRONLY || f->direct) &&
	    (fd = nvfs_reopen(fs, f->inode, O_RDONLY)) < 0)
		return -EIO; /* copied but not journaled: not durable */
	if (!(buf = malloc(chunk))) {
		if (fd != f->fd)
			close(fd);
		return -EIO;
	}
	while (n && rc == 0) {
		size_t want = n < chunk ? n : chunk;
		ssize_t got = pread(fd, buf, want, off);
		if (got != (ssize_t)want) {
			rc = -EIO;
			break;
		}
		struct nvfs_rec r = {
			.type = NVFS_REC_WRITE, .id = nvfs_id_of(f->inode), .a = (uint64_t)off,
			.data = buf, .data_len = want,
		};
		rc = nvfs_log(fs, &r);
		off += (off_t)want;
		n -= want;
	}
	free(buf);
	if (fd != f->fd)
		close(fd);
	return rc;
}

/* nvfs_ll_copy_file_range -- copy inside SOURCE (reflink where it can) */
void
nvfs_ll_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			struct fuse_file_info *fi_in, fuse_ino_t ino_out, off_t off_out,
			struct fuse_file_info *fi_out, size_t len, int flags)
{
	struct nvfs_file *out = nvfs_file_of(fi_out);
	off_t at = off_out;
	ssize_t n;
	int rc;

	(void)ino_in;
	(void)ino_out;
	pthread_mutex_lock(&out->inode->data_lock);
	n = copy_file_range(nvfs_file_of(fi_in)->fd, &off_in, out->fd, &off_out, len,
			    (unsigned)flags);
	if (n < 0)
		n = -errno;
	else if ((rc = log_copied(nvfs_fs_of(req), out, at, (size_t)n)) < 0)
		n = rc;
	pthread_mutex_unlock(&out->inode->data_lock);
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_write(req, (size_t)n);
}

/* nvfs_ll_lseek -- SEEK_DATA and SEEK_HOLE (the kernel does the rest) */
void
nvfs_ll_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
	      struct fuse_file_info *fi)
{
	off_t res = lseek(nvfs_file_of(fi)->fd, off, whence);

	(void)ino;
	if (res < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_lseek(req, res);
}

/* ---- blocked lock requests ------------------------------------------------------ */

struct waiter {
	struct nvfs_fs *fs;
	fuse_req_t req;
	int fd;                 /* a dup: the same open file description */
	bool is_flock;
	int op;                 /* flock: LOCK_SH or LOCK_EX */
	struct flock fl;        /* POSIX: the lock for F_OFD_SETLK */
};

/* try_lock -- one non-blocking attempt; 0, or the errno */
static int
try_lock(struct waiter *w)
{
	int rc = w->is_flock ? flock(w->fd, w->op | LOCK_NB) : fcntl(w->fd, F_OFD_SETLK, &w->fl);

	return rc < 0 ? errno : 0;
}

/* waiter_main -- retry until granted, interrupted or stopping; then reply */
static void *
waiter_main(void *arg)
{
	struct waiter *w = arg;
	struct nvfs_fs *fs = w->fs;
	useconds_t delay = 1000;
	int err;

	for (;;) {
		err = try_lock(w);
		if (err != EWOULDBLOCK && err != EAGAIN && err != EACCES)
			break;
		if (fuse_req_interrupted(w->req) ||
		    __atomic_load_n(&fs->stopping, __ATOMIC_ACQUIRE)) {
			err = EINTR;
			break;
		}
		usleep(delay);
		if (delay < 50000)
			delay *= 2;
	}
	close(w->fd);
	fuse_reply_err(w->req, err);
	free(w);
	pthread_mutex_lock(&fs->wait_lock);
	if (--fs->waiters == 0)
		pthread_cond_broadcast(&fs->wait_cond);
	pthread_mutex_unlock(&fs->wait_lock);
	return NULL;
}

/*
 * wait_start -- hand a blocked request to a waiter thread, which replies;
 * fd is a dup it takes over.  Replies here if that is not possible.
 */
static void
wait_start(fuse_req_t req, int fd, bool is_flock, int op, const struct flock *fl)
{
	struct nvfs_fs *fs = nvfs_fs_of(req);
	struct waiter *w = calloc(1, sizeof(*w));
	pthread_attr_t attr;
	pthread_t th;
	int err = 0;

	if (!w || fd < 0) {
		err = fd < 0 ? errno : ENOMEM;
		goto fail;
	}
	*w = (struct waiter){ .fs = fs, .req = req, .fd = fd, .is_flock = is_flock,
			      .op = op };
	if (fl)
		w->fl = *fl;
	pthread_mutex_lock(&fs->wait_lock);
	if (fs->stopping)
		err = EINTR;
	else
		fs->waiters++;
	pthread_mutex_unlock(&fs->wait_lock);
	if (err)
		goto fail;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	err = pthread_create(&th, &attr, waiter_main, w);
	pthread_attr_destroy(&attr);
	if (!err)
		return;
	pthread_mutex_lock(&fs->wait_lock);
	if (--fs->waiters == 0)
		pthread_cond_broadcast(&fs->wait_cond);
	pthread_mutex_unlock(&fs->wait_lock);
	err = ENOLCK;
fail:
	free(w);
	if (fd >= 0)
		close(fd);
	fuse_reply_err(req, err);
}

/* nvfs_ll_flock -- flock(2) on the open file's backing descriptor */
void
nvfs_ll_flock(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, int op)
{
	int fd = nvfs_file_of(fi)->fd;

	(void)ino;
	if (flock(fd, op | LOCK_NB) == 0)
		fuse_reply_err(req, 0);
	else if (errno == EWOULDBLOCK && !(op & LOCK_NB))
		wait_start(req, dup(fd), true, op & ~LOCK_NB, NULL);
	else
		fuse_reply_err(req, errno);
}

/* ---- POSIX locks ------------------------------------------------------------------ */

/* plock_find -- the owner's descriptor on an inode (in->lock held) */
static struct nvfs_plock *
plock_find(const struct nvfs_inode *in, uint64_t owner)
{
	struct nvfs_plock *p = in->plocks;

	while (p && p->owner != owner)
		p = p->next;
	return p;
}

/*
 * plock_get -- the owner's descriptor, opened on first use (in->lock held):
 * read-write where possible so that both lock types work, else with the
 * open file's access mode.  NULL with errno set.
 */
static struct nvfs_plock *
plock_get(const struct nvfs_fs *fs, struct nvfs_inode *in, uint64_t owner,
	  const struct nvfs_file *f)
{
	struct nvfs_plock *p = plock_find(in, owner);
	int fd;

	if (p)
		return p;
	fd = nvfs_reopen(fs, in, O_RDWR);
	if (fd < 0 && f->accmode != O_RDWR)
		fd = nvfs_reopen(fs, in, f->accmode);
	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	if (!(p = calloc(1, sizeof(*p)))) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	p->owner = owner;
	p->fd = fd;
	p->next = in->plocks;
	in->plocks = p;
	return p;
}

/* plock_owner_drop -- the owner closed the file: all its locks go */
static void
plock_owner_drop(struct nvfs_inode *in, uint64_t owner)
{
	struct nvfs_plock **pp, *p = NULL;

	pthread_mutex_lock(&in->lock);
	for (pp = &in->plocks; *pp; pp = &(*pp)->next) {
		if ((*pp)->owner == owner) {
			p = *pp;
			*pp = p->next;
			break;
		}
	}
	pthread_mutex_unlock(&in->lock);
	if (p) {
		close(p->fd);
		free(p);
	}
}

/* nvfs_plocks_drop -- an inode is freed: every owner's descriptor goes */
void
nvfs_plocks_drop(struct nvfs_inode *in)
{
	while (in->plocks) {
		struct nvfs_plock *p = in->plocks;
		in->plocks = p->next;
		close(p->fd);
		free(p);
	}
}

/*
 * holder_pid -- the pid of the owner holding the lock that conflicts with
 * want (in->lock held): the other owner that does not see it as a
 * conflict; 0 if that is not clear
 */
static pid_t
holder_pid(const struct nvfs_inode *in, uint64_t self, const struct flock *want,
	   const struct flock *conflict)
{
	for (const struct nvfs_plock *p = in->plocks; p; p = p->next) {
		struct flock t = *want;
		if (p->owner == self)
			continue;
		t.l_pid = 0;
		if (fcntl(p->fd, F_OFD_GETLK, &t) == 0 &&
		    (t.l_type == F_UNLCK || t.l_start != conflict->l_start ||
		     t.l_len != conflict->l_len))
			return p->pid;
	}
	return 0;
}

/* nvfs_ll_getlk -- F_GETLK: who would block this lock */
void
nvfs_ll_getlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
	      struct flock *lock)
{
	struct nvfs_inode *in = nvfs_inode_of(req, ino);
	struct flock fl = *lock;
	struct nvfs_plock *p;
	int rc;

	fl.l_pid = 0; /* F_OFD_* want 0 */
	pthread_mutex_lock(&in->lock);
	p = plock_find(in, fi->lock_owner);
	rc = fcntl(p ? p->fd : nvfs_file_of(fi)->fd, F_OFD_GETLK, &fl);
	if (rc == 0 && fl.l_type != F_UNLCK && fl.l_pid == -1)
		fl.l_pid = holder_pid(in, fi->lock_owner, lock, &fl);
	pthread_mutex_unlock(&in->lock);
	if (rc < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_lock(req, &fl);
}

/* nvfs_ll_setlk -- F_SETLK / F_SETLKW (sleep) */
void
nvfs_ll_setlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
	      struct flock *lock, int sleep)
{
	struct nvfs_fs *fs = nvfs_fs_of(req);
	struct nvfs_inode *in = nvfs_inode_of(req, ino);
	struct flock fl = *lock;
	struct nvfs_plock *p;
	int rc = 0, err = 0, fd;

	fl.l_pid = 0;
	pthread_mutex_lock(&in->lock);
	if (fl.l_type == F_UNLCK)
		p = plock_find(in, fi->lock_owner); /* none: nothing to unlock */
	else if (!(p = plock_get(fs, in, fi->lock_owner, nvfs_file_of(fi))))
		err = errno;
	if (p) {
		p->pid = lock->l_pid;
		rc = fcntl(p->fd, F_OFD_SETLK, &fl);
		err = rc < 0 ? errno : 0;
	}
	if (sleep && p && (err == EAGAIN || err == EACCES)) {
		fd = dup(p->fd);
		pthread_mutex_unlock(&in->lock);
		wait_start(req, fd, false, 0, &fl);
		return;
	}
	pthread_mutex_unlock(&in->lock);
	fuse_reply_err(req, err);
}
