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
#include <stdlib.h>
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
 * do_setattr -- apply what to_set names, in the order owner, mode, size,
 * times (chown clears set-ID bits, so a mode set with it comes after)
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
	if (to_set & FUSE_SET_ATTR_SIZE) {
		if ((fd >= 0 ? ftruncate(fd, attr->st_size) :
		     truncate(path, attr->st_size)) < 0)
			return -errno;
	}
	if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME |
		      FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW))
		return set_times(in, fd, attr, to_set);
	return 0;
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

	if ((rc = nvfs_cred_enter(req, &c)) == 0) {
		rc = do_setattr(in, attr, to_set, fi);
		nvfs_cred_leave(&c);
	}
	if (rc == 0)
		rc = stat_inode(in, fi, &st);
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

/* nvfs_ll_setxattr -- set one */
void
nvfs_ll_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
		 size_t size, int flags)
{
	struct nvfs_cred c;
	char path[64];
	int rc;

	nvfs_proc_path(nvfs_inode_of(req, ino)->fd, path);
	if ((rc = nvfs_cred_enter(req, &c)) == 0) {
		rc = setxattr(path, name, value, size, flags) < 0 ? -errno : 0;
		nvfs_cred_leave(&c);
	}
	fuse_reply_err(req, -rc);
}

/* nvfs_ll_removexattr -- remove one */
void
nvfs_ll_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct nvfs_cred c;
	char path[64];
	int rc;

	nvfs_proc_path(nvfs_inode_of(req, ino)->fd, path);
	if ((rc = nvfs_cred_enter(req, &c)) == 0) {
		rc = removexattr(path, name) < 0 ? -errno : 0;
		nvfs_cred_leave(&c);
	}
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

/* nvfs_ll_getxattr -- one value, or its length */
void
nvfs_ll_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	reply_xattr(req, ino, name, size);
}

/* nvfs_ll_listxattr -- the names, or their length */
void
nvfs_ll_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	reply_xattr(req, ino, NULL, size);
}
