/* SPDX-License-Identifier: MIT */
/*
 * ops_attr.c -- attributes: getattr, setattr, readlink, statfs, access and
 * extended attributes.
 *
 * The calls that have no form taking an O_PATH descriptor (chmod,
 * truncate, the xattr calls) go through "/proc/self/fd/N", which names the
 * inode itself, a symlink included (the magic link is not followed
 * further).  An open file's descriptor is used when the kernel sends one.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fs_int.h"

/* stat_inode -- attributes of an inode, through its open file if any */
static int
stat_inode(const struct nvfs_inode *in, const struct fuse_file_info *fi,
	   struct stat *st)
{
	int rc;

	if (fi)
		rc = fstat(nvfs_file_of(fi)->fd, st);
	else
		rc = fstatat(in->fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
	return rc < 0 ? -errno : 0;
}

/* nvfs_ll_getattr -- stat */
void
nvfs_ll_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;
	int rc = stat_inode(nvfs_inode_of(req, ino), fi, &st);

	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, nvfs_fs_of(req)->timeout);
}

/* set_times -- atime/mtime: a value, UTIME_NOW or UTIME_OMIT */
static int
set_times(const struct nvfs_inode *in, int fd, const struct stat *attr, int to_set)
{
	struct timespec ts[2] = {
		{ .tv_nsec = UTIME_OMIT }, { .tv_nsec = UTIME_OMIT },
	};
	char path[64];

	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		ts[0].tv_nsec = UTIME_NOW;
	else if (to_set & FUSE_SET_ATTR_ATIME)
		ts[0] = attr->st_atim;
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		ts[1].tv_nsec = UTIME_NOW;
	else if (to_set & FUSE_SET_ATTR_MTIME)
		ts[1] = attr->st_mtim;
	if (fd >= 0)
		return futimens(fd, ts) < 0 ? -errno : 0;
	if (utimensat(in->fd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	if (errno != EINVAL || in->type == S_IFLNK)
		return -errno;
	nvfs_proc_path(in->fd, path); /* kernels without AT_EMPTY_PATH here */
	return utimensat(AT_FDCWD, path, ts, 0) < 0 ? -errno : 0;
}

/*
 * do_setattr -- apply what to_set names but the size (set_size), in the
 * order owner, mode, times (chown clears set-ID bits, so a mode set with it
 * comes after)
 */
static int
do_setattr(const struct nvfs_inode *in, const struct stat *attr, int to_set,
	   const struct fuse_file_info *fi)
{
	int fd = fi ? nvfs_file_of(fi)->fd : -1;
	char path[64];

	nvfs_proc_path(in->fd, path);
	if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		uid_t uid = to_set & FUSE_SET_ATTR_UID ? attr->st_uid : (uid_t)-1;
		gid_t gid = to_set & FUSE_SET_ATTR_GID ? attr->st_gid : (gid_t)-1;
		if (fchownat(in->fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
	}
	if (to_set & FUSE_SET_ATTR_MODE) {
		if ((fd >= 0 ? fchmod(fd, attr->st_mode) : chmod(path, attr->st_mode)) < 0)
			return -errno;
	}
	if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME |
		      FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW))
		return set_times(in, fd, attr, to_set);
	return 0;
}

/* ns -- a time in ns since the epoch, as a record stores it */
static uint64_t
ns(struct timespec ts)
{
	return (uint64_t)((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
}

/*
 * log_setattr -- the attributes to_set changed, as absolute values from the
 * stat after the change (UTIME_NOW becomes the time it was)
 */
static int
log_setattr(struct nvfs_fs *fs, struct nvfs_inode *in, const struct stat *st, int to_set)
{
	struct nvfs_rec r = {
		.type = NVFS_REC_SETATTR, .id = nvfs_id_of(in),
		.mode = st->st_mode & 07777, .uid = st->st_uid, .gid = st->st_gid,
		.a = (uint64_t)st->st_size, .b = ns(st->st_atim), .c = ns(st->st_mtim),
	};

	if (to_set & FUSE_SET_ATTR_MODE)
		r.valid |= NVFS_REC_SET_MODE;
	if (to_set & FUSE_SET_ATTR_UID)
		r.valid |= NVFS_REC_SET_UID;
	if (to_set & FUSE_SET_ATTR_GID)
		r.valid |= NVFS_REC_SET_GID;
	if (to_set & FUSE_SET_ATTR_SIZE)
		r.valid |= NVFS_REC_SET_SIZE;
	if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_ATIME_NOW))
		r.valid |= NVFS_REC_SET_ATIME;
	if (to_set & (FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW))
		r.valid |= NVFS_REC_SET_MTIME;
	if ((r.valid & (NVFS_REC_SET_UID | NVFS_REC_SET_GID)) && in->type != S_IFLNK)
		r.valid |= NVFS_REC_SET_MODE; /* chown may have cleared set-ID bits */
	if (in->type == S_IFLNK)
		r.valid &= ~NVFS_REC_SET_MODE; /* a symlink has no mode of its own */
	if (!(r.valid & NVFS_REC_SET_MODE))
		r.mode = 0;
	if (!(r.valid & NVFS_REC_SET_UID))
		r.uid = 0;
	if (!(r.valid & NVFS_REC_SET_GID))
		r.gid = 0;
	if (!(r.valid & NVFS_REC_SET_SIZE))
		r.a = 0;
	if (!(r.valid & NVFS_REC_SET_ATIME))
		r.b = 0;
	if (!(r.valid & NVFS_REC_SET_MTIME))
		r.c = 0;
	if (!r.valid)
		return 0; /* ctime only, or flags this file system ignores */
	return nvfs_log(fs, &r);
}

/* do_ftruncate -- nvfs_log_destroy's change for set_size */
struct ftruncate_arg {
	int fd;
	off_t size;
};

static int
do_ftruncate(void *arg)
{
	const struct ftruncate_arg *t = arg;

	return ftruncate(t->fd, t->size) < 0 ? -errno : 0;
}

/* nvfs_set_size -- truncate or extend, journaled before it is made */
int
nvfs_set_size(struct nvfs_fs *fs, struct nvfs_inode *in, int fd, off_t size)
{
	struct nvfs_rec r = {
		.type = NVFS_REC_SETATTR, .id = nvfs_id_of(in), .valid = NVFS_REC_SET_SIZE,
		.a = (uint64_t)size,
	};
	struct ftruncate_arg t = { .fd = fd, .size = size };
	int rc;

	if (fd < 0 && (t.fd = nvfs_reopen(fs, in, O_WRONLY)) < 0)
		return t.fd;
	rc = nvfs_log_destroy(fs, in, &r, do_ftruncate, &t);
	if (fd < 0)
		close(t.fd);
	return rc;
}

/* nvfs_ll_setattr -- chown, chmod, truncate, utimens; replies the new stat */
void
nvfs_ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		struct fuse_file_info *fi)
{
	struct nvfs_inode *in = nvfs_inode_of(req, ino);
	struct nvfs_cred c;
	struct stat st;
	int rc;

	struct nvfs_fs *fs = nvfs_fs_of(req);

	pthread_mutex_lock(&in->data_lock);
	if ((rc = nvfs_cred_enter(req, &c)) == 0) {
		/* the size first, on its own: it destroys data (nvfs_rec.h) */
		if (to_set & FUSE_SET_ATTR_SIZE)
			rc = nvfs_set_size(fs, in, fi && nvfs_file_of(fi)->accmode != O_RDONLY ?
					   nvfs_file_of(fi)->fd : -1, attr->st_size);
		if (rc == 0)
			rc = do_setattr(in, attr, to_set & ~FUSE_SET_ATTR_SIZE, fi);
		nvfs_cred_leave(&c);
	}
	if (rc == 0)
		rc = stat_inode(in, fi, &st);
	if (rc == 0)
		rc = log_setattr(fs, in, &st, to_set & ~FUSE_SET_ATTR_SIZE);
	pthread_mutex_unlock(&in->data_lock);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, nvfs_fs_of(req)->timeout);
}

