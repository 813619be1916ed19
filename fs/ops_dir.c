/* SPDX-License-Identifier: MIT */
/*
 * ops_dir.c -- directories: opendir, readdir, readdirplus, releasedir,
 * fsyncdir.
 *
 * A directory handle is a DIR stream on SOURCE's directory.  Offsets are
 * the backing file system's d_off cookies (seekdir takes them back), so a
 * reader that stops and resumes, or seeks to a telldir value, sees what a
 * reader of SOURCE would.  d_ino is the backing inode number, as st_ino.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs_int.h"

/* dir_of -- the open directory of a request */
static struct nvfs_dir *
dir_of(const struct fuse_file_info *fi)
{
	return (struct nvfs_dir *)(uintptr_t)fi->fh;
}

/* is_dot -- "." or ".." */
static bool
is_dot(const char *name)
{
	return name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2]));
}

/* nvfs_ll_opendir -- open a directory stream */
void
nvfs_ll_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct nvfs_dir *d = calloc(1, sizeof(*d));
	struct nvfs_cred c;
	int fd;

	if (!d) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if ((fd = nvfs_cred_enter(req, &c)) == 0) {
		fd = nvfs_reopen(nvfs_fs_of(req), nvfs_inode_of(req, ino),
				 O_RDONLY | O_DIRECTORY);
		nvfs_cred_leave(&c);
	}
	if (fd >= 0 && !(d->dp = fdopendir(fd))) {
		close(fd);
		fd = -errno;
	}
	if (fd < 0) {
		free(d);
		fuse_reply_err(req, -fd);
		return;
	}
	pthread_mutex_init(&d->lock, NULL);
	fi->fh = (uint64_t)(uintptr_t)d;
	if (fuse_reply_open(req, fi) == -ENOENT) { /* interrupted */
		closedir(d->dp);
		pthread_mutex_destroy(&d->lock);
		free(d);
	}
}

/*
 * add_entry -- append the stream's current entry to buf (rem bytes left);
 * for readdirplus it is looked up (one lookup, taken back if it does not
 * fit).  Returns the bytes used, 0 if it does not fit, -ENOENT if it
 * vanished meanwhile (skip it), or another -errno.
 */
static ssize_t
add_entry(fuse_req_t req, struct nvfs_inode *dir, const struct dirent *de,
	  char *buf, size_t rem, bool plus)
{
	struct nvfs_fs *fs = nvfs_fs_of(req);
	struct fuse_entry_param e = {
		.attr.st_ino = de->d_ino,
		.attr.st_mode = (mode_t)de->d_type << 12,
	};
	size_t n;
	int rc;

	if (!plus)
		n = fuse_add_direntry(req, buf, rem, de->d_name, &e.attr, de->d_off);
	else if (is_dot(de->d_name)) /* ino 0: a name without attributes */
		n = fuse_add_direntry_plus(req, buf, rem, de->d_name, &e, de->d_off);
	else {
		if ((rc = nvfs_do_lookup(req, dir, de->d_name, &e)) < 0)
			return rc;
		n = fuse_add_direntry_plus(req, buf, rem, de->d_name, &e, de->d_off);
		if (n > rem)
			nvfs_itab_forget(&fs->itab, nvfs_inode_of(req, e.ino), 1);
	}
	return n > rem ? 0 : (ssize_t)n;
}

/*
 * fill -- entries from the stream at off into buf (size bytes); the number
 * of bytes, or -errno if the first entry fails.  d->lock held.
 */
static ssize_t
fill(fuse_req_t req, struct nvfs_inode *dir, struct nvfs_dir *d, char *buf,
     size_t size, off_t off, bool plus)
{
	size_t used = 0;
	ssize_t n;

	if (off != d->offset) {
		seekdir(d->dp, off);
		d->entry = NULL;
		d->offset = off;
	}
	for (;;) {
		if (!d->entry) {
			errno = 0;
			if (!(d->entry = readdir(d->dp))) {
				n = errno ? -errno : 0;
				break;
			}
		}
		n = add_entry(req, dir, d->entry, buf + used, size - used, plus);
		if (n == 0)
			break; /* full: this entry comes first next time */
		if (n > 0)
			used += (size_t)n;
		else if (n != -ENOENT)
			break;
		d->offset = d->entry->d_off;
		d->entry = NULL;
	}
	/*
	 * An error can only be reported before the first entry: the ones in
	 * buf carry lookups the kernel must get.  Later, stop short; the
	 * next call starts at the failing entry again.
	 */
	return n < 0 && used == 0 ? n : (ssize_t)used;
}

/* reply_dir -- readdir and readdirplus */
static void
reply_dir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	  struct fuse_file_info *fi, bool plus)
{
	struct nvfs_dir *d = dir_of(fi);
	char *buf = malloc(size ? size : 1);
	struct nvfs_cred c;
	ssize_t n;

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if ((n = nvfs_cred_enter(req, &c)) == 0) {
		pthread_mutex_lock(&d->lock);
		n = fill(req, nvfs_inode_of(req, ino), d, buf, size, off, plus);
		pthread_mutex_unlock(&d->lock);
		nvfs_cred_leave(&c);
	}
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
}

/* nvfs_ll_readdir -- names, inode numbers and types */
void
nvfs_ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		struct fuse_file_info *fi)
{
	reply_dir(req, ino, size, off, fi, false);
}

/* nvfs_ll_readdirplus -- names with their attributes (each looked up) */
void
nvfs_ll_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	reply_dir(req, ino, size, off, fi, true);
}

/* nvfs_ll_releasedir -- close the stream */
void
nvfs_ll_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct nvfs_dir *d = dir_of(fi);

	(void)ino;
	closedir(d->dp);
	pthread_mutex_destroy(&d->lock);
	free(d);
	fuse_reply_err(req, 0);
}

/* nvfs_ll_fsyncdir -- fsync(2) of a directory: as fsync (nvfs_reply_sync) */
void
nvfs_ll_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)ino;
	nvfs_reply_sync(req, dirfd(dir_of(fi)->dp), datasync);
}