/* nvfs_ll_readlink -- a symlink's target */
void
nvfs_ll_readlink(fuse_req_t req, fuse_ino_t ino)
{
	char buf[PATH_MAX + 1];
	ssize_t n = readlinkat(nvfs_inode_of(req, ino)->fd, "", buf, sizeof(buf));

	if (n < 0)
		fuse_reply_err(req, errno);
	else if (n == (ssize_t)sizeof(buf))
		fuse_reply_err(req, ENAMETOOLONG);
	else {
		buf[n] = '\0';
		fuse_reply_readlink(req, buf);
	}
}

/* nvfs_ll_statfs -- the backing file system's numbers */
void
nvfs_ll_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;

	if (fstatvfs(nvfs_inode_of(req, ino)->fd, &sv) < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_statfs(req, &sv);
}

/*
 * nvfs_ll_access -- access(2), chdir(2): sent only without
 * default_permissions; checked by SOURCE as the caller
 */
void
nvfs_ll_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	struct nvfs_cred c;
	char path[64];
	int rc;

	nvfs_proc_path(nvfs_inode_of(req, ino)->fd, path);
	if ((rc = nvfs_cred_enter(req, &c)) == 0) {
		rc = faccessat(AT_FDCWD, path, mask, AT_EACCESS) < 0 ? -errno : 0;
		nvfs_cred_leave(&c);
	}
	fuse_reply_err(req, -rc);
}

/* ---- extended attributes ---------------------------------------------------- */

/* log_xattr -- an xattr set to value (flags >= 0) or removed (flags -1) */
static int
log_xattr(struct nvfs_fs *fs, struct nvfs_inode *in, const char *name, const void *value,
	  size_t size, int flags)
{
	struct nvfs_rec r = {
		.type = flags < 0 ? NVFS_REC_REMOVEXATTR : NVFS_REC_SETXATTR,
		.id = nvfs_id_of(in), .flags = flags < 0 ? 0 : (uint32_t)flags,
		.data = value, .data_len = flags < 0 ? 0 : size,
	};

	if (strlen(name) > NVFS_REC_NAME_MAX || size > NVFS_REC_MAX_XATTR)
		return -EIO; /* SOURCE took what the kernel (255, 64 KiB) refuses */
	snprintf(r.name, sizeof(r.name), "%s", name);
	return nvfs_log(fs, &r);
}

/* nvfs_ll_setxattr -- set one */
void
nvfs_ll_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
		 size_t size, int flags)
{
	struct nvfs_cred c;
	char path[64];
	int rc;

	struct nvfs_inode *in = nvfs_inode_of(req, ino);

	if (in == nvfs_fs_of(req)->root && strcmp(name, NVFS_FS_STATS_XATTR) == 0) {
		fuse_reply_err(req, EPERM);
		return;
	}
	nvfs_proc_path(in->fd, path);
	pthread_mutex_lock(&in->data_lock);
	if ((rc = nvfs_cred_enter(req, &c)) == 0) {
		rc = setxattr(path, name, value, size, flags) < 0 ? -errno : 0;
		nvfs_cred_leave(&c);
	}
	if (rc == 0)
		rc = log_xattr(nvfs_fs_of(req), in, name, value, size, flags);
	pthread_mutex_unlock(&in->data_lock);
	fuse_reply_err(req, -rc);
}

/* nvfs_ll_removexattr -- remove one */
void
nvfs_ll_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct nvfs_cred c;
	char path[64];
	int rc;

	struct nvfs_inode *in = nvfs_inode_of(req, ino);

	nvfs_proc_path(in->fd, path);
	pthread_mutex_lock(&in->data_lock);
	if ((rc = nvfs_cred_enter(req, &c)) == 0) {
		rc = removexattr(path, name) < 0 ? -errno : 0;
		nvfs_cred_leave(&c);
	}
	if (rc == 0)
		rc = log_xattr(nvfs_fs_of(req), in, name, NULL, 0, -1);
	pthread_mutex_unlock(&in->data_lock);
	fuse_reply_err(req, -rc);
}

/*
 * reply_xattr -- the common tail of getxattr and listxattr: size 0 asks
 * for the length; else the value (ERANGE if it does not fit, from SOURCE)
 */
static void
reply_xattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct nvfs_cred c;
	char path[64], *buf = NULL;
	ssize_t n = 0;
	int rc;

	nvfs_proc_path(nvfs_inode_of(req, ino)->fd, path);
	if (size && !(buf = malloc(size))) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if ((rc = nvfs_cred_enter(req, &c)) == 0) {
		n = name ? getxattr(path, name, buf, size) : listxattr(path, buf, size);
		rc = n < 0 ? -errno : 0;
		nvfs_cred_leave(&c);
	}
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else if (!size)
		fuse_reply_xattr(req, (size_t)n);
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
}

/*
 * nvfs_ll_getxattr -- one value, or its length; NVFS_FS_STATS_XATTR of the
 * root is the file system's statistics (ckpt.c), e.g.
 *     getfattr -n user.nvfs.stats --only-values MOUNTPOINT
 */
void
nvfs_ll_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct nvfs_fs *fs = nvfs_fs_of(req);
	char text[4096];
	size_t n;

	if (ino != FUSE_ROOT_ID || strcmp(name, NVFS_FS_STATS_XATTR) != 0) {
		reply_xattr(req, ino, name, size);
		return;
	}
	n = nvfs_stats_text(fs, text, sizeof(text));
	if (!size)
		fuse_reply_xattr(req, n);
	else if (size < n)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, text, n);
}

/* nvfs_ll_listxattr -- the names, or their length */
void
nvfs_ll_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	reply_xattr(req, ino, NULL, size);
}
